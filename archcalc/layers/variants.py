"""The convolutions of homework questions beyond the plain one: transposed, depthwise, depthwise
separable, and 1-D convolution and pooling."""
from __future__ import annotations

from ..dims import format_dim, normalize
from ..errors import ShapeError
from ..formulas import conv_macs, conv_weights, effective_kernel, transposed_conv_output_size
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule, require_map, require_sequence
from .conv import ConvKind, check_groups, explicit_padding, kernel_text, windows
from .registry import register
from .spatial import check_dilation, resolve_padding, slide_axis

CONV_FIELDS = (
    Field("kernel", "pair", help="F, or [Fh, Fw]"),
    Field("stride", "pair", 1, "S, or [Sh, Sw]"),
    Field("pad", "padding", 0, 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'),
    Field("dilation", "pair", 1, "D: a dilated kernel spans D(F-1)+1 inputs"),
)


@register
class TransposedConv(ConvKind):
    name = "deconv"
    summary = "transposed convolution: (W-1)S - 2P + D(F-1) + output_padding + 1"
    fields = (
        Field("filters", "count", help="output channels"),
        Field("kernel", "pair", help="F, or [Fh, Fw]"),
        Field("stride", "pair", 1, "S"),
        Field("pad", "pair0", 0, "P (removed from both sides of the output)"),
        Field("output_padding", "pair0", 0, "extra rows/columns on one side (less than S or D)"),
        Field("dilation", "pair0", 1, "D"),
        Field("groups", "count", 1, "groups"),
        Field("bias", "bool", True, "one bias per filter"),
    )

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        channels, filters, groups = x[2], layer["filters"], layer["groups"]
        check_groups(layer, channels, filters, groups)
        kernel, stride, pad = layer["kernel"], layer["stride"], layer["pad"]
        dilation, extra = layer["dilation"], layer["output_padding"]
        for axis in (0, 1):
            check_dilation(layer, dilation[axis])
            if isinstance(extra[axis], int) and extra[axis] >= max(stride[axis], dilation[axis]):
                raise ShapeError(f"output_padding {extra[axis]} must be smaller than the stride or the dilation",
                                 layer.at("output_padding"))
        sizes, working = [], []
        for axis in (0, 1):
            out = transposed_conv_output_size(x[axis], kernel[axis], stride[axis], 2 * pad[axis], dilation[axis],
                                              extra[axis])
            if isinstance(out, int) and out < 1:
                raise ShapeError(f"the output would be {out} wide", layer.at("pad"))
            sizes.append(out)
            working.append(f"({x[axis]} - 1)*{stride[axis]} - 2*{pad[axis]} + {dilation[axis]}*({kernel[axis]} - 1)"
                           f" + {extra[axis]} + 1 = {format_dim(out)}")
        weights = conv_weights(kernel[0], kernel[1], channels, filters, groups)
        # every input value is multiplied into F*F*C_out/g outputs
        macs = normalize(x[0] * x[1] * channels * kernel[0] * kernel[1] * filters // groups) \
            if isinstance(filters, int) and isinstance(groups, int) else normalize(x[0] * x[1] * weights)
        return Step(
            shape=(sizes[0], sizes[1], filters), weights=weights, biases=filters if layer["bias"] else 0,
            macs=macs, working=tuple(working),
            weights_formula=f"({kernel[0]}*{kernel[1]}*{channels if groups == 1 else f'{channels}/{groups}'})*{filters}",
            macs_formula=f"{format_dim(normalize(x[0] * x[1] * channels), True)} * "
                         f"{format_dim(normalize(kernel[0] * kernel[1] * filters // groups), True)}",
            window=tuple((effective_kernel(kernel[a], dilation[a]), ("up", stride[a]), pad[a]) for a in (0, 1)),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("ConvTranspose2d", (
            ("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", layer["pad"]), ("output_padding", layer["output_padding"]),
            ("groups", layer["groups"]), ("bias", layer["bias"]), ("dilation", layer["dilation"]))),)

    def label(self, layer: Layer) -> str:
        stride = layer["stride"]
        return f"DECONV{kernel_text(layer['kernel'])}-{layer['filters']}" + (
            f" s{kernel_text(stride)}" if stride != (1, 1) else "")


class _Depthwise(ConvKind):
    """Shared by depthwise and separable convolution: the per-channel spatial part."""

    def depthwise(self, layer: Layer, x: Shape):
        require_map(layer, x)
        kernel, stride, dilation = layer["kernel"], layer["stride"], layer["dilation"]
        pad = resolve_padding(layer["pad"], x[0], x[1], kernel, stride, dilation)
        rows = slide_axis(layer, 0, x[0], kernel[0], stride[0], pad[0], dilation[0])
        cols = slide_axis(layer, 1, x[1], kernel[1], stride[1], pad[1], dilation[1])
        return rows, cols, pad


@register
class DepthwiseConv(_Depthwise):
    name = "dwconv"
    summary = "depthwise convolution: one F x F filter per input channel (groups = C_in), times a multiplier"
    fields = CONV_FIELDS + (Field("multiplier", "count", 1, "filters per input channel"),
                            Field("bias", "bool", True, "one bias per output channel"))
    positional = "kernel"

    def infer(self, layer: Layer, x: Shape) -> Step:
        rows, cols, pad = self.depthwise(layer, x)
        channels = normalize(x[2] * layer["multiplier"])
        kernel = layer["kernel"]
        return Step(
            shape=(rows.size, cols.size, channels),
            weights=normalize(kernel[0] * kernel[1] * channels), biases=channels if layer["bias"] else 0,
            macs=normalize(rows.size * cols.size * channels * kernel[0] * kernel[1]),
            working=(rows.working, cols.working), inexact=tuple(a.inexact for a in (rows, cols) if a.inexact),
            assumptions=rows.assumptions + cols.assumptions,
            weights_formula=f"({kernel[0]}*{kernel[1]}*1)*{format_dim(channels)}",
            macs_formula=f"{format_dim(normalize(rows.size * cols.size * channels), True)} * {kernel[0] * kernel[1]}",
            window=windows(kernel, layer["stride"], pad, layer["dilation"]),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        pad = resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], layer["stride"], layer["dilation"])
        explicit, padding = explicit_padding(pad, "ZeroPad2d")
        return explicit + (TorchModule("Conv2d", (
            ("in_channels", x[2]), ("out_channels", x[2] * layer["multiplier"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", padding), ("dilation", layer["dilation"]), ("groups", x[2]),
            ("bias", layer["bias"]))),)

    def label(self, layer: Layer) -> str:
        return f"DWCONV{kernel_text(layer['kernel'])}" + (
            f" s{kernel_text(layer['stride'])}" if layer["stride"] != (1, 1) else "")


@register
class SeparableConv(_Depthwise):
    name = "sepconv"
    summary = "depthwise separable convolution: depthwise F x F, then pointwise 1x1 to `filters` (MobileNet, Xception)"
    fields = (Field("filters", "count", help="output channels of the pointwise 1x1"),) + CONV_FIELDS + (
        Field("multiplier", "count", 1, "depthwise filters per input channel"),
        Field("bias", "bool", True, "one bias per output channel (on the pointwise conv, as in Keras)"))

    def infer(self, layer: Layer, x: Shape) -> Step:
        rows, cols, pad = self.depthwise(layer, x)
        kernel, filters = layer["kernel"], layer["filters"]
        middle = normalize(x[2] * layer["multiplier"])
        depthwise = normalize(kernel[0] * kernel[1] * middle)
        pointwise = normalize(middle * filters)
        positions = normalize(rows.size * cols.size)
        return Step(
            shape=(rows.size, cols.size, filters),
            weights=normalize(depthwise + pointwise), biases=filters if layer["bias"] else 0,
            macs=normalize(positions * (depthwise + pointwise)),
            working=(rows.working, cols.working), inexact=tuple(a.inexact for a in (rows, cols) if a.inexact),
            assumptions=rows.assumptions + cols.assumptions,
            weights_formula=f"{kernel[0]}*{kernel[1]}*{format_dim(middle)} + {format_dim(middle)}*{filters}",
            macs_formula=f"{format_dim(positions, True)} * ({format_dim(depthwise, True)} + {format_dim(pointwise, True)})",
            window=windows(kernel, layer["stride"], pad, layer["dilation"]),
            explanation=(f"a standard {kernel[0]}x{kernel[1]} conv would have {kernel[0]}*{kernel[1]}*{x[2]}*{filters} = "
                         f"{format_dim(normalize(kernel[0] * kernel[1] * x[2] * filters), True)} weights",),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        pad = resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], layer["stride"], layer["dilation"])
        explicit, padding = explicit_padding(pad, "ZeroPad2d")
        middle = x[2] * layer["multiplier"]
        return explicit + (
            TorchModule("Conv2d", (("in_channels", x[2]), ("out_channels", middle), ("kernel_size", layer["kernel"]),
                                   ("stride", layer["stride"]), ("padding", padding), ("dilation", layer["dilation"]),
                                   ("groups", x[2]), ("bias", False))),
            TorchModule("Conv2d", (("in_channels", middle), ("out_channels", layer["filters"]), ("kernel_size", 1),
                                   ("bias", layer["bias"]))))

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        return 2  # MobileNet counts depthwise and pointwise as separate layers

    def label(self, layer: Layer) -> str:
        return f"SEPCONV{kernel_text(layer['kernel'])}-{layer['filters']}" + (
            f" s{kernel_text(layer['stride'])}" if layer["stride"] != (1, 1) else "")


@register
class Conv1d(ConvKind):
    name = "conv1d"
    summary = "1-D convolution over an L x C sequence"
    fields = (
        Field("filters", "count", help="output channels"),
        Field("kernel", "count", help="F"),
        Field("stride", "count", 1, "S"),
        Field("pad", "natural", 0, "P on both ends"),
        Field("dilation", "natural", 1, "D"),
        Field("groups", "count", 1, "groups"),
        Field("bias", "bool", True, "one bias per filter"),
    )

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_sequence(layer, x)
        length, channels = x
        filters, groups, kernel = layer["filters"], layer["groups"], layer["kernel"]
        check_groups(layer, channels, filters, groups)
        pad = (layer["pad"], layer["pad"])
        axis = slide_axis(layer, 1, length, kernel, layer["stride"], pad, layer["dilation"])
        weights = conv_weights(kernel, 1, channels, filters, groups)
        return Step(
            shape=(axis.size, filters), weights=weights, biases=filters if layer["bias"] else 0,
            macs=conv_macs(axis.size, 1, filters, kernel, 1, channels, groups), working=(axis.working,),
            inexact=(axis.inexact,) if axis.inexact else (), assumptions=axis.assumptions,
            weights_formula=f"({kernel}*{channels if groups == 1 else f'{channels}/{groups}'})*{filters}",
            macs_formula=f"{format_dim(normalize(axis.size * filters), True)} * "
                         f"{format_dim(normalize(kernel * channels // groups), True) if isinstance(channels, int) else ''}",
            window=((effective_kernel(kernel, layer["dilation"]), layer["stride"], layer["pad"]),),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Conv1d", (
            ("in_channels", x[1]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", layer["pad"]), ("dilation", layer["dilation"]),
            ("groups", layer["groups"]), ("bias", layer["bias"]))),)

    def label(self, layer: Layer) -> str:
        return f"CONV1D{layer['kernel']}-{layer['filters']}" + (f" s{layer['stride']}" if layer["stride"] != 1 else "")


class Pool1d(LayerKind):
    family = "pool"
    fields = (
        Field("kernel", "count", help="F"),
        Field("stride", "count", None, "S (default: the kernel)"),
        Field("pad", "natural", 0, "P on both ends (at most half the kernel)"),
        Field("ceil", "bool", False, "PyTorch's ceil_mode"),
    )
    positional = "kernel"

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_sequence(layer, x)
        stride = layer["stride"] or layer["kernel"]
        if isinstance(layer["kernel"], int) and 2 * layer["pad"] > layer["kernel"]:
            raise ShapeError(f"pad {layer['pad']} is more than half the kernel {layer['kernel']}", layer.at("pad"))
        axis = slide_axis(layer, 1, x[0], layer["kernel"], stride, (layer["pad"], layer["pad"]), 1, layer["ceil"])
        return Step(shape=(axis.size, x[1]), working=(axis.working,), inexact=(axis.inexact,) if axis.inexact else (),
                    assumptions=axis.assumptions, window=((layer["kernel"], stride, layer["pad"]),))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        cls = "MaxPool1d" if self.name == "maxpool1d" else "AvgPool1d"
        return (TorchModule(cls, (("kernel_size", layer["kernel"]), ("stride", layer["stride"] or layer["kernel"]),
                                  ("padding", layer["pad"]), ("ceil_mode", layer["ceil"]))),)

    def label(self, layer: Layer) -> str:
        return f"{self.name.upper().replace('POOL1D', 'POOL1D ')}{layer['kernel']}"


@register
class MaxPool1d(Pool1d):
    name = "maxpool1d"
    summary = "1-D max pooling over an L x C sequence"


@register
class AvgPool1d(Pool1d):
    name = "avgpool1d"
    summary = "1-D average pooling over an L x C sequence"
