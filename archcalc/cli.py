"""The command line: a thin click layer over the library (``archcalc.api``). Each command parses its
options, calls one library function and prints or writes what it returns. The only module that
imports click."""
from __future__ import annotations

import functools
import sys

import click

from .errors import ArchcalcError
from .options import BATCH_RANGE, CONVENTIONS, DEPTH_RANGE, DTYPES, as_flags

FORMATS = ("text", "markdown", "latex", "html", "csv", "json")
OPTIMIZERS = ("sgd", "sgd-momentum", "adam", "adamw")  # archcalc.liveness.OPTIMIZERS (a test checks)


def reports_errors(command):
    """Turn library errors into one clean paragraph on stderr and exit code 2 (``--debug`` re-raises);
    an --output that exists without --force, or is a folder, is refused before the command works."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            if kwargs.get("output"):  # refuse a target in the way before any work, not after it
                from .files import check_targets

                check_targets([kwargs["output"]], kwargs.get("force", False))
            return command(*args, **kwargs)
        except ArchcalcError as error:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            for line in as_flags(str(error)).splitlines():  # the library names options; here they are flags
                click.echo(f"error: {line}", err=True)
            sys.exit(2)

    return wrapper


SHARED_OPTIONS = {  # the options several commands take, declared once
    "input": lambda: click.option("--input", "input", metavar="HxWxC",
                                  help="Input size, e.g. 256x256x3 or HxWx3 (symbols)."),
    "layers": lambda: click.option("--layers", metavar="LINES",
                                   help='Layers in the compact syntax, separated by ";" (with --input).'),
    "no_bias": lambda: click.option("--no-bias", is_flag=True, help="Leave biases out, as the lecture slide does."),
    "batch": lambda: click.option("--batch", type=click.IntRange(*BATCH_RANGE), default=1, show_default=True,
                                  help="Images per batch (scales memory bytes and MACs in the totals)."),
    "dtype": lambda: click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
                                  help="Element type for the byte counts."),
    "format": lambda formats=None: click.option(
        "--format", "-f", "fmt", default="text", show_default=True,
        type=click.Choice(formats) if formats else None, metavar=None if formats else "FORMAT",
        help="Output format." if formats else f"{', '.join(FORMATS)}, or any tabulate format (grid, rst, ...)."),
    "output": lambda: click.option("--output", "-o", type=click.Path(dir_okay=False),
                                   help="Write to this file (atomically) instead of stdout."),
    "force": lambda: click.option("--force", is_flag=True, help="Overwrite existing output files."),
    "as_exported": lambda: click.option(
        "--as-exported", is_flag=True,
        help="Count an ONNX file as it stands: batch norms its exporter folded into convs stay folded."),
}


def options(*names: str, formats: tuple[str, ...] | None = None):
    """The shared options ``names`` (in that order in --help), e.g. ``@options("input", "format")``;
    ``formats`` restricts --format to a command's own formats."""
    def decorate(command):
        for name in reversed(names):
            make = SHARED_OPTIONS[name]
            command = (make(formats) if name == "format" else make())(command)
        return command

    return decorate


def emit(text: str, output: str | None, force: bool) -> None:
    if output:
        from .files import write_output

        write_output(output, text, force)
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


@main.command(name="table")
@click.argument("spec", required=False)
@options("input", "layers", "batch", "dtype", "no_bias")
@click.option("--strict", is_flag=True, help="A non-integer output size is an error, not a floor; so is an ONNX "
                                           "operator that no layer kind reads (else an opaque row).")
@click.option("--caffe-pooling", is_flag=True, help="Round every pooling up (Caffe's convention; PyTorch's ceil_mode).")
@click.option("--dilation-from-zero", is_flag=True,
              help="Dilation counts the gaps between taps (0 = ordinary), not PyTorch's 1 = ordinary.")
