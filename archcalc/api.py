"""The Python API: everything the command line does, for scripts and notebooks. Each command is one
function here that returns a result (a table model, or an object that renders itself); the CLI
only parses options and prints.

>>> import archcalc
>>> r = archcalc.analyze("vgg16", input="224x224x3")
>>> r.totals.params
138357544
>>> r.to_frame().loc[1, ["name", "H", "W", "C"]].to_dict()
{'name': 'conv1_1', 'H': 224, 'W': 224, 'C': 64}
>>> r
Result(vgg16: input 224x224x3, 22 rows, params 138,357,544, MACs 15.5G, float32, batch 1)
>>> archcalc.analyze(input="32x32x3", layers="conv 10 5x5 s1 p2").rows[1].shape
(32, 32, 10)

Results display as tables in Jupyter (``_repr_html_``, ``_repr_markdown_``).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable

from .engine import Analysis, analysis_of, collapse
from .options import Options
from .errors import ArchcalcError, Location
from .files import check_targets, write_output, write_outputs
from .spec import (ModelSpec, caffe_pooling as ceil_pooling, dilation_from_zero as gaps_from_zero, load_spec,
                   parse_input_shape, quick_spec, with_input, without_bias)

SpecSource = str | ModelSpec  # a shipped name, a .toml path, "-" for stdin, or a parsed spec


def load(spec: SpecSource | None = None, input: str | tuple | None = None, layers: str | None = None,
         no_bias: bool = False, caffe_pooling: bool = False, dilation_from_zero: bool = False,
         as_exported: bool = False, strict: bool = False) -> ModelSpec:
    """The network to analyse: ``spec`` (on ``input`` if given), or one made of ``input`` and
    ``layers`` in the compact syntax; then the conventions asked for. An ONNX file's folded batch
    norms are restored unless ``as_exported``; its operators that no kind reads are opaque layers
    unless ``strict``.

    >>> load(input="32x32x3", layers="conv 10 5x5 p2; maxpool 2").input_shape
    (32, 32, 3)
    """
    if layers:
        if not input:
            raise ArchcalcError("`layers` needs `input` (e.g. `input` 32x32x3)")
        if spec:
            raise ArchcalcError("give a SPEC or `layers`, not both")
        model = quick_spec(input if isinstance(input, str) else "x".join(map(str, input)), layers)
    elif not spec:
        raise ArchcalcError("name a spec (e.g. vgg16), a .toml file, - for stdin, or give `input` and `layers`")
    elif isinstance(spec, str) and spec.lower().endswith(".onnx"):
        from .importing import onnx_spec

        model = onnx_spec(spec, input if input is None or isinstance(input, str) else "x".join(map(str, input)),
                          as_exported, strict)
    else:
        model = spec if isinstance(spec, ModelSpec) else load_spec(spec)
        if input is not None:
            model = with_input(model, input if isinstance(input, tuple) else parse_input_shape(input, Location("`input`")))
    for wanted, transform in ((no_bias, without_bias), (caffe_pooling, ceil_pooling),
                              (dilation_from_zero, gaps_from_zero)):
        model = transform(model) if wanted else model
    return model


@dataclass(frozen=True, repr=False)
class Result(Analysis):
    """An Analysis that renders itself as a table (any format), a DataFrame, HTML or Markdown;
    ``batch``, ``dtype`` and ``convention`` say how its totals are stated."""

    batch: int = 1
    dtype: str = "float32"
    convention: str = "archcalc"

    def table(self, working: bool = False, exact: bool = False, rf: bool = False, connections: bool = False,
              live: bool = False, pixel_index: bool = False):
        """The table model every format renders (``working``: the products in the cells; ``exact``:
        every digit; ``rf``: receptive-field columns; ``connections``: LeCun's connections column;
        ``live``: the bytes live while each row runs at inference; ``pixel_index``: the RF start with
        pixel centres at integer indices, as TensorFlow's receptive-field library reports it)."""
        from .report.table import TableOptions, build_table

        return build_table(self, TableOptions(dtype=self.dtype, batch=self.batch, working=working, exact=exact,
                                              receptive_field=rf, convention=self.convention,
                                              connections=connections, live=live, pixel_index=pixel_index))

    @property
    def memory_bytes(self):
        """The memory column's total in bytes, for this batch and dtype, as the table's TOTAL line:
        ``analyze("vgg16", batch=8, dtype="float16").memory_bytes`` is 15,237,608 x 2 x 8."""
        from .dims import normalize
        from .report.numbers import DTYPE_BYTES

        return normalize(self.totals.memory * DTYPE_BYTES[self.dtype] * self.batch)

    @property
    def params_bytes(self):
        """The parameters in bytes, in this dtype (the same for any batch)."""
        from .dims import normalize
        from .report.numbers import DTYPE_BYTES

        return normalize(self.totals.params * DTYPE_BYTES[self.dtype])

    @property
    def macs(self):
        """MACs for the whole batch, as the table's TOTAL line states them."""
        from .dims import normalize

        return normalize(self.totals.macs * self.batch)

    def to_frame(self):
        """One row per table row with exact values (pandas)."""
        from .report.table import to_frame

        return to_frame(self.table())

    def render(self, fmt: str = "text", standalone: bool = False, **table_options) -> str:
        """The table in any format the command line offers (text, markdown, latex, html, csv, json, ...);
        ``standalone``: a LaTeX document that compiles as it is."""
        from .report.render import render

        return render(self.table(**table_options), fmt, standalone)

    def __repr__(self) -> str:
        from .report.notebook import result_repr

        return result_repr(self)

    def __str__(self) -> str:
        return self.render("text")

    def _repr_html_(self) -> str:
        from .report.notebook import notebook_html

        return notebook_html(self.table())

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def analyze(spec: SpecSource | None = None, input: str | tuple | None = None, layers: str | None = None,
            batch: int = 1, dtype: str = "float32", no_bias: bool = False, convention: str = "archcalc",
            caffe_pooling: bool = False, dilation_from_zero: bool = False, depth: int | None = None,
            strict: bool = False, as_exported: bool = False) -> Result:
    """Analyse a network: a shipped spec by name, a .toml path, an ONNX file, a ModelSpec, or ``input``
    and ``layers`` in the compact syntax. ``depth`` collapses blocks nested deeper into one row each;
    ``as_exported`` counts an ONNX file as it stands (batch norms its exporter folded left folded)."""
    return analyze_with(spec, layers, Options(input, batch, dtype, no_bias, convention, caffe_pooling,
                                              dilation_from_zero, depth, strict, as_exported))


def analyze_with(spec: SpecSource | None, layers: str | None, options: Options) -> Result:
    """``analyze`` with its options as one checked object."""
    model = load(spec, options.input, layers, options.no_bias, options.caffe_pooling, options.dilation_from_zero,
                 options.as_exported, options.strict)
    analysis = analysis_of(model, strict=options.strict)
    if options.depth is not None:
        analysis = collapse(analysis, options.depth, group=True)
    return Result(**{f.name: getattr(analysis, f.name) for f in fields(Analysis)}, batch=options.batch,
                  dtype=options.dtype, convention=options.convention)


def _analysis(spec) -> Analysis:
    return spec if isinstance(spec, Analysis) else analyze(spec)


class ComparisonResult:
    """The comparison matrix, renderable like a table (``transpose``: one row per network)."""

    def __init__(self, matrix, transpose: bool = False):
        self.matrix, self.transpose = matrix, transpose

    def model(self):
        from .report.matrix import comparison_model

        return comparison_model(self.matrix, self.transpose)

    def to_frame(self):
        import pandas

        return pandas.DataFrame({row.key: list(row.values) for row in self.matrix.rows},
                                index=list(self.matrix.models)).T

    def render(self, fmt: str = "text", standalone: bool = False) -> str:
        from .report.render import render

        return render(self.model(), fmt, standalone)

    def __repr__(self) -> str:
        return (f"ComparisonResult({', '.join(self.matrix.models)}: {len(self.matrix.rows)} rows; "
                ".render(fmt), .to_frame())")

    def __str__(self) -> str:
        return self.render("text")

    def _repr_html_(self) -> str:
        from .report.notebook import notebook_html

        return notebook_html(self.model())

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def compare(specs: Iterable, input: str | tuple | None = None, keys: Iterable[str] | str | None = None,
            transpose: bool = False) -> ComparisonResult:
    """The comparison matrix of several networks (names, paths, specs or analyses); ``keys`` keeps
    those rows only (``"params,macs,top5_error"``), ``transpose`` puts one network on each row."""
    from .comparison import build_comparison, select

    matrix = build_comparison([s if isinstance(s, Analysis) else analyze(s, input) for s in specs])
    if keys:
        matrix = select(matrix, [k.strip() for k in (keys.split(",") if isinstance(keys, str) else keys) if k.strip()])
    return ComparisonResult(matrix, transpose)


class Explained(tuple):
    """The working of the rows asked for (``Explanation`` objects), renderable as text, Markdown or JSON."""

    def render(self, fmt: str = "text") -> str:
        from .report.explain import render_explanations

        return render_explanations(list(self), fmt)


def explain(spec: SpecSource | None = None, layer_names: Iterable[str] = (), input: str | tuple | None = None,
            layers: str | None = None, no_bias: bool = False, strict: bool = False) -> Explained:
    """The working of every row (or of the rows named or numbered in ``layer_names``)."""
    from .report.explain import explain as explain_rows

    return Explained(explain_rows(analyze(spec, input, layers, no_bias=no_bias, strict=strict), list(layer_names)))


class ConventionsResult:
    """A network's totals as each counting convention states them."""

    def __init__(self, analysis: Analysis):
        from .counting import all_conventions

        self.analysis, self.totals = analysis, all_conventions(analysis)

    def model(self):
        from .report.models import conventions_model

        return conventions_model(self.analysis, self.totals)

    def render(self, fmt: str = "text") -> str:
        from .report.render import render

        return render(self.model(), fmt)


def conventions(spec: SpecSource | None = None, input: str | tuple | None = None,
                layers: str | None = None) -> ConventionsResult:
    """``spec``'s totals as torchvision, fvcore, ptflops, thop, Keras, the slide and papers count them."""
    return ConventionsResult(analyze(spec, input, layers))


def sizes(spec: SpecSource, maximum: int = 512, at: int | None = None) -> SizesResult:
    """The input sizes at which every conv and pool divides exactly, the smallest that runs, and (with
    ``at``) what floors at that size."""
    from .inverse import SizesResult, input_sizes

    model = load(spec)
    found = input_sizes(model, maximum)
    warnings: tuple[str, ...] = ()
    if at is not None:
        shape = (at,) * (len(model.input_shape) - 1) + (model.input_shape[-1],)
        warnings = analysis_of(with_input(model, shape)).warnings
    return SizesResult(model, found, at, warnings)


class Solutions(tuple):
    """Solutions of an inverse question, exact ones first; ``render`` shows ``limit`` of each sort."""

    size: int = 0
    target: int | str = 0

    def render(self, limit: int = 10) -> str:
        if not self:
            return f"no solution: nothing within the searched ranges turns {self.size} into {self.target}\n"
        lines = []
        exact = [s for s in self if s.exact]
        for title, group in (("exact", exact), ("only with floor (the last inputs are unused)",
                                                [s for s in self if not s.exact])):
            if group:
                lines.append(f"{title}: {len(group)} solution(s)")
                lines += [f"  kernel {s.kernel}, stride {s.stride}, pad {s.pad_text}"
                          + (f", dilation {s.dilation}" if s.dilation != 1 else "")
                          + (f", output_padding {s.output_padding}" if s.output_padding else "") + f": {s.working}"
                          for s in group[:limit]]
                if any(s.pad_after is not None for s in group[:limit]):
                    lines.append("  (uneven padding: TensorFlow's SAME puts the extra row and column after; in "
                                 "PyTorch, pad the input with F.pad first)")
                if len(group) > limit:
                    lines.append(f"  ... and {len(group) - limit} more (--limit)")
        if not exact:
            lines.append("no exact solution")
        return "\n".join(lines) + "\n"


def solve(size: int, target: int | str, kernel: int | None = None, stride: int | None = None, pad: int | None = None,
          dilation: int = 1, transposed: bool = False) -> Solutions:
    """Every kernel, stride and padding (those not fixed) that turns ``size`` into ``target``
    (a number, or ``"same"``), exact solutions first."""
    from .errors import SpecError
    from .inverse import solve_window

    if isinstance(target, str) and target != "same":
        if not target.isdigit():
            raise SpecError(f"`target` must be a whole number or \"same\", found {target!r}")
        target = int(target)
    solutions = Solutions(solve_window(size, target, kernel, stride, pad, dilation, transposed))
    solutions.size, solutions.target = size, target
    return solutions


BLANKABLE = ("output", "memory", "weights", "biases", "params", "macs")


def worksheet(spec: SpecSource | None = None, input: str | tuple | None = None, layers: str | None = None,
              blank: Iterable[str] | str = ("output", "memory", "params"), no_bias: bool = False) -> Worksheet:
    """A worksheet with the ``blank`` columns left empty (``"output,memory"`` or a list), and its key.
    A symbolic input (``HxWx3``) makes a sheet of formulas."""
    from .marking import Worksheet, blank_columns, sheet_csv, worksheet_rows

    columns = blank_columns(blank)
    analysis = analyze(spec, input, layers, no_bias=no_bias)
    return Worksheet(analysis.spec.name, sheet_csv(worksheet_rows(analysis, columns, answers=False)),
                     sheet_csv(worksheet_rows(analysis, columns, answers=True)))


def check(spec: SpecSource, answers: str | Path, input: str | tuple | None = None, no_bias: bool = False,
          k1024: bool = False, blank: Iterable[str] | str = ("output", "memory", "params")) -> Marked:
    """Mark a filled answer sheet (CSV or TOML) against ``spec``: every cell of the ``blank``
    columns (those the worksheet was made with) is a question; the other cells were given."""
    from .marking import Marked, check_answers

    kilo = 1024 if k1024 else 1000
    result = check_answers(analyze(spec, input, no_bias=no_bias), _read_sheet(answers), kilo, blank)
    return Marked(result, Path(answers).name, kilo)


def _read_sheet(sheet: str | Path) -> list[dict[str, str]]:
    from .errors import SpecError
    from .marking import read_answers

    try:
        text = Path(sheet).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read the answer sheet: {error}", Location(str(sheet))) from None
    return read_answers(text, str(sheet))


def _numeric(analysis: Analysis, command: str) -> Analysis:
    """A command that prints numbers only: a symbolic input (HxWx3) is an error that says what to give."""
    from .dims import is_symbolic

    if any(is_symbolic(d) for d in analysis.spec.input_shape):
        shown = "x".join(str(d) for d in analysis.spec.input_shape)
        raise ArchcalcError(f"{command} prints numbers, but the input {shown} is symbolic: give sizes, "
                            f"e.g. `input` 224x224x3")
    return analysis


def gradebook(spec: SpecSource, sheets: Iterable[str | Path], input: str | tuple | None = None,
              no_bias: bool = False, k1024: bool = False, blank: Iterable[str] | str = ("output", "memory", "params")):
    """Mark a whole class: one row per sheet (the student is the file's name), with right,
    follow-through, wrong, unanswered and asked, the score per column, altered given cells, rows
    that are not the network's, and the first divergence."""
    from .errors import SpecError
    from .marking import Gradebook, blank_columns, check_answers, given_cells

    analysis = analyze(spec, input, no_bias=no_bias)
    kilo, columns = 1024 if k1024 else 1000, blank_columns(blank)
    given = given_cells(analysis, columns)  # the same worksheet for the whole class
    results = tuple((Path(sheet).stem, check_answers(analysis, _read_sheet(sheet), kilo, columns, given))
                    for sheet in sheets)
    if not results:
        raise SpecError("no answer sheets given")
    return Gradebook(results)


class Verified(list):
    """The verification reports of several networks; ``ok`` when every check of every one agrees."""

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self)

    def render(self, fmt: str = "text") -> str:
        from .lower.verify import render_reports

        return render_reports(list(self), fmt)


