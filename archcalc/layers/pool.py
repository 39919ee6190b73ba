"""Pooling: the conv output formula with no weights; floor by default, PyTorch's ceil_mode on
request. Adaptive and global pooling fix the output size instead; 1-D pooling slides along L."""
from __future__ import annotations

from ..dims import normalize, product
from ..errors import ShapeError
from ..working import given, times
from .base import (BOOL, COUNT, DILATION, NATURAL, PADDING, PAIR, Cost, Field, Layer, LayerKind, TensorSize, Shape, Step,
                   TorchModule, Usage, per_input, per_output, require_map, require_sequence)
from .conv import explicit_padding, kernel_text, windows
from .reading import Claim, spatial_fields
from .registry import register
from .spatial import resolve_padding, slide_axis


class KeepsMaxima:
    """Max pooling keeps its input, and the position of each maximum (int64), for its backward pass;
    PyTorch computes the positions at inference too, and drops them at once."""

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        kept = self.padded(layer, x) or (TensorSize("input", product(x)),)
        return kept + (TensorSize("indices", product(step.shape), "int64"),)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return self.padded(layer, x) + (TensorSize("output", product(step.shape)),
                                        TensorSize("indices", product(step.shape), "int64"))


class KeepsInput:
    """Average pooling's backward spreads each gradient over its window; PyTorch keeps the input for it."""

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return self.padded(layer, x) or (TensorSize("input", product(x)),)


class WindowPool(LayerKind):
    family = "pool"
    prefix = ""
    fields = (
        Field("kernel", PAIR, help="F, or [Fh, Fw]"),
        Field("stride", PAIR, None, "S (default: the kernel size, as in PyTorch)"),
        Field("pad", PADDING, 0, 'P, [Ph, Pw], "same" or "valid" (at most half the kernel)'),
        Field("ceil", BOOL, False, "PyTorch's ceil_mode (Caffe's rounding)"),
    )
    positional = "kernel"
    worked_example = True

    def from_onnx(self, node, graph) -> Claim | None:
        """A MaxPool or AveragePool over H and W; ONNX's stride defaults to 1, so it is written out."""
        return pool_claim(node, graph, 2, self.read_extra(node))

    def read_extra(self, node) -> dict:
        return {}

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        height, width, channels = x
        kernel, stride, dilation = layer["kernel"], self.stride(layer), self.dilation(layer)
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

    def dilation(self, layer: Layer) -> tuple:
        return (1, 1)

    def padded(self, layer: Layer, x: Shape) -> tuple[TensorSize, ...]:
        from .conv import padded_input

        return padded_input(self.padding(layer, x), x)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return self.padded(layer, x) + (TensorSize("output", product(step.shape)),)

    def padding(self, layer: Layer, x: Shape):
        return resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], self.stride(layer), self.dilation(layer))

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
class MaxPool(KeepsMaxima, WindowPool):
    name = "maxpool"
    aliases = ("pool", "max")
    summary = "max pooling (kernel, stride, pad, dilation, ceil)"
    fields = WindowPool.fields + (Field("dilation", DILATION, 1, "D, as in PyTorch's MaxPool2d"),)
    costs = {"ptflops": per_input(2)}
    onnx_ops = ("MaxPool",)

    def dilation(self, layer: Layer) -> tuple:
        return layer["dilation"]

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        explicit, padding = explicit_padding(self.padding(layer, x), "ConstantPad2d", float("-inf"))
        return explicit + (TorchModule("MaxPool2d", (
            ("kernel_size", layer["kernel"]), ("stride", self.stride(layer)), ("padding", padding),
            ("dilation", layer["dilation"]), ("ceil_mode", layer["ceil"]))),)


@register
class AvgPool(KeepsInput, WindowPool):
    name = "avgpool"
    aliases = ("avg",)
    prefix = "AVG"
    summary = "average pooling (kernel, stride, pad, ceil, count_include_pad)"
    fields = WindowPool.fields + (
        Field("count_include_pad", BOOL, True, "average over the padding too (PyTorch's default)"),
    )
    costs = {"ptflops": per_input(2), "thop": per_output(1)}
    onnx_ops = ("AveragePool",)

    def read_extra(self, node) -> dict:
        return {"count_include_pad": bool(node.attribute("count_include_pad", 0))}  # ONNX's default: 0

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        explicit, padding = explicit_padding(self.padding(layer, x), "ZeroPad2d")
        return explicit + (TorchModule("AvgPool2d", (
            ("kernel_size", layer["kernel"]), ("stride", self.stride(layer)), ("padding", padding),
            ("count_include_pad", layer["count_include_pad"]), ("ceil_mode", layer["ceil"]))),)


