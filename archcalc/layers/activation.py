"""Element-wise layers (activations, dropout) and reshapes: no parameters, no MACs, and in the
table they fold into the row of the layer before them, as on the lecture slide."""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import product
from .base import (NUMBER, PROBABILITY, Cost, CostRule, Field, Layer, LayerKind, Saved, Shape, Step, TorchModule,
                   Trait, Usage, choice, per_output)
from .registry import register

DROPOUT = Trait("dropout", "dropout", rank=50)


def thop_softmax(usage: Usage) -> Cost:
    """thop charges 3N - 1 for a softmax over N values (exp, sum, divide)."""
    return Cost(ops=3 * usage.outputs - 1)


RELU_COSTS = {"ptflops": per_output(2)}  # ptflops counts ReLUs in its module hook and its patched functional


@dataclass(frozen=True)
class Activation:
    """One activation function: what it computes, its torch.nn class, which of its own tensors its
    backward pass keeps (PyTorch's autograd formulas), and what conventions charge for it."""

    description: str
    torch_class: str
    saves: str  # "input" or "output"
    costs: dict[str, CostRule] | None = None
    extra_fields: tuple[Field, ...] = ()
    torch_args: tuple[tuple[str, object], ...] = ()


ACTIVATIONS = {
    "relu": Activation("rectified linear unit max(0, x)", "ReLU", "output", RELU_COSTS),
    "relu6": Activation("min(max(0, x), 6)", "ReLU6", "input", RELU_COSTS),  # computed by hardtanh
    "leakyrelu": Activation("max(0, x) + slope * min(0, x)", "LeakyReLU", "input", RELU_COSTS,
                            (Field("negative_slope", NUMBER, 0.01, "slope for x < 0"),)),
    "elu": Activation("exponential linear unit", "ELU", "input", RELU_COSTS),
    "gelu": Activation("Gaussian error linear unit", "GELU", "input"),
    "silu": Activation("x * sigmoid(x) (swish)", "SiLU", "input"),
    "hardswish": Activation("x * relu6(x + 3) / 6", "Hardswish", "input"),
    "hardsigmoid": Activation("relu6(x + 3) / 6 (MobileNet v3's gates)", "Hardsigmoid", "input"),
    "sigmoid": Activation("1 / (1 + exp(-x))", "Sigmoid", "output"),
    "tanh": Activation("hyperbolic tangent (LeNet-5)", "Tanh", "output"),
    "softmax": Activation("normalised exponentials over the channels", "Softmax", "output",
                          {"ptflops": per_output(1), "thop": thop_softmax}, torch_args=(("dim", 1),)),
}


class ElementWise(LayerKind):
    family = "activation"
    folds = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x)


class ActivationKind(ElementWise):
    """A parameter-free activation, described by an ``Activation`` record."""

    activation = True
    function: Activation

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        args = tuple((f.name, layer[f.name]) for f in self.fields) + self.function.torch_args
        return (TorchModule(self.function.torch_class, args),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[Saved, ...]:
        return (Saved(self.function.saves, product(x)),)

    def label(self, layer: Layer) -> str:
        return self.name


def make_activation(kind_name: str, function: Activation) -> type[LayerKind]:
    """The kind class of one activation."""
    return type(kind_name.capitalize(), (ActivationKind,), {
        "name": kind_name, "summary": f"activation: {function.description}", "fields": function.extra_fields,
        "function": function, "costs": function.costs or {},
    })


for _name, _function in ACTIVATIONS.items():
    register(make_activation(_name, _function))


@register
class Dropout(ElementWise):
    name = "dropout"
    family = "regularisation"
    summary = "dropout (p); the identity at inference"
    fields = (Field("p", PROBABILITY, 0.5, "probability of zeroing a value in training"),)
    positional = "p"
    reports = (DROPOUT,)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Dropout", (("p", layer["p"]),)),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {DROPOUT: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[Saved, ...]:
        # PyTorch's CPU dropout multiplies by a mask of the input's own dtype (CUDA's fused kernel keeps a bool mask)
        return (Saved("mask", product(x)),) if layer["p"] > 0 else ()

    def label(self, layer: Layer) -> str:
        return f"dropout {layer['p']:g}"


@register
class StochasticDepth(ElementWise):
    name = "stochasticdepth"
    aliases = ("droppath",)
    family = "regularisation"
    summary = "stochastic depth (drop path): drops a residual branch with probability p in training; the identity at inference"
    fields = (Field("p", PROBABILITY, 0.0, "probability of dropping the branch in training"),
              Field("mode", choice("row", "batch"), "row", "row: per sample; batch: the whole batch at once"))
    positional = "p"

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x, notes=("stochastic depth is the identity at inference: it changes no shape, "
                                    "parameter or MAC",))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("StochasticDepth", (("p", layer["p"]), ("mode", layer["mode"])),
                            "archcalc.lower.modules"),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[Saved, ...]:
        # in training, the branch is multiplied by a keep-mask of one value per sample (or per batch)
        return (Saved("mask", 1, per_image=layer["mode"] == "row"),) if layer["p"] > 0 else ()

    def label(self, layer: Layer) -> str:
        return f"stochastic depth {layer['p']:g}"


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

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[Saved, ...]:
        return ()

    def label(self, layer: Layer) -> str:
        return "flatten"
