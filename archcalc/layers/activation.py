"""Element-wise layers (activations, dropout) and reshapes: no parameters, no MACs, and in the
table they fold into the row of the layer before them, as on the lecture slide."""
from __future__ import annotations

from ..dims import product
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule
from .registry import register

ACTIVATIONS = {  # name: (description, torch.nn class)
    "relu": ("rectified linear unit max(0, x)", "ReLU"),
    "relu6": ("min(max(0, x), 6)", "ReLU6"),
    "leakyrelu": ("max(0, x) + slope * min(0, x)", "LeakyReLU"),
    "elu": ("exponential linear unit", "ELU"),
    "gelu": ("Gaussian error linear unit", "GELU"),
    "silu": ("x * sigmoid(x) (swish)", "SiLU"),
    "hardswish": ("x * relu6(x + 3) / 6", "Hardswish"),
    "sigmoid": ("1 / (1 + exp(-x))", "Sigmoid"),
    "tanh": ("hyperbolic tangent (LeNet-5)", "Tanh"),
    "softmax": ("normalised exponentials over the channels", "Softmax"),
}


class ElementWise(LayerKind):
    family = "activation"
    folds = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x)


def make_activation(kind_name: str, description: str, torch_class: str) -> type[LayerKind]:
    """A parameter-free activation kind; leakyrelu also takes its slope."""
    extra = (Field("negative_slope", "number", 0.01, "slope for x < 0"),) if kind_name == "leakyrelu" else ()

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        args = tuple((f.name, layer[f.name]) for f in extra) + ((("dim", 1),) if kind_name == "softmax" else ())
        return (TorchModule(torch_class, args),)

    return type(kind_name.capitalize(), (ElementWise,), {
        "name": kind_name,
        "summary": f"activation: {description}",
        "fields": extra,
        "label": lambda self, layer: kind_name,
        "torch_modules": torch_modules,
    })


for _name, (_description, _torch_class) in ACTIVATIONS.items():
    register(make_activation(_name, _description, _torch_class))


@register
class Dropout(ElementWise):
    name = "dropout"
    family = "regularisation"
    summary = "dropout (p); the identity at inference"
    fields = (Field("p", "probability", 0.5, "probability of zeroing a value in training"),)
    positional = "p"

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Dropout", (("p", layer["p"]),)),)

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

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Flatten"),)

    def label(self, layer: Layer) -> str:
        return "flatten"