@options("as_exported")
@click.option("--working", is_flag=True, help="Show the products behind each cell (224*224*64 = 3.2M).")
@click.option("--exact", is_flag=True, help="Exact numbers instead of compact ones (3,211,264 not 3.2M).")
@click.option("--depth", type=click.IntRange(*DEPTH_RANGE), default=None,
              help="Collapse blocks nested deeper than N into one row each (0: one row per top-level block).")
@click.option("--rf", is_flag=True,
              help="Add receptive-field columns: size, jump (effective stride), start (the first field's centre; "
                   "pixel i's centre is i + 0.5) and effective padding.")
@click.option("--pixel-index", is_flag=True,
              help="With --rf: pixel i's centre is i (TensorFlow's receptive-field library), so starts are 0.5 less.")
@click.option("--connections", is_flag=True,
              help="Add LeCun's connections column: MACs plus one per biased output unit (LeNet's papers).")
@click.option("--live", is_flag=True,
              help="Add the bytes live while each row runs at inference (execution's memory, beside the slide's).")
@click.option("--convention", type=click.Choice(CONVENTIONS), default="archcalc", show_default=True,
              help="Count totals as this tool or source does.")
@options("format")
@click.option("--standalone", is_flag=True, help="With -f latex: a whole document that pdflatex compiles as it is.")
@options("output", "force")
@reports_errors
def table_command(spec, input, layers, batch, dtype, no_bias, strict, caffe_pooling, dilation_from_zero, as_exported,
                  working, exact, depth, rf, pixel_index, connections, live, convention, fmt, standalone, output, force):
    """Print the per-layer table of SPEC (a shipped name or a .toml file; - reads stdin).

    \b
    Examples:
      archcalc table vgg16
      archcalc table alexnet_simplified --no-bias --format markdown
      archcalc table my_net.toml --input 256x256x3 --batch 32 --dtype float16
      archcalc table googlenet --depth 0
      archcalc table vgg16 --rf
      archcalc table vgg16 -f latex --standalone -o vgg16.tex
      archcalc table lenet5_1998 --connections
      archcalc table resnet50 --live --batch 32
      archcalc table --input 32x32x3 --layers "conv 10 5x5 s1 p2; maxpool 2x2 s2"
    """
    from .api import analyze

    result = analyze(spec, input, layers, batch, dtype, no_bias, convention, caffe_pooling, dilation_from_zero,
                     depth, strict, as_exported)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    emit(result.render(fmt, standalone, working=working, exact=exact, rf=rf, connections=connections, live=live,
                       pixel_index=pixel_index), output, force)


@main.command(name="list")
@reports_errors
def list_command():
    """List the shipped specs, one line each, grouped by era.

    \b
    Example:
      archcalc list
    """
    from .api import shipped

    for number, (era, specs) in enumerate(shipped().items()):
        click.echo(("\n" if number else "") + f"{era}:")
        for spec in specs:
            click.echo(f"  {spec.name:<22} {spec.meta.get('year', '')!s:<5} {spec.title}")


def default_text(spec_field) -> str:
    """`` (required)``, `` (default 1)``, `` (default true)``; nothing where the help already says it."""
    if spec_field.required:
        return " (required)"
    if "(default" in spec_field.help or spec_field.default is None:
        return ""
    value = spec_field.default
    shown = str(value).lower() if isinstance(value, bool) else f'"{value}"' if isinstance(value, str) else repr(value)
    return f" (default {shown})"


@main.command(name="layers")
@reports_errors
def layers_command():
    """List the layer kinds and their fields (plugins included), and the ways branches merge.

    \b
    Example:
      archcalc layers
    """
    from .api import kinds
    from .layers import LayerKind

    for kind in kinds():
        if not isinstance(kind, LayerKind):
            click.echo(f"{kind.name:<16} merge: {kind.summary}")
            continue
        aliases = f" (also: {', '.join(kind.aliases)})" if kind.aliases else ""
        click.echo(f"{kind.name:<16} {kind.summary}{aliases}")
        for spec_field in kind.fields:
            click.echo(f"{'':<18}{spec_field.name}: {spec_field.help}{default_text(spec_field)}")


