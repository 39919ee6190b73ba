"""How a kind reads itself from an ONNX graph: the inverse of its lowering.

A kind lists the ONNX operators that can start it (``onnx_ops``) and answers ``from_onnx(node,
graph)`` with a ``Claim``: its fields, the nodes it stands for (a zero-padding ``Pad`` and the
``Conv`` after it are one conv), and which initializers are its parameters. The importer asks every
kind that lists the node's operator and keeps the claim that covers the most nodes, so a pattern
(``x * sigmoid(x)`` is a SiLU) wins over its first node alone (a sigmoid). Nothing here imports onnx:
the graph is plain Python values (``archcalc.importing`` reads the file).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol


@dataclass(frozen=True)
class OnnxNode:
    """One operator of the graph, its attributes decoded to ints, floats, strings and lists."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    scope: tuple[str, ...] = ()  # the modules the exporter recorded, outermost first ("layer1", "layer1.0", "layer1.0.bn1")
    rewrites: tuple[str, ...] = ()  # the exporter's graph rewrites applied to this node ("FuseBatchNormIntoConv")
    had_bias: bool | None = None  # whether the traced call had a bias argument (None: not recorded)

    def attribute(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)


@dataclass(frozen=True)
class Claim:
    """A layer read from the graph: its fields, the nodes it stands for (the last one names the
    layer), the initializers that are its parameters, and those that are state (a batch norm's
    running statistics). ``specificity`` breaks ties between claims of equal length (a depthwise conv
    is also a conv)."""

    fields: Mapping[str, Any]
    nodes: tuple[OnnxNode, ...]
    weights: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    specificity: int = 0


class GraphView(Protocol):
    """What a kind may ask of the graph while it reads a node."""

    def dims(self, tensor: str) -> tuple | None:
        """An initializer's dimensions, or a tensor's shape as inferred (ONNX's N x C x H x W order);
        an unknown size is None or a name."""

    def values(self, tensor: str) -> tuple | None:
        """A small constant's values, flattened (an initializer, a Constant, a computed shape)."""

    def sole_consumer(self, tensor: str) -> OnnxNode | None:
        """The one node that reads ``tensor`` (None if none or several do, or it is an output)."""

    def is_data(self, tensor: str) -> bool:
        """Whether ``tensor`` carries activations (rather than weights or constants)."""

    def channels_last(self, tensor: str) -> bool:
        """Whether ``tensor`` is a map transposed to N x H x W x C (a ``Transpose`` made it so)."""


def spatial_fields(node: OnnxNode, graph: GraphView, kernel: tuple[int, ...]) -> dict[str, Any] | None:
    """kernel, stride, pad and dilation of a Conv, ConvTranspose or pool node, in a spec's terms:
    ONNX's ``pads`` [top, left, bottom, right] become P, [Ph, Pw] or [top, bottom, left, right];
    ``auto_pad`` SAME_UPPER is "same" (the odd pixel after, as TensorFlow's SAME). None where the
    node's padding cannot be written (SAME_LOWER on an input of unknown size)."""
    rank = len(kernel)
    strides = tuple(node.attribute("strides", [1] * rank))
    dilations = tuple(node.attribute("dilations", [1] * rank))
    auto = node.attribute("auto_pad", "NOTSET")
    if auto == "SAME_UPPER":
        pad: Any = "same"
    elif auto == "VALID":
        pad = 0
    elif auto == "SAME_LOWER":
        pad = same_lower_pads(graph.dims(node.inputs[0]), kernel, strides, dilations)
        if pad is None:
            return None
    else:
        pad = written_pads(tuple(node.attribute("pads", [0] * 2 * rank)))
    return {"kernel": one_or_pair(kernel), "stride": one_or_pair(strides), "pad": pad,
            "dilation": one_or_pair(dilations)}


def written_pads(pads: tuple[int, ...]) -> Any:
    """ONNX's begin-then-end pads as a spec writes them.

    >>> written_pads((1, 1, 1, 1)), written_pads((3, 0, 3, 0)), written_pads((0, 0, 1, 1))
    (1, [3, 0], [0, 1, 0, 1])
    >>> written_pads((2, 2))
    2
    """
    half = len(pads) // 2
    begins, ends = pads[:half], pads[half:]
    if begins == ends:
        return one_or_pair(begins)
    if half == 1:
        return None  # a 1-D layer pads both ends alike
    return [begins[0], ends[0], begins[1], ends[1]]


