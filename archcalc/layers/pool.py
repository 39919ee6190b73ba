"""Pooling: the conv output formula with no weights; floor by default, PyTorch's ceil_mode on request."""
from __future__ import annotations

from ..errors import ShapeError
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule, require_map
from .conv import explicit_padding, kernel_text, windows
from .registry import register
from .spatial import resolve_padding, slide_axis


class WindowPool(LayerKind):
    family = "pool"
    prefix = ""
    fields = (
        Field("kernel", "pair", help="F, or [Fh, Fw]"),
        Field("stride", "pair", None, "S (default: the kernel size, as in PyTorch)"),
        Field("pad", "padding", 0, 'P, [Ph, Pw], "same" or "valid" (at most half the kernel)'),
        Field("ceil", "bool", False, "PyTorch's ceil_mode (Caffe's rounding)"),
    )
    positional = "kernel"

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        height, width, channels = x
        kernel, stride, dilation = layer["kernel"], self.stride(layer), layer.params.get("dilation", (1, 1))
        pad = resolve_padding(layer["pad"], height, width, kernel, stride, dilation)
        self.check_pad(layer, kernel, pad)
        rows = slide_axis(layer, 0, height, kernel[0], stride[0], pad[0], dilation[0], layer["ceil"])
        cols = slide_axis(layer, 1, width, kernel[1], stride[1], pad[1], dilation[1], layer["ceil"])
        return Step(
            shape=(rows.size, cols.size, channels),
            working=(rows.working, cols.working),
            inexact=tuple(a.inexact for a in (rows, cols) if a.inexact),
            assumptions=rows.assumptions + cols.assumptions,
            window=windows(kernel, stride, pad, dilation),
        )

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        stride = self.stride(layer)
        pad = resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], stride, layer.params.get("dilation", (1, 1)))
        if self.name == "maxpool":
            explicit, padding = explicit_padding(pad, "ConstantPad2d", float("-inf"))
            extra = (("dilation", layer["dilation"]),)
        else:
            explicit, padding = explicit_padding(pad, "ZeroPad2d")
            extra = (("count_include_pad", layer["count_include_pad"]),)
        pool = TorchModule("MaxPool2d" if self.name == "maxpool" else "AvgPool2d", (
            ("kernel_size", layer["kernel"]), ("stride", stride), ("padding", padding)) + extra
            + (("ceil_mode", layer["ceil"]),))
        return explicit + (pool,)

    @staticmethod
    def stride(layer: Layer) -> tuple:
        return layer["stride"] if layer["stride"] is not None else layer["kernel"]

    @staticmethod
    def check_pad(layer: Layer, kernel, pad) -> None:
        """PyTorch (and so ONNX export) refuses pooling pads larger than half the kernel."""
        for axis, (before, after) in enumerate(pad):
            largest = max(before, after) if isinstance(before, int) and isinstance(after, int) else 0
            if isinstance(kernel[axis], int) and 2 * largest > kernel[axis]:
                raise ShapeError(f"pad {largest} is more than half the kernel {kernel[axis]}: "
                                 f"a window could lie entirely in the padding", layer.at("pad"))

    def label(self, layer: Layer) -> str:
        text = f"{self.prefix}POOL{kernel_text(layer['kernel'])}"
        stride = self.stride(layer)
        if stride != layer["kernel"]:
            text += f" s{kernel_text(stride)}"
        return text


@register
class MaxPool(WindowPool):
    name = "maxpool"
    summary = "max pooling (kernel, stride, pad, dilation, ceil)"
    fields = WindowPool.fields + (Field("dilation", "pair0", 1, "D, as in PyTorch's MaxPool2d"),)


@register
class AvgPool(WindowPool):
    name = "avgpool"
    prefix = "AVG"
    summary = "average pooling (kernel, stride, pad, ceil, count_include_pad)"
    fields = WindowPool.fields + (
        Field("count_include_pad", "bool", True, "average over the padding too (PyTorch's default)"),
    )


def adaptive_window(size, out) -> tuple:
    """PyTorch's adaptive pooling: windows of ceil(W/out) at steps of about W/out (exact when out divides W)."""
    if not isinstance(size, int) or not isinstance(out, int):
        return None
    return (-(-size // out), size // out, 0)


class AdaptivePool(LayerKind):
    family = "pool"
    fields = (Field("output", "pair", help="the output size, Oh or [Oh, Ow]"),)
    positional = "output"

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        out_h, out_w = layer["output"]
        return Step(shape=(out_h, out_w, x[2]), working=(f"adaptive: {out_h}", f"adaptive: {out_w}"),
                    window=tuple(adaptive_window(size, out) for size, out in ((x[0], out_h), (x[1], out_w))))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        cls = "AdaptiveAvgPool2d" if self.name == "adaptiveavgpool" else "AdaptiveMaxPool2d"
        return (TorchModule(cls, (("output_size", layer["output"]),)),)

    def label(self, layer: Layer) -> str:
        return f"{self.name.upper().replace('POOL', ' POOL')} {kernel_text(layer['output'])}"


@register
class AdaptiveAvgPool(AdaptivePool):
    name = "adaptiveavgpool"
    summary = "adaptive average pooling to a fixed output size (torchvision's AlexNet, VGG)"


@register
class AdaptiveMaxPool(AdaptivePool):
    name = "adaptivemaxpool"
    summary = "adaptive max pooling to a fixed output size"


class GlobalPool(LayerKind):
    family = "pool"

    def label(self, layer: Layer) -> str:
        return f"GLOBAL {self.name.removeprefix('global').upper()}"

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        cls = "AdaptiveAvgPool2d" if self.name == "globalavgpool" else "AdaptiveMaxPool2d"
        return (TorchModule(cls, (("output_size", 1),)),)

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        return Step(shape=(1, 1, x[2]), working=(f"global: {x[0]} -> 1", f"global: {x[1]} -> 1"), window="global")


@register
class GlobalAvgPool(GlobalPool):
    name = "globalavgpool"
    summary = "average over the whole map: H x W x C -> 1 x 1 x C"


@register
class GlobalMaxPool(GlobalPool):
    name = "globalmaxpool"
    summary = "max over the whole map: H x W x C -> 1 x 1 x C"