def adaptive_window(size, out) -> tuple:
    """PyTorch's adaptive pooling: windows of ceil(W/out) at steps of about W/out (exact when out divides W)."""
    if not isinstance(size, int) or not isinstance(out, int):
        return None
    return (-(-size // out), size // out, 0)


def thop_adaptive(usage: Usage) -> Cost:
    """thop charges (window + 1) per output of adaptive pooling, the window being input/output positions."""
    x, out = usage.x, usage.step.shape
    window = product(x[:-1]) // product(out[:-1]) if all(isinstance(d, int) for d in x) else 0
    return Cost(ops=(window + 1) * usage.outputs)


ADAPTIVE_COSTS = {"fvcore": per_input(1), "ptflops": per_input(2), "thop": thop_adaptive}


class Unpadded:
    """Pooling that PyTorch pads itself (or not at all): no padded copy of the input."""

    def padded(self, layer: Layer, x: Shape) -> tuple[TensorSize, ...]:
        return ()


class AdaptivePool(Unpadded, LayerKind):
    family = "pool"
    fields = (Field("output", PAIR, help="the output size, Oh or [Oh, Ow]"),)
    positional = "output"
    costs = ADAPTIVE_COSTS
    torch_class = ""

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        out_h, out_w = layer["output"]
        return Step(shape=(out_h, out_w, x[2]), working=(f"adaptive: {out_h}", f"adaptive: {out_w}"),
                    window=tuple(adaptive_window(size, out) for size, out in ((x[0], out_h), (x[1], out_w))))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule(self.torch_class, (("output_size", layer["output"]),)),)

    def label(self, layer: Layer) -> str:
        return f"{self.name.upper().replace('POOL', ' POOL')} {kernel_text(layer['output'])}"


@register
class AdaptiveAvgPool(KeepsInput, AdaptivePool):
    name = "adaptiveavgpool"
    summary = "adaptive average pooling to a fixed output size (torchvision's AlexNet, VGG)"
    torch_class = "AdaptiveAvgPool2d"

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        # PyTorch computes a 1x1 output as a mean, whose backward needs only the input's size
        return () if tuple(step.shape[:2]) == (1, 1) else super().saved_for_backward(layer, x, step)


@register
class AdaptiveMaxPool(KeepsMaxima, AdaptivePool):
    name = "adaptivemaxpool"
    summary = "adaptive max pooling to a fixed output size"
    torch_class = "AdaptiveMaxPool2d"


class GlobalPool(Unpadded, LayerKind):
    family = "pool"
    costs = ADAPTIVE_COSTS
    torch_class = ""

    def label(self, layer: Layer) -> str:
        return f"GLOBAL {self.name.removeprefix('global').upper()}"

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule(self.torch_class, (("output_size", 1),)),)

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        return Step(shape=(1, 1, x[2]), working=(f"global: {x[0]} -> 1", f"global: {x[1]} -> 1"), window="global")


@register
class GlobalAvgPool(GlobalPool):
    name = "globalavgpool"
    aliases = ("gap",)
    summary = "average over the whole map: H x W x C -> 1 x 1 x C"
    torch_class = "AdaptiveAvgPool2d"
    onnx_ops = ("GlobalAveragePool", "ReduceMean")

    def from_onnx(self, node, graph) -> Claim | None:
        if node.op == "ReduceMean":  # x.mean((2, 3), keepdim=True)
            axes = node.attribute("axes") or (graph.values(node.inputs[1]) if len(node.inputs) > 1 else None)
            if not axes or sorted(int(a) % 4 for a in axes) != [2, 3]:
                return None  # keepdims=0 leaves N x C: the fc after it reads the same values
        return Claim({}, (node,))

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # a mean: its backward needs only the input's size


@register
class GlobalMaxPool(KeepsMaxima, GlobalPool):
    name = "globalmaxpool"
    summary = "max over the whole map: H x W x C -> 1 x 1 x C"
    torch_class = "AdaptiveMaxPool2d"
    onnx_ops = ("GlobalMaxPool",)

    def from_onnx(self, node, graph) -> Claim | None:
        return Claim({}, (node,))