@main.command(name="verify")
@click.argument("specs", nargs=-1)
@click.option("--all", "all_specs", is_flag=True, help="Verify every shipped spec.")
@click.option("--device", default="cpu", show_default=True, help="cpu, or cuda (adds latency and peak memory).")
@click.option("--batch", type=click.IntRange(*BATCH_RANGE), default=2, show_default=True,
              help="Batch of random inputs (its activations must fit in memory).")
@options("input", "layers")
@click.option("--no-onnx", is_flag=True, help="Skip the ONNX export and onnxruntime run.")
@options("format", "output", "force", formats=("text", "json"))
@reports_errors
def verify_command(specs, all_specs, device, batch, input, layers, no_onnx, fmt, output, force):
    """Run SPEC in PyTorch (and ONNX) and check every number of the analysis; exit 1 if any differs.

    \b
    Examples:
      archcalc verify vgg16
      archcalc verify resnet50 --device cuda
      archcalc verify --all
      archcalc verify --input 32x32x3 --layers "conv 10 5x5 p2; maxpool 2"
    """
    from .api import verify

    def progress(models):
        if sys.stderr.isatty():
            with click.progressbar(models, label="verifying", file=sys.stderr, show_pos=True,
                                   item_show_func=lambda model: model.name if model else "") as bar:
                yield from bar
            return
        for number, model in enumerate(models, 1):  # in a pipe or a log: one line per network
            if len(models) > 1:
                click.echo(f"verifying {number}/{len(models)}: {model.name}", err=True)
            yield model

    reports = verify(specs, all_specs, device, batch, input, layers, no_onnx, progress)
    emit(reports.render(fmt), output, force)
    if not reports.ok:
        sys.exit(1)


@main.command(name="export")
@click.argument("spec", required=False)
@click.option("--onnx", "onnx_path", type=click.Path(dir_okay=False), help="Write an ONNX model here.")
@click.option("--torch", "torch_path", type=click.Path(dir_okay=False), help="Write a readable nn.Module source here.")
@click.option("--no-weights", is_flag=True,
              help="ONNX without the weights (declared as inputs with their shapes): small, for viewers and import.")
@options("input", "layers", "force")
@reports_errors
def export_command(spec, onnx_path, torch_path, no_weights, input, layers, force):
    """Export SPEC as an ONNX model or as PyTorch source.

    \b
    Examples:
      archcalc export googlenet --onnx googlenet.onnx
      archcalc export resnet18 --torch resnet18.py
    """
    from .api import export

    for path in export(spec, onnx_path, torch_path, input, layers, force, no_weights):
        click.echo(f"wrote {path}")


@main.command(name="import")
@click.argument("model", type=click.Path(dir_okay=False))
@options("input", "output", "force", "as_exported")
@click.option("--strict", is_flag=True, help="An operator that no layer kind reads is an error (else an opaque layer).")
@reports_errors
def import_command(model, input, output, force, as_exported, strict):
    """Read an ONNX MODEL and write it as a spec (blocks found, the model's names kept).

    Every command also reads an ONNX file in place of a spec (archcalc table model.onnx).

    \b
    Examples:
      archcalc import resnet18.onnx -o resnet18.toml
      archcalc import model.onnx --input HxWx3 -o model.toml
      archcalc import folded.onnx --as-exported
    """
    from .api import import_model

    imported = import_model(model, output, input, force, as_exported, strict)
    if output:
        click.echo(f"wrote {output}")
    else:
        click.echo(imported.text, nl=False)
    for note in imported.notes:
        click.echo(f"note: {as_flags(note)}", err=True)


@main.command(name="memory")
@click.argument("spec", required=False)
@options("input", "layers", "batch", "dtype", "no_bias")
@click.option("--train", is_flag=True, help="Add one training step: forward, loss, backward, optimizer step.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd-momentum", show_default=True,
              help="The optimizer of the training step (its state: none, one or two buffers per parameter).")
@click.option("--mixed", is_flag=True,
              help="Mixed precision: activations in --dtype (float16/bfloat16), weights and their state in float32.")
