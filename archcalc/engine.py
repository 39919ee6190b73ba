"""Walks a spec's tree of layers, branches and blocks, and returns frozen per-row records and totals.

One row per layer, except that in-place layers and views (activations, dropout, flatten) fold
into the row before them in the same branch, as on the lecture slide: their outputs are not new
memory. Each concatenation or addition of branches is a row of its own (no parameters). The first
row is the input.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from .dims import Dim, format_dim, normalize, product
from .errors import InexactSize, ShapeError
from .expand import Block, Parallel, leaves
from .layers import KINDS, MERGES, Layer, Shape, Step
from .layers.base import Inexact, slide_caption
from .layers.spatial import describe_inexact, merged_axes
from .receptive import FLATTENED, ReceptiveField, input_field, through_window, whole_input
from .spec import ModelSpec


@dataclass(frozen=True)
class Row:
    """One row of the analysis: a layer's (or a merge's, or a collapsed block's) output and costs."""

    index: int  # 0 for the input, else the layer's number in the expanded spec
    name: str
    kind: str
    label: str
    shape: Shape
    memory: Dim  # new values stored (per image)
    weights: Dim = 0
    biases: Dim = 0
    macs: Dim = 0
    folded: tuple[str, ...] = ()  # labels of in-place layers shown in this row
    step: Step | None = None  # what the layer (or merge) computed, with the working
    level: int = 0  # how deeply nested in blocks and branches
    path: tuple[str, ...] = ()  # the block instances containing this row, outermost first
    rf: tuple[ReceptiveField, ...] | None = None  # per spatial axis; None where sizes are symbolic
    connections: Dim = 0  # LeCun's connections: MACs plus one per biased output unit
    frozen: Dim = 0  # parameters of layers marked trainable = false
    training_only: bool = False  # in a side output, which runs only in training
    folded_names: tuple[str, ...] = ()  # names of the layers in ``folded``
    floors_by_design: bool = False  # its spec marks its flooring as intended (floors = true)
    repeat: int = 1  # identical blocks shown as one row: how many (the row's values are their sums)
    reshaped: Shape | None = None  # the shape after a folded reshape (a flatten: [7x7x40] -> [1960])

    @property
    def params(self) -> Dim:
        return normalize(self.weights + self.biases)


@dataclass(frozen=True)
class Totals:
    """Sums over the rows. MACs, memory and connections are those of inference: rows of side outputs
    that run only in training count in the parameters, and their MACs in ``training_only_macs``."""

    memory: Dim
    weights: Dim
    biases: Dim
    macs: Dim
    connections: Dim = 0
    frozen: Dim = 0
    training_only_macs: Dim = 0

    @property
    def params(self) -> Dim:
        return normalize(self.weights + self.biases)

    @property
    def trainable_params(self) -> Dim:
        return normalize(self.params - self.frozen)


@dataclass(frozen=True)
class Analysis:
    """The engine's result: rows, totals, depth, and what the user should be told about them."""

    spec: ModelSpec
    rows: tuple[Row, ...]
    totals: Totals
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    depth: int = 0  # weighted layers (conv, fc) on the longest path, as the papers count depth
    conv_depth: int = 0  # conv layers on the longest path
    blocks: Mapping[str, str] = field(default_factory=dict)  # block instance -> its label
    inputs: Mapping[str, Shape] = field(default_factory=dict)  # layer name -> the shape it reads
    steps: Mapping[str, Step] = field(default_factory=dict)  # layer or merge name -> what it computed (folded too)
    layers: Mapping[str, Layer] = field(default_factory=dict)  # layer name -> the layer (folded ones too)
    notes: tuple[str, ...] = ()  # what a reader should know that is not a warning (side outputs, shared weights)
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # layer or merge -> the rows it reads
    caption: str = ""  # what the labels leave out, where they follow the slide (CONV3-64: stride 1, padding 1)


def analysis_of(spec: ModelSpec, strict: bool = False) -> Analysis:
    """Compute every row of ``spec``. ``strict`` turns a non-integer output size into an error.

    >>> from .spec import load_spec
    >>> analysis_of(load_spec("vgg16")).totals.params
    138357544
    """
    slide = spec.meta.get("labels") == "slide"
    walk = _Walk(strict, details=not slide)
    shape = spec.input_shape
    rf = tuple(input_field() for _ in shape[:-1]) if all(isinstance(d, int) for d in shape) else None
    walk.rows.append(Row(0, "input", "input", "INPUT", shape, product(shape), rf=rf))
    _, _, depth, conv_depth = walk.sequence(spec.layers, shape, rf, 0, (), start=0)
    rows = walk.rows
    return Analysis(spec, tuple(rows), _totals(rows), tuple(walk.warnings), tuple(dict.fromkeys(walk.assumptions)),
                    depth, conv_depth, walk.blocks, walk.inputs, walk.steps, walk.layers, tuple(walk.notes),
                    walk.sources, slide_caption(leaves(spec.layers)) if slide else "")