class Pool1d(Unpadded, LayerKind):
    family = "pool"
    fields = (
        Field("kernel", COUNT, help="F"),
        Field("stride", COUNT, None, "S (default: the kernel)"),
        Field("pad", NATURAL, 0, "P on both ends (at most half the kernel)"),
        Field("ceil", BOOL, False, "PyTorch's ceil_mode"),
    )
    positional = "kernel"
    torch_class = ""

    def from_onnx(self, node, graph) -> Claim | None:
        claim = pool_claim(node, graph, 1, {})
        return claim if claim and set(claim.fields) <= {f.name for f in self.fields} else None

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_sequence(layer, x)
        stride = layer["stride"] or layer["kernel"]
        if isinstance(layer["kernel"], int) and 2 * layer["pad"] > layer["kernel"]:
            raise ShapeError(f"pad {layer['pad']} is more than half the kernel {layer['kernel']}", layer.at("pad"))
        axis = slide_axis(layer, 1, x[0], layer["kernel"], stride, (layer["pad"], layer["pad"]), 1, layer["ceil"])
        return Step(shape=(axis.size, x[1]), working=(axis.working,), inexact=(axis.inexact,) if axis.inexact else (),
                    assumptions=axis.assumptions, window=((layer["kernel"], stride, layer["pad"]),))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule(self.torch_class, (("kernel_size", layer["kernel"]),
                                               ("stride", layer["stride"] or layer["kernel"]),
                                               ("padding", layer["pad"]), ("ceil_mode", layer["ceil"]))),)

    def label(self, layer: Layer) -> str:
        return f"{self.name.upper().replace('POOL1D', 'POOL1D ')}{layer['kernel']}"


@register
class MaxPool1d(KeepsMaxima, Pool1d):
    name = "maxpool1d"
    summary = "1-D max pooling over an L x C sequence"
    torch_class = "MaxPool1d"
    onnx_ops = ("MaxPool",)


@register
class AvgPool1d(KeepsInput, Pool1d):
    name = "avgpool1d"
    summary = "1-D average pooling over an L x C sequence"
    torch_class = "AvgPool1d"
    onnx_ops = ("AveragePool",)


@register
class Subsampling(Unpadded, KeepsInput, LayerKind):
    name = "subsample"
    family = "pool"
    summary = "LeNet-5's trainable subsampling: each window's sum times a learned coefficient, plus a bias, per map"
    fields = (Field("kernel", PAIR, 2, "F, or [Fh, Fw]"), Field("stride", PAIR, None, "S (default: the kernel)"))
    positional = "kernel"
    takes_activation = True  # the paper squashes each sum with a sigmoid-like function

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        kernel, stride = layer["kernel"], WindowPool.stride(layer)
        rows = slide_axis(layer, 0, x[0], kernel[0], stride[0], (0, 0))
        cols = slide_axis(layer, 1, x[1], kernel[1], stride[1], (0, 0))
        shape = (rows.size, cols.size, x[2])
        window = normalize(kernel[0] * kernel[1])
        return Step(shape=shape, weights=given(x[2]), biases=given(x[2]), param_names=("coefficients", "biases"),
                    connections=times(product(shape), window + 1, spaced=True, thousands=True),
                    working=(rows.working, cols.working), inexact=tuple(a.inexact for a in (rows, cols) if a.inexact),
                    assumptions=rows.assumptions + cols.assumptions, window=windows(kernel, stride, ((0, 0), (0, 0)), (1, 1)),
                    explanation=(f"each output is a coefficient times the sum of its {window} inputs, plus a bias: "
                                 f"{window} + 1 connections, and no MACs as archcalc counts them (pooling arithmetic)",))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Subsampling", (("channels", x[2]), ("kernel_size", layer["kernel"]),
                                            ("stride", WindowPool.stride(layer))), "archcalc.lower.modules"),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        # the average pool keeps its input; the product with the coefficients keeps the window sums
        return super().saved_for_backward(layer, x, step) + (TensorSize("window sums", product(step.shape)),)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        out = product(step.shape)  # the sums, scaled, multiplied by the coefficients, plus the biases
        return (TensorSize("scaled sums", out), TensorSize("times the coefficients", out), TensorSize("output", out))

    def label(self, layer: Layer) -> str:
        return f"SUBSAMPLE{kernel_text(layer['kernel'])}"


def pool_claim(node, graph, rank: int, extra: dict) -> Claim | None:
    """A pooling node's fields: kernel, stride (always written), pad, ceil, dilation where not 1."""
    kernel = tuple(node.attribute("kernel_shape", ()))
    if len(kernel) != rank:
        return None
    fields = spatial_fields(node, graph, kernel)
    if fields is None or (isinstance(fields["pad"], list) and len(fields["pad"]) == 4):
        return None  # uneven pooling padding: no pool field says it
    if node.op != "MaxPool" and fields["dilation"] != 1:
        return None
    if node.op != "MaxPool" or fields["dilation"] == 1:
        del fields["dilation"]
    fields["ceil"] = bool(node.attribute("ceil_mode", 0))
    return Claim({**fields, **extra}, (node,))
