"""Convolution: ``floor((W - D(F-1) - 1 + 2P)/S) + 1`` per axis, ``F*F*C_in/g*C_out`` weights."""
from __future__ import annotations

from ..dims import format_dim, normalize
from ..errors import ShapeError
from ..formulas import conv_macs, conv_macs_per_output, conv_weights, effective_kernel
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule, require_map
from .registry import register
from .spatial import resolve_padding, slide_axis


def kernel_text(kernel: tuple) -> str:
    """``3`` for a square kernel, ``1x7`` otherwise (the VGG paper's CONV3-64 naming)."""
    return format_dim(kernel[0]) if kernel[0] == kernel[1] else f"{kernel[0]}x{kernel[1]}"


def check_groups(layer: Layer, in_channels, out_channels, groups) -> None:
    """Groups must divide both channel counts (where they are known)."""
    for channels, what in ((in_channels, "input channels"), (out_channels, "filters")):
        if isinstance(channels, int) and isinstance(groups, int) and channels % groups:
            raise ShapeError(f"groups = {groups} does not divide the {channels} {what}", layer.at("groups"))


def windows(kernel, stride, pad, dilation) -> tuple:
    """Per axis: (effective kernel, stride, padding before), for the receptive field."""
    return tuple((effective_kernel(kernel[axis], dilation[axis]), stride[axis], pad[axis][0]) for axis in (0, 1))


def explicit_padding(pad, module: str, fill=None) -> tuple[tuple[TorchModule, ...], tuple]:
    """PyTorch pads symmetrically; uneven padding becomes a padding module first.

    Returns ``(modules to put first, the padding argument for the layer itself)``.
    """
    (top, bottom), (left, right) = pad
    if top == bottom and left == right:
        return (), (top, left)
    args = (("padding", (left, right, top, bottom)),) + ((("value", fill),) if fill is not None else ())
    return (TorchModule(module, args),), (0, 0)


class ConvKind(LayerKind):
    """What every convolution shares: weighted, convolutional, `filters` first, activation shorthand."""

    family = "conv"
    positional = "filters"
    takes_activation = True
    weighted = True
    convolutional = True


@register
class Conv(ConvKind):
    name = "conv"
    summary = "2-D convolution (filters, kernel, stride, pad, dilation, groups, bias)"
    fields = (
        Field("filters", "count", help="number of filters = output channels"),
        Field("kernel", "pair", help="F, or [Fh, Fw]"),
        Field("stride", "pair", 1, "S, or [Sh, Sw]"),
        Field("pad", "padding", 0, 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'),
        Field("dilation", "pair0", 1, "D: a dilated kernel spans D(F-1)+1 inputs"),
        Field("groups", "count", 1, "split channels into groups (AlexNet's two towers: 2)"),
        Field("bias", "bool", True, "one bias per filter"),
    )

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        height, width, channels = x
        kernel, stride, dilation = layer["kernel"], layer["stride"], layer["dilation"]
        filters, groups = layer["filters"], layer["groups"]
        check_groups(layer, channels, filters, groups)
        pad = resolve_padding(layer["pad"], height, width, kernel, stride, dilation)
        rows = slide_axis(layer, 0, height, kernel[0], stride[0], pad[0], dilation[0])
        cols = slide_axis(layer, 1, width, kernel[1], stride[1], pad[1], dilation[1])
        per_group = format_dim(channels) if groups == 1 else f"{channels}/{groups}"
        per_output = conv_macs_per_output(kernel[0], kernel[1], channels, groups)
        return Step(
            shape=(rows.size, cols.size, filters),
            weights=conv_weights(kernel[0], kernel[1], channels, filters, groups),
            biases=filters if layer["bias"] else 0,
            macs=conv_macs(rows.size, cols.size, filters, kernel[0], kernel[1], channels, groups),
            working=(rows.working, cols.working),
            weights_formula=f"({kernel[0]}*{kernel[1]}*{per_group})*{filters}",
            macs_formula=f"{format_dim(normalize(rows.size * cols.size * filters), True)} * {format_dim(per_output, True)}",
            inexact=tuple(a.inexact for a in (rows, cols) if a.inexact),
            assumptions=rows.assumptions + cols.assumptions,
            window=windows(kernel, stride, pad, dilation),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        pad = resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], layer["stride"], layer["dilation"])
        explicit, padding = explicit_padding(pad, "ZeroPad2d")
        conv = TorchModule("Conv2d", (
            ("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", padding), ("dilation", layer["dilation"]),
            ("groups", layer["groups"]), ("bias", layer["bias"])))
        return explicit + (conv,)

    def label(self, layer: Layer) -> str:
        text = f"CONV{kernel_text(layer['kernel'])}-{layer['filters']}"
        stride = layer["stride"]
        if stride != (1, 1):
            text += f" s{kernel_text(stride)}"
        if layer["dilation"] != (1, 1):
            text += f" d{kernel_text(layer['dilation'])}"
        if layer["groups"] != 1:
            text += f" g{layer['groups']}"
        return text