def full_label(analysis: Analysis, row: Row) -> str:
    """A row's label with its padding even where the table follows the slide (``CONV3-64 p1``):
    what a worksheet's student needs."""
    layer = analysis.layers.get(row.name)
    if analysis.spec.meta.get("labels") != "slide" or layer is None:
        return row.label
    return row.label + KINDS[layer.kind].label_details(layer)


class _Walk:
    def __init__(self, strict: bool, details: bool = True):
        self.strict = strict
        self.details = details  # padding in the labels (CONV5-16 p2); the slide's style leaves it out
        self.rows: list[Row] = []
        self.warnings: list[str] = []
        self.assumptions: list[str] = []
        self.blocks: dict[str, str] = {}
        self.inputs: dict[str, Shape] = {}
        self.steps: dict[str, Step] = {}
        self.layers: dict[str, Layer] = {}
        self.notes: list[str] = []
        self.sources: dict[str, tuple[str, ...]] = {}
        self.current = "input"  # the row whose output the next layer reads
        self.training_only = False  # inside a side output
    def sequence(self, nodes, shape: Shape, rf, level: int, path: tuple[str, ...], start: int | None = None):
        """Walk nodes in order; returns the output shape, its receptive field, and the weighted depth
        (all, conv) along the way."""
        start = len(self.rows) if start is None else start
        depth = conv_depth = 0
        for node in nodes:
            if isinstance(node, Layer):
                shape, rf, weighted, convolutional = self.layer(node, shape, rf, level, path, start)
            elif isinstance(node, Parallel):
                shape, rf, weighted, convolutional = self.parallel(node, shape, rf, level, path)
            else:
                shape, rf, weighted, convolutional = self.block(node, shape, rf, level, path)
            depth += weighted
            conv_depth += convolutional
        return shape, rf, depth, conv_depth

    def layer(self, layer: Layer, shape: Shape, rf, level: int, path, start: int):
        kind = KINDS[layer.kind]
        self.inputs[layer.name] = shape
        self.layers[layer.name] = layer
        self.sources[layer.name] = (self.current,)
        step = self.steps[layer.name] = kind.infer(layer, shape)
        messages = _inexact_messages(layer, step.inexact, self.strict and not layer.floors)
        if layer.floors:
            self.notes.extend(f"{message} (by design: the spec marks this flooring as intended)" for message in messages)
        else:
            self.warnings.extend(messages)
        self.assumptions.extend(step.assumptions)
        rf = _advance(rf, step.window, shape)
        weights, biases = (0, 0) if layer.share else (step.weights.value, step.biases.value)
        if layer.share:
            self.check_share(layer, shape, step)
        frozen = 0 if layer.trainable else normalize(weights + biases)
        if kind.folds and len(self.rows) > start:
            last = self.rows[-1]
            self.rows[-1] = replace(last, folded=last.folded + (kind.label(layer),), frozen=normalize(last.frozen + frozen),
                                    folded_names=last.folded_names + (layer.name,),
                                    reshaped=step.shape if step.shape != shape else last.reshaped)
        else:
            memory = product(step.shape) if step.memory is None else step.memory
            label = (step.label or kind.label(layer)) + (kind.label_details(layer) if self.details else "")
            self.current = layer.name
            self.rows.append(Row(layer.index, layer.name, layer.kind, label, step.shape, memory,
                                 weights, biases, step.macs.value, (), step, level, path, rf, step.connection_count,
                                 frozen, self.training_only, floors_by_design=layer.floors))
        weighted = kind.weighted_layers(layer, shape)
        return step.shape, rf, weighted, weighted if kind.convolutional else 0

    def check_share(self, layer: Layer, shape: Shape, step: Step) -> None:
        """A layer that uses another's parameters must be its twin: the same kind and fields, and
        parameters of the same sizes."""
        owner = self.layers[layer.share]
        twin = self.steps[owner.name]
        if owner.kind != layer.kind or dict(owner.fields) != dict(layer.fields) or (
                (twin.weights.value, twin.biases.value) != (step.weights.value, step.biases.value)):
            raise ShapeError(f"cannot share the parameters of {owner.name}: it is {KINDS[owner.kind].label(owner)} on "
                             f"{'x'.join(map(format_dim, self.inputs[owner.name]))}, this is "
                             f"{KINDS[layer.kind].label(layer)} on {'x'.join(map(format_dim, shape))}",
                             layer.at("share"), "a shared layer needs the same kind, fields and input channels")
        if twin.params:
            self.notes.append(f"{layer.name} uses the {format_dim(twin.params, True)} parameters of {owner.name} "
                              f"(counted once, there); its MACs count at every use")

    def block(self, block: Block, shape: Shape, rf, level: int, path):
        self.blocks[block.name] = block.label
        return self.sequence(block.body, shape, rf, level + 1, path + (block.name,))

    def parallel(self, node: Parallel, shape: Shape, rf, level: int, path):
        merge = MERGES[node.merge]
        if merge.passes_input:  # an extra output (an auxiliary classifier) run in training; the input passes on
            return self.side_output(node, shape, rf, level, path)
        entry, outcomes, ends = self.current, [], []
        for branch in node.branches:
            self.current = entry
            outcomes.append(self.sequence(branch, shape, rf, level + 1, path))
            ends.append(self.current)
        self.sources[node.name], self.current = tuple(ends), node.name
        step = self.steps[node.name] = merge.combine(node.name, node.location, [o[0] for o in outcomes],
                                                     self.assumptions)
        merged_rf = self.merge_fields(node, [outcome[1] for outcome in outcomes], merge.aligned,
                                      [outcome[0] for outcome in outcomes], step.shape)
        self.rows.append(Row(node.location.layer_index, node.name, merge.name, step.label, step.shape,
                             product(step.shape), step=step, level=level, path=path, rf=merged_rf,
                             training_only=self.training_only))
        return step.shape, merged_rf, max(o[2] for o in outcomes), max(o[3] for o in outcomes)

    def side_output(self, node: Parallel, shape: Shape, rf, level: int, path):
        first, outer, entry = len(self.rows), self.training_only, self.current
        self.training_only = True
        try:
            self.sequence(node.branches[0], shape, rf, level + 1, path)
        finally:
            self.training_only, self.current = outer, entry
        if not outer:
            side = self.rows[first:]
            macs, params = (normalize(sum((getattr(row, key) for row in side), 0)) for key in ("macs", "params"))
            self.notes.append(f"{node.name}: a side output that runs only in training; its {format_dim(params, True)} "
                              f"parameters count, its {format_dim(macs, True)} MACs are not in the inference totals")
        return shape, rf, 0, 0

    def merge_fields(self, node: Parallel, fields: list, aligned: bool = True, shapes: list | None = None,
                     merged_shape: Shape | None = None):
        """The largest field over the branches, with a warning where they should be aligned and are not.

        A branch broadcast along an axis (a 1 x 1 x C gate over an H x W map) widens the field but does
        not set the spacing: jump and start come from the branches that span the output."""
        if any(f is None for f in fields):
            return None
        axes = ("rows", "columns") if len(fields[0]) == 2 else ("length",)
        merged, misaligned = [], {}
        for axis, name in enumerate(axes):
            along = [f[axis] for f in fields]
            spanning = [f for f, shape in zip(along, shapes or [None] * len(along))
                        if shape is None or shape[axis] == merged_shape[axis]] or along
            if aligned and len({(f.jump, f.start) for f in along}) > 1:
                detail = "; ".join(f"branch {i}: {f.text()}" for i, f in enumerate(along, start=1))
                misaligned.setdefault(detail, []).append(name)
            widest = max(along, key=lambda f: f.size)
            spacing = max(spanning, key=lambda f: f.size)
            merged.append(replace(spacing, size=widest.size))
        for detail, names in misaligned.items():
            self.warnings.append(f"{node.name}: the branches' receptive fields are misaligned along the "
                                 f"{' and '.join(names)} ({detail}); the largest is reported")
        return tuple(merged)


