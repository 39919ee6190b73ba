"""Operations on the channels alone (ShuffleNet v2): taking a slice of the channels (a view, as
``torch.chunk`` gives) and shuffling the channels of several groups together."""
from __future__ import annotations

from ..dims import format_dim, normalize, product, remainder, is_zero
from ..errors import ShapeError
from .base import COUNT, NATURAL, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule
from .registry import register

LOCAL = "archcalc.lower.modules"


@register
class Channels(LayerKind):
    name = "channels"
    aliases = ("split", "slice")
    family = "channel"
    summary = "channels start..start+count of the input (a view: ShuffleNet v2's channel split)"
    fields = (Field("start", NATURAL, help="the first channel taken (from 0)"),
              Field("count", COUNT, help="how many channels are taken"))
    positional = "start"

    def infer(self, layer: Layer, x: Shape) -> Step:
        start, count = layer["start"], layer["count"]
        end = normalize(start + count)
        if isinstance(x[-1], int) and isinstance(end, int) and end > x[-1]:
            raise ShapeError(f"channels {start}..{end - 1} do not exist: the input has {x[-1]}", layer.at("count"))
        return Step(shape=x[:-1] + (count,), memory=0,
                    working=(f"channels {format_dim(start)}..{format_dim(normalize(end - 1))} of {format_dim(x[-1])}",))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("ChannelSlice", (("start", layer["start"]), ("count", layer["count"])), LOCAL),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # a view

    def input_gradient(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("input gradient", product(x)),)  # zeros outside the slice

    def label(self, layer: Layer) -> str:
        return f"CHANNELS {layer['start']}+{layer['count']}"


@register
class Shuffle(LayerKind):
    name = "shuffle"
    family = "channel"
    summary = "channel shuffle across groups (ShuffleNet): same shape, channels interleaved, no parameters"
    fields = (Field("groups", COUNT, 2, "the groups whose channels are interleaved"),)
    positional = "groups"

    def infer(self, layer: Layer, x: Shape) -> Step:
        if is_zero(remainder(x[-1], layer["groups"])) is False:
            raise ShapeError(f"{layer['groups']} groups do not divide the {x[-1]} channels", layer.at("groups"))
        return Step(shape=x)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("ChannelShuffle", (("groups", layer["groups"]),), LOCAL),)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return ()  # a permutation

    def label(self, layer: Layer) -> str:
        return f"SHUFFLE g{layer['groups']}"
