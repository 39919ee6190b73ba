"""Memory as execution holds it: the inference peak, and a training step.

The lecture's memory column adds up every layer's output. Execution holds far fewer tensors at once:
this module walks the network's graph (archcalc.graph) in the order archcalc's lowering runs it, and keeps a ledger of
the tensors alive, with what each layer kind says it holds (``inference_workspace``,
``training_workspace``, ``saved_for_backward``, ``input_gradient``).

Inference (``torch.no_grad``, eval mode):

- the caller holds the network's input for the whole forward pass;
- a sequence passes one value on: a layer's input lives while the layer runs and is freed after it,
  unless something else holds it (a block's input is held by the sequence around the block);
- while it runs, a layer holds its inference workspace (by default its output; a view, the identity
  and an in-place activation create nothing);
- branches run one after another on the same input, and their outputs are held until the merge has
  made its output; a side output (an auxiliary classifier) does not run.

A training step (SGD, Adam...; ``optimizer.zero_grad(set_to_none=True)``, PyTorch's default, so the
gradients do not exist during the forward pass):

- parameters and the optimizer's state (momentum: one buffer per parameter, Adam: two) are held all
  through; the input too;
- forward: as at inference, with each layer's training workspace (dropout's mask, pooling indices,
  batch norm's statistics), side outputs run, and what each layer saves for backward stays alive
  until its backward has run (a tensor saved by several layers is one tensor);
- the loss keeps one tensor the size of the output (cross entropy's log-probabilities);
- backward runs the layers in reverse order of their forward: each makes the gradient of its input
  (a view or the identity passes its gradient on) and of its parameters, which stay; gradients
  reaching one tensor from several consumers (a shortcut and its block) are accumulated into one;
- the optimizer step updates in place (on the CPU; Adam makes its denominator per parameter tensor,
  CUDA's multi-tensor Adam for all of them at once).

Sizes follow the batch and the element type; mixed precision keeps the parameters, their gradients
and the optimizer's state in float32, with activations (and a copy of the weights, cast by autocast)
in the lower precision.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .dims import is_symbolic, product
from .dtypes import itemsize
from .engine import Analysis
from .errors import ArchcalcError, ShapeError
from .graph import INPUT, GraphNode
from .layers import KINDS, MERGES, Layer
from .layers.base import TensorSize

OPTIMIZER_STATE = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}  # buffers per parameter
OPTIMIZERS = tuple(OPTIMIZER_STATE)
DEVICES = ("cpu", "cuda")
PHASES = ("forward", "loss", "backward", "optimizer step")
MAX_BATCH = 1 << 24


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A tensor live at some moment: what it is, and its bytes."""

    what: str
    bytes: int


@dataclass(frozen=True)
class Moment:
    """The most bytes live while one layer or merge runs (in a training step: and in which phase)."""

    name: str
    live_bytes: int
    phase: str = "forward"


@dataclass(frozen=True)
class InferenceMemory:
    """The forward pass without gradients, at one batch size and element type."""

    batch: int
    dtype: str
    moments: tuple[Moment, ...]  # one per layer and merge that runs, in execution order
    peak: Moment
    live_at_peak: tuple[Held, ...]
    naive_bytes: int  # the lecture's memory column: every output, the input included
    input_bytes: int
    textbook_activation_bytes: int = 0  # the exercises' bound: one layer's input(s) and output alive at a time
    textbook_layer: str = ""  # the layer where that is largest
    param_bytes: int = 0

    @property
    def textbook_bytes(self) -> int:
        """The minimum exercises ask for: the largest layer's input and output, plus the parameters."""
        return self.textbook_activation_bytes + self.param_bytes

    @property
    def peak_bytes(self) -> int:
        return self.peak.live_bytes

    @property
    def lecture_rule_bytes(self) -> int:
        """The lecture's rule for training, forward memory x 2: every activation and its gradient.
        The input image is a given, not a result: it has no gradient, so it counts once."""
        return 2 * self.naive_bytes - self.input_bytes