class FlattenedFields(tuple):
    """The receptive fields of a map's values after a flatten: each value keeps its own field, and
    the map's spatial sizes are remembered for the fc that reads all of them."""

    sizes: tuple[int, ...] = ()

    def __new__(cls, fields, sizes):
        made = super().__new__(cls, fields)
        made.sizes = tuple(sizes)
        return made


def _advance(rf, window, shape: Shape):
    """The receptive field after a layer with this window (see archcalc.receptive); FLATTENED
    keeps each value's field and remembers the map's size for a later global window."""
    if rf is None or window is None:
        return rf
    if window == FLATTENED:
        return FlattenedFields(rf, shape[:-1]) if len(shape) > 1 and all(isinstance(d, int) for d in shape) else rf
    if window == "global":
        if len(shape) == 1:  # a vector: after a flatten, the map it came from; else it saw everything already
            return tuple(whole_input(f, size) for f, size in zip(rf, rf.sizes)) \
                if isinstance(rf, FlattenedFields) else rf
        if not all(isinstance(d, int) for d in shape[:-1]):
            return None
        return tuple(whole_input(f, size) for f, size in zip(rf, shape[:-1]))
    if any(w is None or not all(isinstance(v, int) or isinstance(v, tuple) for v in w) for w in window):
        return None
    return tuple(through_window(f, *w) for f, w in zip(rf, window))


