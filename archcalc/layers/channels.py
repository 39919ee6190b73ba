"""Operations on the channels alone (ShuffleNet v2): taking a slice of the channels (a view, as
``torch.chunk`` gives) and shuffling the channels of several groups together."""
from __future__ import annotations

from ..dims import format_dim, normalize, product, remainder, is_zero
from ..errors import ShapeError
from .base import COUNT, NATURAL, Field, Layer, LayerKind, TensorSize, Shape, Step, TorchModule
from .reading import Claim, chain
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
    onnx_ops = ("Slice",)

    def from_onnx(self, node, graph) -> Claim | None:
        """A Slice of channels [start, end) with step 1 (a Split is read as one Slice per part)."""
        shape = graph.dims(node.inputs[0])
        starts, ends = (graph.values(node.inputs[i]) if len(node.inputs) > i and node.inputs[i] else None for i in (1, 2))
        axes = graph.values(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else (0,)
        steps = graph.values(node.inputs[4]) if len(node.inputs) > 4 and node.inputs[4] else (1,)
        if not shape or starts is None or ends is None or len(starts) != 1 or tuple(steps) != (1,):
            return None
        channels_axis = len(shape) - 1 if graph.channels_last(node.inputs[0]) else 1
        if int(axes[0]) % len(shape) != channels_axis or not isinstance(shape[channels_axis], int):
            return None
        start, end = int(starts[0]), min(int(ends[0]), shape[channels_axis])
        return Claim({"start": start, "count": end - start}, (node,)) if 0 <= start < end else None

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
    onnx_ops = ("Reshape",)

    def from_onnx(self, node, graph) -> Claim | None:
        """Reshape to N x g x C/g x H x W, swap the two channel axes, Reshape back."""
        nodes = chain(graph, node, "Transpose", "Reshape")
        split = graph.dims(node.outputs[0])
        if not nodes or not split or len(split) != 5 or tuple(nodes[1].attribute("perm", ())) != (0, 2, 1, 3, 4):
            return None
        before, after = graph.dims(node.inputs[0]), graph.dims(nodes[2].outputs[0])
        if not after or len(after) != 4 or (before and all(isinstance(d, int) for d in before) and before != after):
            return None
        return Claim({"groups": split[1]}, nodes)

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
