"""Worked derivations: each row's arithmetic in the lecture's notation, numbers filled in.

    conv1: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96; weights (11*11*3)*96 = 34,848, biases 96,
    params 34,944; memory 55*55*96 = 290,400; MACs 290,400 * 363 = 105,415,200
"""
from __future__ import annotations

from ..dims import format_dim, normalize
from ..engine import Analysis, Row
from ..layers.base import Inexact
from ..layers.spatial import merged_axes
from .numbers import exact
from .table import receptive_cells


def explain(analysis: Analysis, selected: list[str] | None = None) -> list[str]:
    """One paragraph per row (all rows, or those named or numbered in ``selected``)."""
    rows = [row for row in analysis.rows if not selected or _matches(row, selected)]
    missing = [item for item in selected or [] if not any(_matches(row, [item]) for row in analysis.rows)]
    if missing:
        from ..errors import SpecError

        names = ", ".join(row.name for row in analysis.rows[:12])
        raise SpecError(f"no layer called {', '.join(map(repr, missing))} in {analysis.spec.name} "
                        f"(layers: {names}{', ...' if len(analysis.rows) > 12 else ''}; or give a row number)")
    return [explain_row(row) for row in rows]


def _matches(row: Row, selected: list[str]) -> bool:
    return row.name in selected or str(row.index) in selected or row.name.split("/")[-1] in selected


def explain_row(row: Row) -> str:
    """The working for one row."""
    shape = "x".join(format_dim(d) for d in row.shape)
    parts = [f"{row.name}: {_size_working(row)}{shape}"]
    if row.folded:
        parts[0] += f" (then {', '.join(row.folded)}: same shape, no parameters)"
    parts.append(_params_working(row))
    parts.append(_memory_working(row))
    macs = _macs_working(row)
    if macs:
        parts.append(macs)
    rf = receptive_cells(row)
    if rf["rf"]:
        parts.append(f"receptive field {rf['rf']} (jump {rf['jump']}, start {rf['start']})")
    text = "; ".join(part for part in parts if part)
    notes = []
    if row.step:
        notes += [_frameworks(item) for item in merged_axes(row.step.inexact)]
        notes += list(row.step.notes) + list(row.step.explanation)
    return text + "".join(f"\n    {note}" for note in notes)


def _size_working(row: Row) -> str:
    if row.kind == "input":
        return "input "
    if row.kind == "concat":
        return f"{row.label.split(' ', 1)[1]} channels -> "
    if row.kind == "add":
        return "element-wise sum of the branches -> "
    working = row.step.working if row.step else ()
    if not working:
        return ""
    unique = list(dict.fromkeys(working))
    return (" and ".join(unique)) + " -> "


def _params_working(row: Row) -> str:
    if not row.params:
        return "no parameters"
    formula = row.step.weights_formula if row.step else ""
    if row.kind == "batchnorm":
        return f"gamma {exact(row.weights)} + beta {exact(row.biases)} = params {exact(row.params)}"
    weights = f"weights {formula} = {exact(row.weights)}" if formula else f"weights {exact(row.weights)}"
    return f"{weights}, biases {exact(row.biases)}, params {exact(row.params)}"


def _memory_working(row: Row) -> str:
    if row.memory == 0:
        return "memory 0 (a view of its input)"
    factors = "*".join(format_dim(d) for d in row.shape)
    return f"memory {factors} = {exact(row.memory)}" if len(row.shape) > 1 else f"memory {exact(row.memory)}"


def _macs_working(row: Row) -> str:
    if row.macs and row.step and row.step.macs_formula:
        return f"MACs {row.step.macs_formula} = {exact(row.macs)}"
    if row.kind == "add":
        return f"{exact(row.memory)} additions (not multiply-accumulates)"
    return ""


def _axes(item: Inexact) -> str:
    return "rows and columns" if " and " in item.axis else f"{item.axis}s"


def _frameworks(item: Inexact) -> str:
    """What each framework does where (W - F + 2P) is not a multiple of S."""
    if item.rounding == "ceil":
        return (f"not an integer along the {_axes(item)}: ceil mode (Caffe's pooling, PyTorch ceil_mode=True) keeps "
                f"{item.kept}; floor (PyTorch's default, TensorFlow 'VALID') would keep {normalize(item.kept - 1)}")
    return (f"not an integer along the {_axes(item)}: PyTorch, TensorFlow ('VALID') and Caffe's convolution floor to "
            f"{item.kept}, leaving the last {item.unused} {'padded-' if item.padded else ''}input position(s) unused; "
            f"Caffe's pooling (and PyTorch's ceil_mode) would give {normalize(item.kept + 1)} "
            f"(unless that window would start in the padding); a lecture calls such a stride invalid (--strict)")
