"""The lecture's two questions, answered with figures computed from the specs.

1. How does AlexNet differ from LeCun et al. 1989, and why the leap in accuracy? -- ``how_much_bigger``
   (units, connections, parameters, MACs, depth) beside what the comparison matrix says of their
   layers (ReLU, dropout, LRN, data augmentation).
2. How did VGG, GoogLeNet and ResNet improve accuracy while parameters fell? -- ``fc_share`` (where
   the parameters sit: AlexNet and VGG keep most of theirs in three fully connected layers,
   GoogLeNet and ResNet have one small one), ``pointwise_savings`` (what the 1x1 convolutions that
   reduce channels save: an Inception module and a ResNet bottleneck against the same block
   without them) and ``per_error_point`` (parameters and MACs per point of top-5 error).

Nothing here names a layer kind: a kind says whether it is weighted and convolutional, and reports
its kernel sizes as a trait (archcalc.layers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .dims import is_symbolic
from .engine import Analysis
from .expand import Block, Layer, Parallel, leaves
from .layers import KINDS, MERGES, LayerKind, kind_of


def fc_params(analysis: Analysis) -> int:
    """Parameters in fully connected layers: weighted kinds that are not convolutional."""
    return sum(row.params for row in analysis.rows
               if isinstance(kind := kind_of(row.kind), LayerKind) and kind.weighted and not kind.convolutional)


def fc_share(analysis: Analysis) -> float | None:
    """Percentage of the parameters in fully connected layers (None where sizes are symbolic)."""
    total = analysis.totals.params
    if is_symbolic(total) or not total:
        return None
    return round(100 * fc_params(analysis) / total, 1)


@dataclass(frozen=True)
class BlockSaving:
    """One block with its 1x1 channel reductions and the same block without them: each branch's
    other convolutions then read the block's input channels and write the branch's output channels."""

    block: str
    input_shape: tuple
    with_weights: int
    without_weights: int
    with_macs: int
    without_macs: int
    plain: bool = True  # no branch keeps weights of its own (a projection shortcut)

    @property
    def ratio(self) -> float:
        return self.without_weights / self.with_weights if self.with_weights else 1.0


@dataclass(frozen=True)
class Savings:
    """The first block that saves and has no projection shortcut (the lecture's example: inception
    3a, a ResNet bottleneck on the 256-channel path), and the sum over every block that saves."""

    example: BlockSaving
    blocks: int
    with_weights: int
    without_weights: int
    with_macs: int
    without_macs: int


def pointwise_savings(analysis: Analysis) -> Savings | None:
    """What the 1x1 reductions save in every branched block of the main path; None where none does.

    GoogLeNet's inception 3a reads 28x28x192: its 1x1, 3x3 and 5x5 branches without the
    reductions hold 192*64 + 9*192*128 + 25*192*32 = 387,072 weights (the pool branch passes
    its input on); with them, 163,328.
    """
    if any(is_symbolic(d) for d in analysis.spec.input_shape):
        return None
    found = [saving for node in _parallels(analysis.spec.layers)
             if (saving := _block_saving(analysis, node)) and saving.without_weights > saving.with_weights]
    if not found:
        return None
    example = next((saving for saving in found if saving.plain), found[0])
    return Savings(example, len(found), sum(s.with_weights for s in found), sum(s.without_weights for s in found),
                   sum(s.with_macs for s in found), sum(s.without_macs for s in found))


def _parallels(nodes):
    """Branched blocks on the main path (side outputs, which pass their input on, are left out)."""
    for node in nodes:
        if isinstance(node, Parallel) and not MERGES[node.merge].passes_input:
            yield node
        elif isinstance(node, Block):
            yield from _parallels(node.body)


def _block_saving(analysis: Analysis, node: Parallel) -> BlockSaving | None:
    first = next((layer for branch in node.branches for layer in leaves(branch)), None)
    if first is None:
        return None
    block_input = analysis.inputs[first.name]
    with_w = with_m = without_w = without_m = 0
    plain = True
    for branch in node.branches:
        layers = leaves(branch)
        if not layers:  # an identity shortcut
            continue
        steps = [analysis.steps[layer.name] for layer in layers if _holds_weights(layer)]
        branch_w, branch_m = sum(step.weights.value for step in steps), sum(step.macs.value for step in steps)
        with_w, with_m = with_w + branch_w, with_m + branch_m
        weighted = [layer for layer in layers if KINDS[layer.kind].weighted]
        pointwise = [layer for layer in weighted if _is_pointwise(analysis, layer)]
        others = [layer for layer in weighted if layer not in pointwise]
        alone = not others and layers[0] in pointwise  # a 1x1 conv that reads the block's input itself
        reduces = bool(pointwise) and analysis.steps[pointwise[0].name].shape[-1] < block_input[-1]
        if not reduces or alone:  # no 1x1 reduction here (MobileNet's 1x1s expand), or a 1x1 branch
            plain = plain and (alone or not branch_w)
            without_w, without_m = without_w + branch_w, without_m + branch_m
            continue
        # without the 1x1s: the first other conv reads the block's input, the last writes the branch's output
        removed = [analysis.steps[layer.name] for layer in weighted]
        without_w += branch_w - sum(step.weights.value for step in removed)
        without_m += branch_m - sum(step.macs.value for step in removed)
        branch_out = analysis.steps[weighted[-1].name].shape[-1]
        for number, layer in enumerate(others):
            step = analysis.steps[layer.name]
            scale = Fraction(1)
            if number == 0:
                scale *= Fraction(block_input[-1], analysis.inputs[layer.name][-1])
            if number == len(others) - 1:
                scale *= Fraction(branch_out, step.shape[-1])
            without_w += step.weights.value * scale
            without_m += step.macs.value * scale
    return BlockSaving(node.name.rsplit("/", 1)[0], tuple(block_input), int(with_w), int(without_w), int(with_m),
                       int(without_m), plain)


def _holds_weights(layer: Layer) -> bool:
    """Convolutions and fully connected layers (a batch norm's scale is not counted as a weight here)."""
    kind = KINDS[layer.kind]
    return kind.weighted or kind.convolutional


def _is_pointwise(analysis: Analysis, layer: Layer) -> bool:
    """A convolution whose kernel is 1x1 (its kind reports the kernel sizes)."""
    kind = KINDS[layer.kind]
    if not kind.convolutional:
        return False
    sizes = {trait.key: value for trait, value in kind.traits(layer, analysis.inputs[layer.name]).items()}
    return sizes.get("kernel_sizes") in (1, (1,), [1])


def per_error_point(analysis: Analysis) -> tuple[int, int] | None:
    """Parameters and MACs per point of top-5 error, where the spec states the error."""
    error = analysis.spec.meta.get("top5_error")
    totals = analysis.totals
    if not isinstance(error, (int, float)) or is_symbolic(totals.params) or is_symbolic(totals.macs):
        return None
    return round(totals.params / error), round(totals.macs / error)


@dataclass(frozen=True)
class Bigger:
    """How much bigger ``big`` is than ``small``: quantity -> (small, big, big / small)."""

    small: str
    big: str
    quantities: dict


def how_much_bigger(small: Analysis, big: Analysis) -> Bigger:
    """Units (output values), connections, parameters, MACs and depth of two networks, with ratios."""
    def figures(analysis: Analysis) -> dict:
        totals = analysis.totals
        return {"input values": math.prod(analysis.spec.input_shape), "units (output values)": totals.memory,
                "connections": totals.connections, "parameters": totals.params, "MACs": totals.macs,
                "weighted layers": analysis.depth}

    left, right = figures(small), figures(big)
    return Bigger(small.spec.name, big.spec.name,
                  {key: (left[key], right[key], (right[key] / left[key]) if left[key] else None) for key in left})

