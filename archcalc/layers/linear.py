"""Fully connected layers: ``in * out`` weights and MACs; a feature map is flattened first."""
from __future__ import annotations

from ..dims import format_dim, product
from ..formulas import linear_weights
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule
from .registry import register


@register
class FullyConnected(LayerKind):
    name = "fc"
    family = "linear"
    summary = "fully connected (units, bias); flattens a feature map first"
    fields = (
        Field("units", "count", help="number of output neurons"),
        Field("bias", "bool", True, "one bias per unit"),
    )
    positional = "units"
    takes_activation = True
    weighted = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        in_features = product(x)
        units = layer["units"]
        inputs_text = "*".join(format_dim(d) for d in x)
        notes = (f"flattens {'x'.join(format_dim(d) for d in x)} = {format_dim(in_features, True)} inputs",) \
            if len(x) > 1 else ()
        return Step(
            shape=(units,),
            weights=linear_weights(in_features, units),
            biases=units if layer["bias"] else 0,
            macs=linear_weights(in_features, units),
            weights_formula=f"{inputs_text}*{units}",
            macs_formula=f"{format_dim(units, True)} * {format_dim(in_features, True)}",
            notes=notes,
            window="global",
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        flatten = (TorchModule("Flatten"),) if len(x) > 1 else ()
        return flatten + (TorchModule("Linear", (("in_features", product(x)), ("out_features", layer["units"]),
                                                 ("bias", layer["bias"]))),)

    def label(self, layer: Layer) -> str:
        return f"FC-{layer['units']}"
