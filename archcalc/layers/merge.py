"""How parallel branches merge (``{concat = [...]}``, ``{add = [...]}``, ``{side = [...]}``): each
merge is one object that knows its output shape, its working, its label, how the lowering
combines the branches, and what the comparison reports about it."""
from __future__ import annotations

from ..dims import Dim, format_dim, format_shape, is_zero, normalize, product
from ..errors import Location, ShapeError
from ..working import given
from .base import TensorSize, Shape, Step, Trait

INCEPTION = Trait("inception", "inception (concatenated branches)", rank=60)
DENSE = Trait("dense", "dense connectivity (input concatenated to output)", rank=65)
RESIDUAL = Trait("residual", "residual (added branches)", rank=70)
SQUEEZE_EXCITATION = Trait("squeeze_excitation", "squeeze-and-excitation (channel gates)", rank=75)


class MergeKind:
    """Base of the ways branches merge."""

    name = ""
    summary = ""
    passes_input = False  # the branch is an extra output, and the input passes on unchanged
    worked_example = False
    torch_combine: str | None = None  # how archcalc.lower.modules.Branches combines the outputs
    reports: tuple[Trait, ...] = ()  # the comparison rows this merge fills in
    aligned = True  # its branches' receptive fields should line up (a gate's whole-map field need not)
    onnx_ops: tuple[str, ...] = ()  # the ONNX operators that merge branches this way

    def from_onnx(self, node, graph) -> bool:
        """Whether ``node`` (one of ``onnx_ops``, reading two or more activations) is this merge."""
        return True

    def combine(self, name: str, location: Location, outputs: list[Shape], assumptions: list[str]) -> Step:
        raise NotImplementedError

    def traits(self, branches: tuple) -> dict:
        """What the comparison reports about a merge of these branches (lists of layers): by default,
        yes to each trait it reports."""
        return {trait: True for trait in self.reports}

    def saved_for_backward(self, outputs: list[Shape], step: Step) -> tuple[TensorSize, ...]:
        return ()  # concatenation and addition need only sizes for their backward pass

    def inference_workspace(self, outputs: list[Shape], step: Step) -> tuple[TensorSize, ...]:
        """Besides the branch outputs: the merged output, and for a sum or product of more than two
        branches the running partial result (Python's operators take two at a time)."""
        out = TensorSize("output", product(step.shape))
        return ((TensorSize("partial result", product(step.shape)),) if len(outputs) > 2 and self.torch_combine != "cat"
                else ()) + (out,)


MERGES: dict[str, MergeKind] = {}


def register_merge(cls: type[MergeKind]) -> type[MergeKind]:
    MERGES[cls.name] = cls()
    return cls


def shape_text(shape: Shape) -> str:
    return format_shape(shape)


def _same(a: Dim, b: Dim, assumptions: list[str], what: str) -> bool:
    verdict = is_zero(normalize(a - b))
    if verdict is None:
        assumptions.append(what)
        return True
    return verdict


def first_mismatch(name: str, outputs: list[Shape], assumptions: list[str], with_channels: bool) -> int | None:
    """The number of the first branch whose shape differs from branch 1's (in every dimension, or in all
    but the channels); sizes that only the symbols decide are assumed equal, and the assumption noted."""
    first = outputs[0]
    for number, shape in enumerate(outputs[1:], start=2):
        pairs = zip(first, shape) if with_channels else zip(first[:-1], shape[:-1])
        note = f"{name}: branch sizes {shape_text(first)} and {shape_text(shape)} are assumed equal"
        if len(shape) != len(first) or not all(_same(a, b, assumptions, note) for a, b in pairs):
            return number
    return None