def collapse(analysis: Analysis, depth: int, group: bool = False) -> Analysis:
    """Show blocks nested deeper than ``depth`` as one row each, as the papers' tables do.

    A collapsed row sums its members' memory, parameters and MACs, and shows the block's output and
    the receptive field there. ``group``: consecutive identical blocks (the same label, output and
    costs: ResNet-152's conv4_2 to conv4_36) become one row whose ``repeat`` says how many.
    """
    rows: list[Row] = []
    for row in analysis.rows:
        if len(row.path) <= depth:
            rows.append(row)
            continue
        name = row.path[depth]
        if rows and rows[-1].kind == "block" and rows[-1].name == name:
            last = rows[-1]
            rows[-1] = replace(last, shape=row.shape, memory=normalize(last.memory + row.memory),
                               weights=normalize(last.weights + row.weights),
                               biases=normalize(last.biases + row.biases), macs=normalize(last.macs + row.macs),
                               folded=row.folded, connections=normalize(last.connections + row.connections),
                               frozen=normalize(last.frozen + row.frozen), rf=row.rf,
                               training_only=last.training_only and row.training_only)
        else:
            rows.append(Row(row.index, name, "block", analysis.blocks[name], row.shape, row.memory, row.weights,
                            row.biases, row.macs, row.folded, None, depth, row.path[:depth], row.rf, row.connections,
                            row.frozen, row.training_only))
    return replace(analysis, rows=tuple(_group_repeats(rows) if group else rows))


def _group_repeats(rows: list[Row]) -> list[Row]:
    """Runs of identical block rows as one row each, named after the first and the last."""
    grouped: list[Row] = []
    for row in rows:
        last = grouped[-1] if grouped else None
        if last is not None and row.kind == "block" and last.kind == "block" and _same_block(last, row):
            count = last.repeat + 1
            first_name = last.name.split(" - ")[0]
            grouped[-1] = replace(last, name=f"{first_name} - {row.name}", repeat=count, rf=row.rf,
                                  **{key: normalize(getattr(last, key) + getattr(row, key))
                                     for key in ("memory", "weights", "biases", "macs", "connections", "frozen")})
        else:
            grouped.append(row)
    return grouped


def _same_block(group: Row, row: Row) -> bool:
    """Whether ``row`` repeats the block of ``group`` (whose values are ``repeat`` blocks' sums)."""
    if (group.label, group.shape, group.folded, group.level, group.training_only) != (
            row.label, row.shape, row.folded, row.level, row.training_only):
        return False
    return all(normalize(getattr(group, key) - group.repeat * getattr(row, key)) == 0
               for key in ("memory", "weights", "biases", "macs"))


def _totals(rows: list[Row]) -> Totals:
    def total(attribute: str, inference: bool = False) -> Dim:
        counted = [row for row in rows if not (inference and row.training_only)]
        return normalize(sum((getattr(row, attribute) for row in counted), 0))

    training_only_macs = normalize(sum((row.macs for row in rows if row.training_only), 0))
    return Totals(total("memory", True), total("weights"), total("biases"), total("macs", True),
                  total("connections", True), total("frozen"), training_only_macs)


def _inexact_messages(layer: Layer, inexact: tuple[Inexact, ...], strict: bool) -> list[str]:
    messages = [describe_inexact(layer.name, item) for item in merged_axes(inexact)]
    if strict and messages:
        raise InexactSize(f"non-integer output size: {messages[0]}", layer.location,
                          "--strict treats (W - F + 2P)/S + 1 that is not a whole number as an error; "
                          "without it archcalc floors, as PyTorch does", inexact[0])
    return messages
