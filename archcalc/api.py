"""The Python API: what the command line does, for scripts and notebooks.

>>> import archcalc
>>> r = archcalc.analyze("vgg16", input="224x224x3")
>>> r.totals.params
138357544
>>> r.to_frame().loc[1, "shape"]
[224, 224, 64]

Results display as tables in Jupyter (``_repr_html_``, ``_repr_markdown_``).
"""
from __future__ import annotations

from dataclasses import fields

from . import comparison
from .engine import Analysis, analyze as analyze_spec
from .errors import Location
from .spec import ModelSpec, load_spec, parse_shape, with_input, without_bias


class Result(Analysis):
    """An Analysis that also renders itself: as a DataFrame, as HTML or as Markdown."""

    def table(self, **options):
        from .report.table import TableOptions, build_table

        return build_table(self, TableOptions(**options))

    def to_frame(self):
        """One row per table row with exact values (pandas)."""
        from .report.table import to_frame

        return to_frame(self.table())

    def render(self, fmt: str = "text", **options) -> str:
        """The table in any format the command line offers (text, markdown, latex, html, csv, json, ...)."""
        from .report.render import render

        return render(self.table(**options), fmt)

    def _repr_html_(self) -> str:
        return self.render("html")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


class ComparisonResult:
    """The comparison matrix, renderable like a table."""

    def __init__(self, matrix: comparison.Comparison):
        self.matrix = matrix

    def model(self):
        from .report.matrix import comparison_model

        return comparison_model(self.matrix)

    def to_frame(self):
        import pandas

        return pandas.DataFrame({row.key: list(row.values) for row in self.matrix.rows},
                                index=list(self.matrix.models)).T

    def render(self, fmt: str = "text") -> str:
        from .report.render import render

        return render(self.model(), fmt)

    def _repr_html_(self) -> str:
        return self.render("html")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def _spec(spec: str | ModelSpec, input: str | tuple | None, no_bias: bool) -> ModelSpec:
    model = spec if isinstance(spec, ModelSpec) else load_spec(spec)
    if input is not None:
        shape = input if isinstance(input, tuple) else parse_shape(input, Location("input"))
        model = with_input(model, shape)
    return without_bias(model) if no_bias else model


def analyze(spec: str | ModelSpec, input: str | tuple | None = None, strict: bool = False,
            no_bias: bool = False) -> Result:
    """Analyse a shipped spec by name, a .toml path, or a ModelSpec; ``input`` like ``"224x224x3"``."""
    analysis = analyze_spec(_spec(spec, input, no_bias), strict=strict)
    return Result(**{f.name: getattr(analysis, f.name) for f in fields(Analysis)})


def compare(specs: list, input: str | tuple | None = None) -> ComparisonResult:
    """The comparison matrix of several networks (names, paths, specs or analyses)."""
    analyses = [s if isinstance(s, Analysis) else analyze(s, input) for s in specs]
    return ComparisonResult(comparison.compare(analyses))