@register_merge
class Concat(MergeKind):
    name = "concat"
    summary = "channel concatenation: spatial sizes must agree; channels add up (Inception)"
    worked_example = True
    torch_combine = "cat"
    onnx_ops = ("Concat",)
    reports = (INCEPTION, DENSE)

    def from_onnx(self, node, graph) -> bool:
        axis = node.attribute("axis")
        return axis == 1 or (graph.channels_last(node.inputs[0]) and axis in (-1, 3))

    def traits(self, branches: tuple) -> dict:
        """Concatenated branches are Inception's; the input itself concatenated (an empty branch) is
        DenseNet's dense connectivity."""
        found = {INCEPTION: True} if sum(1 for branch in branches if branch) > 1 else {}
        return found | ({DENSE: True} if any(not branch for branch in branches) else {})

    def combine(self, name, location, outputs, assumptions) -> Step:
        first = outputs[0]
        number = first_mismatch(name, outputs, assumptions, with_channels=False)
        if number:
            raise ShapeError(f"cannot concatenate the branches of {name}: branch 1 gives {shape_text(first)} but "
                             f"branch {number} gives {shape_text(outputs[number - 1])} (all but the channels must "
                             f"match)", location)
        channels = normalize(sum((shape[-1] for shape in outputs), 0))
        parts = "+".join(format_dim(shape[-1]) for shape in outputs)
        return Step(shape=first[:-1] + (channels,), label=f"CONCAT {parts} = {format_dim(channels)}",
                    working=(f"{parts} = {format_dim(channels)} channels",))


@register_merge
class Add(MergeKind):
    name = "add"
    summary = "element-wise addition (a residual connection): every branch gives the same shape"
    worked_example = True
    torch_combine = "sum"
    onnx_ops = ("Add", "Sum")
    reports = (RESIDUAL,)

    def combine(self, name, location, outputs, assumptions) -> Step:
        first = outputs[0]
        number = first_mismatch(name, outputs, assumptions, with_channels=True)
        if number:
            raise ShapeError(f"cannot add the branches of {name}: branch 1 gives {shape_text(first)} but "
                             f"branch {number} gives {shape_text(outputs[number - 1])}", location,
                             "a shortcut must match the residual branch: use a projection or set its stride")
        return Step(shape=first, label="ADD", working=("element-wise sum of the branches",),
                    elementwise=given(normalize((len(outputs) - 1) * product(first))), elementwise_name="additions")


@register_merge
class Multiply(MergeKind):
    name = "multiply"
    summary = "element-wise product: a 1 x 1 x C gate scales each channel of the map (squeeze-and-excitation)"
    worked_example = True
    torch_combine = "mul"
    onnx_ops = ("Mul",)
    reports = (SQUEEZE_EXCITATION,)
    aligned = False

    def combine(self, name, location, outputs, assumptions) -> Step:
        ranks = {len(shape) for shape in outputs}
        shape = tuple(max(sizes, key=lambda d: 0 if d == 1 else 1) for sizes in zip(*outputs)) if len(ranks) == 1 else ()
        for number, branch in enumerate(outputs, start=1):
            fits = len(branch) == len(shape) and all(d == 1 or _same(d, s, assumptions, f"{name}: branch sizes "
                                                                  f"{shape_text(branch)} and {shape_text(shape)} are "
                                                                  "assumed equal") for d, s in zip(branch, shape))
            if not fits:
                raise ShapeError(f"cannot multiply the branches of {name}: branch {number} gives "
                                 f"{shape_text(branch)}, which does not broadcast to {shape_text(shape or outputs[0])}",
                                 location, "a gate is 1 x 1 x C for a map of H x W x C")
        parts = " * ".join(shape_text(branch) for branch in outputs)
        return Step(shape=shape, label="MULTIPLY", working=(f"{parts} (a 1 broadcasts)",),
                    elementwise=given(normalize((len(outputs) - 1) * product(shape))),
                    elementwise_name="multiplications")

    def saved_for_backward(self, outputs: list[Shape], step: Step) -> tuple[TensorSize, ...]:
        # each factor's gradient needs the other factors: the product keeps its inputs
        return tuple(TensorSize(f"factor {number}", product(shape)) for number, shape in enumerate(outputs, start=1))


@register_merge
class Side(MergeKind):
    name = "side"
    summary = "a side output (an auxiliary classifier): computed, then the input passes on unchanged"
    passes_input = True