@dataclass(frozen=True)
class TrainingMemory:
    """One steady-state training step: forward, loss, backward, optimizer step."""

    batch: int
    dtype: str
    optimizer: str
    mixed: bool
    device: str
    saved: tuple[tuple[str, int], ...]  # (layer or merge, bytes it adds to what is kept for backward)
    saved_bytes: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    weight_copy_bytes: int  # mixed precision: autocast's copy of the weights in the lower precision
    input_bytes: int
    moments: tuple[Moment, ...]
    peak: Moment
    live_at_peak: tuple[Held, ...]

    @property
    def peak_bytes(self) -> int:
        return self.peak.live_bytes

    @property
    def peak_phase(self) -> str:
        return self.peak.phase

    @property
    def bound_bytes(self) -> int:
        """The upper-bound formula: everything that could be alive at once."""
        return (self.param_bytes + self.grad_bytes + self.optimizer_bytes + self.weight_copy_bytes + self.saved_bytes
                + self.input_bytes)


@dataclass(frozen=True)
class Fit:
    """The largest batch whose peak fits in ``limit_bytes`` (0: not even one), and its peak."""

    limit_bytes: int
    batch: int
    peak_bytes: int
    peak_at_next: int  # the peak one image more would need


# --- sizes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Bytes of tensors at a batch size: activations in ``dtype``; parameters in ``param_dtype``."""

    batch: int
    dtype: str
    param_dtype: str

    def of(self, size: TensorSize) -> int:
        elements = int(size.elements) * (self.batch if size.per_image else 1)
        return elements * itemsize(size.dtype or self.dtype)

    def activation(self, elements) -> int:
        return int(elements) * self.batch * itemsize(self.dtype)

    def parameters(self, count) -> int:
        return int(count) * itemsize(self.param_dtype)


def require_concrete(analysis: Analysis) -> None:
    if any(is_symbolic(d) for d in analysis.spec.input_shape):
        shape = "x".join(str(d) for d in analysis.spec.input_shape)
        raise ShapeError(f"memory needs concrete sizes, and the input is {shape}: give numbers with `input` "
                         f"(e.g. 224x224x3)")


# --- which activations run in place --------------------------------------------------------------


def in_place_layers(analysis: Analysis) -> frozenset[str]:
    """The activations that overwrite their input, as torchvision's ReLU(inplace=True) do: those
    whose kind can, right after a layer or merge (in the list they are written in) whose fresh output
    nobody else reads or needs for backward. The lowering builds them in place, so that the model
    and execution agree."""
    graph = analysis.spec.graph
    readers = graph.readers()
    found: set[str] = set()

    def fresh(node: GraphNode) -> bool:
        if node.layer is None:
            return True  # a merge makes a new tensor
        layer = node.layer
        kind, x, step = KINDS[layer.kind], analysis.inputs[layer.name], analysis.steps[layer.name]
        return (layer.name not in found and bool(kind.inference_workspace(layer, x, step))
                and bool(kind.training_workspace(layer, x, step))
                and all(size.what != "output" for size in kind.saved_for_backward(layer, x, step)))

    for node in graph.nodes:
        layer = node.layer
        if layer is None or not KINDS[layer.kind].inplace or node.first_in_sequence or layer.inputs:
            continue
        (source,) = node.inputs
        if source != INPUT and len(readers[source]) == 1 and fresh(graph.node(source)):
            found.add(layer.name)
    return frozenset(found)


# --- the ledger ---------------------------------------------------------------------------------


class _Storage:
    """One allocation, freed when its last holder lets go."""

    __slots__ = ("what", "bytes", "holders")

    def __init__(self, what: str, nbytes: int):
        self.what, self.bytes, self.holders = what, nbytes, 1


