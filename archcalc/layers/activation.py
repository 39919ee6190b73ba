"""Element-wise layers (activations, dropout) and reshapes: no parameters, no MACs, and in the
table they fold into the row of the layer before them, as on the lecture slide."""
from __future__ import annotations

from ..dims import product
from .base import Field, Layer, LayerKind, Shape, Step
from .registry import register

ACTIVATIONS = {
    "relu": "rectified linear unit max(0, x)",
    "relu6": "min(max(0, x), 6)",
    "leakyrelu": "max(0, x) + slope * min(0, x)",
    "elu": "exponential linear unit",
    "gelu": "Gaussian error linear unit",
    "silu": "x * sigmoid(x) (swish)",
    "hardswish": "x * relu6(x + 3) / 6",
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "hyperbolic tangent (LeNet-5)",
    "softmax": "normalised exponentials over the last axis",
}


class ElementWise(LayerKind):
    family = "activation"
    folds = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x)


def make_activation(kind_name: str, description: str) -> type[LayerKind]:
    """A parameter-free activation kind; leakyrelu also takes its slope."""
    extra = (Field("negative_slope", "number", 0.01, "slope for x < 0"),) if kind_name == "leakyrelu" else ()
    return type(kind_name.capitalize(), (ElementWise,), {
        "name": kind_name,
        "summary": f"activation: {description}",
        "fields": extra,
        "label": lambda self, layer: kind_name,
    })


for _name, _description in ACTIVATIONS.items():
    register(make_activation(_name, _description))


@register
class Dropout(ElementWise):
    name = "dropout"
    family = "regularisation"
    summary = "dropout (p); the identity at inference"
    fields = (Field("p", "probability", 0.5, "probability of zeroing a value in training"),)
    positional = "p"

    def label(self, layer: Layer) -> str:
        return f"dropout {layer['p']:g}"


@register
class Flatten(LayerKind):
    name = "flatten"
    family = "reshape"
    summary = "H x W x C -> H*W*C (a view: no new values)"
    folds = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=(product(x),))

    def label(self, layer: Layer) -> str:
        return "flatten"
