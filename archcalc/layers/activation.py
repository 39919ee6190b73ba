"""Element-wise layers (activations, dropout) and reshapes: no parameters, no MACs, and in the
table they fold into the row of the layer before them, as on the lecture slide."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..dims import product
from .base import (NUMBER, PROBABILITY, Cost, CostRule, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule,
                   Trait, Usage, choice, per_output)
from ..receptive import FLATTENED
from .reading import Claim, constant_scalar
from .registry import register

DROPOUT = Trait("dropout", "dropout", rank=50)


def thop_softmax(usage: Usage) -> Cost:
    """thop charges 3N - 1 for a softmax over N values (exp, sum, divide)."""
    return Cost(ops=3 * usage.outputs - 1)


# ptflops (pytorch backend) counts an activation in its module hook, and again where the module calls a
# torch.nn.functional it patches: ReLU (F.relu), ELU (F.elu) and GELU (F.gelu) cost 2 per element;
# ReLU6 (which calls F.hardtanh), LeakyReLU (F.leaky_relu) and SiLU cost 1; others 0
RELU_COSTS = {"ptflops": per_output(2)}
HOOK_ONLY_COSTS = {"ptflops": per_output(1)}


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
    inplace: bool = True  # its torch.nn module takes inplace=True
    # in place, PyTorch's formula uses the result (nothing new kept), or a copy of the input made before
    # it is overwritten (hardtanh, SiLU, hardswish, hardsigmoid)
    copies_input_in_place: bool = False
    onnx_op: str | tuple[str, ...] = ""  # the ONNX operator(s) that can start it
    onnx_reader: Callable[[Any, Any], Claim | None] | None = None  # where the operator alone does not say it


def _plain(node, graph) -> Claim | None:
    return Claim({}, (node,))


def _clip_to_six(node, graph) -> Claim | None:
    """ReLU6 as PyTorch exports it: Clip(x, 0, 6)."""
    low = node.attribute("min", constant_scalar(graph, node.inputs[1]) if len(node.inputs) > 1 else None)
    high = node.attribute("max", constant_scalar(graph, node.inputs[2]) if len(node.inputs) > 2 else None)
    return Claim({}, (node,)) if (low, high) == (0.0, 6.0) else None


def _leaky(node, graph) -> Claim | None:
    return Claim({"negative_slope": round(float(node.attribute("alpha", 0.01)), 7)}, (node,))


def _unit_alpha(node, graph) -> Claim | None:
    return Claim({}, (node,)) if abs(node.attribute("alpha", 1.0) - 1.0) < 1e-6 else None


def _hard_sigmoid(node, graph) -> Claim | None:
    """PyTorch's hardsigmoid is ONNX's HardSigmoid with alpha 1/6 and beta 1/2 (ONNX's defaults: 0.2, 0.5)."""
    alpha, beta = node.attribute("alpha", 0.2), node.attribute("beta", 0.5)
    return Claim({}, (node,)) if abs(alpha - 1 / 6) < 1e-6 and abs(beta - 0.5) < 1e-6 else None


def _sigmoid_times_input(node, graph) -> Claim | None:
    """SiLU as exported: Mul(x, Sigmoid(x)), the sigmoid read only by the product."""
    product_node = graph.sole_consumer(node.outputs[0])
    if product_node is None or product_node.op != "Mul" or sorted(product_node.inputs) != sorted((node.inputs[0],
                                                                                                   node.outputs[0])):
        return None
    return Claim({}, (node, product_node))


def _gelu(node, graph) -> Claim | None:
    """GELU as an ONNX ``Gelu`` (opset 20), or in its erf form x * 0.5 * (1 + erf(x / sqrt 2)), as
    PyTorch's TorchScript exporter writes it (Div, Erf, Add 1, Mul by x, Mul by 0.5) or as ONNX's own
    definition of Gelu expands (the halving before the product with x); x / sqrt 2 may be x * (1/sqrt 2)."""
    if node.op == "Gelu":
        return Claim({}, (node,)) if node.attribute("approximate", "none") == "none" else None
    x = node.inputs[0]
    scale = constant_scalar(graph, node.inputs[1]) if len(node.inputs) > 1 else None
    wanted = {"Div": 2 ** 0.5, "Mul": 2 ** -0.5}.get(node.op)
    if wanted is None or scale is None or abs(scale - wanted) > 1e-4:
        return None
    nodes = [node]
    for op, operand in (("Erf", None), ("Add", 1.0)):
        following = graph.sole_consumer(nodes[-1].outputs[0])
        if following is None or following.op != op or (operand is not None and not _with_constant(
                graph, following, nodes[-1].outputs[0], operand)):
            return None
        nodes.append(following)
    for _ in range(2):  # the product with x and the halving, in either order
        following = graph.sole_consumer(nodes[-1].outputs[0])
        if following is None or following.op != "Mul":
            return None
        if not (sorted(following.inputs) == sorted((x, nodes[-1].outputs[0])) or
                _with_constant(graph, following, nodes[-1].outputs[0], 0.5)):
            return None
        nodes.append(following)
    halved = [n for n in nodes[3:] if x not in n.inputs]
    return Claim({}, tuple(nodes)) if len(halved) == 1 else None


def _with_constant(graph, node, tensor: str, value: float) -> bool:
    """Whether ``node`` combines ``tensor`` with a constant equal to ``value``."""
    others = [name for name in node.inputs if name != tensor]
    found = constant_scalar(graph, others[0]) if len(others) == 1 and tensor in node.inputs else None
    return found is not None and abs(found - value) < 1e-6


def _softmax_over_channels(node, graph) -> Claim | None:
    shape = graph.dims(node.inputs[0])
    axis = node.attribute("axis", -1)
    return Claim({}, (node,)) if shape and axis % len(shape) == 1 else None


ACTIVATIONS = {
    "relu": Activation("rectified linear unit max(0, x)", "ReLU", "output", RELU_COSTS, onnx_op="Relu"),
    "relu6": Activation("min(max(0, x), 6)", "ReLU6", "input", HOOK_ONLY_COSTS, copies_input_in_place=True,  # hardtanh
                        onnx_op="Clip", onnx_reader=_clip_to_six),
    "leakyrelu": Activation("max(0, x) + slope * min(0, x)", "LeakyReLU", "input", HOOK_ONLY_COSTS,
                            (Field("negative_slope", NUMBER, 0.01, "slope for x < 0"),), onnx_op="LeakyRelu",
                            onnx_reader=_leaky),
    "elu": Activation("exponential linear unit", "ELU", "input", RELU_COSTS, onnx_op="Elu", onnx_reader=_unit_alpha),
    "gelu": Activation("Gaussian error linear unit", "GELU", "input", RELU_COSTS, inplace=False,
                       onnx_op=("Gelu", "Div", "Mul"), onnx_reader=_gelu),
    "silu": Activation("x * sigmoid(x) (swish)", "SiLU", "input", HOOK_ONLY_COSTS, copies_input_in_place=True,
                       onnx_op="Sigmoid", onnx_reader=_sigmoid_times_input),
    "hardswish": Activation("x * relu6(x + 3) / 6", "Hardswish", "input", copies_input_in_place=True,
                            onnx_op="HardSwish"),
    "hardsigmoid": Activation("relu6(x + 3) / 6 (MobileNet v3's gates)", "Hardsigmoid", "input",
                              copies_input_in_place=True, onnx_op="HardSigmoid", onnx_reader=_hard_sigmoid),
    "sigmoid": Activation("1 / (1 + exp(-x))", "Sigmoid", "output", inplace=False, onnx_op="Sigmoid"),
    "tanh": Activation("hyperbolic tangent (LeNet-5)", "Tanh", "output", inplace=False, onnx_op="Tanh"),
    "softmax": Activation("normalised exponentials over the channels", "Softmax", "output",
                          {"ptflops": per_output(1), "thop": thop_softmax}, torch_args=(("dim", 1),), inplace=False,
                          onnx_op="Softmax", onnx_reader=_softmax_over_channels),
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

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize(self.function.saves, product(x)),)

    def saved_in_place(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        if self.function.copies_input_in_place:
            return (TensorSize("input, copied before it is overwritten", product(x)),)
        return (TensorSize("output", product(x)),)

    def from_onnx(self, node, graph) -> Claim | None:
        return (self.function.onnx_reader or _plain)(node, graph)

    def label(self, layer: Layer) -> str:
        return self.name


def make_activation(kind_name: str, function: Activation) -> type[LayerKind]:
    """The kind class of one activation."""
    return type(kind_name.capitalize(), (ActivationKind,), {
        "name": kind_name, "summary": f"activation: {function.description}", "fields": function.extra_fields,
        "function": function, "costs": function.costs or {}, "inplace": function.inplace,
        "onnx_ops": (function.onnx_op,) if isinstance(function.onnx_op, str) and function.onnx_op else function.onnx_op or (),
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
    onnx_ops = ("Dropout",)

    def from_onnx(self, node, graph) -> Claim | None:
        ratio = constant_scalar(graph, node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
        return Claim({"p": round(ratio if ratio is not None else node.attribute("ratio", 0.5), 6)}, (node,))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Dropout", (("p", layer["p"]),)),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {DROPOUT: True}

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # the identity at inference

    def training_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("output", product(x)),) + self.saved_for_backward(layer, x, step) if layer["p"] > 0 else ()

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        # PyTorch's CPU dropout multiplies by a mask of the input's own dtype (CUDA's fused kernel keeps a bool mask)
        return (TensorSize("mask", product(x)),) if layer["p"] > 0 else ()

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

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        # in training, the branch is multiplied by a keep-mask of one value per sample (or per batch)
        return (TensorSize("mask", 1, per_image=layer["mode"] == "row"),) if layer["p"] > 0 else ()

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # the identity at inference

    def training_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("output", product(x)),) + self.saved_for_backward(layer, x, step) if layer["p"] > 0 else ()

    def label(self, layer: Layer) -> str:
        return f"stochastic depth {layer['p']:g}"


@register
class Flatten(LayerKind):
    name = "flatten"
    family = "reshape"
    summary = "H x W x C -> H*W*C (a view: no new values)"
    folds = True
    onnx_ops = ("Flatten", "Reshape", "Squeeze")

    def from_onnx(self, node, graph) -> Claim | None:
        """Flatten from axis 1, or a Reshape or Squeeze of N x ... to N x F."""
        before, after = graph.dims(node.inputs[0]), graph.dims(node.outputs[0])
        if node.op == "Flatten":
            return Claim({}, (node,)) if node.attribute("axis", 1) == 1 else None
        if not before or not after or len(after) != 2 or len(before) < 3 or before[0] != after[0]:
            return None
        return Claim({}, (node,))

    def infer(self, layer: Layer, x: Shape) -> Step:
        # each value keeps its receptive field; the fc after it sees the whole map
        return Step(shape=(product(x),), window=FLATTENED)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Flatten"),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # a view

    def label(self, layer: Layer) -> str:
        return "flatten"
