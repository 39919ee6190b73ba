"""Walks a spec's layers and returns frozen per-row records and their totals.

One row per layer, except that in-place layers and views (activations, dropout, flatten) fold
into the row before them, as on the lecture slide: their outputs are not new memory. The first
row is the input.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .dims import Dim, normalize, product
from .errors import ShapeError
from .layers import KINDS, Layer, Shape, Step
from .layers.base import Inexact
from .layers.spatial import describe_inexact
from .spec import ModelSpec


@dataclass(frozen=True)
class Row:
    """One row of the analysis: a layer's output and what it costs."""

    index: int  # 0 for the input, else the layer's position in the expanded spec
    name: str
    kind: str
    label: str
    shape: Shape
    memory: Dim  # output values (per image)
    weights: Dim = 0
    biases: Dim = 0
    macs: Dim = 0
    folded: tuple[str, ...] = ()  # labels of in-place layers shown in this row
    step: Step | None = None

    @property
    def params(self) -> Dim:
        return normalize(self.weights + self.biases)


@dataclass(frozen=True)
class Totals:
    memory: Dim
    weights: Dim
    biases: Dim
    macs: Dim

    @property
    def params(self) -> Dim:
        return normalize(self.weights + self.biases)


@dataclass(frozen=True)
class Analysis:
    """The engine's result: rows, totals, and what the user should be told about them."""

    spec: ModelSpec
    rows: tuple[Row, ...]
    totals: Totals
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def weighted_layers(self) -> int:
        """Layers with weights (conv, fc) on the path: the depth the papers quote."""
        return sum(1 for row in self.rows if row.kind in KINDS and KINDS[row.kind].weighted)


def analyze(spec: ModelSpec, strict: bool = False) -> Analysis:
    """Compute every row of ``spec``. ``strict`` turns a non-integer output size into an error.

    >>> from .spec import load_spec
    >>> analyze(load_spec("vgg16")).totals.params
    138357544
    """
    shape = spec.input_shape
    rows = [Row(0, "input", "input", "INPUT", shape, product(shape))]
    warnings: list[str] = []
    assumptions: list[str] = []
    for layer in spec.layers:
        kind = KINDS[layer.kind]
        step = kind.infer(layer, shape)
        warnings.extend(_inexact_messages(layer, step.inexact, strict))
        assumptions.extend(step.assumptions)
        if kind.folds:
            rows[-1] = replace(rows[-1], folded=rows[-1].folded + (kind.label(layer),))
        else:
            rows.append(_row(layer, kind.label(layer), step))
        shape = step.shape
    return Analysis(spec, tuple(rows), _totals(rows), tuple(warnings), tuple(assumptions))


def _row(layer: Layer, label: str, step: Step) -> Row:
    return Row(layer.index, layer.name, layer.kind, label, step.shape, product(step.shape),
               step.weights, step.biases, step.macs, (), step)


def _totals(rows: list[Row]) -> Totals:
    def total(attribute: str) -> Dim:
        return normalize(sum((getattr(row, attribute) for row in rows), 0))

    return Totals(total("memory"), total("weights"), total("biases"), total("macs"))


def _inexact_messages(layer: Layer, inexact: tuple[Inexact, ...], strict: bool) -> list[str]:
    if len(inexact) == 2 and inexact[0].working == inexact[1].working:
        inexact = (replace(inexact[0], axis="row and column"),)
    messages = [describe_inexact(layer.name, item) for item in inexact]
    if strict and messages:
        raise ShapeError(f"non-integer output size: {messages[0]}", layer.location,
                         "--strict treats (W - F + 2P)/S + 1 that is not a whole number as an error; "
                         "without it archcalc floors, as PyTorch does")
    return messages