def same_lower_pads(shape: tuple | None, kernel, strides, dilations) -> list[int] | None:
    """SAME_LOWER's explicit pads (the odd pixel before), from the input's size."""
    if not shape or len(shape) != 2 + len(kernel) or not all(isinstance(d, int) for d in shape[2:]):
        return None
    pads = []
    for size, k, s, d in zip(shape[2:], kernel, strides, dilations):
        total = max(0, (-(-size // s) - 1) * s + d * (k - 1) + 1 - size)
        pads.append((total - total // 2, total // 2))
    if len(pads) == 1:
        return None
    return [pads[0][0], pads[0][1], pads[1][0], pads[1][1]]


def one_or_pair(values) -> Any:
    """(3, 3) -> 3; (1, 7) -> [1, 7]; (5,) -> 5."""
    values = [int(v) for v in values]
    return values[0] if all(v == values[0] for v in values) else values


def constant_scalar(graph: GraphView, tensor: str | None) -> float | None:
    """The one value of a constant input (Clip's min, Dropout's ratio), or None."""
    values = graph.values(tensor) if tensor else None
    return float(values[0]) if values is not None and len(values) == 1 else None


def chain(graph: GraphView, node: OnnxNode, *ops: str) -> tuple[OnnxNode, ...] | None:
    """``node`` and the nodes that follow it one after another, each the sole reader of the one
    before, with the operators ``ops``; None if the graph goes otherwise."""
    nodes = [node]
    for op in ops:
        following = graph.sole_consumer(nodes[-1].outputs[0])
        if following is None or following.op != op or following.inputs[0] != nodes[-1].outputs[0]:
            return None
        nodes.append(following)
    return tuple(nodes)


def zero_pad(node: OnnxNode, graph: GraphView) -> list[int] | None:
    """A ``Pad`` of a map with zeros on its height and width only: [top, bottom, left, right]."""
    if node.op != "Pad" or node.attribute("mode", "constant") != "constant":
        return None
    pads = node.attribute("pads")
    if pads is None and len(node.inputs) > 1:
        pads = graph.values(node.inputs[1])
    value = constant_scalar(graph, node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else 0.0
    axes = graph.values(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else None
    if pads is None or value != 0.0:
        return None
    pads = [int(p) for p in pads]
    if axes is not None:  # pads for the axes named only
        full = [0] * 8
        for i, axis in enumerate(int(a) % 4 for a in axes):
            full[axis], full[axis + 4] = pads[i], pads[i + len(axes)]
        pads = full
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or any(p < 0 for p in pads):
        return None
    return [pads[2], pads[6], pads[3], pads[7]]


def convolution(node: OnnxNode, graph: GraphView, rank: int, before: OnnxNode | None = None) -> dict[str, Any] | None:
    """A Conv node's fields (filters, kernel, stride, pad, dilation, groups, bias) and its input
    channels, for a weight of ``rank`` spatial axes; ``before`` is a zero Pad whose amounts add to its own."""
    weight = graph.dims(node.inputs[1]) if len(node.inputs) > 1 else None
    if node.op != "Conv" or not weight or len(weight) != 2 + rank or not all(isinstance(d, int) for d in weight):
        return None
    fields = spatial_fields(node, graph, tuple(weight[2:]))
    if fields is None:
        return None
    if before is not None:
        extra = zero_pad(before, graph)
        own = node.attribute("pads", [0] * 2 * rank)
        if extra is None or rank != 2 or node.attribute("auto_pad", "NOTSET") != "NOTSET":
            return None
        total = [extra[0] + own[0], extra[1] + own[2], extra[2] + own[1], extra[3] + own[3]]
        fields["pad"] = written_pads((total[0], total[2], total[1], total[3]))
    groups = int(node.attribute("group", 1))
    bias = len(node.inputs) > 2 and bool(node.inputs[2])
    return {"filters": weight[0], **fields, "groups": groups, "bias": bias, "in_channels": weight[1] * groups}


def conv_claim(kind_fields: dict[str, Any], nodes: tuple[OnnxNode, ...], specificity: int = 0) -> Claim:
    """A claim for a Conv (last of ``nodes``): its weight and, where it has one, its bias."""
    conv = nodes[-1]
    weights = tuple(name for name in conv.inputs[1:3] if name)
    return Claim(kind_fields, nodes, weights, specificity=specificity)


def padded_conv(node: OnnxNode, graph: GraphView) -> tuple[tuple[OnnxNode, ...], OnnxNode | None] | None:
    """The nodes of a convolution that starts at ``node``: a Conv, or a zero Pad read only by a Conv."""
    if node.op == "Conv":
        return (node,), None
    following = graph.sole_consumer(node.outputs[0]) if node.op == "Pad" else None
    if following is None or following.op != "Conv" or following.inputs[0] != node.outputs[0]:
        return None
    return (node, following), node



def matmul_with_bias(node: OnnxNode, graph: GraphView) -> tuple[tuple[OnnxNode, ...], tuple[str, ...], int] | None:
    """``x @ W``, and the ``+ b`` after it where there is one (PyTorch's Linear beyond 2-D): the
    nodes, the parameters and W's output width; None where W is not a [C_in, C_out] weight."""
    weight = graph.dims(node.inputs[1])
    if graph.is_data(node.inputs[1]) or not weight or len(weight) != 2:
        return None
    nodes, weights = (node,), (node.inputs[1],)
    add = graph.sole_consumer(node.outputs[0])
    if add is not None and add.op == "Add":
        other = [name for name in add.inputs if name != node.outputs[0]]
        if len(other) == 1 and not graph.is_data(other[0]) and graph.dims(other[0]) in ((weight[1],),):
            nodes, weights = (node, add), weights + (other[0],)
    return nodes, weights, weight[1]
