"""Fully connected layers: ``in * out`` weights and MACs; a feature map is flattened first."""
from __future__ import annotations

from ..dims import format_dim, normalize, product
from ..formulas import linear_macs, linear_weights
from ..working import given
from .base import (BOOL, COUNT, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule, Trait, bias_adds,
                   flops_view, mults_adds)
from .reading import Claim, matmul_with_bias
from .registry import register

FC_LAYERS = Trait("fc_layers", "fc layers (widths)", "each", rank=10)


@register
class FullyConnected(LayerKind):
    name = "fc"
    aliases = ("linear", "dense")
    family = "linear"
    summary = "fully connected (units, bias); flattens a feature map first"
    fields = (
        Field("units", COUNT, help="number of output neurons"),
        Field("bias", BOOL, True, "one bias per unit"),
    )
    positional = "units"
    takes_followers = True
    weighted = True
    worked_example = True
    costs = {"ptflops": bias_adds, "ptflops-aten": bias_adds, "mults-adds": mults_adds}
    reports = (FC_LAYERS,)
    onnx_ops = ("Gemm", "MatMul")

    def from_onnx(self, node, graph) -> Claim | None:
        """Gemm (x W^T + b, PyTorch's Linear), or MatMul by a weight with a bias Add after it."""
        weight = graph.dims(node.inputs[1])
        if graph.is_data(node.inputs[1]) or not weight or len(weight) != 2 or graph.channels_last(node.inputs[0]):
            return None
        if node.op == "Gemm":
            if node.attribute("transA", 0):
                return None
            units = weight[0] if node.attribute("transB", 0) else weight[1]
            weights = tuple(name for name in node.inputs[1:3] if name)
            return Claim({"units": units, "bias": len(weights) == 2}, (node,), weights)
        nodes, weights, units = matmul_with_bias(node, graph)
        return Claim({"units": units, "bias": len(nodes) == 2}, nodes, weights)

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        """A matrix-vector product."""
        inputs = product(x)
        if not isinstance(inputs, int):
            return flops_view(step)
        return (("as a matrix", f"weights [{layer['units']:,} x {inputs:,}] x input [{inputs:,} x 1] = "
                                f"[{layer['units']:,} x 1]"),) + flops_view(step)

    def infer(self, layer: Layer, x: Shape) -> Step:
        in_features = product(x)
        units = layer["units"]
        notes = (f"flattens {'x'.join(format_dim(d) for d in x)} = {format_dim(in_features, True)} inputs",) \
            if len(x) > 1 else ()
        return Step(shape=(units,), weights=linear_weights(x, units), biases=given(units if layer["bias"] else 0),
                    macs=linear_macs(in_features, units), notes=notes, window="global")

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        flatten = (TorchModule("Flatten"),) if len(x) > 1 else ()
        return flatten + (TorchModule("Linear", (("in_features", product(x)), ("out_features", layer["units"]),
                                                 ("bias", layer["bias"]))),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {FC_LAYERS: layer["units"]}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("input", product(x)),)  # to compute the weights' gradient

    def label(self, layer: Layer) -> str:
        return f"FC-{layer['units']}"


@register
class RadialBasis(LayerKind):
    name = "rbf"
    family = "linear"
    summary = "Euclidean radial basis units (LeNet-5's output): y_i = sum_j (x_j - w_ij)^2, in*units parameters"
    fields = (Field("units", COUNT, help="number of output units (one centre each)"),)
    positional = "units"
    weighted = True
    worked_example = True

    def infer(self, layer: Layer, x: Shape) -> Step:
        in_features, units = product(x), layer["units"]
        return Step(shape=(units,), weights=linear_weights(x, units), macs=linear_macs(in_features, units),
                    window="global", explanation=("each output is the squared distance of the input from that "
                                                  "unit's centre: one multiply-accumulate per input",))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        flatten = (TorchModule("Flatten"),) if len(x) > 1 else ()
        return flatten + (TorchModule("RBF", (("in_features", product(x)), ("out_features", layer["units"])),
                                      "archcalc.lower.modules"),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("input", product(x)),)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """Busiest when it squares its centres (one value per weight, whatever the batch), beside
        |x|^2 - 2 x.w and the sum of the squares."""
        units = layer["units"]
        return (TensorSize("squared centres", normalize(units * product(x)), per_image=False),
                TensorSize("|x|^2 - 2 x.w", units), TensorSize("|w|^2", units, per_image=False))

    def label(self, layer: Layer) -> str:
        return f"RBF-{layer['units']}"
