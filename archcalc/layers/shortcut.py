"""Residual shortcuts (He et al. 2015, Section 3.3): identity where the shape is unchanged, else a
1x1 projection (option B) or parameter-free subsampling with zero-padded channels (option A)."""
from __future__ import annotations

from ..dims import ceil_div, format_dim, normalize, product
from ..errors import ShapeError
from ..formulas import conv_macs, conv_weights
from ..working import given, labelled, plus
from .base import (BOOL, COUNT, Cost, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule, Usage, choice,
                   require_map)
from .conv import KERNEL_SIZES
from .norm import BATCH_NORM, batchnorm_saved
from .registry import register


def _normalised_projection(usage: Usage) -> bool:
    return bool(usage.layer["batchnorm"] and usage.step.weights.value)


def _shortcut_costs(bias: int, norm: int, norm_params: int = 0):
    """Like a conv's (``bias`` per biased output) and a batch norm's (``norm`` per element, and
    ``norm_params`` per channel) where the projection has them."""
    def rule(usage: Usage) -> Cost:
        biased = usage.layer["bias"] and usage.step.biases.value
        normalised = _normalised_projection(usage)
        return Cost(ops=(bias * usage.outputs if biased else 0) + (norm * usage.outputs if normalised else 0),
                    params=norm_params * usage.step.shape[-1] if normalised else 0)
    return rule


def _keras_shortcut(usage: Usage) -> Cost:
    """A projection's batch-norm statistics, and its bias where Keras' version keeps conv biases."""
    statistics = _shortcut_costs(0, 0, 2)(usage)
    keeps = usage.model.get("keras_conv_biases") and usage.step.weights.value and not usage.layer["bias"]
    return Cost(params=statistics.params + (usage.step.shape[-1] if keeps else 0))


@register
class Shortcut(LayerKind):
    name = "shortcut"
    family = "merge"
    summary = "residual shortcut: identity, 1x1 projection (option B) or zero-padding (option A)"
    fields = (
        Field("filters", COUNT, help="channels the shortcut must deliver (the residual branch's output)"),
        Field("stride", COUNT, 1, "the residual branch's stride"),
        Field("mode", choice("auto", "projection", "pad", "identity"), "auto",
              "auto (identity where shapes match, else projection), projection, pad, identity"),
        Field("batchnorm", BOOL, False, "batch norm after a projection (torchvision, the paper's ImageNet models)"),
        Field("bias", BOOL, False, "bias on a projection"),
    )
    positional = "filters"
    convolutional = True
    costs = {"ptflops": _shortcut_costs(1, 2), "ptflops-aten": _shortcut_costs(1, 0),
             "fvcore": _shortcut_costs(0, 2), "thop": _shortcut_costs(0, 4), "keras": _keras_shortcut}
    reports = (KERNEL_SIZES, BATCH_NORM)

    def resolve(self, layer: Layer, x: Shape) -> str:
        """The mode that applies on this input: auto becomes identity or projection."""
        mode = layer["mode"]
        same = layer["stride"] == 1 and x[2] == layer["filters"]
        if mode == "auto":
            return "identity" if same else "projection"
        if mode == "identity" and not same:
            raise ShapeError(f"an identity shortcut cannot turn {x[2]} channels at stride 1 into {layer['filters']} "
                             f"at stride {layer['stride']}", layer.at("mode"), "use mode = \"projection\" or \"pad\"")
        if mode == "pad" and isinstance(x[2], int) and isinstance(layer["filters"], int) and layer["filters"] < x[2]:
            raise ShapeError(f"zero-padding cannot reduce {x[2]} channels to {layer['filters']}", layer.at("filters"))
        return mode

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        height, width, channels = x
        stride, filters, mode = layer["stride"], layer["filters"], self.resolve(layer, x)
        if mode == "identity":
            return Step(shape=x, memory=0, label="IDENTITY")
        if mode == "pad":  # x[:, ::s, ::s] with zero channels appended: no parameters
            shape = (ceil_div(height, stride), ceil_div(width, stride), filters)
            return Step(shape=shape, label=f"ZERO-PAD s{stride}", window=((1, stride, 0), (1, stride, 0)),
                        working=(f"ceil({height}/{stride}) = {format_dim(shape[0])}",
                                 f"ceil({width}/{stride}) = {format_dim(shape[1])}"))
        out_h = normalize((height - 1) // stride + 1) if isinstance(height, int) else ceil_div(height, stride)
        out_w = normalize((width - 1) // stride + 1) if isinstance(width, int) else ceil_div(width, stride)
        weights = conv_weights(1, 1, channels, filters)
        norm = layer["batchnorm"]
        return Step(
            shape=(out_h, out_w, filters),
            label=f"PROJ1-{format_dim(filters)}" + (f" s{stride}" if stride != 1 else "") + (" + BN" if norm else ""),
            window=((1, stride, 0), (1, stride, 0)),
            weights=plus(weights, labelled(filters, "BN gamma")) if norm else weights,
            biases=given((filters if layer["bias"] else 0) + (filters if norm else 0)),
            macs=conv_macs(out_h, out_w, filters, 1, 1, channels),
            working=(f"({height} - 1)/{stride} + 1 = {format_dim(out_h)}", f"({width} - 1)/{stride} + 1 = {format_dim(out_w)}"),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        mode = self.resolve(layer, x)
        if mode == "identity":
            return (TorchModule("Identity"),)
        if mode == "pad":
            return (TorchModule("ZeroPadShortcut", (("stride", layer["stride"]), ("extra_channels", layer["filters"] - x[2])),
                                "archcalc.lower.modules"),)
        conv = TorchModule("Conv2d", (("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", 1),
                                      ("stride", layer["stride"]), ("bias", layer["bias"])))
        norm = (TorchModule("BatchNorm2d", (("num_features", layer["filters"]),)),) if layer["batchnorm"] else ()
        return (conv,) + norm

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        return 1 if self.resolve(layer, x) == "projection" else 0

    def traits(self, layer: Layer, x: Shape) -> dict:
        if self.resolve(layer, x) != "projection":
            return {}
        return {KERNEL_SIZES: 1, **({BATCH_NORM: True} if layer["batchnorm"] else {})}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        if self.resolve(layer, x) != "projection":
            return ()  # a view of the input, then padding: the backward needs only sizes
        convolution = (TensorSize("input", product(x)),)
        if not layer["batchnorm"]:
            return convolution
        _, mean, invstd = batchnorm_saved(step.shape)  # the batch norm's input is the 1x1 conv's output
        return convolution + (TensorSize("projection output", product(step.shape)), mean, invstd)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        mode = self.resolve(layer, x)
        if mode == "identity":
            return ()
        out = TensorSize("output", product(step.shape))
        return (TensorSize("projection output", product(step.shape)), out) if layer["batchnorm"] and \
            mode == "projection" else (out,)

    def label(self, layer: Layer) -> str:
        return f"SHORTCUT ({layer['mode']})" if layer["mode"] != "auto" else "SHORTCUT"
