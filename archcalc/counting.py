"""Counting conventions, named: what each well-known source counts as "params" and "FLOPs".

Every tool agrees on the shapes; they differ in what they count. A profile says what it starts
from (MACs, or 2 per MAC; params with biases, or weights only), and each layer kind says, in its
own ``costs`` table keyed by profile name, what that tool adds for it (as fvcore keys its
handlers by op). The rules, as the kinds state them:

* ``archcalc`` / ``torchvision``: params with biases; ops = multiply-accumulates of conv and fc
  (torchvision's "GFLOPS" column is this number in units of 10^9);
* ``slide``: weights only, as the lecture slide and most papers' tables ("not counting biases");
* ``flops``: 2 x MACs (a multiply and an add);
* ``fvcore``: MACs + 2 per batch-norm element (1 without affine) + 1 per adaptive-pool input;
* ``ptflops`` (its default "pytorch" backend, 0.7.x): MACs + 1 per biased output + 2 per batch-norm
  element + 2 per ReLU, pooling and adaptive-pooling input element (its module hook and its patched
  functional both count them) + 1 per softmax element + for LRN, (C + n - 1)*H*W for the average
  pooling PyTorch runs inside it plus 3 per element;
* ``ptflops-aten``: MACs + 1 per biased output;
* ``thop`` (0.1.1): MACs + 4 per batch-norm element + (k + 1) per adaptive-avg-pool output, k the
  window, + 1 per fixed-window average-pool output + 3N - 1 per softmax over N;
* ``mults-adds``: multiplications plus additions, as textbooks count FLOPs: a k-term dot product is
  k multiplications and k - 1 additions, 2k - 1 per output, 2k where a bias is added.
* ``keras``: params + the batch norms' moving mean and variance (non-trainable, 2 per channel), and
  the conv biases where Keras' version of the network keeps them (``keras_conv_biases = true``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .dims import Dim, normalize
from .errors import ArchcalcError

if TYPE_CHECKING:
    from .engine import Analysis


@dataclass(frozen=True)
class Profile:
    name: str
    ops_name: str
    reason: str
    kilo: int = 1000
    ops_per_mac: int = 1  # "flops" counts a multiply-accumulate as two operations
    with_biases: bool = True  # the slide and GoogLeNet's table count weights only


PROFILES = {p.name: p for p in (
    Profile("archcalc", "MACs", "conv and fc multiply-accumulates; params with biases"),
    Profile("torchvision", "GFLOPS x 10^9",
            "torchvision's GFLOPS column counts conv and linear multiply-adds, as archcalc does"),
    Profile("slide", "MACs", "weights only: the lecture slide and most papers leave the biases out", with_biases=False),
    Profile("paper-k1024", "MACs", "weights only in units of K = 1024 (GoogLeNet's Table 1)", kilo=1024,
            with_biases=False),
    Profile("flops", "FLOPs", "a multiply-accumulate is two floating-point operations", ops_per_mac=2),
    Profile("mults-adds", "FLOPs", "multiplications plus additions: (2k - 1) per k-term dot product, 2k with the bias",
            ops_per_mac=2),
    Profile("fvcore", "flops",
            "fvcore counts a MAC as one flop, and adds batch norm (2 per element) and adaptive average pooling"),
    Profile("ptflops", "MACs", "ptflops (pytorch backend) adds bias adds, batch norm, ReLU, pooling and softmax elements"),
    Profile("ptflops-aten", "MACs", "ptflops' aten backend adds one operation per biased output"),
    Profile("thop", "MACs", "thop adds 4 per batch-norm element, adaptive pooling and softmax, and ignores biases and ReLU"),
    Profile("keras", "MACs", "Keras also counts each batch norm's moving mean and variance (non-trainable)"),
)}


@dataclass(frozen=True)
class ConventionTotals:
    profile: Profile
    params: Dim
    ops: Dim


def apply(analysis: Analysis, name: str) -> ConventionTotals:
    """The totals as the profile ``name`` counts them: its starting point, plus what each layer's
    kind says that tool adds for it."""
    from .layers import KINDS, Usage

    if name not in PROFILES:
        raise ArchcalcError(f"unknown convention {name!r} (known: {', '.join(PROFILES)})")
    profile, totals = PROFILES[name], analysis.totals
    ops = normalize(profile.ops_per_mac * totals.macs)
    params = totals.params if profile.with_biases else totals.weights
    for layer in analysis.spec.leaves():
        usage = Usage(layer, analysis.inputs[layer.name], analysis.steps[layer.name], analysis.spec.meta)
        extra = KINDS[layer.kind].cost(name, usage)
        ops, params = normalize(ops + extra.ops), normalize(params + extra.params)
    return ConventionTotals(profile, params, ops)


def all_conventions(analysis: Analysis) -> list[ConventionTotals]:
    return [apply(analysis, name) for name in PROFILES]
