"""The network as one graph: every layer and merge a node that names the values it reads, in the
order they run. Every analysis walks it once, front to back (shapes and costs in the engine,
memory as execution holds it, the torch lowering).

The spec's sugar expands into it: a sequence reads the value before; branches all read the
value the branch table reads, and their merge reads each branch's last value (an empty branch: the
input itself); a side output runs in training only and passes its input on; a block instance puts
its name in front of its nodes' names (``conv2_1/b1/conv1``) and in their ``path``. A layer with
``inputs = [...]`` and a merge entry (``{kind = "add", inputs = [...]}``) read the values they name:
any DAG, as Caffe's ``bottom`` and Darknet's ``from`` write it.

Each value also says when execution lets it go (``releases``): as PyTorch frees a tensor once
nothing refers to it, where the spec's structure says so (a sequence holds a value until the entry
after it has run, branches hold their input until their merge has run). The lowering frees values
at the same points, so that the memory model and execution agree by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping

from .errors import Location, SpecError
from .expand import Block, Join, Parallel
from .layers import KINDS, MERGES, Layer
from .layers.base import nearest

INPUT = "input"  # the name of the network's input value


@dataclass(frozen=True)
class GraphNode:
    """One layer or merge: what it is, the values it reads, and where it sits."""

    name: str
    inputs: tuple[str, ...]  # value names, in order (the network's input is "input")
    layer: Layer | None = None  # a layer; None for a merge
    merge: str | None = None  # the name of a MergeKind (archcalc.layers.merge)
    location: Location = field(default_factory=Location, compare=False)
    index: int = 0  # its number in the expanded spec (a table row's)
    path: tuple[str, ...] = ()  # the block instances containing it, outermost first
    level: int = 0  # how deeply nested in blocks and branches
    training_only: bool = False  # in a side output, which runs only in training
    folds: bool = False  # shown in the row of the value it reads (an in-place layer or a view after a layer)
    first_in_sequence: bool = False  # the first entry of the list it is written in (no layer before it there)
    releases: tuple[str, ...] = ()  # values no longer held once it has run
    ends_side: str | None = None  # the side output whose last node this is (its result goes to the loss)

    @property
    def kind(self):
        """The LayerKind or MergeKind object."""
        return KINDS[self.layer.kind] if self.layer is not None else MERGES[self.merge]


@dataclass(frozen=True)
class Graph:
    """The nodes in the order they run; the value the network returns; block instances' labels;
    and names that stand for a value (a block instance's name for its last value)."""

    nodes: tuple[GraphNode, ...]
    output: str
    blocks: Mapping[str, str]
    aliases: Mapping[str, str]

    def node(self, name: str) -> GraphNode:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, GraphNode]:
        return {node.name: node for node in self.nodes}

    def readers(self) -> dict[str, list[str]]:
        """Value -> the nodes that read it, in order."""
        found: dict[str, list[str]] = {}
        for node in self.nodes:
            for name in node.inputs:
                found.setdefault(name, []).append(node.name)
        return found


def graph_of(layers: tuple) -> Graph:
    """The graph of a spec's expanded entries (``ModelSpec.layers``).

    >>> from archcalc.spec import load_spec
    >>> graph = graph_of(load_spec("resnet18").layers)
    >>> graph.node("conv2_1/add").inputs
    ('conv2_1/b1/conv2_bn', 'conv2_1/b2/shortcut')
    """
    builder = _Builder()
    output, _ = builder.sequence(layers, INPUT, (), 0, False, first_rows=0)  # the input's row can take a fold
    releases: dict[int, list[str]] = {}
    for value, point in builder.release.items():
        if value not in (INPUT, output):
            releases.setdefault(point, []).append(value)
    nodes = tuple(replace(node, releases=tuple(releases[number])) if number in releases else node
                  for number, node in enumerate(builder.nodes))
    return Graph(nodes, output, builder.blocks, builder.aliases)


