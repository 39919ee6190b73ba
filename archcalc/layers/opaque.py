"""An operator that no kind reads, kept rather than failing the whole import: the output size ONNX's
shape inference gives, the initializers it reads as its parameters, its MACs unknown (the totals
then say "at least"). ``archcalc table model.onnx --strict`` refuses such a graph instead."""
from __future__ import annotations

import re

from ..errors import SpecError
from ..working import given
from .base import NATURAL, Field, FieldType, Layer, LayerKind, Shape, Step, TensorSize
from .registry import register


class OperatorName(FieldType):
    """An ONNX operator's name (``ReduceL2``, ``com.microsoft.FusedConv``)."""

    description = "an operator name such as ReduceL2"

    def coerce(self, raw, where, variables) -> str:
        if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z][\w.]{0,63}", raw):
            raise SpecError(f"expected an operator name such as ReduceL2, found {raw!r}", where)
        return raw


class Sizes(FieldType):
    """An output shape as archcalc writes shapes: H x W x C, L x C or F (``[1, 1, 320]`` or ``1x1x320``)."""

    description = "a shape of 1 to 3 whole numbers, e.g. [7, 7, 512] or 7x7x512"

    def coerce(self, raw, where, variables) -> tuple:
        if isinstance(raw, str) and re.fullmatch(r"\d+(x\d+){0,2}", raw):
            raw = [int(part) for part in raw.split("x")]
        elif isinstance(raw, int) and not isinstance(raw, bool):
            raw = [raw]
        if not isinstance(raw, list) or not 1 <= len(raw) <= 3:
            raise SpecError(f"expected {self.description}, found {raw!r}", where)
        return tuple(WHOLE.coerce(value, where, variables) for value in raw)


WHOLE = NATURAL.__class__(1)


@register
class Opaque(LayerKind):
    name = "opaque"
    family = "other"
    summary = "an imported operator no kind reads: output size as given, parameters as given, MACs unknown"
    fields = (Field("op", OperatorName(), help="the operator (ONNX's name)"),
              Field("output", Sizes(), help="its output shape (H x W x C, L x C or F)"),
              Field("params", NATURAL, 0, "the values of the parameters it reads"))
    positional = "op"
    reads_many = True
    opaque = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=tuple(layer["output"]), weights=given(layer["params"]), macs_unknown=True,
                    working=(f"{layer['op']}: the size the graph's shape inference gives",))

    def label(self, layer: Layer) -> str:
        return f"{layer['op']} (opaque)"

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # not known; nothing is assumed
