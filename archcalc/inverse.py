"""Inverse questions: which input sizes divide exactly everywhere, and which kernel, stride or
padding turns one size into another."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .graph import INPUT, Graph, GraphNode
from .errors import ShapeError, SpecError
from .formulas import effective_kernel, transposed_conv_output_size
from .spec import ModelSpec

MAX_SEARCH = 4096


@dataclass(frozen=True)
class InputSizes:
    runs: tuple[int, ...]  # sizes at which the network runs at all (floor where needed)
    exact: tuple[int, ...]  # sizes at which every conv and pool divides exactly
    period: int | None  # exact sizes are exact[0] + period * k (within the range searched)
    maximum: int


def input_sizes(spec: ModelSpec, maximum: int = 1024) -> InputSizes:
    """Square input sizes 1..maximum (channels as in the spec) that run, and that divide exactly.

    >>> from archcalc.spec import load_spec
    >>> sizes = input_sizes(load_spec("alexnet"), 300)
    >>> sizes.exact[:3], sizes.period
    ((67, 99, 131), 32)
    """
    if not 1 <= maximum <= MAX_SEARCH:
        raise SpecError(f"the search range must be 1..{MAX_SEARCH}, found {maximum}")
    channels = spec.input_shape[-1]
    if not isinstance(channels, int):
        raise SpecError("the channel count must be a number to search input sizes")
    spatial = len(spec.input_shape) - 1
    if spatial == 0:
        raise SpecError("a vector input has no spatial size to search")
    runs, exact = [], []
    seen: dict = {}  # (shape rule, input shapes) -> (output shape or None, exact): few distinct ones
    for size in range(1, maximum + 1):
        divides = _divides(spec.graph, (size,) * spatial + (channels,), seen)
        if divides is None:
            continue  # too small: some kernel does not fit its input, here or after the pools
        runs.append(size)
        if divides:
            exact.append(size)
    return InputSizes(tuple(runs), tuple(exact), _period(exact), maximum)


def _divides(graph: Graph, shape: tuple, seen: dict) -> bool | None:
    """Whether every window divides exactly on this input (flooring where needed, every layer must
    still fit: a strict walk would stop at the first floor); None where some layer does not fit.
    Only the shape rules run, each once per distinct layer and input size over the whole search."""
    values = {INPUT: shape}
    exact = True
    for node in graph.nodes:
        inputs = tuple(values[name] for name in node.inputs)
        key = (_rule_key(node), inputs)
        found = seen.get(key)
        if found is None:
            found = seen[key] = _shape_of(node, inputs)
        if found[0] is None:
            return None
        values[node.name] = found[0]
        exact = exact and found[1]
    return exact


def _rule_key(node: GraphNode):
    """What a node's shape rule depends on: its kind and fields (identical layers share their answers),
    or its name where a field's value cannot be a key."""
    if node.layer is None:
        return node.merge
    try:
        key = (node.layer.kind, tuple(node.layer.fields.items()))
        hash(key)
    except TypeError:
        return node.name
    return key


def _shape_of(node: GraphNode, inputs: tuple) -> tuple:
    try:
        if node.layer is not None:
            step = node.kind.infer(node.layer, inputs[0])
        else:
            step = node.kind.combine(node.name, node.location, list(inputs), [])
    except ShapeError:
        return None, False
    return step.shape, not step.inexact


def _period(values: list[int]) -> int | None:
    steps = {b - a for a, b in zip(values, values[1:])}
    return steps.pop() if len(steps) == 1 else None


@dataclass(frozen=True)
class Solution:
    kernel: int
    stride: int
    pad: int  # before (and after, unless ``pad_after`` says otherwise)
    dilation: int
    output: int
    exact: bool
    working: str
    pad_after: int | None = None  # uneven padding: the total is pad + pad_after (TensorFlow puts the extra after)
    output_padding: int = 0  # a transposed conv's extra rows on one side (PyTorch's output_padding)

    @property
    def pad_text(self) -> str:
        """``2``, or ``1+2 (3 in all)`` where the padding is uneven."""
        if self.pad_after is None:
            return str(self.pad)
        return f"{self.pad}+{self.pad_after} ({self.pad + self.pad_after} in all)"