class _Ledger:
    def __init__(self, on_moment: Callable[[str, int, str, tuple[Held, ...]], None]):
        self.live: dict[int, _Storage] = {}
        self.current = 0
        self.on_moment = on_moment
        self.events: list[tuple[bool, _Storage]] = []  # (made, storage): made or freed, in order

    def live_after(self, count: int) -> tuple[Held, ...]:
        """What was live after the first ``count`` events (a peak's snapshot, rebuilt once at the end)."""
        live: dict[int, _Storage] = {}
        for made, storage in self.events[:count]:
            if made:
                live[id(storage)] = storage
            else:
                del live[id(storage)]
        return tuple(Held(s.what, s.bytes) for s in live.values())

    def make(self, what: str, nbytes: int) -> _Storage:
        storage = _Storage(what, nbytes)
        self.live[id(storage)] = storage
        self.events.append((True, storage))
        self.current += nbytes
        return storage

    def hold(self, storage: _Storage) -> _Storage:
        storage.holders += 1
        return storage

    def drop(self, storage: _Storage) -> None:
        storage.holders -= 1
        if storage.holders == 0:
            del self.live[id(storage)]
            self.events.append((False, storage))
            self.current -= storage.bytes

    def moment(self, name: str, extra: tuple[Held, ...] = (), phase: str = "forward") -> None:
        self.on_moment(name, self.current + sum(h.bytes for h in extra), phase, extra)


class _Peaks:
    """Collects the moments, and what is live at the highest."""

    def __init__(self):
        self.moments: list[Moment] = []
        self.peak: Moment | None = None
        self._peak_events, self._peak_extra = 0, ()
        self.ledger = _Ledger(self.record)

    def record(self, name: str, live: int, phase: str, extra: tuple[Held, ...]) -> None:
        moment = Moment(name, live, phase)
        self.moments.append(moment)
        if self.peak is None or live > self.peak.live_bytes:  # remember where, not what (a copy per layer is n^2)
            self.peak, self._peak_events, self._peak_extra = moment, len(self.ledger.events), extra

    @property
    def live_at_peak(self) -> tuple[Held, ...]:
        return self.ledger.live_after(self._peak_events) + self._peak_extra


def _workspace_held(name: str, sizes: tuple[TensorSize, ...], bytes_of) -> tuple[Held, ...]:
    return tuple(Held(f"{name} {size.what}", bytes_of(size)) for size in sizes)


# --- inference ----------------------------------------------------------------------------------


def inference_memory(analysis: Analysis, batch: int = 1, dtype: str = "float32") -> InferenceMemory:
    """Walk the forward pass without gradients; the most bytes live at each layer, and the peak.

    >>> from .engine import analysis_of
    >>> from .spec import parse_spec
    >>> spec = parse_spec('input = "8x8x1"\\nlayers = ["conv 2 3x3 p1", "relu", "maxpool 2"]')
    >>> [m.live_bytes for m in inference_memory(analysis_of(spec)).moments]
    [768, 768, 1152]

    The caller holds the input (256 bytes) throughout; the conv adds its output (512); the ReLU
    overwrites it; the pool reads it and adds its output (128) and the int64 positions of the
    maxima (256).
    """
    require_concrete(analysis)
    sizes = Sizes(batch, dtype, dtype)
    peaks = _Peaks()
    walk = _Forward(analysis, sizes, peaks.ledger, in_place_layers(analysis), training=False)
    source = peaks.ledger.make("input", sizes.activation(product(analysis.spec.input_shape)))
    walk.run(_Value(source, False, analysis.spec.input_shape))
    naive = sizes.activation(analysis.totals.memory)
    layer, bound = textbook_bound(analysis, sizes)
    return InferenceMemory(batch, dtype, tuple(peaks.moments), peaks.peak, peaks.live_at_peak, naive, source.bytes,
                           bound, layer, sizes.parameters(analysis.totals.params))