@click.option("--device", type=click.Choice(("cpu", "cuda")), default="cpu", show_default=True,
              help="Whose kernels: dropout's mask and Adam's temporaries differ.")
@click.option("--fit", metavar="SIZE", help="The largest batch whose peak fits SIZE (24GiB, 24GB, 512MiB).")
@click.option("--measure", is_flag=True, help="Also run the network in PyTorch on the CPU and track what it holds.")
@options("format", "output", "force")
@reports_errors
def memory_command(spec, input, layers, batch, dtype, no_bias, train, optimizer, mixed, device, fit, measure, fmt,
                   output, force):
    """Memory as PyTorch holds it: the inference peak, where it occurs and what is live then; with
    --train a training step; with --fit the largest batch that fits.

    \b
    Examples:
      archcalc memory resnet50 --batch 32 --dtype float16
      archcalc memory resnet50 --batch 32 --train --optimizer adam
      archcalc memory resnet50 --train --optimizer sgd-momentum --fit 24GiB
      archcalc memory vgg16 -f json
      archcalc memory alexnet --train --measure
    """
    from .api import memory

    emit(memory(spec, input, layers, batch, dtype, train, optimizer, mixed, device, fit, measure, no_bias).render(fmt),
         output, force)


@main.command(name="compare")
@click.argument("specs", nargs=-1, required=True)
@options("input")
@click.option("--keys", metavar="KEY,KEY", help="Only these rows (e.g. params,macs,top5_error).")
@click.option("--transpose", is_flag=True, help="One row per network (for many networks).")
@options("format")
@click.option("--standalone", is_flag=True, help="With -f latex: a whole document that pdflatex compiles as it is.")
@options("output", "force")
@reports_errors
def compare_command(specs, input, keys, transpose, fmt, standalone, output, force):
    """Compare networks side by side, checking what sources claim about them.

    \b
    Examples:
      archcalc compare alexnet vgg19 googlenet resnet152
      archcalc compare lecun1989 alexnet
      archcalc compare alexnet vgg16 resnet50 mobilenet_v2 efficientnet_b0 --keys year,params,macs,top5_error --transpose
    """
    from .api import compare

    emit(compare(specs, input, keys, transpose).render(fmt, standalone), output, force)


@main.command(name="explain")
@click.argument("spec", required=False)
@click.argument("layer_names", nargs=-1)
@options("input", "layers", "no_bias")
@click.option("--strict", is_flag=True, help="A non-integer output size is an error.")
@options("format", "output", "force", formats=("text", "markdown", "json"))
@reports_errors
def explain_command(spec, layer_names, input, layers, no_bias, strict, fmt, output, force):
    """Show the working of every layer (or the LAYER_NAMES given), numbers filled in.

    \b
    Examples:
      archcalc explain alexnet_simplified conv1
      archcalc explain --input 32x32x3 --layers "conv 10 5x5 s1 p2; maxpool 2" conv1
      archcalc explain vgg16 conv1_1 fc6
    """
    from .api import explain

    if layers and spec:  # with --layers there is no SPEC: the first name is a layer's
        spec, layer_names = None, (spec,) + layer_names
    emit(explain(spec, layer_names, input, layers, no_bias, strict).render(fmt), output, force)


@main.command(name="sizes")
@click.argument("spec")
@click.option("--max", "maximum", type=click.IntRange(1, 4096), default=512, show_default=True,
              help="Search square inputs 1..MAX.")
@click.option("--at", "at", type=click.IntRange(1, 10_000_000), help="List what floors at this input size.")
@reports_errors
def sizes_command(spec, maximum, at):
    """Input sizes at which every conv and pool of SPEC divides exactly, and the smallest that runs.

    \b
    Examples:
      archcalc sizes alexnet
      archcalc sizes resnet50 --at 224
    """
    from .api import sizes

    click.echo(sizes(spec, maximum, at).render(), nl=False)