def verify(specs: Iterable[SpecSource] = (), all_specs: bool = False, device: str = "cpu", batch: int = 2,
           input: str | tuple | None = None, layers: str | None = None, no_onnx: bool = False,
           progress=None) -> Verified:
    """Run each network (or the one given by ``input`` and ``layers``) in PyTorch (and ONNX) and
    check every number of its analysis. ``progress`` wraps the list of networks (the CLI passes a
    progress bar)."""
    from .lower.verify import check_device, verify as run_verify
    from .spec import shipped_spec_names

    import re

    Options(batch=batch)  # the one range of a batch, checked before any work
    if not re.fullmatch(r"(cpu|cuda|mps|xpu)(:\d{1,3})?", device):
        raise ArchcalcError(f"`device`: {device!r} is not a device (cpu, cuda, cuda:1, mps)")
    check_device(device)
    names = list(specs) + (shipped_spec_names() if all_specs else [])
    if layers and names:
        raise ArchcalcError("give SPECs or `layers`, not both")
    models = [load(input=input, layers=layers)] if layers else [load(name, input) for name in names]
    if not models:
        raise ArchcalcError("name a spec, or pass `all` (or `input` and `layers`)")
    return Verified(run_verify(model, device=device, batch=batch, with_onnx=not no_onnx)
                    for model in (progress(models) if progress else models))


