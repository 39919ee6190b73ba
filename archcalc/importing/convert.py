"""An ONNX graph -> archcalc's layers and branches.

Every operator on the activations' path is offered to the kinds that list it (``onnx_ops``); the
claim that covers the most nodes wins. Operators that only move layout (a Transpose to channels-last
and back, an Identity) pass through. The layers then form a graph whose forks and joins become
branches: each fork's branches run to the fork's immediate post-dominator, which must be a merge
(an Add, a Mul, a Concat). Operators that no kind claims are reported by name and node, never
counted as zero."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from ..errors import Location, SpecError
from ..layers import KINDS, MERGES
from ..layers.reading import Claim, OnnxNode, constant_scalar
from .graph import OnnxGraph

PASS_THROUGH = ("Identity",)
SHAPE_OPS = ("Shape", "Size")
TO_CHANNELS_LAST, TO_CHANNELS_FIRST = (0, 2, 3, 1), (0, 3, 1, 2)


class UnsupportedGraph(SpecError):
    """Operators (or a structure) that archcalc cannot represent: each named with its node."""


class NotATree(UnsupportedGraph):
    """A graph whose branches do not start together and merge together: written with named inputs."""


@dataclass
class Unit:
    """One layer, merge or pass-through read from the graph."""

    name: str  # the module path the node names carry ("layer1.0.conv1"), or the node's name
    scope: tuple[str, ...]  # the node name's scope segments ("layer1", "layer1.0", "conv1")
    kind: str | None  # a layer kind; None for a merge or a pass-through
    merge: str | None
    fields: dict[str, Any]
    inputs: tuple[str, ...]  # activations read
    output: str
    nodes: tuple[OnnxNode, ...]
    weights: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    share: str | None = None


@dataclass
class LayerEntry:
    unit: Unit


@dataclass
class MergeEntry:
    unit: Unit
    branches: list[list["Entry"]] = field(default_factory=list)


Entry = Union[LayerEntry, MergeEntry]


class View:
    """What kinds may ask of the graph (archcalc.layers.reading.GraphView)."""

    def __init__(self, graph: OnnxGraph):
        self.graph = graph
        self.data = data_tensors(graph)
        self.readers: dict[str, list[OnnxNode]] = {}
        self.writers: dict[str, OnnxNode] = {}
        for node in graph.nodes:
            for name in node.inputs:
                if name:
                    self.readers.setdefault(name, []).append(node)
            for name in node.outputs:
                self.writers[name] = node
        self.last = channels_last_tensors(graph, self.data)

    def dims(self, tensor):
        return self.graph.dims(tensor)

    def source(self, tensor: str) -> str:
        """The initializer a weight comes from, through Identity nodes (exports without constant folding)."""
        writer = self.writers.get(tensor)
        while writer is not None and writer.op == "Identity" and not self.is_data(writer.inputs[0]):
            tensor = writer.inputs[0]
            writer = self.writers.get(tensor)
        return tensor

    def values(self, tensor):
        return self.graph.values(tensor) if tensor else None

    def sole_consumer(self, tensor):
        readers = self.readers.get(tensor, [])
        return readers[0] if len(readers) == 1 and tensor not in self.graph.outputs else None

    def is_data(self, tensor):
        return tensor in self.data

    def channels_last(self, tensor):
        return tensor in self.last


def data_tensors(graph: OnnxGraph) -> set[str]:
    """The tensors that carry activations: the input, and what nodes reading them write (a Shape's
    output is a shape, and a computed constant is a constant)."""
    merging = {op for merge in MERGES.values() for op in merge.onnx_ops}  # read activations at every input
    data = {graph.input_name}
    for node in graph.nodes:
        read = node.inputs if node.op in merging else node.inputs[:1]
        if node.op not in SHAPE_OPS and any(name in data for name in read):
            data.update(name for name in node.outputs if name not in graph.constants)
    return data


def channels_last_tensors(graph: OnnxGraph, data: set[str]) -> set[str]:
    """Activations transposed to N x H x W x C, followed through layers that keep the layout."""
    last: set[str] = set()
    for node in graph.nodes:
        if not any(name in data for name in node.inputs):
            continue
        perm = tuple(node.attribute("perm", ())) if node.op == "Transpose" else None
        if perm == TO_CHANNELS_LAST and node.inputs[0] not in last:
            last.update(node.outputs)
        elif perm == TO_CHANNELS_FIRST and node.inputs[0] in last:
            continue
        elif any(name in last for name in node.inputs):
            last.update(name for name in node.outputs if name in data)
    return last


def split_into_slices(graph: OnnxGraph) -> None:
    """A Split is one Slice per output (ONNX's own definition): ``x.chunk(2, dim=1)`` then reads as two
    channel ranges. Its sizes come from its ``split`` input or attribute, or equal parts."""
    import numpy as np

    nodes = []
    for node in graph.nodes:
        dims = graph.shapes.get(node.inputs[0]) if node.op == "Split" and node.inputs else None
        axis = int(node.attribute("axis", 0)) % len(dims) if dims else 0
        if not dims or not isinstance(dims[axis], int):
            nodes.append(node)
            continue
        sizes = node.attribute("split") or (graph.values(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1]
                                            else None)
        parts, part = len(node.outputs), -(-dims[axis] // len(node.outputs))  # equal: ceil(C / parts), the last the rest
        sizes = [int(s) for s in sizes] if sizes else [part] * (parts - 1) + [dims[axis] - part * (parts - 1)]
        start = 0
        for index, (output, size) in enumerate(zip(node.outputs, sizes)):
            names = [f"{output}#{what}" for what in ("starts", "ends", "axes")]
            for name, value in zip(names, (start, start + size, axis)):
                graph.constants[name] = np.array([value], dtype=np.int64)
            nodes.append(OnnxNode(f"{node.name}_{index}" if index else node.name, "Slice", (node.inputs[0], *names),
                                  (output,), {}))
            start += size
    graph.nodes[:] = nodes


def read_units(graph: OnnxGraph, strict: bool = False) -> tuple[list[Unit], View]:
    """Every activation node claimed by a kind, a merge, or passed through; one that nothing claims is
    kept as an opaque layer (its size from shape inference, its initializers as parameters, its MACs
    unknown). What cannot be kept so, or with ``strict`` every unclaimed node, is one UnsupportedGraph
    error that lists them all."""
    opaque = None if strict else next((kind for kind in KINDS.values() if kind.opaque), None)
    split_into_slices(graph)
    view = View(graph)
    claimed: set[int] = set()
    units, unsupported = [], []
    by_op: dict[str, list] = {}
    for kind in KINDS.values():
        for op in kind.onnx_ops:
            by_op.setdefault(op, []).append(kind)
    owners: dict[str, str] = {}  # an initializer -> the first layer whose parameter it is
    for node in graph.nodes:
        if id(node) in claimed or not any(view.is_data(name) for name in node.inputs) or node.op in SHAPE_OPS:
            continue
        unit = _merge_unit(node, view) or _pass_through(node, view) or _claimed(node, view, by_op.get(node.op, []))
        if unit is None and opaque is not None:
            unit = _opaque_unit(node, view, opaque.name)
        if unit is None:
            unsupported.append(node)
            continue
        claimed.update(id(n) for n in unit.nodes)
        if _shares(unit, owners, view):
            unit.share = owners[unit.weights[0]]
        for weight in unit.weights:
            owners.setdefault(weight, unit.name)
        units.append(unit)
    if unsupported:
        raise UnsupportedGraph(_unsupported_text(unsupported, set(by_op)), Location(graph.file),
                               "archcalc reads the operators its layer kinds list (archcalc layers); "
                               "docs/import.md names them")
    name_uniquely(units)
    return units, view


MADE_UP_NAME = re.compile(r"onnx::.*|val_\d+.*|/.*|.*_output_\d+|.*#computed|_v_\d+")  # exporters' own constants


def _opaque_unit(node: OnnxNode, view: View, kind_name: str) -> Unit | None:
    """A node no kind reads, as an opaque layer: the size onnx's shape inference gives its one output
    (in archcalc's order: H x W x C, L x C or F), the floating-point initializers it reads as its parameters
    (except single values that the exporter named itself, onnx::Mul_3 or val_12: constants such as 0.5).
    None where the size is not known, or another output is read."""
    if any(view.readers.get(name) for name in node.outputs[1:]):
        return None
    dims = view.dims(node.outputs[0])
    if not dims or not all(isinstance(d, int) and d > 0 for d in dims) or (len(dims) > 1 and dims[0] != 1):
        return None
    if len(dims) == 1:  # the batch reshaped away (the dynamo exporter's as_strided): the values alone
        shape = [dims[0]]
    elif view.channels_last(node.outputs[0]) and len(dims) == 4:
        shape = list(dims[1:])
    else:
        shape = {4: lambda: [dims[2], dims[3], dims[1]], 3: lambda: [dims[2], dims[1]],
                 2: lambda: [dims[1]]}.get(len(dims), lambda: [int(_product(dims[1:]))])()
    weights = tuple(dict.fromkeys(source for name in node.inputs if name and not view.is_data(name)
                                  for source in _initializers_behind(name, view)))
    parameters = tuple(w for w in weights if w in view.graph.floating and (
        not MADE_UP_NAME.fullmatch(w) or _product(view.dims(w) or ()) > 1))
    inputs = tuple(dict.fromkeys(name for name in node.inputs if name and view.is_data(name)))
    if not inputs:
        return None
    count = sum(int(_product(view.dims(w) or ())) for w in parameters)
    return Unit(*_naming(node), kind_name, None, {"op": node.op, "output": shape, "params": count}, inputs,
                node.outputs[0], (node,), parameters)


def _initializers_behind(tensor: str, view: View, limit: int = 64) -> list[str]:
    """The initializers a constant tensor is computed from (a parameter reshaped, ``weight.view(1, -1, 1,
    1)``, cast or transposed on the way): the tensor itself where it is one."""
    found, pending, seen = [], [tensor], set()
    while pending and len(seen) < limit:
        name = view.source(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        if name in view.graph.initializers:
            found.append(name)
        elif name in view.writers and not view.is_data(name):
            pending.extend(input_name for input_name in view.writers[name].inputs if input_name)
    return found


def _product(values) -> int:
    total = 1
    for value in values:
        total *= value
    return total


def _shares(unit: Unit, owners: dict[str, str], view: View) -> bool:
    """A layer uses an earlier one's parameters where the graph says so: its weights are inputs of the
    graph (exported without values, as ``from_torch`` does), all of them the earlier layer's, and one is a
    matrix or a kernel. A tensor with values that two layers read proves nothing: exporters store equal
    values once (an untrained model's zero-initialised convs, batch norms' ones and zeros), so each
    layer's parameters are counted and the accounting says which values the file stores once."""
    if not unit.weights or not all(w in owners and w in view.graph.weight_inputs for w in unit.weights):
        return False
    if not KINDS[unit.kind].weighted:
        return False
    return len(view.dims(unit.weights[0]) or ()) >= 2 and len({owners[w] for w in unit.weights}) == 1


def _unsupported_text(nodes: list[OnnxNode], read: set[str]) -> str:
    """Each operator with its node; "read, but not in this form" where a kind reads the operator otherwise."""
    shown = [f"{node.op} (node {node.name!r}" + (": read, but not in this form" if node.op in read else "") + ")"
             for node in nodes[:12]]
    more = f", and {len(nodes) - 12} more" if len(nodes) > 12 else ""
    return f"{len(nodes)} operator{'s' if len(nodes) > 1 else ''} that no layer kind reads: " + ", ".join(shown) + more


def _merge_unit(node: OnnxNode, view: View) -> Unit | None:
    data = [name for name in node.inputs if view.is_data(name)]
    if len(data) < 2:
        return None
    merge = next((m for m in MERGES.values() if node.op in m.onnx_ops and m.from_onnx(node, view)), None)
    if merge is None or not all(2 <= len(view.dims(name) or (0, 0)) <= 4 for name in (*data, node.outputs[0])):
        return None  # beyond N x C x H x W (split attention's N x radix x C x H x W): not a merge of maps
    return Unit(*_naming(node), None, merge.name, {}, tuple(data), node.outputs[0], (node,))


def _pass_through(node: OnnxNode, view: View) -> Unit | None:
    perm = tuple(node.attribute("perm", ())) if node.op == "Transpose" else None
    layout = perm in (TO_CHANNELS_LAST, TO_CHANNELS_FIRST) and len(view.dims(node.inputs[0]) or ()) == 4
    # cat([x]) is x (DenseNet's first layer)
    single = len(node.inputs) == 1 and any(node.op in m.onnx_ops and m.torch_combine == "cat" for m in MERGES.values())
    if node.op not in PASS_THROUGH and not layout and not single and not _neutral(node, view):
        return _strided_view(node, view)
    data = next(name for name in node.inputs if view.is_data(name))
    return Unit(*_naming(node), None, None, {}, (data,), node.outputs[0], (node,))


NEUTRAL = {"sum": 0.0, "mul": 1.0}  # by how a merge combines: adding 0 and multiplying by 1 change nothing


def _neutral(node: OnnxNode, view: View) -> bool:
    """An activation plus a constant 0 or times a constant 1 (MobileOne's ``out = 0; out += branch``
    exported as a sum with zero): the activation itself."""
    merge = next((m for m in MERGES.values() if node.op in m.onnx_ops and m.torch_combine in NEUTRAL), None)
    if merge is None or len(node.inputs) != 2:
        return False
    data = [name for name in node.inputs if view.is_data(name)]
    others = [name for name in node.inputs if not view.is_data(name)]
    if len(data) != 1 or len(others) != 1 or constant_scalar(view, others[0]) != NEUTRAL[merge.torch_combine]:
        return False
    source = view.source(others[0])  # a constant, not a learned scalar that starts at 0 or 1
    return source not in view.graph.initializers or MADE_UP_NAME.fullmatch(source) is not None


def _strided_view(node: OnnxNode, view: View) -> Unit | None:
    """The dynamo exporter's ``as_strided`` of a map: a Reshape to a vector, then a Gather (axis 0) that
    gives back the map's own shape. A view, as in the module: it passes the activations on."""
    if node.op != "Reshape" or len(view.dims(node.outputs[0]) or ()) != 1:
        return None
    gather = view.sole_consumer(node.outputs[0])
    if gather is None or gather.op != "Gather" or gather.attribute("axis", 0) != 0 or gather.inputs[0] != node.outputs[0]:
        return None
    before, after = view.dims(node.inputs[0]), view.dims(gather.outputs[0])
    if not before or before != after:
        return None
    return Unit(*_naming(gather), None, None, {}, (node.inputs[0],), gather.outputs[0], (node, gather))


def _claimed(node: OnnxNode, view: View, kinds: list) -> Unit | None:
    claims: list[tuple[Claim, str]] = []
    for kind in kinds:
        claim = kind.from_onnx(node, view)
        if claim is not None:
            claims.append((claim, kind.name))
    if not claims:
        return None
    claim, kind_name = max(claims, key=lambda pair: (len(pair[0].nodes), pair[0].specificity))
    inside = {name for n in claim.nodes for name in n.outputs}
    inputs = tuple(dict.fromkeys(name for n in claim.nodes for name in n.inputs
                                 if view.is_data(name) and name not in inside))
    return Unit(*_naming(claim.nodes[-1]), kind_name, None, dict(claim.fields), inputs, claim.nodes[-1].outputs[0],
                claim.nodes, tuple(view.source(w) for w in claim.weights), tuple(view.source(b) for b in claim.buffers))


def _naming(node: OnnxNode) -> tuple[str, tuple[str, ...]]:
    """PyTorch's TorchScript exporter names nodes by module scope: ``/layer1/layer1.0/conv1/Conv`` is module
    ``layer1.0.conv1``; its dynamo exporter records the scope in the node's metadata; other producers' names
    are kept as they are, cleaned to letters, digits, '_', '.', '-'."""
    segments = tuple(s for s in node.name.split("/") if s)
    if node.scope:  # the dynamo exporter names nodes node_Conv_147 and records the module in the node's metadata
        scope = node.scope
        name = module_path(scope)
    elif node.name.startswith("/") and len(segments) > 1:
        scope = segments[:-1]
        name = module_path(scope)
    else:
        scope, name = (), node.name
    cleaned = re.sub(r"[^\w.-]", "_", name).strip("._-") or node.op.lower()
    return cleaned, scope


def module_path(scope: tuple[str, ...]) -> str:
    """PyTorch's scope segments as the module's dotted path: ("layer1", "layer1.0", "conv1") -> layer1.0.conv1."""
    path: list[str] = []
    for segment in scope:
        if path and segment.startswith(path[-1] + "."):
            path[-1] = segment
        else:
            path.append(segment)
    return ".".join(path)


def name_uniquely(units: list[Unit]) -> None:
    """A module called several times (torchvision's one ReLU per block) names several layers: relu, relu_2."""
    seen: dict[str, int] = {}
    for unit in units:
        count = seen.get(unit.name, 0) + 1
        seen[unit.name] = count
        if count > 1:
            unit.name = f"{unit.name}_{count}"
            while unit.name in seen:
                unit.name += "_"
            seen[unit.name] = 1


# --- forks and joins ------------------------------------------------------------------------------


def structure(units: list[Unit], graph: OnnxGraph) -> list[Entry]:
    """The units as a sequence of layers and branches, from the input to the one output."""
    shorten_concatenations(units)
    by_output = {unit.output: unit for unit in units}
    readers: dict[str, list[Unit]] = {}
    for unit in units:
        for name in unit.inputs:
            readers.setdefault(name, []).append(unit)
    outputs = [name for name in graph.outputs if name in by_output or name == graph.input_name]
    if len(outputs) != 1:
        raise UnsupportedGraph(f"the graph has {len(outputs)} outputs that carry activations; archcalc reads networks "
                               "with one (an auxiliary classifier's output is kept in training exports only: export "
                               "in eval mode)", Location(graph.file))
    post = _post_dominators(units, readers, graph.input_name, outputs[0])
    walker = _Walker(units, readers, post, outputs[0], graph.file)
    return walker.sequence(graph.input_name, None)


SINK = "<output>"


def graph_units(units: list[Unit], graph: OnnxGraph) -> tuple[list[Unit], dict[str, str]]:
    """The units on a path to the one output, in the graph's order, for a graph that is not a tree of
    branches; and each pass-through's output -> the tensor it passes on."""
    shorten_concatenations(units)
    outputs = [name for name in graph.outputs if name in {u.output for u in units} or name == graph.input_name]
    if len(outputs) != 1:
        raise UnsupportedGraph(f"the graph has {len(outputs)} outputs that carry activations; archcalc reads networks "
                               "with one", Location(graph.file))
    producer = {unit.output: unit for unit in units}
    needed, frontier = set(), [outputs[0]]
    while frontier:
        unit = producer.get(frontier.pop())
        if unit is not None and unit.output not in needed:
            needed.add(unit.output)
            frontier.extend(unit.inputs)
    passed = {}
    for unit in units:
        if unit.output in needed and unit.kind is None and unit.merge is None:
            passed[unit.output] = passed.get(unit.inputs[0], unit.inputs[0])
    kept = [unit for unit in units if unit.output in needed and unit.output not in passed]
    return kept, passed


def shorten_concatenations(units: list[Unit]) -> None:
    """DenseNet's exported graph concatenates every earlier map again for each layer: cat(x, a, b)
    after cat(x, a). The longest earlier concatenation that starts the list stands for its part, so
    each merge joins the previous one's result and one new map."""
    earlier: dict[tuple[str, ...], str] = {}
    for unit in units:
        if unit.merge is None or MERGES[unit.merge].torch_combine != "cat":
            continue
        original = unit.inputs
        for length in range(len(original) - 1, 1, -1):
            if original[:length] in earlier:
                unit.inputs = (earlier[original[:length]],) + original[length:]
                break
        earlier.setdefault(original, unit.output)


def _post_dominators(units: list[Unit], readers, source: str, output: str) -> dict[str, str]:
    """Each tensor's immediate post-dominator (the tensor every path from it passes through next),
    by Cooper, Harvey and Kennedy's intersection on a DAG in reverse topological order."""
    order = [source] + [unit.output for unit in units]  # topological: the graph's own order
    rank = {name: i for i, name in enumerate(order)}
    rank[SINK] = len(order)
    ipdom: dict[str, str] = {SINK: SINK}

    def successors(name: str) -> list[str]:
        found = [unit.output for unit in readers.get(name, [])]
        return found + ([SINK] if name == output else [])

    def intersect(a: str, b: str) -> str:
        while a != b:
            while rank[a] < rank[b]:
                a = ipdom[a]
            while rank[b] < rank[a]:
                b = ipdom[b]
        return a

    for name in reversed(order):
        reachable = [s for s in successors(name) if s in ipdom]
        if not reachable:
            ipdom[name] = SINK  # a dead end: nothing of it reaches the output
            continue
        found = reachable[0]
        for other in reachable[1:]:
            found = intersect(found, other)
        ipdom[name] = found
    return ipdom


class _Walker:
    def __init__(self, units, readers, post, output: str, file: str):
        self.by_output = {unit.output: unit for unit in units}
        self.readers, self.post, self.output, self.file = readers, post, output, file
        self.parts: dict[str, tuple[str, ...]] = {}  # a nested merge's own output -> the inputs it covers
        self.parts_join: dict[str, str] = {}  # a nested merge's own output -> the merge it is part of

    def sequence(self, tensor: str, stop: str | None) -> list[Entry]:
        """Entries from ``tensor`` until the merge that writes ``stop`` (or the output)."""
        entries: list[Entry] = []
        stop = self.parts_join.get(stop, stop)  # a nested merge's branches end at the merge it was fused into
        while tensor != self.output or self.readers.get(tensor):
            readers = [unit for unit in self.readers.get(tensor, []) if self._reaches_output(unit)]
            if not readers or (stop is not None and all(unit.output == stop for unit in readers)):
                break
            if len(readers) == 1 and len(readers[0].inputs) == 1:
                entries.append(LayerEntry(readers[0]))
                tensor = readers[0].output
                continue
            join = self.post[tensor]
            unit = self.by_output.get(join)
            if stop is not None and join == stop:  # the exporter fused a nested merge into the enclosing one
                part = self._part_of(unit, tensor)
                entries.append(MergeEntry(part, self.branches(tensor, part)))
                return entries
            if unit is None or unit.merge is None:
                raise NotATree(f"the activations of {self._name(tensor)} part ways and do not meet again in an "
                                       "Add, Mul or Concat; archcalc's branches merge", Location(self.file))
            entries.append(MergeEntry(unit, self.branches(tensor, unit)))
            tensor = join
        return entries

    def _part_of(self, join: Unit, tensor: str) -> Unit:
        """The inputs of a concatenation or sum that come from ``tensor``, as a merge of their own:
        torch.cat([a, torch.cat([b, c])]) is exported as one Concat of a, b, c."""
        if MERGES[join.merge].torch_combine not in ("cat", "sum"):
            raise self._not_series_parallel(join)
        reached, frontier = {tensor}, [tensor]
        while frontier:
            for reader in self.readers.get(frontier.pop(), []):
                if reader is not join and reader.output not in reached:
                    reached.add(reader.output)
                    frontier.append(reader.output)
        covered = tuple(name for name in join.inputs if name in reached)
        part = Unit(join.name, join.scope, None, join.merge, {}, covered, f"{join.output}#{tensor}", join.nodes)
        self.parts[part.output] = covered
        self.parts_join[part.output] = join.output
        return part

    def branches(self, tensor: str, join: Unit) -> list[list[Entry]]:
        """One branch per input of the merge, in the merge's order ([] is the tensor itself): each
        runs forward from a reader of ``tensor`` until the merge."""
        ends: dict[str, list[Entry]] = {}
        for reader in self.readers.get(tensor, []):
            if reader is join:
                continue
            if len(reader.inputs) != 1:
                raise self._not_series_parallel(reader)
            branch: list[Entry] = [LayerEntry(reader)]
            branch += self.sequence(reader.output, join.output)
            last = branch[-1]
            ends[last.unit.output] = branch
        found = []
        inputs = list(join.inputs)
        while inputs:
            name = inputs.pop(0)
            part = next((key for key in ends if name in self.parts.get(key, ())), None)
            if name == tensor:
                found.append([])
            elif name in ends:
                found.append(ends.pop(name))
            elif part is not None and tuple([name] + inputs[:len(self.parts[part]) - 1]) == self.parts[part]:
                del inputs[:len(self.parts[part]) - 1]
                found.append(ends.pop(part))
            else:
                raise self._not_series_parallel(join)
        if ends:
            raise self._not_series_parallel(join)
        return found

    def _not_series_parallel(self, unit: Unit) -> UnsupportedGraph:
        return NotATree(f"{unit.name} ({unit.nodes[-1].op}) reads activations from outside the branches that "
                                "lead to it; archcalc writes branches that start together and merge together",
                                Location(self.file))

    def _reaches_output(self, unit: Unit) -> bool:
        """Whether the unit's result is used on the way to the output (an unused branch is dropped)."""
        return unit.output == self.output or self.post.get(unit.output, SINK) != SINK

    def _name(self, tensor: str) -> str:
        unit = self.by_output.get(tensor)
        return unit.name if unit else "the input"
