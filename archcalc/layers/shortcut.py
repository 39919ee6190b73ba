"""Residual shortcuts (He et al. 2015, Section 3.3): identity where the shape is unchanged, else a
1x1 projection (option B) or parameter-free subsampling with zero-padded channels (option A)."""
from __future__ import annotations

from ..dims import ceil_div, format_dim, normalize
from ..errors import ShapeError, SpecError
from ..formulas import conv_macs, conv_weights
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule, require_map
from .registry import register

MODES = ("auto", "projection", "pad", "identity")


@register
class Shortcut(LayerKind):
    name = "shortcut"
    family = "merge"
    summary = "residual shortcut: identity, 1x1 projection (option B) or zero-padding (option A)"
    fields = (
        Field("filters", "count", help="channels the shortcut must deliver (the residual branch's output)"),
        Field("stride", "count", 1, "the residual branch's stride"),
        Field("mode", "text", "auto", "auto (identity where shapes match, else projection), projection, pad, identity"),
        Field("batchnorm", "bool", False, "batch norm after a projection (torchvision, the paper's ImageNet models)"),
        Field("bias", "bool", False, "bias on a projection"),
    )
    positional = "filters"
    convolutional = True

    def resolve(self, layer: Layer, x: Shape) -> str:
        """The mode that applies on this input: auto becomes identity or projection."""
        mode = layer["mode"]
        if mode not in MODES:
            raise SpecError(f"mode must be one of {', '.join(MODES)}, found {mode!r}", layer.at("mode"))
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
            return Step(shape=shape, label=f"ZERO-PAD s{stride}", window=((1, stride, 0), (1, stride, 0)), working=(f"ceil({height}/{stride}) = {format_dim(shape[0])}",
                                              f"ceil({width}/{stride}) = {format_dim(shape[1])}"))
        out_h = normalize((height - 1) // stride + 1) if isinstance(height, int) else ceil_div(height, stride)
        out_w = normalize((width - 1) // stride + 1) if isinstance(width, int) else ceil_div(width, stride)
        norm = filters if layer["batchnorm"] else 0
        return Step(
            shape=(out_h, out_w, filters),
            label=f"PROJ1-{format_dim(filters)}" + (f" s{stride}" if stride != 1 else "") + (" + BN" if norm else ""),
            window=((1, stride, 0), (1, stride, 0)),
            weights=normalize(conv_weights(1, 1, channels, filters) + norm),
            biases=normalize((filters if layer["bias"] else 0) + norm),
            macs=conv_macs(out_h, out_w, filters, 1, 1, channels),
            working=(f"({height} - 1)/{stride} + 1 = {format_dim(out_h)}", f"({width} - 1)/{stride} + 1 = {format_dim(out_w)}"),
            weights_formula=f"(1*1*{channels})*{filters}" + (f" + {filters} (BN gamma)" if norm else ""),
            macs_formula=f"{format_dim(normalize(out_h * out_w * filters), True)} * {format_dim(channels, True)}",
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        mode = self.resolve(layer, x)
        if mode == "identity":
            return (TorchModule("Identity"),)
        if mode == "pad":
            return (TorchModule("archcalc:ZeroPadShortcut", (("stride", layer["stride"]),
                                                            ("extra_channels", layer["filters"] - x[2]))),)
        conv = TorchModule("Conv2d", (("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", 1),
                                      ("stride", layer["stride"]), ("bias", layer["bias"])))
        norm = (TorchModule("BatchNorm2d", (("num_features", layer["filters"]),)),) if layer["batchnorm"] else ()
        return (conv,) + norm

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        return 1 if self.resolve(layer, x) == "projection" else 0

    def label(self, layer: Layer) -> str:
        return f"SHORTCUT ({layer['mode']})" if layer["mode"] != "auto" else "SHORTCUT"
