"""Resizing without weights: nearest/bilinear upsampling (FCN, U-Net decoders) and zero padding."""
from __future__ import annotations

from ..dims import normalize
from .base import (PADDING, PAIR, Cost, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule, Usage, choice,
                   require_map)
from .reading import Claim, written_pads, zero_pad
from .registry import register

LOCAL = "archcalc.lower.modules"


def _per_output_by_mode(**per_mode: int):
    """A rule charging per output element by interpolation mode (fvcore's and thop's upsampling rules)."""
    return lambda usage: Cost(ops=per_mode.get(usage.layer["mode"], 0) * usage.outputs)


@register
class Upsample(LayerKind):
    name = "upsample"
    family = "resample"
    summary = "upsampling by an integer factor (nearest or bilinear): H*s x W*s x C, no parameters"
    fields = (Field("scale", PAIR, help="s, or [sh, sw]"),
              Field("mode", choice("nearest", "bilinear"), "nearest", "nearest or bilinear"),
              Field("call", choice("module", "functional"), "module",
                    "how the model resizes: an nn.Upsample module, or F.interpolate in its forward (tools count them "
                    "differently)"))
    positional = "scale"
    onnx_ops = ("Resize", "Upsample")

    def from_onnx(self, node, graph) -> Claim | None:
        """Resize by whole factors, nearest or (bi)linear; the factors from its scales or its sizes."""
        mode = {"nearest": "nearest", "linear": "bilinear"}.get(node.attribute("mode", "nearest"))
        before, after = graph.dims(node.inputs[0]), graph.dims(node.outputs[0])
        if mode is None or not before or not after or len(before) != 4 or len(after) != 4:
            return None
        if not all(isinstance(d, int) for d in before[2:] + after[2:]) or any(a % b for a, b in zip(after[2:], before[2:])):
            return None
        scale = [a // b for a, b in zip(after[2:], before[2:])]
        return Claim({"scale": scale[0] if scale[0] == scale[1] else scale, "mode": mode}, (node,))
    # fvcore: aten::upsample_nearest2d 1 and upsample_bilinear2d 4 per output element, however it is
    # called; thop hooks modules only: nn.Upsample 1 and 11, F.interpolate nothing; ptflops: nn.Upsample's
    # module hook (1 per output) plus its patched F.interpolate (1 more), F.interpolate alone once
    # (its own test_func_interpolate_args: 3x10x10 to 20x20, 1,200)
    costs = {"fvcore": _per_output_by_mode(nearest=1, bilinear=4),
             "thop": lambda usage: Cost() if usage.layer["call"] == "functional"
             else _per_output_by_mode(nearest=1, bilinear=11)(usage),
             "ptflops": lambda usage: Cost(ops=(1 if usage.layer["call"] == "functional" else 2) * usage.outputs)}

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        scale = layer["scale"]
        out = (normalize(x[0] * scale[0]), normalize(x[1] * scale[1]), x[2])
        return Step(shape=out, working=(f"{x[0]}*{scale[0]} = {out[0]}", f"{x[1]}*{scale[1]} = {out[1]}"),
                    window=tuple((1, ("up", scale[axis]), 0) for axis in (0, 1)))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        extra = (("align_corners", False),) if layer["mode"] == "bilinear" else ()
        args = (("scale_factor", tuple(float(s) for s in layer["scale"])), ("mode", layer["mode"])) + extra
        if layer["call"] == "functional":
            return (TorchModule("Interpolate", args, LOCAL),)
        return (TorchModule("Upsample", args),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # its backward needs only the sizes

    def label(self, layer: Layer) -> str:
        return f"UPSAMPLE x{layer['scale'][0]}"


@register
class ZeroPad(LayerKind):
    name = "zeropad"
    family = "resample"
    summary = "zero padding: H + top + bottom x W + left + right x C"
    fields = (Field("pad", PADDING, help="P, [Ph, Pw] or [top, bottom, left, right]"),)
    positional = "pad"
    onnx_ops = ("Pad",)

    def from_onnx(self, node, graph) -> Claim | None:
        pads = zero_pad(node, graph)
        return Claim({"pad": written_pads((pads[0], pads[2], pads[1], pads[3]))}, (node,)) if pads else None

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        (top, bottom), (left, right) = layer["pad"]
        out = (normalize(x[0] + top + bottom), normalize(x[1] + left + right), x[2])
        return Step(shape=out, working=(f"{x[0]} + {top} + {bottom} = {out[0]}", f"{x[1]} + {left} + {right} = {out[1]}"),
                    window=((1, 1, top), (1, 1, left)))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        (top, bottom), (left, right) = layer["pad"]
        return (TorchModule("ZeroPad2d", (("padding", (left, right, top, bottom)),)),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()

    def label(self, layer: Layer) -> str:
        return "ZEROPAD"

    def label_details(self, layer: Layer) -> str:
        return ""  # the padding is the layer itself, not a detail of a window
