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
from .expand import leaves
from .graph import INPUT, GraphNode
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

    @property
    def macs_unknown(self) -> tuple[str, ...]:
        """The layers whose MACs are not known (opaque operators): the MACs total is a lower bound."""
        return tuple(name for name, step in self.steps.items() if step.macs_unknown)


def analysis_of(spec: ModelSpec, strict: bool = False) -> Analysis:
    """Compute every row of ``spec``. ``strict`` turns a non-integer output size into an error.

    >>> from .spec import load_spec
    >>> analysis_of(load_spec("vgg16")).totals.params
    138357544
    """
    slide = spec.meta.get("labels") == "slide"
    graph = spec.graph
    walk = _Walk(strict, details=not slide, **({"floors_reason": spec.meta["floors_reason"]}
                                                if "floors_reason" in spec.meta else {}))
    walk.start(spec.input_shape)
    written = spec.meta.get("notes", ())  # what the spec's author (or the importer) says about the network
    walk.notes.extend([written] if isinstance(written, str) else [str(note) for note in written])
    for node in graph.nodes:
        if node.layer is not None:
            walk.layer(node)
        else:
            walk.merge(node)
        if node.ends_side:
            walk.note_side_output(node.ends_side)
    depth, conv_depth = walk.depth[graph.output]
    rows = walk.rows
    unknown = [name for name, step in walk.steps.items() if step.macs_unknown]
    if unknown:
        shown = ", ".join(f"{walk.layers[name]['op']} ({name})" for name in unknown[:8])
        walk.warnings.append(f"{len(unknown)} operator{'s' if len(unknown) > 1 else ''} that no layer kind reads "
                             f"{'are' if len(unknown) > 1 else 'is'} kept as opaque: {shown}"
                             f"{f', and {len(unknown) - 8} more' if len(unknown) > 8 else ''}. Their sizes and "
                             "parameters are counted, their MACs are not known: the MACs are at least the total")
    return Analysis(spec, tuple(rows), _totals(rows), tuple(walk.warnings), tuple(dict.fromkeys(walk.assumptions)),
                    depth, conv_depth, dict(graph.blocks), walk.inputs, walk.steps, walk.layers, tuple(walk.notes),
                    walk.sources, slide_caption(leaves(spec.layers)) if slide else "")


def full_label(analysis: Analysis, row: Row) -> str:
    """A row's label with its padding even where the table follows the slide (``CONV3-64 p1``):
    what a worksheet's student needs."""
    layer = analysis.layers.get(row.name)
    if analysis.spec.meta.get("labels") != "slide" or layer is None:
        return row.label
    return row.label + KINDS[layer.kind].label_details(layer)