def textbook_bound(analysis: Analysis, sizes: Sizes) -> tuple[str, int]:
    """The activations of the minimum that exercises ask for, only one layer's input(s) and output
    alive at a time: the layer where they are largest, and their bytes.

    >>> from .engine import analysis_of
    >>> from .spec import parse_spec
    >>> spec = parse_spec('input = "8x8x1"\\nlayers = ["conv 2 3x3 p1", "maxpool 2"]')
    >>> textbook_bound(analysis_of(spec), Sizes(1, "float32", "float32"))
    ('conv1', 768)

    conv1 reads 64 values and writes 128: 192 float32 values.
    """
    from .layers import KINDS

    side = {name for row in analysis.rows if row.training_only for name in (row.name, *row.folded_names)}
    best, where = 0, ""
    for name, sources in analysis.sources.items():
        layer = analysis.layers.get(name)
        if name in side or (layer is not None and KINDS[layer.kind].folds):
            continue  # a side output does not run; an activation or a view folds into the layer before
        read = sum(int(product(analysis.steps[source].shape if source in analysis.steps
                                   else analysis.spec.input_shape)) for source in sources)
        live = sizes.activation(read + int(product(analysis.steps[name].shape)))
        if live > best:
            best, where = live, name
    return where, best


# --- the forward pass ---------------------------------------------------------------------------


@dataclass(eq=False)
class _Value:
    """A tensor as the walk passes it on: its storage, whether it needs a gradient, its shape."""

    storage: _Storage
    needs_grad: bool
    shape: tuple


@dataclass(eq=False)
class _Backward:
    """What one layer or merge leaves for the backward pass."""

    name: str
    inputs: tuple[_Value, ...]
    output: _Value
    saved: tuple[_Storage, ...]
    input_gradients: tuple[int, ...]  # bytes of each input's new gradient; 0: a view of the output's gradient
    param_grad_bytes: int = 0
    extra: tuple[TensorSize, ...] = ()  # temporaries while it runs (a broadcast product's full-size gradient)