def export(spec: SpecSource | None = None, onnx_path: str | None = None, torch_path: str | None = None,
           input: str | tuple | None = None, layers: str | None = None, force: bool = False,
           no_weights: bool = False) -> list[Path]:
    """Write the network as readable PyTorch source and/or an ONNX model (``no_weights``: the
    model's structure alone, its weights declared as inputs with their shapes)."""
    from .lower.export import write_onnx, write_torch_source

    if not onnx_path and not torch_path:
        raise ArchcalcError("give `onnx` FILE and/or `torch` FILE")
    check_targets([p for p in (torch_path, onnx_path) if p], force)
    model = load(spec, input, layers)
    files = {}
    if torch_path:
        files[torch_path] = lambda path: write_torch_source(model, path, True)
    if onnx_path:
        files[onnx_path] = lambda path: write_onnx(model, path, True, weights=not no_weights)
    return write_outputs(files, force)  # both or neither


def import_model(model: str | Path, output: str | Path | None = None, input: str | None = None,
                 force: bool = False, as_exported: bool = False, strict: bool = False):
    """Read an ONNX file and write it as a spec (to ``output``, or only return it): an
    ``archcalc.importing.Imported`` with the spec's text and the accounting of the initializers.
    Batch norms the exporter folded into convs are restored unless ``as_exported``; an operator no kind
    reads is an opaque layer, or with ``strict`` an error.

    The import analyses the spec it writes, so a spec that does not analyse is never written."""
    from .importing import import_onnx

    if output:
        check_targets([output], force)
    imported = import_onnx(model, input, as_exported=as_exported, strict=strict)
    if output:
        write_output(output, imported.text, force)
    return imported


