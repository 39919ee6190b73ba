"""What a layer kind is. A kind is one object that answers everything about itself:

* its **fields**, each with a typed coercion (``choice("nearest", "bilinear")``, a dilation, ...);
* ``infer``: the output shape, weights, biases and MACs, each computed together with its working
  (a ``Step``), and its receptive-field window;
* ``label``: how the table names it (``CONV3-64``);
* ``torch_modules``: the ``torch.nn`` modules that compute it (for ``verify`` and ``export``);
* ``costs``: what each counting convention adds for it (a table keyed by convention, as fvcore keys
  its handlers by op);
* ``traits``: what the comparison matrix reports about it (kernel sizes, LRN, dropout, ...);
* ``saved_for_backward``: the tensors a training step keeps until the backward pass;
* ``slips``: the wrong answers students typically give for it, and where they went wrong.

Kinds are registered once by name (``archcalc.layers.register``, or the entry-point group
``archcalc.kinds`` for plugins). Adding a kind touches its own module.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from ..dims import Dim, format_dim, normalize, parse_dim, product
from ..errors import ArchcalcError, Location, ShapeError, SpecError
from ..working import ZERO, Worked

Shape = tuple  # (H, W, C) for feature maps, (L, C) for sequences, (N,) for vectors; entries are Dims

MAX_DIMENSION = int(os.environ.get("ARCHCALC_MAX_DIMENSION", 10_000_000))
REQUIRED = object()


class CapabilityError(ArchcalcError):
    """A kind lacks something a command needs (a plugin kind without a PyTorch lowering, say)."""


@dataclass(frozen=True)
class Layer:
    """One expanded layer of a spec: its kind's name, its name, its validated field values, and
    where it came from."""

    kind: str
    name: str
    index: int
    fields: Mapping[str, Any]
    location: Location = field(compare=False)  # where the user wrote it: not part of what the layer is
    trainable: bool = True  # false: frozen (its parameters count, but not as trainable)
    share: str | None = None  # the earlier layer whose parameters this one uses (a Siamese or recurrent net)
    floors: bool = False  # flooring (W - F + 2P)/S + 1 here is by design: a note, not a warning
    written: frozenset[str] = field(default=frozenset(), compare=False)  # the fields the spec gave (not defaults)
    inputs: tuple[str, ...] = ()  # the values it reads, where the spec names them (else the layer before)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def at(self, field_name: str) -> Location:
        return self.location.with_field(field_name)


@dataclass(frozen=True)
class Inexact:
    """An axis where ``(W - F + 2P)`` is not a multiple of ``S``: what was computed and what is lost."""

    axis: str  # "row" or "column"
    working: str  # "(224 - 11 + 2*0)/4 + 1 = 54.25"
    kept: Dim
    unused: Dim
    rounding: str  # "floor" or "ceil"
    padded: bool = False  # whether the unused positions may include padding
    both_axes: bool = False  # one finding for the rows and the columns alike (see merged_axes)


@dataclass(frozen=True)
class Step:
    """What one layer does to its input: the output shape and the costs, each with its working."""

    shape: Shape
    weights: Worked = ZERO
    biases: Worked = ZERO
    macs: Worked = ZERO
    memory: Dim | None = None  # new values this layer stores; None: every output value (a view stores none)
    working: tuple[str, ...] = ()  # the output size's derivation, one per axis
    inexact: tuple[Inexact, ...] = ()
    assumptions: tuple[str, ...] = ()  # conditions on symbols the result relies on
    notes: tuple[str, ...] = ()
    label: str | None = None  # where the label depends on the input (a shortcut's resolved mode)
    # For the receptive field: per spatial axis (effective kernel, stride, padding before), or
    # "global" where every output sees the whole input (fc, global pooling); None: element-wise.
    window: tuple | str | None = None
    explanation: tuple[str, ...] = ()  # extra lines of working for `archcalc explain`
    param_names: tuple[str, str] = ("weights", "biases")  # what the two parameter tensors are called
    elementwise: Worked = ZERO  # element-wise arithmetic (a residual sum's additions), not MACs
    elementwise_name: str = ""  # "additions"
    connections: Worked | None = None  # LeNet's "connections" where they are not MACs + biased outputs
    macs_unknown: bool = False  # an operator no kind reads (an imported graph's opaque node): its MACs are not known

    @property
    def params(self) -> Dim:
        return normalize(self.weights.value + self.biases.value)

    @property
    def connection_count(self) -> Dim:
        """LeCun's "connections": every multiply-accumulate, plus one for each output unit's bias
        (a layer's own count where it states one, as trainable subsampling does)."""
        if self.connections is not None:
            return self.connections.value
        biased = product(self.shape) if self.biases.value and self.macs.value else 0
        return normalize(self.macs.value + biased)


@dataclass(frozen=True)
class TorchModule:
    """A ``torch.nn`` module as data: the class, where it lives, and its keyword arguments (no
    torch import). ``module`` is ``torch.nn`` for PyTorch's own classes; a plugin names its own.

    >>> TorchModule("Conv2d", (("in_channels", 3), ("out_channels", 64))).source()
    'nn.Conv2d(in_channels=3, out_channels=64)'
    """

    cls: str
    args: tuple[tuple[str, Any], ...] = ()
    module: str = "torch.nn"

    def source(self) -> str:
        prefix = "nn." if self.module == "torch.nn" else ""
        return f"{prefix}{self.cls}(" + ", ".join(f"{key}={_literal(value)}" for key, value in self.args) + ")"


def _literal(value: Any) -> str:
    return "float('-inf')" if value == float("-inf") else repr(value)


# --- what conventions, the comparison, the memory model and answer checking ask of a kind ------


@dataclass(frozen=True)
class Usage:
    """One layer as a cost rule sees it: the layer, its input shape and what it computed."""

    layer: Layer
    x: Shape
    step: Step
    model: Mapping[str, Any] = field(default_factory=dict)  # the spec's [model] table (what a tool's version differs in)

    @property
    def inputs(self) -> Dim:
        return product(self.x)

    @property
    def outputs(self) -> Dim:
        return product(self.step.shape)


@dataclass(frozen=True)
class Cost:
    """What a counting convention adds for one layer, beyond MACs and parameters."""

    ops: Dim = 0
    params: Dim = 0


CostRule = Callable[[Usage], Cost]


def per_output(ops: int) -> CostRule:
    """A rule charging ``ops`` per output element (a factory, as fvcore makes families of handlers)."""
    return lambda usage: Cost(ops=ops * usage.outputs)


def per_input(ops: int) -> CostRule:
    """A rule charging ``ops`` per input element."""
    return lambda usage: Cost(ops=ops * usage.inputs)


def keras_biases(usage: Usage) -> Cost:
    """Keras' version of some networks keeps a bias in every conv though a batch norm follows
    (ResNet50's Conv2D layers leave use_bias at its default, True): the spec says so with
    ``keras_conv_biases = true``, and the biases the spec leaves out count here, one per filter."""
    keeps = usage.model.get("keras_conv_biases") and not usage.step.biases.value and usage.step.weights.value
    return Cost(params=usage.step.shape[-1] if keeps else 0)


def mults_adds(usage: Usage) -> Cost:
    """Multiplications plus additions, as textbooks count them: a k-term dot product costs k
    multiplications and k - 1 additions (2k - 1), and 2k with the bias added; on top of 2 x MACs
    this takes one away per output without a bias."""
    return Cost(ops=0 if usage.step.biases.value else -usage.outputs)


def flops_view(step: Step) -> tuple[tuple[str, str], ...]:
    """FLOPs as 2 x MACs and as multiplications + additions, for a layer whose every output is one
    k-term dot product (conv, fc): ``2*363 = 726 per output (with the bias) x 290,400``."""
    macs, outputs = step.macs.value, product(step.shape)
    if not (isinstance(macs, int) and macs and isinstance(outputs, int)):
        return ()
    terms, uneven = divmod(macs, outputs)
    if uneven:
        return ()
    biased = bool(step.biases.value)
    each = 2 * terms if biased else 2 * terms - 1
    return (("FLOPs", f"2 x MACs = {2 * macs:,}; as multiplications + additions (mults-adds): 2*{terms:,}"
                      f"{'' if biased else ' - 1'} = {each:,} per output{' (with the bias)' if biased else ''} x "
                      f"{outputs:,} = {each * outputs:,}"),)


def bias_adds(usage: Usage) -> Cost:
    """One addition per output of a layer that adds a bias (ptflops counts them)."""
    return Cost(ops=usage.outputs if usage.layer.fields.get("bias") and usage.step.biases.value else 0)


@dataclass(frozen=True)
class Trait:
    """A row of the comparison matrix that kinds report: ``combine`` says how a network's layers'
    values make the row's value ("any": yes/no; "each": every value in order; "distinct": each
    value once, in order of first use)."""

    key: str  # the row's key in the JSON document
    title: str
    combine: str = "any"
    rank: int = 100  # position among the trait rows (built-in rows are 10..70)


@dataclass(frozen=True)
class TensorSize:
    """A tensor a layer holds (for the backward pass, or while it computes). ``what`` is ``input`` or
    ``output`` where it is one of the layer's own activations (shared with its neighbours), else a
    name of its own."""

    what: str
    elements: Dim
    dtype: str | None = None  # None: the activations' dtype; else fixed ("int64", "float32")
    per_image: bool = True  # False for per-channel statistics, which do not grow with the batch


@dataclass(frozen=True)
class Slip:
    """A typical wrong answer for a cell of the table, and where it went wrong."""

    column: str  # output, memory, weights, biases, params or macs
    value: Dim | tuple  # a shape for the output column
    diagnosis: str


# --- field types ------------------------------------------------------------------------------


def _describe(raw: Any) -> str:
    return f"{raw!r} ({type(raw).__name__})"


def nearest(name: str, candidates) -> str:
    """A 'did you mean' hint, or an empty string.

    >>> nearest("maxpol", ["maxpool", "avgpool"])
    "did you mean 'maxpool'?"
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


class FieldType:
    """How a raw TOML value becomes a typed field value."""

    description = ""

    def coerce(self, raw: Any, where: Location, variables: Mapping[str, Dim]) -> Any:
        raise NotImplementedError


class WholeNumber(FieldType):
    """A whole number >= ``minimum``, or an expression of a block's parameters (``"4*c"``)."""

    def __init__(self, minimum: int):
        self.minimum = minimum
        self.description = f"a whole number >= {minimum}"

    def coerce(self, raw, where, variables) -> Dim:
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise SpecError(f"expected a whole number, found {_describe(raw)}", where)
        value = raw
        if isinstance(raw, str):
            try:
                value = parse_dim(raw, variables, new_symbols=False)
            except SpecError as error:
                raise SpecError(error.message, where, error.hint) from None
        if isinstance(value, int):
            if value < self.minimum:
                raise SpecError(f"expected a whole number >= {self.minimum}, found {value}", where)
            if value > MAX_DIMENSION:
                raise SpecError(f"{value:,} is larger than the limit of {MAX_DIMENSION:,}", where,
                                "sizes this large are almost certainly a typo; the environment variable "
                                "ARCHCALC_MAX_DIMENSION raises the limit")
        return value


class Pair(FieldType):
    """``[h, w]``, or one value for both axes."""

    def __init__(self, element: FieldType):
        self.element = element
        self.description = f"{element.description}, or a pair [h, w]"

    def coerce(self, raw, where, variables) -> tuple:
        if isinstance(raw, list):
            if len(raw) != 2:
                raise SpecError(f"expected one number or a pair [h, w], found a list of {len(raw)}", where)
            return (self.element.coerce(raw[0], where, variables), self.element.coerce(raw[1], where, variables))
        value = self.element.coerce(raw, where, variables)
        return (value, value)


class Dilation(FieldType):
    """A dilation, numbered as PyTorch numbers it (1 = an ordinary kernel), per spatial axis.

    Zero is read (a course may number dilation from zero: ``--dilation-from-zero`` shifts it) and
    refused at analysis with that hint, the same way for every kind that dilates.
    """

    def __init__(self, axes: int):
        self.axes = axes
        self.description = "a whole number >= 1" + (", or a pair [h, w]" if axes == 2 else "")

    def coerce(self, raw, where, variables):
        return PAIR0.coerce(raw, where, variables) if self.axes == 2 else NATURAL.coerce(raw, where, variables)

    def shifted(self, value):
        """The dilation read from zero (gaps between taps) in PyTorch's numbering."""
        return tuple(d + 1 for d in value) if self.axes == 2 else value + 1


class Padding(FieldType):
    """int, ``[ph, pw]``, ``[top, bottom, left, right]``, ``"same"`` or ``"valid"`` -> ``"same"`` or
    ``((top, bottom), (left, right))``."""

    description = 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'

    def coerce(self, raw, where, variables):
        if raw == "same":
            return raw
        if raw == "valid":
            return ((0, 0), (0, 0))
        if isinstance(raw, list) and len(raw) == 4:
            top, bottom, left, right = (NATURAL.coerce(v, where, variables) for v in raw)
            return ((top, bottom), (left, right))
        if isinstance(raw, list) and len(raw) != 2:
            raise SpecError(f"expected pad as a number, [ph, pw], [top, bottom, left, right], \"same\" or \"valid\", "
                            f"found a list of {len(raw)}", where)
        if isinstance(raw, str):
            try:
                value = NATURAL.coerce(raw, where, variables)
            except SpecError:
                raise SpecError(f"expected pad as a number, [ph, pw], \"same\" or \"valid\", found {raw!r}", where,
                                nearest(raw, ["same", "valid"]) or None) from None
            return ((value, value), (value, value))
        pad_h, pad_w = Pair(NATURAL).coerce(raw, where, variables)
        return ((pad_h, pad_h), (pad_w, pad_w))


class Boolean(FieldType):
    description = "true or false"

    def coerce(self, raw, where, variables) -> bool:
        if not isinstance(raw, bool):
            raise SpecError(f"expected true or false, found {_describe(raw)}", where)
        return raw


class Probability(FieldType):
    description = "a probability in [0, 1)"

    def coerce(self, raw, where, variables) -> float:
        raw = variables.get(raw, raw) if isinstance(raw, str) else raw  # a block's parameter
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw < 1:
            raise SpecError(f"expected a probability in [0, 1), found {_describe(raw)}", where)
        return float(raw)


class Number(FieldType):
    description = "a number >= 0"

    def coerce(self, raw, where, variables):
        raw = variables.get(raw, raw) if isinstance(raw, str) else raw  # a block's parameter
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
            raise SpecError(f"expected a number >= 0, found {_describe(raw)}", where)
        return raw


class Choice(FieldType):
    """One of a fixed set of words (``choice("nearest", "bilinear")``)."""

    def __init__(self, *options: str):
        self.options = options
        self.description = "one of " + ", ".join(options)

    def coerce(self, raw, where, variables) -> str:
        if raw not in self.options:
            hint = nearest(raw, self.options) if isinstance(raw, str) else ""
            found = repr(raw) if isinstance(raw, str) else _describe(raw)
            raise SpecError(f"expected one of {', '.join(self.options)}, found {found}", where, hint or None)
        return raw


class Bias(FieldType):
    """``true``: one bias per filter (per map); ``false``: none; ``"unit"``: one per output unit, every
    position of every map its own (LeCun et al. 1989; locally connected layers)."""

    description = 'true (one per filter), false, or "unit" (one per output unit)'

    def coerce(self, raw, where, variables):
        if isinstance(raw, bool) or raw == "unit":
            return raw
        raise SpecError(f'expected true, false or "unit", found {_describe(raw)}', where)


class ConnectionTable(FieldType):
    """For each output map, the input maps it sees (LeNet-5's C3): a list of lists of channel numbers."""

    description = "a list, per output map, of the input maps it sees (numbered from 0)"

    def coerce(self, raw, where, variables) -> tuple[tuple[int, ...], ...]:
        if not isinstance(raw, list) or not raw or not all(isinstance(row, list) and row for row in raw):
            raise SpecError("expected a list, per output map, of the input maps it sees (e.g. [[0, 1, 2], [1, 2, 3]])",
                            where)
        table = tuple(tuple(NATURAL.coerce(value, where, variables) for value in row) for row in raw)
        for number, row in enumerate(table):
            if len(set(row)) != len(row):
                raise SpecError(f"output map {number} lists an input map twice: {list(row)}", where)
        return table


COUNT = WholeNumber(1)
NATURAL = WholeNumber(0)
PAIR = Pair(COUNT)
PAIR0 = Pair(NATURAL)
DILATION = Dilation(2)
PADDING = Padding()
BOOL = Boolean()
PROBABILITY = Probability()
NUMBER = Number()
BIAS = Bias()
TABLE = ConnectionTable()
choice = Choice


@dataclass(frozen=True)
class Field:
    """One field a kind accepts: its name, its type, its default, and one line of help."""

    name: str
    type: FieldType
    default: Any = REQUIRED
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def coerce(self, raw: Any, location: Location, variables: Mapping[str, Dim] | None = None) -> Any:
        """Check a raw TOML value against the field's type; return the typed value.

        Text is read as an expression of ``variables`` (a block's parameters) where the type is a size.
        """
        return self.type.coerce(raw, location.with_field(self.name), variables or {})


@dataclass(frozen=True)
class Shorthand:
    """A key that adds this kind after a conv or fc (``batchnorm = true``), its compact token
    (``bn``) and the suffix of the layer it makes (``conv1_bn``)."""

    key: str
    token: str
    suffix: str


# --- the kind -----------------------------------------------------------------------------------


def padding_text(pad) -> str:
    """A layer's padding as its label shows it: `` p2``, `` p1x2`` (rows x columns), `` p[0,1,0,1]``
    (top, bottom, left, right), `` same``; nothing where it does not pad.

    >>> padding_text(((2, 2), (2, 2))), padding_text(((0, 1), (0, 1))), padding_text(0)
    (' p2', ' p[0,1,0,1]', '')
    """
    if pad == "same":
        return " same"
    if isinstance(pad, tuple) and pad and isinstance(pad[0], tuple):
        (top, bottom), (left, right) = pad
        if top == bottom and left == right:
            pad = (top, left)
        else:
            return f" p[{top},{bottom},{left},{right}]"
    if isinstance(pad, tuple):
        if all(p == 0 for p in pad):
            return ""
        return f" p{pad[0]}" if pad[0] == pad[1] else f" p{pad[0]}x{pad[1]}"
    return f" p{pad}" if pad else ""


class LayerKind:
    """Base of every layer kind. Subclasses set the class attributes and override ``infer``,
    ``label`` and whichever capabilities they have."""

    name: str = ""
    family: str = ""
    summary: str = ""
    aliases: tuple[str, ...] = ()  # other names students and tools use (``dense`` for fc)
    fields: tuple[Field, ...] = ()
    positional: str | None = None  # the field a bare number fills in the compact syntax
    folds: bool = False  # shown in the table row of the layer before (in place, or a view)
    activation: bool = False  # usable as ``activation = "..."`` and as a bare compact token
    shorthand: Shorthand | None = None  # a key that adds this kind after a conv or fc
    takes_followers: bool = False  # accepts the shorthand keys (batchnorm = true) and an activation
    takes_activation: bool = False  # accepts an activation shorthand alone (batch norm before a ReLU)
    weighted: bool = False  # counts towards depth (conv, fc)
    convolutional: bool = False  # counts towards the conv-layer depth
    worked_example: bool = False  # a handout works the first layer of this kind through by hand
    inplace: bool = False  # its torch module can overwrite its input (ReLU(inplace=True)), as torchvision's do
    folded_by_exporters: bool = False  # exporters fold it into the conv before it (a batch norm in eval mode)
    reads_many: bool = False  # may read several values (``inputs = [...]``) without a merge
    opaque: bool = False  # stands for an imported operator that no kind reads
    costs: Mapping[str, CostRule] = {}  # convention name -> what that tool adds for this layer
    reports: tuple[Trait, ...] = ()  # the comparison rows this kind's ``traits`` fill in
    onnx_ops: tuple[str, ...] = ()  # the ONNX operators that can start this layer in a graph (archcalc.layers.reading)

    def infer(self, layer: Layer, x: Shape) -> Step:
        raise NotImplementedError

    def from_onnx(self, node, graph):
        """This layer read from an ONNX graph, starting at ``node`` (one of ``onnx_ops``): a
        ``reading.Claim`` with its fields and the nodes it stands for, or None where the node is not
        this kind (the inverse of ``torch_modules``)."""
        return None

    def label(self, layer: Layer) -> str:
        return self.name.upper()

    def label_details(self, layer: Layer) -> str:
        """What a student needs beside the label's kernel and stride to compute the output size:
        `` p2`` where the layer pads, `` ceil`` where a pool rounds up, `` d2`` where a pool is dilated.
        A table in the style of the VGG slide (``CONV3-64``, all 3x3 s1 p1) leaves these out."""
        fields = dict(layer.fields)
        text = padding_text(fields["pad"]) if "pad" in fields else ""
        if fields.get("ceil"):
            text += " ceil"
        if self.family == "pool" and fields.get("dilation") not in (None, 1, (1, 1)):
            dilation = fields["dilation"]
            text += f" d{dilation[0] if dilation[0] == dilation[1] else f'{dilation[0]}x{dilation[1]}'}"
        return text

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        """The PyTorch modules that compute this layer on an input of shape ``x`` (HWC)."""
        raise CapabilityError(f"layer kind {self.name!r} has no PyTorch lowering (it does not define torch_modules)",
                              layer.location)

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        """How many weighted layers this is on a path through the network (the papers' depth)."""
        return 1 if self.weighted else 0

    def cost(self, convention: str, usage: Usage) -> Cost:
        """What ``convention`` adds for this layer beyond MACs and parameters (nothing by default)."""
        rule = self.costs.get(convention)
        return rule(usage) if rule else Cost()

    def traits(self, layer: Layer, x: Shape) -> Mapping[Trait, Any]:
        """What the comparison matrix reports about this layer: a value (or a tuple of values) for
        some of the traits in ``reports`` (nothing by default)."""
        return {}

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        """Other ways a course presents this layer, for ``explain``: (heading, text) pairs, such as
        a convolution as one matrix product (im2col). None by default."""
        return ()

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The tensors PyTorch's autograd keeps from this layer until the backward pass."""
        raise CapabilityError(f"layer kind {self.name!r} does not say what it saves for the backward pass "
                              f"(it does not define saved_for_backward)", layer.location)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The tensors this layer holds at its busiest moment at inference, besides its input (which
        its caller holds): by default its output alone. A view or the identity creates nothing: ()."""
        return (TensorSize("output", product(step.shape)),)

    def training_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The tensors this layer holds at its busiest moment in a training forward pass, besides its
        input: by default those of inference and the tensors of its own that it saves for backward
        (a mask, pooling indices, statistics). () for a view or the identity."""
        workspace = self.inference_workspace(layer, x, step)
        named = {size.what for size in workspace}
        return workspace + tuple(size for size in self.saved_for_backward(layer, x, step)
                                 if size.what not in ("input", "output") and size.what not in named)

    def saved_in_place(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """What it saves for backward when it overwrites its input (only asked of ``inplace`` kinds)."""
        return self.saved_for_backward(layer, x, step)

    def input_gradient(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """What its backward pass makes besides its parameters' gradients: the gradient of its input,
        or () where that is a view of its output's gradient (a view or the identity)."""
        return (TensorSize("input gradient", product(x)),) if self.training_workspace(layer, x, step) else ()

    def torch_modules_in_place(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        """Its modules, told to overwrite their input (only asked of ``inplace`` kinds)."""
        return tuple(replace(module, args=module.args + (("inplace", True),)) for module in self.torch_modules(layer, x))

    def slips(self, layer: Layer, x: Shape, step: Step) -> tuple[Slip, ...]:
        """Typical wrong answers for this layer's cells: by default the window's slips (padding left
        out or put on one side, stride ignored), each with what follows from it in the same row,
        and the bias slips (biases left out, or added to a layer that has none)."""
        return window_slips(self, layer, x, step) + bias_slips(self, layer, step)

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def require_map(layer: Layer, x: Shape) -> None:
    """Spatial layers need an H x W x C feature map."""
    if len(x) != 3:
        found = (f"a vector of {x[0]} values" if len(x) == 1 else
                 f"a sequence of {x[0]} x {x[1]} (length x channels); an image needs three sizes, height, width "
                 f"and channels, e.g. {x[0]}x{x[1]}x3")
        raise ShapeError(f"{layer.kind} needs a feature map (H x W x C), but its input is {found}", layer.location)


def require_sequence(layer: Layer, x: Shape) -> None:
    """1-D layers need an L x C sequence."""
    if len(x) != 2:
        found = f"a vector of {x[0]} values" if len(x) == 1 else "a feature map (H x W x C)"
        raise ShapeError(f"{layer.kind} needs a sequence (L x C), but its input is {found}", layer.location)




def slide_caption(layers) -> str:
    """What labels in the slide's style (``CONV3-64``) leave out, stated once for the table:
    ``every 3x3 conv: stride 1, padding 1``."""
    from .registry import KINDS

    seen: dict[str, set[str]] = {}
    for layer in layers:
        kind, fields = KINDS[layer.kind], layer.fields
        if kind.family in ("conv", "pool") and "pad" in fields and isinstance(fields.get("kernel"), tuple):
            kernel = fields["kernel"]
            stride = fields.get("stride") or kernel
            pad = padding_text(fields["pad"]).strip().removeprefix("p") or "0"
            stride_text = str(stride[0]) if stride[0] == stride[1] else f"{stride[0]}x{stride[1]}"
            seen.setdefault(f"{kernel[0]}x{kernel[1]} {kind.name}", set()).add(f"stride {stride_text}, padding {pad}")
    parts = [f"every {what}: {' or '.join(sorted(how))}" for what, how in seen.items()]
    return ("labels as on the lecture's slide, which leaves out stride and padding: " + "; ".join(parts)) if parts \
        else "labels as on the lecture's slide"


def _variant(kind: "LayerKind", layer: Layer, x: Shape, **changes) -> Step | None:
    """The layer computed with some fields changed (a student's slip); None where that fails."""
    try:
        return kind.infer(replace(layer, fields={**layer.fields, **changes}), x)
    except (ArchcalcError, TypeError, ValueError):
        return None


def _no_padding(pad):
    if pad == "same" or (isinstance(pad, tuple) and pad and isinstance(pad[0], tuple)):
        return ((0, 0), (0, 0))
    return (0, 0) if isinstance(pad, tuple) else 0


def window_slips(kind: "LayerKind", layer: Layer, x: Shape, step: Step) -> tuple[Slip, ...]:
    """Slips in the output-size formula (W - F + 2P)/S + 1: P left out, P on one side, P added to a
    conv that has none, S ignored."""
    fields = layer.fields
    if "pad" not in fields and "stride" not in fields:
        return ()
    slips: list[Slip] = []
    pad, kernel, stride = fields.get("pad"), fields.get("kernel"), fields.get("stride")
    shown = padding_text(pad).strip() if "pad" in fields else ""
    if shown:
        slips += _row_slips(_variant(kind, layer, x, pad=_no_padding(pad)), step,
                            f"that is the size without the padding ({shown}): (W - F + 2P)/S + 1 counts P on both sides")
        if isinstance(pad, tuple) and isinstance(pad[0], tuple) and pad[0][0] == pad[0][1] and pad[1][0] == pad[1][1]:
            slips += _row_slips(_variant(kind, layer, x, pad=((pad[0][0], 0), (pad[1][0], 0))), step,
                                f"that pads one side only: {shown} adds P on both sides, 2P in all")
    elif "pad" in fields and kind.family == "conv" and isinstance(kernel, tuple) and max(kernel) > 1:
        same = tuple((k - 1) // 2 for k in kernel)
        slips += _row_slips(_variant(kind, layer, x, pad=((same[0], same[0]), (same[1], same[1]))), step,
                            "that pads the input to keep its size; this layer has no padding (P = 0)")
    if "stride" in fields and stride not in (1, (1, 1)) and kernel not in (1, (1, 1)):
        ones = 1 if isinstance(kernel, int) else (1, 1)
        slips += _row_slips(_variant(kind, layer, x, stride=ones), step,
                            "that ignores the stride: divide (W - F + 2P) by S before adding 1")
    return tuple(slips)


def _row_slips(variant: Step | None, truth: Step, diagnosis: str) -> list[Slip]:
    """A slip's output size, and the memory and MACs that follow from it in the same row."""
    if variant is None or tuple(variant.shape) == tuple(truth.shape):
        return []
    return [Slip("output", tuple(variant.shape), diagnosis), Slip("memory", product(variant.shape), diagnosis),
            Slip("macs", variant.macs.value, diagnosis)]


def bias_slips(kind: "LayerKind", layer: Layer, step: Step) -> tuple[Slip, ...]:
    """Parameters without the biases, or with one bias per output channel where the layer has none."""
    weights, biases = step.weights.value, step.biases.value
    if not kind.weighted or not weights:
        return ()
    if biases:
        return (Slip("params", weights, f"that is the count without biases: add the {format_dim(biases, True)} "
                                        "biases, one per filter"),)
    channels = step.shape[-1]
    return (Slip("params", normalize(weights + channels), f"that adds {format_dim(channels, True)} biases, but "
                                                          "this layer has none (bias = false, or --no-bias)"),
            Slip("biases", channels, "this layer has no biases (bias = false, or --no-bias)"))

__all__ = ["BIAS", "BOOL", "COUNT", "TABLE", "DILATION", "NATURAL", "NUMBER", "PADDING", "PAIR", "PAIR0", "PROBABILITY",
           "CapabilityError", "Choice", "Cost", "CostRule", "Dilation", "Field", "FieldType", "Inexact", "Layer",
           "LayerKind", "TensorSize", "Shape", "Shorthand", "Slip", "Step", "TorchModule", "Trait", "Usage", "bias_adds", "flops_view", "keras_biases", "mults_adds",
           "choice", "nearest", "per_input", "per_output", "require_map", "require_sequence"]
