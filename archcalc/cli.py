"""The command line: a thin click layer over the library. The only module that imports click."""
from __future__ import annotations

import functools
import sys

import click

from .errors import ArchcalcError

DTYPES = ("float32", "float16", "bfloat16", "float64", "int8", "uint8")
FORMATS = ("text", "markdown", "latex", "html", "csv", "json")


def reports_errors(command):
    """Turn library errors into one clean paragraph on stderr and exit code 2 (``--debug`` re-raises)."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ArchcalcError as error:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            for line in str(error).splitlines():
                click.echo(f"error: {line}", err=True)
            sys.exit(2)

    return wrapper


def format_option(command):
    """The shared ``--format`` and ``--output`` options."""
    command = click.option("--format", "-f", "fmt", default="text", show_default=True, metavar="FORMAT",
                           help=f"{', '.join(FORMATS)}, or any tabulate format (grid, rst, ...).")(command)
    command = click.option("--output", "-o", type=click.Path(dir_okay=False),
                           help="Write to this file (atomically) instead of stdout.")(command)
    return click.option("--force", is_flag=True, help="Overwrite an existing --output file.")(command)


def emit(text: str, output: str | None, force: bool) -> None:
    if output:
        from .files import write_atomically

        write_atomically(output, text, force)
    else:
        click.echo(text, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks (for developers).")
@click.version_option(package_name="archcalc")
def main(debug: bool) -> None:
    """archcalc: output shapes, memory, parameters and MACs of CNN architectures.

    \b
    Example:
      archcalc table vgg16
    """


def load_model(spec: str | None, input_shape: str | None, layers: str | None = None):
    """The spec named on the command line, or one made of --input and --layers."""
    from .errors import Location
    from .spec import load_spec, parse_shape, quick_spec, with_input

    if layers:
        if not input_shape:
            raise click.UsageError("--layers needs --input (e.g. --input 32x32x3)")
        if spec:
            raise click.UsageError("give a SPEC or --layers, not both")
        return quick_spec(input_shape, layers)
    if not spec:
        raise click.UsageError("name a spec (e.g. vgg16), a .toml file, - for stdin, or give --input and --layers")
    model = load_spec(spec)
    return with_input(model, parse_shape(input_shape, Location("--input"))) if input_shape else model


@main.command()
@click.argument("spec", required=False)
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size, e.g. 256x256x3 or HxWx3 (symbols).")
@click.option("--layers", metavar="LINES", help='Layers in the compact syntax, separated by ";" (with --input).')
@click.option("--batch", type=click.IntRange(1, 1_000_000), default=1, show_default=True,
              help="Images per batch (scales memory bytes and MACs in the totals).")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
              help="Element type for the byte counts.")
@click.option("--no-bias", is_flag=True, help="Leave biases out, as the lecture slide does.")
@click.option("--strict", is_flag=True, help="A non-integer output size is an error, not a floor.")
@click.option("--caffe-pooling", is_flag=True, help="Round every pooling up (Caffe's convention; PyTorch's ceil_mode).")
@click.option("--dilation-from-zero", is_flag=True,
              help="Dilation counts the gaps between taps (0 = ordinary), not PyTorch's 1 = ordinary.")
@click.option("--working", is_flag=True, help="Show the products behind each cell (224*224*64 = 3.2M).")
@click.option("--exact", is_flag=True, help="Exact numbers instead of compact ones (3,211,264 not 3.2M).")
@click.option("--depth", type=click.IntRange(0, 32), default=None,
              help="Collapse blocks nested deeper than N into one row each (0: one row per top-level block).")
@click.option("--rf", is_flag=True, help="Add receptive-field columns: size, jump (effective stride), start.")
@click.option("--convention", type=click.Choice(("archcalc", "torchvision", "slide", "paper-k1024", "flops", "fvcore",
                                                  "ptflops", "ptflops-aten", "thop", "keras")),
              default="archcalc", show_default=True, help="Count totals as this tool or source does.")
@format_option
@reports_errors
def table(spec, input_shape, layers, batch, dtype, no_bias, strict, caffe_pooling, dilation_from_zero, working, exact,
          depth, rf, convention, fmt, output, force):
    """Print the per-layer table of SPEC (a shipped name or a .toml file; - reads stdin).

    \b
    Examples:
      archcalc table vgg16
      archcalc table alexnet_simplified --no-bias --format markdown
      archcalc table my_net.toml --input 256x256x3 --batch 32 --dtype float16
      archcalc table googlenet --depth 0
      archcalc table vgg16 --rf
      archcalc table --input 32x32x3 --layers "conv 10 5x5 s1 p2; maxpool 2x2 s2"
    """
    from .engine import analyze, collapse
    from .report.render import render
    from .report.table import TableOptions, build_table
    from .spec import caffe_pooling as ceil_pooling, dilation_from_zero as zero_based, without_bias

    model = load_model(spec, input_shape, layers)
    if no_bias:
        model = without_bias(model)
    if caffe_pooling:
        model = ceil_pooling(model)
    if dilation_from_zero:
        model = zero_based(model)
    analysis = analyze(model, strict=strict)
    for warning in analysis.warnings:
        click.echo(f"warning: {warning}", err=True)
    if depth is not None:
        analysis = collapse(analysis, depth)
    options = TableOptions(dtype=dtype, batch=batch, working=working, exact=exact, receptive_field=rf,
                           convention=convention)
    emit(render(build_table(analysis, options), fmt), output, force)


@main.command(name="list")
@reports_errors
def list_specs():
    """List the shipped specs, one line each.

    \b
    Example:
      archcalc list
    """
    from .spec import load_spec, shipped_spec_names

    for name in shipped_spec_names():
        spec = load_spec(name)
        year = spec.meta.get("year", "")
        click.echo(f"{name:<22} {year!s:<5} {spec.title}")


@main.command()
def layers():
    """List the layer kinds and their fields.

    \b
    Example:
      archcalc layers
    """
    from .layers import KINDS

    for name in sorted(KINDS):
        kind = KINDS[name]
        click.echo(f"{name:<16} {kind.summary}")
        for spec_field in kind.fields:
            default = "required" if spec_field.required else f"default {spec_field.default!r}"
            click.echo(f"{'':<18}{spec_field.name}: {spec_field.help} ({default})")


@main.command()
@click.argument("specs", nargs=-1)
@click.option("--all", "all_specs", is_flag=True, help="Verify every shipped spec.")
@click.option("--device", default="cpu", show_default=True, help="cpu, or cuda (adds latency and peak memory).")
@click.option("--batch", type=click.IntRange(1, 4096), default=2, show_default=True, help="Batch of random inputs.")
@click.option("--input", "input_shape", metavar="HxWxC", help="Concrete input size (needed for symbolic specs).")
@click.option("--no-onnx", is_flag=True, help="Skip the ONNX export and onnxruntime run.")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (atomically).")
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@reports_errors
def verify(specs, all_specs, device, batch, input_shape, no_onnx, fmt, output, force):
    """Run SPEC in PyTorch (and ONNX) and check every number of the analysis; exit 1 if any differs.

    \b
    Examples:
      archcalc verify vgg16
      archcalc verify resnet50 --device cuda
      archcalc verify --all
    """
    import json

    from .lower.verify import render_report, verify as run_verify
    from .spec import shipped_spec_names

    names = list(specs) + (shipped_spec_names() if all_specs else [])
    if not names:
        raise click.UsageError("name a spec, or pass --all")
    reports = []
    with click.progressbar(names, label="verifying", file=sys.stderr,
                           show_pos=True, item_show_func=lambda n: n or "") as progress:
        for name in progress:
            model = load_model(name, input_shape)
            reports.append(run_verify(model, device=device, batch=batch, with_onnx=not no_onnx))
    if fmt == "json":
        records = [report.record() for report in reports]
        text = json.dumps(records[0] if len(records) == 1 else records, indent=2) + "\n"
    else:
        text = "".join(render_report(report) for report in reports)
    emit(text, output, force)
    if not all(report.ok for report in reports):
        sys.exit(1)


@main.command()
@click.argument("spec")
@click.option("--onnx", "onnx_path", type=click.Path(dir_okay=False), help="Write an ONNX model here.")
@click.option("--torch", "torch_path", type=click.Path(dir_okay=False), help="Write a readable nn.Module source here.")
@click.option("--input", "input_shape", metavar="HxWxC", help="Concrete input size (needed for symbolic specs).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@reports_errors
def export(spec, onnx_path, torch_path, input_shape, force):
    """Export SPEC as an ONNX model or as PyTorch source.

    \b
    Examples:
      archcalc export googlenet --onnx googlenet.onnx
      archcalc export resnet18 --torch resnet18.py
    """
    from .files import write_atomically
    from .lower.build import module_source
    from .lower.export import write_onnx

    if not onnx_path and not torch_path:
        raise click.UsageError("give --onnx FILE and/or --torch FILE")
    model = load_model(spec, input_shape)
    if torch_path:
        write_atomically(torch_path, module_source(model), force)
    if onnx_path:
        write_onnx(model, onnx_path, force)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--input", "input_shape", metavar="HxWxC", help="Analyse every network on this input size.")
@format_option
@reports_errors
def compare(specs, input_shape, fmt, output, force):
    """Compare networks side by side, checking what sources claim about them.

    \b
    Example:
      archcalc compare alexnet vgg19 googlenet resnet152
    """
    from .comparison import compare as build_comparison
    from .engine import analyze
    from .report.matrix import comparison_model
    from .report.render import render

    analyses = [analyze(load_model(name, input_shape)) for name in specs]
    emit(render(comparison_model(build_comparison(analyses)), fmt), output, force)


@main.command()
@click.argument("spec", required=False)
@click.argument("layer_names", nargs=-1)
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size, e.g. 227x227x3 or HxWx3.")
@click.option("--layers", metavar="LINES", help='Layers in the compact syntax, separated by ";" (with --input).')
@click.option("--no-bias", is_flag=True, help="Leave biases out.")
@click.option("--strict", is_flag=True, help="A non-integer output size is an error.")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (atomically).")
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@reports_errors
def explain(spec, layer_names, input_shape, layers, no_bias, strict, fmt, output, force):
    """Show the working of every layer (or the LAYER_NAMES given), numbers filled in.

    \b
    Examples:
      archcalc explain alexnet_simplified conv1
      archcalc explain --input 32x32x3 --layers "conv 10 5x5 s1 p2"
      archcalc explain vgg16 conv1_1 fc6
    """
    from .engine import analyze
    from .report.explain import explain as explain_rows
    from .spec import without_bias

    model = load_model(spec, input_shape, layers)
    if no_bias:
        model = without_bias(model)
    analysis = analyze(model, strict=strict)
    paragraphs = explain_rows(analysis, list(layer_names))
    if fmt == "json":
        import json

        text = json.dumps([{"layer": p.split(":", 1)[0], "working": p} for p in paragraphs], indent=2) + "\n"
    elif fmt == "markdown":
        text = "\n".join(f"- `{p.split(':', 1)[0]}`: " + p.split(": ", 1)[1].replace("\n    ", "\n  - ")
                         for p in paragraphs) + "\n"
    else:
        text = "\n".join(paragraphs) + "\n"
    emit(text, output, force)


@main.command()
@click.argument("spec")
@click.option("--max", "maximum", type=click.IntRange(1, 4096), default=512, show_default=True,
              help="Search square inputs 1..MAX.")
@click.option("--at", "at_size", type=click.IntRange(1, 10_000_000), help="List what floors at this input size.")
@reports_errors
def sizes(spec, maximum, at_size):
    """Input sizes at which every conv and pool of SPEC divides exactly, and the smallest that runs.

    \b
    Examples:
      archcalc sizes alexnet
      archcalc sizes resnet50 --at 224
    """
    from .engine import analyze
    from .solve import input_sizes
    from .spec import load_spec, with_input

    model = load_spec(spec)
    found = input_sizes(model, maximum)
    shown = lambda values: ", ".join(map(str, values[:12])) + (", ..." if len(values) > 12 else "")  # noqa: E731
    click.echo(f"{model.name}, square inputs 1..{maximum} with {model.input_shape[-1]} channels:")
    if not found.runs:
        click.echo("  no size in the range runs: some kernel is always larger than its input")
    else:
        click.echo(f"  smallest input that runs (flooring where needed): {found.runs[0]}")
    if found.exact:
        form = f" = {found.exact[0]} + {found.period}k" if found.period and len(found.exact) > 1 else ""
        click.echo(f"  every layer divides exactly at: {shown(found.exact)}{form}")
        click.echo(f"  smallest exact input: {found.exact[0]}")
    else:
        click.echo("  no size in the range divides exactly at every layer")
    if at_size:
        spatial = len(model.input_shape) - 1
        analysis = analyze(with_input(model, (at_size,) * spatial + (model.input_shape[-1],)))
        click.echo(f"at {at_size}: " + ("every layer divides exactly" if not analysis.warnings else
                                        f"{len(analysis.warnings)} layer(s) round:"))
        for warning in analysis.warnings:
            click.echo(f"  {warning}")


@main.command()
@click.option("--size", type=click.IntRange(1, 1_000_000), required=True, help="Input size W (one axis).")
@click.option("--target", required=True, help='Wanted output size, or "same".')
@click.option("--kernel", type=click.IntRange(1, 4096), help="Kernel F (searched 1..32 if not given).")
@click.option("--stride", type=click.IntRange(1, 4096), help="Stride S (searched if not given).")
@click.option("--pad", type=click.IntRange(0, 4096), help="Padding P on each side (searched if not given).")
@click.option("--dilation", type=click.IntRange(1, 64), default=1, show_default=True, help="Dilation D.")
@click.option("--transposed", is_flag=True, help="A transposed convolution: (W-1)S - 2P + D(F-1) + 1.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Solutions to show.")
@reports_errors
def solve(size, target, kernel, stride, pad, dilation, transposed, limit):
    """Find the padding, stride or kernel that turns one size into another.

    \b
    Examples:
      archcalc solve --size 32 --target same --kernel 5 --stride 1
      archcalc solve --size 224 --target 112 --kernel 7
      archcalc solve --size 7 --target 14 --kernel 4 --transposed
    """
    from .errors import SpecError
    from .solve import solve_window

    if target != "same" and not target.isdigit():
        raise SpecError(f"--target must be a whole number or \"same\", found {target!r}")
    wanted = target if target == "same" else int(target)
    solutions = solve_window(size, wanted, kernel, stride, pad, dilation, transposed)
    exact = [s for s in solutions if s.exact]
    floored = [s for s in solutions if not s.exact]
    if not solutions:
        click.echo(f"no solution: nothing within the searched ranges turns {size} into {target}")
        return
    for title, group in (("exact", exact), ("only with floor (the last inputs are unused)", floored)):
        if group:
            click.echo(f"{title}: {len(group)} solution(s)")
            for item in group[:limit]:
                click.echo(f"  kernel {item.kernel}, stride {item.stride}, pad {item.pad}"
                           + (f", dilation {item.dilation}" if item.dilation != 1 else "") + f": {item.working}")
            if len(group) > limit:
                click.echo(f"  ... and {len(group) - limit} more (--limit)")
    if not exact:
        click.echo("no exact solution")


BLANKABLE = ("output", "memory", "weights", "biases", "params", "macs")


@main.command()
@click.argument("spec", required=False)
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size.")
@click.option("--layers", metavar="LINES", help='Layers in the compact syntax, separated by ";" (with --input).')
@click.option("--blank", default="output,memory,params", show_default=True,
              help=f"Columns to leave blank, from: {', '.join(BLANKABLE)}.")
@click.option("--no-bias", is_flag=True, help="Leave biases out, as the lecture slide does.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to write NAME_worksheet.csv and NAME_answers.csv.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@reports_errors
def worksheet(spec, input_shape, layers, blank, no_bias, output_dir, force):
    """Write a blank table for students (NAME_worksheet.csv) and its answer key (NAME_answers.csv).

    \b
    Example:
      archcalc worksheet vgg16 --blank output,memory,params --no-bias -o handouts/
    """
    from pathlib import Path

    from .check import sheet_csv, worksheet_rows
    from .engine import analyze
    from .errors import SpecError
    from .files import write_atomically
    from .spec import without_bias

    columns = tuple(c.strip() for c in blank.split(",") if c.strip())
    unknown = [c for c in columns if c not in BLANKABLE]
    if unknown:
        raise SpecError(f"--blank: unknown column {unknown[0]!r} (choose from {', '.join(BLANKABLE)})")
    model = load_model(spec, input_shape, layers)
    if no_bias:
        model = without_bias(model)
    analysis = analyze(model)
    folder = Path(output_dir)
    sheet = folder / f"{model.name}_worksheet.csv"
    key = folder / f"{model.name}_answers.csv"
    for path in (sheet, key):
        if path.exists() and not force:
            raise SpecError(f"{path} exists; pass --force to overwrite it")
    write_atomically(key, sheet_csv(worksheet_rows(analysis, columns, answers=True)), force)
    write_atomically(sheet, sheet_csv(worksheet_rows(analysis, columns, answers=False)), force)
    click.echo(f"wrote {sheet} and {key}")


@main.command()
@click.argument("spec")
@click.argument("answers", type=click.Path(exists=True, dir_okay=False))
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size, if the sheet is for another size.")
@click.option("--no-bias", is_flag=True, help="The sheet counts parameters without biases.")
@click.option("--k1024", is_flag=True, help="K, M, G in answers mean 1024, 1024^2, 1024^3.")
@click.option("--format", "-f", "fmt", default="text", show_default=True, metavar="FORMAT",
              help=f"{', '.join(FORMATS)}, or any tabulate format.")
@reports_errors
def check(spec, answers, input_shape, no_bias, k1024, fmt):
    """Mark a student's filled table (CSV or TOML) against SPEC; exit 1 if anything is wrong.

    \b
    Example:
      archcalc check vgg16 alice.csv --no-bias
    """
    from pathlib import Path

    from .check import check_answers, read_answers, render_check
    from .engine import analyze
    from .spec import without_bias

    model = load_model(spec, input_shape)
    if no_bias:
        model = without_bias(model)
    analysis = analyze(model)
    kilo = 1024 if k1024 else 1000
    result = check_answers(analysis, read_answers(Path(answers).read_text(encoding="utf-8"), answers), kilo)
    if fmt == "text":
        click.echo(render_check(result, kilo), nl=False)
    else:
        from .report.models import check_model
        from .report.render import render

        click.echo(render(check_model(result, Path(answers).name), fmt), nl=False)
    if not result.ok:
        sys.exit(1)


@main.command()
@click.argument("spec", required=False)
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size.")
@click.option("--layers", metavar="LINES", help='Layers in the compact syntax, separated by ";" (with --input).')
@format_option
@reports_errors
def conventions(spec, input_shape, layers, fmt, output, force):
    """SPEC's totals as each well-known tool and source counts them, with the reason for each difference.

    \b
    Example:
      archcalc conventions resnet50_torchvision
    """

    from .conventions import all_conventions
    from .engine import analyze
    from .report.models import conventions_model
    from .report.render import render

    analysis = analyze(load_model(spec, input_shape, layers))
    emit(render(conventions_model(analysis, all_conventions(analysis)), fmt), output, force)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="The image: .png or .svg.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@reports_errors
def plot(specs, output, force):
    """Plot where memory, parameters and MACs go in one network, or compare several.

    \b
    Examples:
      archcalc plot vgg16 -o vgg16.svg
      archcalc plot alexnet vgg19 googlenet resnet152 -o compare.png
    """
    import os
    import tempfile
    from pathlib import Path

    from .api import analyze
    from .errors import ArchcalcError
    from .report.plots import plot_comparison, plot_network

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ArchcalcError("plotting needs matplotlib: pip install 'archcalc[plot]'") from None
    target = Path(output)
    if target.exists() and not force:
        raise ArchcalcError(f"{target} exists; pass --force to overwrite it")
    analyses = [analyze(name) for name in specs]
    with tempfile.TemporaryDirectory(dir=target.parent if str(target.parent) else ".") as folder:
        temporary = Path(folder) / target.name
        if len(analyses) == 1:
            plot_network(analyses[0], temporary)
        else:
            plot_comparison(analyses, temporary)
        os.replace(temporary, target)
    click.echo(f"wrote {target}")


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--output-dir", "-o", type=click.Path(file_okay=False), required=True, help="Folder for the handout.")
@click.option("--name", default="handout", show_default=True, help="File name stem: NAME.md, NAME.html.")
@click.option("--title", help="The handout's title (default: the networks' titles).")
@click.option("--compare", "compared", metavar="SPEC,SPEC", help="Networks for the comparison matrix (default: SPECS).")
@click.option("--student", is_flag=True, help="Also write NAME_student.* with blank cells (NAME.* is the key).")
@click.option("--pdf", is_flag=True, help="Also print NAME.pdf with headless Chromium.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@reports_errors
def handout(specs, output_dir, name, title, compared, student, pdf, force):
    """Write a self-contained handout (Markdown and one HTML file) for one or more networks.

    \b
    Examples:
      archcalc handout vgg16 -o handouts/
      archcalc handout alexnet_simplified vgg16 googlenet resnet152 --compare alexnet,vgg19,googlenet,resnet152 -o reports --name lecture9
    """
    import re
    import shutil
    from pathlib import Path

    from .api import analyze
    from .errors import ArchcalcError
    from .files import write_atomically
    from .report.handout import build_handout, print_pdf

    if not re.fullmatch(r"[\w.-]+", name):
        raise ArchcalcError(f"--name must be letters, digits, '_', '-' or '.', found {name!r}")
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    analyses = [analyze(spec) for spec in specs]
    comparison = [analyze(spec) for spec in compared.split(",")] if compared else analyses
    title = title or ", ".join(a.spec.title for a in analyses)
    versions = [(name, False)] + ([(f"{name}_student", True)] if student else [])
    documents = {stem: build_handout(analyses, comparison, name, title + (" (student)" if blank else ""), blank)
                 for stem, blank in versions}
    outputs = [folder / f"{stem}.{ext}" for stem in documents for ext in ("md", "html")]
    outputs += sorted({folder / image for document in documents.values() for image in document.images})
    existing = [path for path in outputs if path.exists()]
    if existing and not force:
        raise ArchcalcError(f"{existing[0]} exists; pass --force to overwrite it")
    for stem, document in documents.items():
        write_atomically(folder / f"{stem}.md", document.markdown, force=True)
        write_atomically(folder / f"{stem}.html", document.html, force=True)
        for image, data in document.images.items():
            (folder / image).write_bytes(data)
    if pdf:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not chromium:
            raise ArchcalcError("--pdf needs Chromium (Debian: apt-get install chromium)")
        for stem in documents:
            print_pdf(folder / f"{stem}.html", folder / f"{stem}.pdf", chromium)
    click.echo(f"wrote {', '.join(sorted(str(p) for p in outputs))}")