def solve_window(size: int, target: int | str, kernel: int | None = None, stride: int | None = None,
                 pad: int | None = None, dilation: int = 1, transposed: bool = False) -> list[Solution]:
    """Every (kernel, stride, pad) that is not fixed, within sensible ranges, that turns ``size`` into
    ``target`` (``"same"`` keeps the size at stride 1, or gives ceil(size/stride)). Where no even
    padding divides exactly, uneven padding (one more after, as TensorFlow's SAME pads) is tried; a
    transposed conv also tries output_padding (0 up to the stride or dilation, less one).

    >>> [(s.pad, s.working) for s in solve_window(32, 32, kernel=5, stride=1)]
    [(2, '(32 - 5 + 2*2)/1 + 1 = 32')]
    >>> [s.pad_text for s in solve_window(224, 55, kernel=11, stride=4) if s.exact]
    ['1+2 (3 in all)']
    """
    if size < 1 or (isinstance(target, int) and target < 1):
        raise SpecError("sizes must be at least 1")
    kernels = [kernel] if kernel else range(1, min(size + 64, 32) + 1)
    strides = [stride] if stride else range(1, min(size, 64) + 1)
    found = []
    for k in kernels:
        pads = [pad] if pad is not None else range(0, k)  # a larger pad puts whole windows in the padding
        for s in strides:
            wanted = (size if s == 1 else -(-size // s)) if target == "same" else target
            for p in pads:
                if transposed:
                    found += _try_transposed(size, wanted, k, s, p, dilation)
                    continue
                solution = _try(size, wanted, k, s, p, dilation)
                if solution:
                    found.append(solution)
                uneven = _try(size, wanted, k, s, p, dilation, after=p + 1) if pad is None else None
                if uneven and uneven.exact:
                    found.append(uneven)
    return sorted(found, key=lambda s: (not s.exact, s.pad_after is not None, *design_rank(s.kernel, s.stride, s.pad),
                                        s.kernel, s.stride, s.pad, s.output_padding))


COMMON_STRIDES = (1, 2, 4)


def design_rank(kernel: int, stride: int, pad: int) -> tuple:
    """How plausible a design is, smallest first: the common strides (1, 2, 4) with a stride no
    larger than the kernel and padding at most half the kernel first; then padding that centres
    the window, (F - 1)/2; then small kernels (up to 3, then 5, then 7).

    >>> sorted([(17, 1, 0), (4, 2, 1), (2, 2, 0)], key=lambda d: design_rank(*d))
    [(2, 2, 0), (4, 2, 1), (17, 1, 0)]
    """
    plausible = stride in COMMON_STRIDES and stride <= max(kernel, 2) and 2 * pad <= kernel and kernel <= 11
    return (not plausible, pad != (kernel - 1) // 2, (kernel + 1) // 2 - 1 if kernel > 3 else 0)


def _try(size, target, kernel, stride, pad, dilation, after: int | None = None) -> Solution | None:
    total = pad + (pad if after is None else after)
    span = size + total - effective_kernel(kernel, dilation)
    if span < 0:
        return None
    out = span // stride + 1
    if out != target:
        return None
    kernel_text = str(kernel) if dilation == 1 else f"({dilation}*({kernel}-1)+1)"
    value = Fraction(span, stride) + 1
    shown = str(value) if value.denominator == 1 else f"{float(value):.4g} -> floor {out}"
    padding = f"2*{pad}" if after is None else f"{pad} + {after}"
    return Solution(kernel, stride, pad, dilation, out, span % stride == 0,
                    f"({size} - {kernel_text} + {padding})/{stride} + 1 = {shown}", after)


def _try_transposed(size, target, kernel, stride, pad, dilation) -> list[Solution]:
    """(W - 1)S - 2P + D(F - 1) + output_padding + 1, for each output_padding PyTorch allows."""
    found = []
    for extra in range(max(stride, dilation)):
        out = transposed_conv_output_size(size, kernel, stride, 2 * pad, dilation, extra)
        if out == target:
            working = (f"({size} - 1)*{stride} - 2*{pad} + {dilation}*({kernel} - 1) + {extra} + 1 = {out}")
            found.append(Solution(kernel, stride, pad, dilation, out, True, working, output_padding=extra))
    return found


@dataclass(frozen=True)
class SizesResult:
    """Square input sizes that run and that divide exactly; and, at one size, what floors."""

    spec: ModelSpec
    found: InputSizes
    at: int | None = None
    at_warnings: tuple[str, ...] = ()

    def render(self) -> str:
        found, model = self.found, self.spec
        shown = ", ".join(map(str, found.exact[:12])) + (", ..." if len(found.exact) > 12 else "")
        lines = [f"{model.name}, square inputs 1..{found.maximum} with {model.input_shape[-1]} channels:"]
        lines.append(f"  smallest input that runs (flooring where needed): {found.runs[0]}" if found.runs else
                     "  no size in the range runs: some kernel is always larger than its input")
        if found.exact:
            form = f" = {found.exact[0]} + {found.period}k" if found.period and len(found.exact) > 1 else ""
            lines += [f"  every layer divides exactly at: {shown}{form}", f"  smallest exact input: {found.exact[0]}"]
        else:
            lines.append("  no size in the range divides exactly at every layer")
        if self.at:
            lines.append(f"at {self.at}: " + (f"{len(self.at_warnings)} layer(s) round:" if self.at_warnings
                                               else "every layer divides exactly"))
            lines += [f"  {warning}" for warning in self.at_warnings]
            nearest = nearest_exact(found.exact, self.at) if self.at_warnings else ()
            if nearest:
                lines.append("  nearest sizes where every layer divides exactly: " + ", ".join(nearest))
        return "\n".join(lines) + "\n"


def nearest_exact(exact: tuple[int, ...], size: int) -> tuple[str, ...]:
    """The exact sizes either side of ``size``: ``("195 below", "227 above")``.

    >>> nearest_exact((67, 99, 131, 163, 195, 227), 224)
    ('195 below', '227 above')
    """
    below = [value for value in exact if value < size]
    above = [value for value in exact if value > size]
    return tuple(([f"{below[-1]} below"] if below else []) + ([f"{above[0]} above"] if above else []))
