"""Worked derivations: each row's arithmetic in the lecture's notation, numbers filled in.

    conv1: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96; weights (11*11*3)*96 = 34,848, biases 96,
    params 34,944; memory 55*55*96 = 290,400; MACs 290,400 * 363 = 105,415,200

Every piece of working comes from the row's ``Step``, computed with the value it explains.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import format_dim, format_shape, normalize
from ..engine import Analysis, Row
from ..errors import SpecError
from ..layers.base import Inexact
from ..layers.spatial import merged_axes
from ..working import times
from .numbers import exact
from .table import receptive_cells


@dataclass(frozen=True)
class Explanation:
    """One row's working: its name and label, the parts of the derivation (each with what it
    derives: output, parameters, memory, MACs, receptive field), and notes below it."""

    name: str
    items: tuple[tuple[str, str], ...]  # (what, working)
    notes: tuple[str, ...] = ()
    label: str = ""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.items)

    @property
    def summary(self) -> str:
        """The derivation on one line: ``conv1: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96; ...``."""
        return f"{self.name}: " + "; ".join(self.parts)

    def text(self, width: int = 100) -> str:
        """The row, then one quantity per line, each wrapped at ``width`` characters."""
        import textwrap

        head = f"{self.name} ({self.label})" if self.label else self.name
        lines = [head]
        for what, text in self.items:
            lines += textwrap.wrap(f"{what}: {_without_lead(what, text)}", width, initial_indent="  ",
                                   subsequent_indent="      ", break_long_words=False, break_on_hyphens=False)
        for note in self.notes:
            lines += textwrap.wrap(f"note: {note}", width, initial_indent="  ", subsequent_indent="      ",
                                   break_long_words=False, break_on_hyphens=False)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def explain(analysis: Analysis, selected: list[str] | None = None) -> list[Explanation]:
    """The working of every row (or of those named or numbered in ``selected``)."""
    rows = [row for row in analysis.rows if not selected or _matches(row, selected)]
    missing = [item for item in selected or [] if not any(_matches(row, [item]) for row in analysis.rows)]
    if missing:
        from ..layers.base import nearest

        names = ", ".join(row.name for row in analysis.rows[:12])
        hint = nearest(missing[0], [row.name for row in analysis.rows] + list(analysis.layers))
        raise SpecError(f"no layer called {', '.join(map(repr, missing))} in {analysis.spec.name}"
                        + (f"; {hint}" if hint else "")
                        + f" (layers: {names}{', ...' if len(analysis.rows) > 12 else ''}; or give a row number)")
    return [explain_row(row, analysis) for row in rows]


def _matches(row: Row, selected: list[str]) -> bool:
    return row.name in selected or str(row.index) in selected or row.name.split("/")[-1] in selected


def explain_row(row: Row, analysis: Analysis | None = None) -> Explanation:
    """The working for one row; with its ``analysis``, also the other views its kind offers (a
    convolution as im2col, a transposed one as a direct convolution) and its FLOPs counted as
    multiplications plus additions."""
    shape = format_shape(row.shape)
    size = f"{_size_working(row)}{shape}"
    if row.folded:
        size += f" (then {', '.join(row.folded)}: same shape, no parameters)"
    items = [("output", size), ("parameters", _params_working(row)), ("memory", _memory_working(row)),
             ("MACs", _ops_working(row))]
    if analysis is not None and row.step and row.name in analysis.layers:
        items += _views(row, analysis)
    rf = receptive_cells(row)
    if rf["rf"]:
        items.append(("receptive field", f"receptive field {rf['rf']} (jump {rf['jump']}, start {rf['start']}, "
                                         f"effective padding {rf['eff_pad']})"))
    notes = []
    if row.step:
        by_design = "by design (the spec marks this flooring as intended): " \
            if row.floors_by_design else ""
        notes += [by_design + _frameworks(item) for item in merged_axes(row.step.inexact)]
        notes += list(row.step.notes) + list(row.step.explanation)
    label = " + ".join((row.label,) + row.folded)
    return Explanation(row.name, tuple(item for item in items if item[1]), tuple(notes), label)


def _views(row: Row, analysis: Analysis) -> list[tuple[str, str]]:
    """The other ways the row's kind presents the layer (im2col, a direct convolution, FLOPs as
    multiplications + additions), each under its heading."""
    from ..layers import KINDS

    layer, x = analysis.layers[row.name], analysis.inputs[row.name]
    return [(what, f"{what}: {text}") for what, text in KINDS[layer.kind].views(layer, x, row.step)]


def _size_working(row: Row) -> str:
    if row.kind == "input":
        return "input "
    working = row.step.working if row.step else ()
    if not working:
        return ""
    return " and ".join(dict.fromkeys(working)) + " -> "


def _params_working(row: Row) -> str:
    if not row.params:
        return "no parameters"
    if not row.step:
        return f"weights {exact(row.weights)}, biases {exact(row.biases)}, params {exact(row.params)}"
    weights_name, biases_name = row.step.param_names
    return f"{weights_name} {row.step.weights}, {biases_name} {row.step.biases}, params {exact(row.params)}"


def _memory_working(row: Row) -> str:
    if row.memory == 0:
        return "memory 0 (a view of its input)"
    return f"memory {times(*row.shape).text} = {exact(row.memory)}" if len(row.shape) > 1 else f"memory {exact(row.memory)}"


def _ops_working(row: Row) -> str:
    if row.macs and row.step and row.step.macs.text:
        return f"MACs {row.step.macs}"
    if row.step and row.step.elementwise.value:
        return f"{row.step.elementwise} {row.step.elementwise_name} (not multiply-accumulates)"
    return ""


def _axes(item: Inexact) -> str:
    return "rows and columns" if item.both_axes else f"{item.axis}s"


def _frameworks(item: Inexact) -> str:
    """What each framework does where (W - F + 2P) is not a multiple of S."""
    if item.rounding == "ceil":
        return (f"not an integer along the {_axes(item)}: ceil mode (Caffe's pooling, PyTorch ceil_mode=True) keeps "
                f"{item.kept}; floor (PyTorch's default, TensorFlow 'VALID') would keep {normalize(item.kept - 1)}")
    return (f"not an integer along the {_axes(item)}: PyTorch, TensorFlow ('VALID') and Caffe's convolution floor to "
            f"{item.kept}, leaving the last {item.unused} {'padded-' if item.padded else ''}input position(s) unused; "
            f"Caffe's pooling (and PyTorch's ceil_mode) would give {normalize(item.kept + 1)} "
            f"(unless that window would start in the padding); a lecture calls such a stride invalid (--strict)")


def render_explanations(explanations: list[Explanation], fmt: str = "text") -> str:
    """The working as text (one paragraph per row), Markdown (a list) or JSON."""
    if fmt == "json":
        import json

        return json.dumps([{"layer": e.name, "label": e.label, "working": e.summary,
                            "items": {what: _without_lead(what, text) for what, text in e.items},
                            "notes": list(e.notes)} for e in explanations], indent=2) + "\n"
    if fmt == "markdown":
        return "\n".join(explanation_markdown(e) for e in explanations) + "\n"
    if fmt != "text":
        raise SpecError(f"unknown format {fmt!r} for explanations: use text, markdown or json")
    return "\n".join(e.text() for e in explanations) + "\n"


def explanation_markdown(explanation: Explanation) -> str:
    """One quantity per line: the row, then what each working derives, then the notes."""
    lines = [f"- **{explanation.name}** ({explanation.label})" if explanation.label else f"- **{explanation.name}**"]
    lines += [f"  - {what}: {_without_lead(what, text)}" for what, text in explanation.items]
    lines += [f"  - note: {note}" for note in explanation.notes]
    return "\n".join(lines)


def explanation_html(explanation: Explanation) -> str:
    """The same as a definition list: the row and its label, then one line per quantity."""
    from html import escape

    head = f'<dt><code>{escape(explanation.name)}</code> {escape(explanation.label)}</dt>'
    body = "".join(f'<dd><span class="what">{escape(what)}</span> {escape(_without_lead(what, text))}</dd>'
                   for what, text in explanation.items)
    notes = "".join(f'<dd class="note">{escape(note)}</dd>' for note in explanation.notes)
    return f'<dl class="derivation">{head}{body}{notes}</dl>'


def _without_lead(what: str, text: str) -> str:
    """``memory 55*55*96 = 290,400`` under the heading ``memory``: ``55*55*96 = 290,400``."""
    for lead in (what + ": ", what + " ", what.rstrip("s") + " "):
        if text.startswith(lead):
            return text[len(lead):]
    return text