class _Forward:
    def __init__(self, analysis: Analysis, sizes: Sizes, ledger: _Ledger, in_place: frozenset[str], training: bool,
                 tape: list[_Backward] | None = None, saved_first: dict[int, str] | None = None):
        self.analysis, self.sizes, self.ledger, self.in_place = analysis, sizes, ledger, in_place
        self.training = training
        self.tape = tape if tape is not None else []
        self.saved_first = saved_first if saved_first is not None else {}  # storage id -> first layer saving it

    def run(self, x: _Value) -> _Value:
        """Run the graph's nodes in order (a side output's only in training), letting each value go
        where execution does; returns the network's output."""
        graph = self.analysis.spec.graph
        values = {INPUT: x}
        for node in graph.nodes:
            if self.training or not node.training_only:
                if node.layer is not None:
                    values[node.name] = self.layer(node.layer, values[node.inputs[0]])
                else:
                    values[node.name] = self.merge(node, [values[name] for name in node.inputs])
                if node.ends_side:
                    self.side_loss(node.ends_side, values[node.name])
            for name in node.releases:
                if name in values:
                    self.ledger.drop(values.pop(name).storage)
        return values[graph.output]

    def side_loss(self, name: str, out: _Value) -> None:
        """An auxiliary classifier's output goes into the loss: its gradient comes back from there."""
        if out.needs_grad:
            self.tape.append(_Backward(f"{name} loss", (out,), _Value(out.storage, False, ()), (),
                                       (self.sizes.activation(product(out.shape)),)))

    def layer(self, layer: Layer, x: _Value) -> _Value:
        kind, shape, step = KINDS[layer.kind], self.analysis.inputs[layer.name], self.analysis.steps[layer.name]
        in_place = layer.name in self.in_place
        params = 0 if layer.share else step.weights.value + step.biases.value
        trainable = layer.trainable and bool(step.weights.value + step.biases.value)
        needs_grad = self.training and (x.needs_grad or trainable)
        workspace = self.workspace(kind, layer, shape, step, in_place)
        self.ledger.moment(layer.name, _workspace_held(layer.name, workspace, self.sizes.of))
        fresh = bool(workspace) and not in_place
        output = (self.ledger.make(f"{layer.name} output", self.sizes.activation(product(step.shape))) if fresh
                  else self.ledger.hold(x.storage))
        out = _Value(output, needs_grad, step.shape)
        if needs_grad:
            saving = kind.saved_in_place if in_place else kind.saved_for_backward
            saved = tuple(self.keep(layer.name, size, x, out) for size in saving(layer, shape, step))
            gradient = sum(self.sizes.of(s) for s in kind.input_gradient(layer, shape, step)) if x.needs_grad else 0
            self.tape.append(_Backward(layer.name, (x,), out, saved, (gradient,),
                                       self.sizes.parameters(params) if trainable else 0))
        return out

    def workspace(self, kind, layer: Layer, shape, step, in_place: bool) -> tuple[TensorSize, ...]:
        """What the layer holds while it runs, besides its input."""
        if not self.training:
            return () if in_place else kind.inference_workspace(layer, shape, step)
        if in_place:  # only what it keeps of its own is new (ReLU6's copy of its input)
            return tuple(s for s in kind.saved_in_place(layer, shape, step) if s.what not in ("input", "output"))
        return kind.training_workspace(layer, shape, step)

    def keep(self, name: str, size: TensorSize, x: _Value, out: _Value) -> _Storage:
        """The storage a layer saves for backward, held by the graph until its backward has run."""
        if size.what == "input":
            storage = self.ledger.hold(x.storage)
        elif size.what == "output":
            storage = self.ledger.hold(out.storage)
        else:  # a tensor of its own, made while the layer ran (counted in its workspace)
            storage = self.ledger.make(f"{name} {size.what}", self.sizes.of(size))
        self.saved_first.setdefault(id(storage), name)
        return storage

    def merge(self, node: GraphNode, outputs: list[_Value]) -> _Value:
        merge = MERGES[node.merge]
        shapes = [o.shape for o in outputs]
        step = self.analysis.steps[node.name]
        workspace = merge.inference_workspace(shapes, step)
        self.ledger.moment(node.name, _workspace_held(node.name, workspace, self.sizes.of))
        out = _Value(self.ledger.make(f"{node.name} output", self.sizes.activation(product(step.shape))),
                     self.training and any(o.needs_grad for o in outputs), step.shape)
        if out.needs_grad:
            keeps_factors = bool(merge.saved_for_backward(shapes, step))  # a product keeps its factors
            saved = tuple(self.ledger.hold(o.storage) for o in outputs) if keeps_factors else ()
            for storage in saved:
                self.saved_first.setdefault(id(storage), node.name)
            # a sum and a concatenation pass their gradient on (views); a product makes one per factor,
            # a broadcast factor's first at the full size, then summed down
            gradients = tuple(self.sizes.activation(product(o.shape)) if keeps_factors else 0 for o in outputs)
            extra = tuple(TensorSize("broadcast gradient", product(step.shape)) for o in outputs
                          if keeps_factors and product(o.shape) != product(step.shape))
            self.tape.append(_Backward(node.name, tuple(outputs), out, saved, gradients, extra=extra))
        return out


# --- a training step ----------------------------------------------------------------------------


def parameter_elements(analysis: Analysis) -> tuple[int, int, int]:
    """All parameters, the trainable ones, and the largest single parameter tensor (the weights or
    the biases of one layer)."""
    own = [analysis.steps[name] for name, layer in analysis.layers.items() if not layer.share]
    largest = max([int(v) for step in own for v in (step.weights.value, step.biases.value)] or [0])
    return int(analysis.totals.params), int(analysis.totals.trainable_params), largest