def from_torch(module, input: str, name: str | None = None) -> Result:
    """Analyse a live ``torch.nn.Module`` on an input of ``input`` (``"224x224x3"``; ``"100x12"`` a
    sequence, ``"784"`` a vector): exported by PyTorch's ONNX exporter with its batch norms kept,
    read back with the module's own names, frozen parameters (requires_grad False) marked
    ``trainable = false`` and modules used twice sharing their parameters.

    >>> import torch
    >>> result = from_torch(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()), "32x32x3")
    >>> result.totals.params, result.rows[-1].shape
    (224, (30, 30, 8))
    """
    from .importing.torch_module import torch_spec

    return analyze(torch_spec(module, input, name))


def plot(specs: Iterable[SpecSource], output: str | Path, force: bool = False, accuracy: bool = False) -> Path:
    """Where memory, parameters and MACs go in one network (bars per layer), or several networks
    compared (parameters against MACs; with ``accuracy``, top-5 error against MACs); PNG or SVG by
    the file's extension."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ArchcalcError("plotting needs matplotlib: pip install 'archcalc[plot]'") from None
    from .report.plots import plot_accuracy, plot_comparison, plot_network

    check_targets([output], force)
    analyses = [analyze(spec) for spec in specs]
    if accuracy:
        return write_output(output, lambda path: plot_accuracy(analyses, path), force)
    if len(analyses) == 1:
        return write_output(output, lambda path: plot_network(analyses[0], path), force)
    return write_output(output, lambda path: plot_comparison(analyses, path), force)


def handout(specs: Iterable[SpecSource], output_dir: str | Path, name: str = "handout", title: str | None = None,
            compare_with: Iterable[SpecSource] | str | None = None, student: bool = False, pdf: bool = False,
            force: bool = False, input: str | tuple | None = None, no_bias: bool = False, depth: int | None = None,
            blank: str | Iterable[str] | None = None, convention: str = "archcalc", paper: str = "A4",
            svg: bool = False) -> list[Path]:
    """A self-contained handout (Markdown and one HTML file, plots, optionally PDF) for one or more
    networks, with the comparison matrix of ``compare_with`` (default: the same networks) and the
    lecture's two questions answered. ``student`` also writes NAME_student.* with the ``blank``
    columns empty everywhere and NAME_student_key.* with them filled in; ``depth`` collapses blocks
    (default: where a table passes 40 rows); ``paper`` is A4 or Letter; ``svg`` draws the plots as SVG."""
    import re

    from .report.handout import (HandoutOptions, Version, build_handout, default_title, find_chromium,
                                 parse_blank, print_pdf)

    if not re.fullmatch(r"[\w.-]+", name):
        raise ArchcalcError(f"`name` must be letters, digits, '_', '-' or '.', found {name!r}")
    blanks = parse_blank(blank)
    options = HandoutOptions(paper=paper, blank=blanks, depth=depth, svg=svg, convention=convention)
    chromium = find_chromium() if pdf else None
    analyses = [_numeric(analyze(spec, input, no_bias=no_bias, convention=convention), "a handout")
                for spec in specs]
    if isinstance(compare_with, str):
        compare_with = compare_with.split(",")
    comparison = [analyze(spec, no_bias=no_bias) for spec in compare_with] if compare_with else analyses
    lecun = analyze("lecun1989") if len(comparison) > 1 else None
    title = title or default_title(analyses)
    versions = [(name, Version())] + ([(f"{name}_student", Version(blanks)), (f"{name}_student_key",
                                                                              Version(blanks, key=True))]
                                      if student else [])
    folder = Path(output_dir)
    files: dict[Path, object] = {}
    notices: dict[str, None] = {}
    for stem, version in versions:
        document = build_handout(analyses, comparison, name, title, version, options, lecun)
        notices.update(dict.fromkeys(document.notices))
        files[folder / f"{stem}.md"] = document.markdown
        files[folder / f"{stem}.html"] = document.html
        files.update({folder / image: data for image, data in document.images.items()})
        if chromium:
            page = folder / f"{stem}.html"
            files[folder / f"{stem}.pdf"] = lambda path, page=page: print_pdf(page, path, chromium)
    return Written(write_outputs(files, force), tuple(notices))


class Written(list):
    """The paths a command wrote, and what its user should be told about them (``notices``)."""

    def __init__(self, paths, notices: tuple[str, ...] = ()):
        super().__init__(paths)
        self.notices = notices


class MemoryResult:
    """Memory as execution holds it: ``inference`` always, ``training`` and ``fit`` when asked for,
    ``measured`` when the network was run to check; renderable like a table (JSON: the contract)."""

    def __init__(self, analysis: Analysis, inference, training=None, fit=None, measured: dict | None = None):
        self.analysis, self.inference, self.training, self.fit, self.measured = (analysis, inference, training, fit,
                                                                                 measured)

    def model(self):
        from .report.memory import memory_model

        return memory_model(self.analysis, self.inference, self.training, self.fit, self.measured)

    def render(self, fmt: str = "text") -> str:
        from .report.render import render

        return render(self.model(), fmt)


def memory(spec: SpecSource | None = None, input: str | tuple | None = None, layers: str | None = None,
           batch: int = 1, dtype: str = "float32", train: bool = False, optimizer: str = "sgd-momentum",
           mixed: bool = False, device: str = "cpu", fit: str | int | None = None, measure: bool = False,
           no_bias: bool = False) -> MemoryResult:
    """The inference peak (where, and what is live then) beside the lecture's memory total; with
    ``train``, one training step with ``optimizer``; with ``fit`` (bytes, or text such as "24GiB"),
    the largest batch whose peak fits; with ``measure``, the same network run in PyTorch on the CPU
    to check the inference peak, the training peak and the bytes kept for backward."""
    from .liveness import (DEVICES, OPTIMIZERS, inference_memory, largest_batch, parse_byte_size,
                         training_memory)

    if optimizer not in OPTIMIZERS:
        raise ArchcalcError(f"unknown optimizer {optimizer!r} (known: {', '.join(OPTIMIZERS)})")
    if device not in DEVICES:
        raise ArchcalcError(f"unknown device {device!r} (known: {', '.join(DEVICES)})")
    if mixed and dtype not in ("float16", "bfloat16"):
        raise ArchcalcError(f"mixed precision keeps activations in float16 or bfloat16: add `dtype` float16 "
                            f"(or bfloat16), not {dtype}")
    if mixed and not train:
        raise ArchcalcError("`mixed` describes a training step: add `train`")
    analysis = analyze(spec, input, layers, batch, dtype, no_bias=no_bias)

    def step(size: int):
        return training_memory(analysis, size, dtype, optimizer, mixed, device)

    inference = inference_memory(analysis, batch, dtype)
    training = step(batch) if train else None
    found = None
    if fit is not None:
        limit = parse_byte_size(fit) if isinstance(fit, str) else int(fit)
        peak_at = (lambda size: step(size).peak_bytes) if train else (
            lambda size: inference_memory(analysis, size, dtype).peak_bytes)
        found = largest_batch(peak_at, limit)
    measured = measured_memory(analysis, batch, dtype, train, optimizer) if measure else None
    return MemoryResult(analysis, inference, training, found, measured)


def measured_memory(analysis: Analysis, batch: int, dtype: str, train: bool, optimizer: str) -> dict:
    """Run the network in PyTorch on the CPU and track what it holds (float32 only)."""
    if dtype != "float32":
        raise ArchcalcError("`measure` runs the network in float32 on the CPU: leave `dtype` out")
    from .lower.build import require_torch
    from .lower.measure import measure_inference, measure_training_step

    torch = require_torch()
    inference = measure_inference(analysis.spec, batch, analysis)
    found = {"torch": torch.__version__, "device": "cpu", "inference_peak_bytes": inference.peak_bytes,
             "inference_peak_layer": inference.peak_at}
    if train:
        training = measure_training_step(analysis.spec, batch, optimizer, analysis)
        found.update({"training_peak_bytes": training.peak_bytes, "training_peak_phase": training.peak_phase,
                      "saved_bytes": training.saved_bytes})
    return found


def kinds() -> list:
    """Every layer kind (plugins included), sorted by name, and every way branches merge."""
    from .layers import KINDS, MERGES

    return [KINDS[name] for name in KINDS] + list(MERGES.values())


def shipped() -> dict[str, list[ModelSpec]]:
    """The specs that ship with archcalc, grouped by era (the eras in order of their first year, the
    specs by year, then name)."""
    from .spec import shipped_spec_names

    specs = sorted((load_spec(name) for name in shipped_spec_names()), key=lambda s: (s.meta.get("year", 0), s.name))
    eras: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        eras.setdefault(spec.meta.get("era", "other"), []).append(spec)
    return eras


__all__ = ["BLANKABLE", "ComparisonResult", "ConventionsResult", "Explained", "Result", "Solutions", "Verified",
           "analyze", "check", "compare", "conventions", "explain", "export", "handout", "kinds", "load", "plot",
           "shipped", "sizes", "solve", "verify", "worksheet", "write_output"]