class _Builder:
    """Expands the tree into nodes, resolving named inputs and recording when each value is let go."""

    def __init__(self):
        self.nodes: list[GraphNode] = []
        self.values: set[str] = {INPUT}
        self.aliases: dict[str, str] = {}
        self.blocks: dict[str, str] = {}
        self.release: dict[str, int] = {}  # value -> the node after which nothing holds it
        self.first = True  # the entry being expanded is the first of its list
        self.rows = 1  # table rows so far (the input's included): whether a folding layer has a row to fold into

    def hold(self, value: str, until: int) -> None:
        if until > self.release.get(value, -1):
            self.release[value] = until

    def add(self, node: GraphNode) -> int:
        self.nodes.append(node)
        self.values.add(node.name)
        if not node.folds:
            self.rows += 1
        return len(self.nodes) - 1

    def sequence(self, entries, value: str, path: tuple[str, ...], level: int, training_only: bool,
                 first_rows: int | None = None) -> tuple[str, int | None]:
        """Expand entries that each read the value before; returns the last value and the last node
        that ran (None for an empty sequence)."""
        start = self.rows if first_rows is None else first_rows
        end = None
        for position, entry in enumerate(entries):
            self.first = position == 0
            out, entry_end = self.entry(entry, value, path, level, training_only, start)
            if entry_end is not None:
                self.hold(value, entry_end)  # the sequence holds a value until the entry after it has run
                end = entry_end
            value = out
        return value, end

    def entry(self, entry, value: str, path, level: int, training_only: bool, start: int):
        if isinstance(entry, Layer):
            return self.layer(entry, value, path, level, training_only, start)
        if isinstance(entry, Join):
            inputs = tuple(self.resolve(name, entry.name, entry.location) for name in entry.inputs)
            number = self.add(GraphNode(entry.name, inputs, merge=entry.merge, location=entry.location,
                                        index=entry.location.layer_index or 0, path=path, level=level,
                                        training_only=training_only))
            for name in inputs:
                self.hold(name, number)
            return entry.name, number
        if isinstance(entry, Block):
            self.blocks[entry.name] = entry.label
            self.aliases[f"{entry.name}/{INPUT}"] = value  # inside the block, "input" is what the block reads
            out, end = self.sequence(entry.body, value, path + (entry.name,), level + 1, training_only)
            self.aliases[entry.name] = out
            return out, end
        return self.parallel(entry, value, path, level, training_only)

    def layer(self, layer: Layer, value: str, path, level: int, training_only: bool, start: int):
        if layer.inputs:
            inputs = tuple(self.resolve(name, layer.name, layer.location) for name in layer.inputs)
        else:
            inputs = (value,)
        folds = KINDS[layer.kind].folds and not layer.inputs and self.rows > start
        number = self.add(GraphNode(layer.name, inputs, layer, None, layer.location, layer.index, path, level,
                                    training_only, folds, first_in_sequence=self.first))
        for name in inputs:
            self.hold(name, number)
        return layer.name, number

    def parallel(self, node: Parallel, value: str, path, level: int, training_only: bool):
        merge = MERGES[node.merge]
        if merge.passes_input:  # a side output: runs in training, its result goes to the loss
            out, end = self.sequence(node.branches[0], value, path, level + 1, True)
            if end is not None and not training_only:  # (a side output inside another goes to the outer's loss)
                self.hold(out, end)
                self.nodes[end] = replace(self.nodes[end], ends_side=node.name)
            return value, end
        ends = []
        for branch in node.branches:
            out, _ = self.sequence(branch, value, path, level + 1, training_only)
            ends.append(out)
        number = self.add(GraphNode(node.name, tuple(ends), merge=node.merge, location=node.location,
                                    index=node.location.layer_index or 0, path=path, level=level,
                                    training_only=training_only))
        for name in ends:
            self.hold(name, number)
        return node.name, number

    def resolve(self, name: str, reader: str, where: Location) -> str:
        """A name as written in ``inputs``: within a block instance, its own layers first (``conv1``
        is ``stage2/conv1`` there, and ``input`` the value the block reads), then the enclosing ones',
        then the whole network's."""
        parts = reader.split("/")[:-1]
        for depth in range(len(parts), -1, -1):
            candidate = "/".join(parts[:depth] + [name])
            candidate = self.aliases.get(candidate, candidate)
            if candidate in self.values:
                return candidate
        known = sorted(n for n in self.values | set(self.aliases) if not n.endswith("/" + INPUT))
        hint = nearest(name, known)
        raise SpecError(f"{reader} reads {name!r}, which is no earlier layer, block or merge"
                        + (f"; {hint}" if hint else ""), where.with_field("inputs"),
                        "a layer can read the network's input (\"input\") or any value computed before it")


__all__ = ["INPUT", "Graph", "GraphNode", "graph_of"]