def training_memory(analysis: Analysis, batch: int = 1, dtype: str = "float32", optimizer: str = "sgd-momentum",
                    mixed: bool = False, device: str = "cpu") -> TrainingMemory:
    """Walk one steady-state training step; the peak, its phase, and what it is made of.

    ``mixed``: activations in ``dtype``, parameters, gradients and optimizer state in float32.
    ``device``: "cuda" keeps dropout's mask as bytes and runs Adam over all tensors at once.
    """
    require_concrete(analysis)
    if optimizer not in OPTIMIZER_STATE:
        raise ArchcalcError(f"unknown optimizer {optimizer!r}: one of {', '.join(OPTIMIZERS)}")
    param_dtype = "float32" if mixed else dtype
    sizes = Sizes(batch, dtype, param_dtype)
    if device == "cuda":
        sizes = _CudaSizes(batch, dtype, param_dtype)
    count, trainable, largest = parameter_elements(analysis)
    param_bytes, grad_bytes = sizes.parameters(count), sizes.parameters(trainable)
    optimizer_bytes = OPTIMIZER_STATE[optimizer] * grad_bytes
    weight_copy = count * itemsize(dtype) if mixed else 0

    peaks = _Peaks()
    ledger = peaks.ledger
    ledger.make("parameters", param_bytes)
    if optimizer_bytes:
        ledger.make(f"optimizer state ({optimizer})", optimizer_bytes)
    source = ledger.make("input", sizes.activation(product(analysis.spec.input_shape)))
    copies = ledger.make("weights cast for autocast", weight_copy) if weight_copy else None
    tape: list[_Backward] = []
    saved_first: dict[int, str] = {}
    walk = _Forward(analysis, sizes, ledger, in_place_layers(analysis), training=True, tape=tape,
                    saved_first=saved_first)
    output = walk.run(_Value(source, False, analysis.spec.input_shape))
    saved_bytes = _saved_total(tape)
    per_layer: dict[str, int] = {}
    for storage in {id(s): s for record in tape for s in record.saved}.values():
        name = saved_first[id(storage)]
        per_layer[name] = per_layer.get(name, 0) + storage.bytes

    # the loss: one tensor the size of the output kept for its backward
    loss_keeps = ledger.make("loss: log-probabilities", output.storage.bytes)
    ledger.moment("loss", phase="loss")
    tape.append(_Backward("loss", (output,), _Value(loss_keeps, False, ()), (loss_keeps,), (output.storage.bytes,),
                          extra=(TensorSize("gradient of the log-probabilities", product(output.shape)),)))
    _backward(tape, ledger, sizes)
    if copies is not None:
        ledger.drop(copies)
    step_extra = _optimizer_temporaries(optimizer, device, sizes, trainable, largest)
    ledger.moment("optimizer step", step_extra, phase="optimizer step")
    return TrainingMemory(batch, dtype, optimizer, mixed, device, tuple(per_layer.items()), saved_bytes, param_bytes,
                          grad_bytes, optimizer_bytes, weight_copy, source.bytes, tuple(peaks.moments), peaks.peak,
                          peaks.live_at_peak)


class _CudaSizes(Sizes):
    """On CUDA, dropout's fused kernel keeps a mask of bytes."""

    def of(self, size: TensorSize) -> int:
        if size.what == "mask" and size.per_image and size.dtype is None:
            return int(size.elements) * self.batch
        return super().of(size)


def _saved_total(tape: list[_Backward]) -> int:
    return sum({id(s): s.bytes for record in tape for s in record.saved}.values())


def _optimizer_temporaries(optimizer: str, device: str, sizes: Sizes, trainable: int, largest: int) -> tuple[Held, ...]:
    """Adam's denominator sqrt(v)/c + eps: per tensor on the CPU (the square root and the quotient
    side by side), for all tensors at once with CUDA's multi-tensor kernels. SGD updates in place."""
    if OPTIMIZER_STATE[optimizer] < 2:
        return ()
    if device == "cuda":
        return (Held("Adam's denominators", sizes.parameters(trainable)),)
    return (Held("Adam's denominator (largest tensor)", 2 * sizes.parameters(largest)),)


def _backward(tape: list[_Backward], ledger: _Ledger, sizes: Sizes) -> None:
    """Run the recorded layers backward: gradients are made, accumulated, passed on and freed."""
    gradients: dict[int, _Storage] = {}  # id(value) -> its gradient, complete once its consumers have run
    for record in reversed(tape):
        gradient = gradients.pop(id(record.output), None)
        new = tuple(Held(f"{record.name} input gradient", b) for b, x in zip(record.input_gradients, record.inputs)
                    if b and x.needs_grad)
        extra = new + _workspace_held(record.name, record.extra, sizes.of)
        if record.param_grad_bytes:
            extra += (Held(f"{record.name} parameter gradients", record.param_grad_bytes),)
        ledger.moment(record.name, extra, phase="backward" if record.name != "loss" else "loss")
        if record.param_grad_bytes:
            ledger.make(f"{record.name} parameter gradients", record.param_grad_bytes)
        for x, nbytes in zip(record.inputs, record.input_gradients):
            if not x.needs_grad:
                continue
            if nbytes:
                contribution = ledger.make(f"gradient of {record.name}'s input", nbytes)
            elif gradient is not None:
                contribution = ledger.hold(gradient)
            else:
                continue
            _accumulate(gradients, x, contribution, ledger, record.name)
        for storage in record.saved:
            ledger.drop(storage)
        if gradient is not None:
            ledger.drop(gradient)