@main.command(name="solve")
@click.option("--size", type=click.IntRange(1, 1_000_000), required=True, help="Input size W (one axis).")
@click.option("--target", required=True, help='Wanted output size, or "same".')
@click.option("--kernel", type=click.IntRange(1, 4096), help="Kernel F (searched 1..32 if not given).")
@click.option("--stride", type=click.IntRange(1, 4096), help="Stride S (searched if not given).")
@click.option("--pad", type=click.IntRange(0, 4096),
              help="Padding P on each side (searched if not given, uneven padding too: 1+2).")
@click.option("--dilation", type=click.IntRange(1, 64), default=1, show_default=True, help="Dilation D.")
@click.option("--transposed", is_flag=True,
              help="A transposed convolution: (W-1)S - 2P + D(F-1) + output_padding + 1 (output_padding 0..S-1 "
                   "is searched too, as PyTorch's output_size implies).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Solutions to show.")
@reports_errors
def solve_command(size, target, kernel, stride, pad, dilation, transposed, limit):
    """Find the padding, stride or kernel that turns one size into another.

    \b
    Examples:
      archcalc solve --size 32 --target same --kernel 5 --stride 1
      archcalc solve --size 224 --target 112 --kernel 7
      archcalc solve --size 7 --target 14 --kernel 4 --transposed
      archcalc solve --size 6 --target 12 --kernel 3 --stride 2 --transposed   # pad 1, output_padding 1
      archcalc solve --size 224 --target 55 --kernel 11 --stride 4              # pad 1+2, as TF's SAME
    """
    from .api import solve

    click.echo(solve(size, target, kernel, stride, pad, dilation, transposed).render(limit), nl=False)


@main.command(name="worksheet")
@click.argument("spec", required=False)
@options("input", "layers")
@click.option("--blank", default="output,memory,params", show_default=True,
              help="Columns to leave blank, from: output, memory, weights, biases, params, macs.")
@options("no_bias")
@click.option("--output-dir", "-o", "output_dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to write NAME_worksheet.csv and NAME_answers.csv (made if missing).")
@options("force")
@reports_errors
def worksheet_command(spec, input, layers, blank, no_bias, output_dir, force):
    """Write a blank table for students (NAME_worksheet.csv) and its answer key (NAME_answers.csv).

    \b
    Example:
      archcalc worksheet vgg16 --blank output,memory,params --no-bias -o handouts/
    """
    from .api import worksheet

    sheet, key = worksheet(spec, input, layers, blank, no_bias).write(output_dir, force)
    click.echo(f"wrote {sheet} and {key}")


