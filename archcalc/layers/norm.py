"""Normalisation layers: LRN (no parameters) and batch norm (a scale and a shift per channel)."""
from __future__ import annotations

from ..dims import normalize, product
from ..working import given
from .base import (BOOL, COUNT, NUMBER, Cost, Field, Layer, LayerKind, TensorSize, Shape, Shorthand, Step, TorchModule,
                   Trait, Usage)
from .reading import Claim
from .registry import register

LRN = Trait("lrn", "LRN", rank=30)
BATCH_NORM = Trait("batchnorm", "batch norm", rank=40)
LAYER_NORM = Trait("layernorm", "layer norm", rank=45)
LOCAL = "archcalc.lower.modules"


def lrn_ptflops(usage: Usage) -> Cost:
    """ptflops times the average pooling PyTorch runs inside LRN, (C + n - 1)*H*W, plus 3 per element."""
    x = usage.x
    return Cost(ops=normalize((x[-1] + usage.layer["size"] - 1) * product(x[:-1]) + 3 * usage.outputs))


@register
class LocalResponseNorm(LayerKind):
    name = "lrn"
    aliases = ("norm",)
    family = "norm"
    summary = "local response normalisation across channels (AlexNet's NORM); no parameters"
    fields = (
        Field("size", COUNT, 5, "channels in the window (n)"),
        Field("alpha", NUMBER, 1e-4, "alpha"),
        Field("beta", NUMBER, 0.75, "beta"),
        Field("k", NUMBER, 1.0, "k (AlexNet uses 2; PyTorch's default is 1)"),
    )
    positional = "size"
    costs = {"ptflops": lrn_ptflops}
    reports = (LRN,)
    onnx_ops = ("LRN",)

    def from_onnx(self, node, graph) -> Claim | None:
        """ONNX's LRN divides alpha by the size, as PyTorch and Caffe do; its bias is k."""
        return Claim({"size": node.attribute("size"), "alpha": round(node.attribute("alpha", 1e-4), 10),
                      "beta": round(node.attribute("beta", 0.75), 7), "k": round(node.attribute("bias", 1.0), 7)},
                     (node,))

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        # PyTorch divides alpha by the window size (Caffe's convention); shapes are unaffected.
        return (TorchModule("OnnxLocalResponseNorm", (("size", layer["size"]), ("alpha", layer["alpha"]),
                                                      ("beta", layer["beta"]), ("k", layer["k"])), LOCAL),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {LRN: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """PyTorch composes LRN of element-wise ops and an average pool over the squared input padded
        along the channels; their backward passes keep the input, that padded square, and the
        denominator before and after its power."""
        elements = product(x)
        padded = normalize((x[-1] + layer["size"] - 1) * product(x[:-1]))
        return (TensorSize("input", elements), TensorSize("padded squares", padded), TensorSize("k + alpha*mean", elements),
                TensorSize("denominator", elements))

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """PyTorch's decomposition holds, at its busiest, either the squares and their padded copy, or
        the window means, alpha times them and k added (before the power)."""
        elements = product(x)
        padded = normalize((x[-1] + layer["size"] - 1) * product(x[:-1]))
        if isinstance(padded, int) and isinstance(elements, int) and elements + padded > 3 * elements:
            return (TensorSize("squares", elements), TensorSize("padded squares", padded))
        return (TensorSize("window means", elements), TensorSize("alpha * means", elements),
                TensorSize("k + alpha * means", elements))

    def label(self, layer: Layer) -> str:
        return "NORM"


def batchnorm_costs(per_element_affine: int, per_element_plain: int):
    """A convention that charges per output element of a batch norm (more where it is affine)."""
    return lambda usage: Cost(ops=(per_element_affine if usage.layer["affine"] else per_element_plain) * usage.outputs)


def moving_statistics(usage: Usage) -> Cost:
    """Keras also counts a batch norm's moving mean and variance (non-trainable): 2 per channel."""
    return Cost(params=2 * usage.step.shape[-1])


@register
class BatchNorm(LayerKind):
    name = "batchnorm"
    aliases = ("bn",)
    family = "norm"
    summary = "batch normalisation: gamma and beta per channel (running statistics are buffers)"
    fields = (
        Field("eps", NUMBER, 1e-5, "epsilon"),
        Field("momentum", NUMBER, 0.1, "running-statistics momentum"),
        Field("affine", BOOL, True, "learn gamma (counted as weights) and beta (as biases)"),
    )
    shorthand = Shorthand(key="batchnorm", token="bn", suffix="bn")
    takes_activation = True  # pre-activation networks: batch norm, then ReLU
    folded_by_exporters = True
    costs = {"fvcore": batchnorm_costs(2, 1), "ptflops": batchnorm_costs(2, 1), "thop": batchnorm_costs(4, 2),
             "keras": moving_statistics}
    reports = (BATCH_NORM,)
    onnx_ops = ("BatchNormalization",)

    def from_onnx(self, node, graph) -> Claim | None:
        """Scale and bias are its parameters; the running mean and variance are buffers. ONNX's
        momentum weighs the old statistics (0.9), PyTorch's the new batch (0.1)."""
        momentum = round(1 - node.attribute("momentum", 0.9), 7)
        return Claim({"eps": round(node.attribute("epsilon", 1e-5), 10), "momentum": momentum}, (node,),
                     weights=tuple(node.inputs[1:3]), buffers=tuple(node.inputs[3:5]))

    def infer(self, layer: Layer, x: Shape) -> Step:
        channels = x[-1] if layer["affine"] else 0
        return Step(shape=x, weights=given(channels), biases=given(channels), param_names=("gamma", "beta"))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("BatchNorm2d" if len(x) == 3 else "BatchNorm1d", (
            ("num_features", x[-1]), ("eps", layer["eps"]), ("momentum", layer["momentum"]),
            ("affine", layer["affine"]))),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {BATCH_NORM: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return batchnorm_saved(x)

    def label(self, layer: Layer) -> str:
        return "BN"


def batchnorm_saved(x: Shape) -> tuple[TensorSize, ...]:
    """In training, batch norm keeps its input and the batch's mean and inverse standard deviation
    per channel (float32)."""
    return (TensorSize("input", product(x)), TensorSize("mean", x[-1], "float32", per_image=False),
            TensorSize("invstd", x[-1], "float32", per_image=False))


@register
class LayerNorm(LayerKind):
    name = "layernorm"
    aliases = ("ln",)
    family = "norm"
    summary = "layer normalisation over the channels at each position (ConvNeXt): gamma and beta per channel"
    fields = (
        Field("eps", NUMBER, 1e-5, "epsilon (ConvNeXt uses 1e-6)"),
        Field("affine", BOOL, True, "learn gamma (counted as weights) and beta (as biases)"),
    )
    reports = (LAYER_NORM,)
    takes_activation = True
    onnx_ops = ("LayerNormalization",)

    def from_onnx(self, node, graph) -> Claim | None:
        """LayerNormalization over the last axis of a channels-last map (between two Transposes)."""
        shape = graph.dims(node.inputs[0])
        last = node.attribute("axis", -1) in (-1, len(shape or ()) - 1)
        if not last or not (graph.channels_last(node.inputs[0]) or (shape and len(shape) == 2)):
            return None
        weights = tuple(name for name in node.inputs[1:3] if name)
        return Claim({"eps": round(node.attribute("epsilon", 1e-5), 10), "affine": bool(weights)}, (node,), weights)

    def infer(self, layer: Layer, x: Shape) -> Step:
        channels = x[-1] if layer["affine"] else 0
        return Step(shape=x, weights=given(channels), biases=given(channels), param_names=("gamma", "beta"))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("ChannelLayerNorm", (("normalized_shape", x[-1]), ("eps", layer["eps"]),
                                                 ("elementwise_affine", layer["affine"])), LOCAL),)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {LAYER_NORM: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """Its input, and the mean and inverse standard deviation at each position (float32)."""
        positions = product(x[:-1])
        return (TensorSize("input", product(x)), TensorSize("mean", positions, "float32"), TensorSize("rstd", positions, "float32"))

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        positions = product(x[:-1])  # PyTorch's layer norm returns the statistics even without grad
        return (TensorSize("output", product(x)), TensorSize("mean", positions, "float32"),
                TensorSize("rstd", positions, "float32"))

    def label(self, layer: Layer) -> str:
        return "LN"


@register
class LayerScale(LayerKind):
    name = "layerscale"
    family = "norm"
    summary = "layer scale (CaiT, ConvNeXt): each channel times a learned factor; C parameters"
    fields = (Field("init", NUMBER, 1e-6, "the factors' initial value"),)
    positional = "init"
    onnx_ops = ("Mul",)

    def from_onnx(self, node, graph) -> Claim | None:
        """An activation times a learned factor per channel: [C, 1, 1], or [C] on a channels-last map."""
        data = [name for name in node.inputs if graph.is_data(name)]
        factors = [name for name in node.inputs if not graph.is_data(name)]
        shape = graph.dims(data[0]) if len(data) == 1 else None
        if len(factors) != 1 or not shape or len(shape) < 2:
            return None
        channels = shape[-1] if graph.channels_last(data[0]) else shape[1]
        dims = tuple(d for d in graph.dims(factors[0]) or () if d != 1)
        if dims != (channels,):
            return None
        values = graph.values(factors[0])
        # the initial value where the file holds it (every factor equal); a trained file's factors are learned
        # values (negative ones too) that say nothing about it
        initial = values and len(set(values)) == 1 and values[0] >= 0
        init = float(f"{values[0]:.7g}") if initial else 1e-6  # float32's digits, not its binary noise
        return Claim({"init": init}, (node,), weights=(factors[0],))

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x, weights=given(x[-1]), param_names=("scales", "biases"),
                    elementwise=given(product(x)), elementwise_name="multiplications")

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("LayerScale", (("channels", x[-1]), ("spatial_dims", len(x) - 1), ("init", layer["init"])),
                            LOCAL),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("input", product(x)),)  # for the factors' gradient

    def label(self, layer: Layer) -> str:
        return "LAYERSCALE"