def _accumulate(gradients: dict, x: _Value, contribution: _Storage, ledger: _Ledger, name: str) -> None:
    """Add a consumer's gradient into the input's: the first is kept as it is; a later one is added in
    place where the kept one is nobody else's, else into a new tensor."""
    key = id(x)
    kept = gradients.get(key)
    if kept is None:
        gradients[key] = contribution
        return
    ledger.moment(f"{name} (accumulating)", phase="backward")
    if kept.holders > 1:
        total = ledger.make(f"gradient of {name}'s input, accumulated", kept.bytes)
        ledger.drop(kept)
        gradients[key] = total
    ledger.drop(contribution)


# --- sizes as people write them ------------------------------------------------------------------

BYTE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
              "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_byte_size(text: str) -> int:
    """Bytes from ``24GB`` (10^9), ``24GiB`` (2^30), ``512 MiB`` or ``1e9``.

    >>> parse_byte_size("24GiB"), parse_byte_size("1.5 GB"), parse_byte_size("4096")
    (25769803776, 1500000000, 4096)
    """
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in BYTE_UNITS:
        raise ArchcalcError(f"cannot read {text!r} as a size: write e.g. 24GiB (2^30 bytes each), 24GB (10^9), "
                            f"512MiB or a number of bytes")
    value = float(match.group(1)) * BYTE_UNITS[match.group(2)]
    if not 0 < value <= 2 ** 64:
        raise ArchcalcError(f"{text!r} is not a memory size a device has (more than 0 bytes, at most 2^64)")
    return int(value)


# --- the largest batch that fits ------------------------------------------------------------------


def largest_batch(peak_at: Callable[[int], int], limit_bytes: int) -> Fit:
    """The largest batch whose peak fits ``limit_bytes``: the peak grows with the batch, so double
    until it does not fit, then bisect."""
    if peak_at(1) > limit_bytes:
        return Fit(limit_bytes, 0, 0, peak_at(1))
    low, high = 1, 2
    while high <= MAX_BATCH and peak_at(high) <= limit_bytes:
        low, high = high, high * 2
    if high > MAX_BATCH:
        return Fit(limit_bytes, low, peak_at(low), peak_at(low + 1))
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if peak_at(middle) <= limit_bytes else (low, middle)
    return Fit(limit_bytes, low, peak_at(low), peak_at(low + 1))


def row_live_bytes(analysis: Analysis, moments: tuple[Moment, ...]) -> dict[str, int]:
    """The most bytes live while each row of the table runs: a row with folded layers, the most over
    them; a block collapsed into one row (``--depth``), the most over its members."""
    by_name: dict[str, int] = {}
    for moment in moments:
        parts = moment.name.split("/")
        for end in range(1, len(parts) + 1):  # the layer, and every block around it
            prefix = "/".join(parts[:end])
            by_name[prefix] = max(by_name.get(prefix, 0), moment.live_bytes)
    rows: dict[str, int] = {}
    for row in analysis.rows:
        live = [by_name[name] for name in (row.name,) + row.folded_names if name in by_name]
        if live:
            rows[row.name] = max(live)
    return rows


__all__ = ["DEVICES", "OPTIMIZERS", "PHASES", "Fit", "Held", "InferenceMemory", "Moment", "Sizes",
           "TrainingMemory", "in_place_layers", "inference_memory", "largest_batch", "parse_byte_size", "row_live_bytes",
           "training_memory"]