class _Walk:
    """One pass over the graph's nodes in order, keeping each value's shape, receptive field, weighted
    depth and the row that shows it."""

    def __init__(self, strict: bool, details: bool = True, floors_reason: str = "the spec marks this flooring as intended"):
        self.strict = strict
        self.details = details  # padding in the labels (CONV5-16 p2); the slide's style leaves it out
        self.floors_reason = floors_reason  # why a layer's flooring is by design
        self.rows: list[Row] = []
        self.position: dict[str, int] = {}  # row name -> its place in rows
        self.warnings: list[str] = []
        self.assumptions: list[str] = []
        self.inputs: dict[str, Shape] = {}
        self.steps: dict[str, Step] = {}
        self.layers: dict[str, Layer] = {}
        self.notes: list[str] = []
        self.sources: dict[str, tuple[str, ...]] = {}
        self.shape: dict[str, Shape] = {}  # value -> its shape
        self.field: dict[str, object] = {}  # value -> its receptive field per axis (None where symbolic)
        self.depth: dict[str, tuple[int, int]] = {}  # value -> weighted layers (all, conv) on its longest path
        self.row_of: dict[str, str] = {}  # value -> the row that shows it

    def start(self, shape: Shape) -> None:
        rf = tuple(input_field() for _ in shape[:-1]) if all(isinstance(d, int) for d in shape) else None
        self.add_row(Row(0, INPUT, "input", "INPUT", shape, product(shape), rf=rf))
        self.shape[INPUT], self.field[INPUT], self.depth[INPUT], self.row_of[INPUT] = shape, rf, (0, 0), INPUT

    def add_row(self, row: Row) -> None:
        self.position[row.name] = len(self.rows)
        self.rows.append(row)

    def layer(self, node: GraphNode) -> None:
        layer, source = node.layer, node.inputs[0]  # a kind that reads several values reads them all; shape of the first
        kind, shape = KINDS[layer.kind], self.shape[source]
        self.inputs[layer.name] = shape
        self.layers[layer.name] = layer
        self.sources[layer.name] = ((self.row_of[source],) if len(node.inputs) == 1 else
                                    tuple(dict.fromkeys(self.row_of[name] for name in node.inputs)))
        step = self.steps[layer.name] = kind.infer(layer, shape)
        messages = _inexact_messages(layer, step.inexact, self.strict and not layer.floors)
        if layer.floors:
            self.notes.extend(f"{message} (by design: {self.floors_reason})" for message in messages)
        else:
            self.warnings.extend(messages)
        self.assumptions.extend(step.assumptions)
        rf = _advance(self.field[source], step.window, shape)
        weights, biases = (0, 0) if layer.share else (step.weights.value, step.biases.value)
        if layer.share:
            self.check_share(layer, shape, step)
        frozen = 0 if layer.trainable else normalize(weights + biases)
        if node.folds:
            row_name = self.row_of[source]
            at = self.position[row_name]
            last = self.rows[at]
            self.rows[at] = replace(last, folded=last.folded + (kind.label(layer),), frozen=normalize(last.frozen + frozen),
                                    folded_names=last.folded_names + (layer.name,),
                                    reshaped=step.shape if step.shape != shape else last.reshaped)
        else:
            row_name = layer.name
            memory = product(step.shape) if step.memory is None else step.memory
            label = (step.label or kind.label(layer)) + (kind.label_details(layer) if self.details else "")
            self.add_row(Row(layer.index, layer.name, layer.kind, label, step.shape, memory,
                             weights, biases, step.macs.value, (), step, node.level, node.path, rf,
                             step.connection_count, frozen, node.training_only, floors_by_design=layer.floors))
        weighted = kind.weighted_layers(layer, shape)
        depth, conv_depth = self.depth[source]
        self.set_value(layer.name, step.shape, rf, (depth + weighted, conv_depth + (weighted if kind.convolutional else 0)),
                       row_name)

    def set_value(self, name: str, shape: Shape, rf, depth: tuple[int, int], row: str) -> None:
        self.shape[name], self.field[name], self.depth[name], self.row_of[name] = shape, rf, depth, row

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

    def merge(self, node: GraphNode) -> None:
        merge = MERGES[node.merge]
        shapes = [self.shape[name] for name in node.inputs]
        self.sources[node.name] = tuple(self.row_of[name] for name in node.inputs)
        step = self.steps[node.name] = merge.combine(node.name, node.location, shapes, self.assumptions)
        merged_rf = self.merge_fields(node, [self.field[name] for name in node.inputs], merge.aligned, shapes,
                                      step.shape)
        self.add_row(Row(node.index, node.name, merge.name, step.label, step.shape, product(step.shape), step=step,
                         level=node.level, path=node.path, rf=merged_rf, training_only=node.training_only))
        depths = [self.depth[name] for name in node.inputs]
        self.set_value(node.name, step.shape, merged_rf, (max(d[0] for d in depths), max(d[1] for d in depths)),
                       node.name)

    def note_side_output(self, name: str) -> None:
        """A side output (an auxiliary classifier) has run: say what it costs, outside the inference totals."""
        side = [row for row in self.rows if row.training_only and row.name.startswith(name + "/")]
        macs, params = (normalize(sum((getattr(row, key) for row in side), 0)) for key in ("macs", "params"))
        self.notes.append(f"{name}: a side output that runs only in training; its {format_dim(params, True)} "
                          f"parameters count, its {format_dim(macs, True)} MACs are not in the inference totals")

    def merge_fields(self, node: GraphNode, fields: list, aligned: bool = True, shapes: list | None = None,
                     merged_shape: Shape | None = None):
        """The largest field over the branches, with a warning where they should be aligned and are not.

        A branch broadcast along an axis (a 1 x 1 x C gate over an H x W map) widens the field but does
        not set the spacing: jump and start come from the branches that span the output."""
        if any(f is None for f in fields):
            return None
        if any(len(f) != len(fields[0]) for f in fields):
            return None
        axes = ("rows", "columns") if len(fields[0]) == 2 else ("length",)
        merged, misaligned = [], {}
        for axis, name in enumerate(axes):
            along = [f[axis] for f in fields]
            spanning = [f for f, shape in zip(along, shapes or [None] * len(along))
                        if shape is None or len(shape) <= axis or len(merged_shape) <= axis
                        or shape[axis] == merged_shape[axis]] or along
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
                          "`strict` treats (W - F + 2P)/S + 1 that is not a whole number as an error; "
                          "without it archcalc floors, as PyTorch does", inexact[0])
    return messages