@main.command(name="check")
@click.argument("spec")
@click.argument("answers", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@options("input", "no_bias")
@click.option("--blank", default="output,memory,params", show_default=True,
              help="The columns the worksheet left blank (as given to worksheet): every cell in them is a question.")
@click.option("--k1024", is_flag=True, help="K, M, G in answers mean 1024, 1024^2, 1024^3.")
@click.option("--explain", is_flag=True, help="Show the working under each wrong cell.")
@click.option("--gradebook", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Mark every sheet and write one row per student (right, follow-through, wrong, unanswered, asked) "
                   "to FILE.")
@options("format", "force")
@reports_errors
def check_command(spec, answers, input, no_bias, blank, k1024, explain, output, fmt, force):
    """Mark a student's filled worksheet (CSV or TOML) against SPEC; exit 1 unless every question is
    right. Each blank cell is a question: right, follow-through, wrong or unanswered; score = right /
    asked. Several sheets (a class) print one line per student, or a gradebook CSV with --gradebook.

    \b
    Examples:
      archcalc check vgg16 alice.csv --no-bias
      archcalc check lenet5 bob.csv --blank output,memory,params,macs --explain
      archcalc check vgg16 answers/*.csv --gradebook grades.csv
    """
    from .api import check, gradebook as mark_class

    if output or len(answers) > 1:
        book = mark_class(spec, answers, input, no_bias, k1024, blank)
        if output:
            from .files import write_output

            click.echo(f"wrote {write_output(output, book.render('csv'), force)} ({len(answers)} students)")
        else:
            click.echo(book.render("json" if fmt == "json" else "text"), nl=False)
        sys.exit(0 if book.ok else 1)
    marked = check(spec, answers[0], input, no_bias, k1024, blank)
    click.echo(marked.render(fmt, explain), nl=False)
    if not marked.ok:
        sys.exit(1)


@main.command(name="conventions")
@click.argument("spec", required=False)
@options("input", "layers", "format", "output", "force")
@reports_errors
def conventions_command(spec, input, layers, fmt, output, force):
    """SPEC's totals as each well-known tool and source counts them, with the reason for each difference.

    \b
    Example:
      archcalc conventions resnet50_torchvision
    """
    from .api import conventions

    emit(conventions(spec, input, layers).render(fmt), output, force)


@main.command(name="plot")
@click.argument("specs", nargs=-1, required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="The image: .png or .svg.")
@click.option("--accuracy", is_flag=True, help="Top-5 error against MACs, circle area by parameters.")
@options("force")
@reports_errors
def plot_command(specs, output, accuracy, force):
    """Plot where memory, parameters and MACs go in one network, or compare several.

    \b
    Examples:
      archcalc plot vgg16 -o vgg16.svg
      archcalc plot alexnet vgg19 googlenet resnet152 -o compare.png
      archcalc plot alexnet vgg16_bn resnet50_torchvision mobilenet_v2 efficientnet_b0 --accuracy -o accuracy.png
    """
    from .api import plot

    click.echo(f"wrote {plot(specs, output, force, accuracy)}")


@main.command(name="handout")
@click.argument("specs", nargs=-1, required=True)
@click.option("--output-dir", "-o", "output_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for the handout (made if missing).")
@click.option("--name", default="handout", show_default=True, help="File name stem: NAME.md, NAME.html.")
@click.option("--title", help="The handout's title (default: the networks' short names).")
@click.option("--compare", "compare_with", metavar="SPEC,SPEC",
              help="Networks for the comparison matrix and the lecture's questions (default: SPECS).")
@options("input", "no_bias")
@click.option("--depth", type=click.IntRange(*DEPTH_RANGE), metavar="N",
              help="Show blocks nested deeper than N as one row, identical ones once ('x36'). "
                   "Default: 0 where a table passes 40 rows.")
@click.option("--student", is_flag=True,
              help="Also write NAME_student.* (blank cells) and NAME_student_key.* (the same, filled in).")
@click.option("--blank", metavar="COLUMNS", default="output,memory,params,macs,rf", show_default=True,
              help="The student version's blank columns, from: output, memory, params, macs, rf, jump, start.")
@click.option("--convention", type=click.Choice(CONVENTIONS), default="archcalc", show_default=True,
              help="Also state the totals as this tool or source counts them.")
@click.option("--paper", type=click.Choice(("A4", "Letter")), default="A4", show_default=True,
              help="Paper size for printing.")
@click.option("--svg", is_flag=True, help="Draw the plots as SVG (sharp at any size) instead of PNG.")
@click.option("--pdf", is_flag=True, help="Also print each document to PDF with headless Chromium.")
@options("force")
@reports_errors
def handout_command(specs, output_dir, name, title, compare_with, input, no_bias, depth, student, blank, convention,
                    paper, svg, pdf, force):
    """Write a self-contained handout (Markdown and one HTML file) for one or more networks.

    \b
    Examples:
      archcalc handout vgg16 -o handouts/
      archcalc handout alexnet_simplified vgg16 googlenet resnet152 --compare alexnet,vgg19,googlenet,resnet152 \\
          --student --pdf -o reports --name lecture9
    """
    from .api import handout

    written = handout(specs, output_dir, name, title, compare_with, student, pdf, force, input, no_bias, depth, blank,
                      convention, paper, svg)
    click.echo(f"wrote {', '.join(sorted(str(path) for path in written))}")
    for notice in getattr(written, "notices", ()):
        click.echo(f"note: {notice}", err=True)
