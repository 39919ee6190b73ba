"""Counting conventions, named: what each well-known source counts as "params" and "FLOPs".

Every tool agrees on the shapes; they differ in what they count. A profile is a rule over counts
the engine already knows (MACs of conv and fc, elements through each kind of layer):

* ``archcalc`` / ``torchvision``: params with biases; ops = multiply-accumulates of conv and fc
  (torchvision's "GFLOPS" column is this number in units of 10^9);
* ``slide``: weights only, as the lecture slide and most papers' tables ("not counting biases");
* ``flops``: 2 x MACs (a multiply and an add);
* ``fvcore``: MACs + 2 per batch-norm element (1 without affine) + 1 per adaptive-avg-pool input;
* ``ptflops`` (its default "pytorch" backend, 0.7.x): MACs + 1 per biased output + 2 per batch-norm
  element + 2 per ReLU, pooling and adaptive-pooling input element (its module hook and its patched
  functional both count them) + 1 per softmax element + for LRN, (C + n - 1)*H*W for the average
  pooling PyTorch runs inside it plus 3 per element;
* ``ptflops-aten``: MACs + 1 per biased output;
* ``thop`` (0.1.1): MACs + 4 per batch-norm element + (k + 1) per adaptive-avg-pool output, k the
  window, + 1 per fixed-window average-pool output + 3N - 1 per softmax over N;
* ``keras``: params + the batch norms' moving mean and variance (non-trainable, 2 per channel).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .dims import Dim, normalize, product
from .engine import Analysis

RELU_FAMILY = ("relu", "relu6", "leakyrelu", "elu")


@dataclass(frozen=True)
class Counts:
    """Elements that pass through each kind of cheap layer (per image)."""

    bias_adds: Dim = 0
    batchnorm_affine: Dim = 0
    batchnorm_plain: Dim = 0
    batchnorm_channels: Dim = 0
    relu: Dim = 0
    pool_inputs: Dim = 0  # max and average pooling, fixed windows
    adaptive_inputs: Dim = 0  # adaptive and global average pooling
    adaptive_thop: Dim = 0  # (window + 1) * output elements
    softmax: Dim = 0
    softmax_thop: Dim = 0  # 3N - 1 per softmax over N
    avgpool_outputs: Dim = 0  # fixed-window average pooling
    lrn_ptflops: Dim = 0  # (C + n - 1)*H*W for the average pooling inside LRN, + 3 per element


def element_counts(analysis: Analysis) -> Counts:
    """Walk every layer once and count the elements each convention may charge for."""
    totals: dict[str, Dim] = {}

    def add(key: str, value: Dim) -> None:
        totals[key] = normalize(totals.get(key, 0) + value)

    for layer in analysis.spec.leaves():
        x, step = analysis.inputs[layer.name], analysis.steps[layer.name]
        out = product(step.shape)
        if layer.params.get("bias") is True and step.biases:
            add("bias_adds", out)
        if layer.kind == "batchnorm":
            add("batchnorm_affine" if layer["affine"] else "batchnorm_plain", out)
            add("batchnorm_channels", step.shape[-1])
        if layer.kind == "shortcut" and layer["batchnorm"] and step.weights:
            add("batchnorm_affine", out)
            add("batchnorm_channels", step.shape[-1])
        if layer.kind in RELU_FAMILY:
            add("relu", out)
        if layer.kind in ("maxpool", "avgpool"):
            add("pool_inputs", product(x))
        if layer.kind == "avgpool":
            add("avgpool_outputs", out)
        if layer.kind == "lrn":
            add("lrn_ptflops", normalize((x[-1] + layer["size"] - 1) * product(x[:-1]) + 3 * out))
        if layer.kind in ("adaptiveavgpool", "globalavgpool", "adaptivemaxpool", "globalmaxpool"):
            add("adaptive_inputs", product(x))
            window = product(x[:-1]) // product(step.shape[:-1]) if all(isinstance(d, int) for d in x) else 0
            add("adaptive_thop", normalize((window + 1) * out))
        if layer.kind == "softmax":
            add("softmax", out)
            add("softmax_thop", 3 * out - 1)
    return Counts(**totals)


@dataclass(frozen=True)
class Profile:
    name: str
    ops_name: str
    ops: Callable[[Analysis, Counts], Dim]
    params: Callable[[Analysis, Counts], Dim]
    reason: str
    kilo: int = 1000


def _macs(a: Analysis, c: Counts) -> Dim:
    return a.totals.macs


def _params(a: Analysis, c: Counts) -> Dim:
    return a.totals.params


PROFILES = {p.name: p for p in (
    Profile("archcalc", "MACs", _macs, _params, "conv and fc multiply-accumulates; params with biases"),
    Profile("torchvision", "GFLOPS x 10^9", _macs, _params,
            "torchvision's GFLOPS column counts conv and linear multiply-adds, as archcalc does"),
    Profile("slide", "MACs", _macs, lambda a, c: a.totals.weights,
            "weights only: the lecture slide and most papers leave the biases out"),
    Profile("paper-k1024", "MACs", _macs, lambda a, c: a.totals.weights,
            "weights only in units of K = 1024 (GoogLeNet's Table 1)", kilo=1024),
    Profile("flops", "FLOPs", lambda a, c: normalize(2 * a.totals.macs), _params,
            "a multiply-accumulate is two floating-point operations"),
    Profile("fvcore", "flops", lambda a, c: normalize(a.totals.macs + 2 * c.batchnorm_affine + c.batchnorm_plain
                                                      + c.adaptive_inputs), _params,
            "fvcore counts a MAC as one flop, and adds batch norm (2 per element) and adaptive average pooling"),
    Profile("ptflops", "MACs", lambda a, c: normalize(a.totals.macs + c.bias_adds + 2 * c.batchnorm_affine
                                                      + c.batchnorm_plain + 2 * c.relu + 2 * c.pool_inputs
                                                      + 2 * c.adaptive_inputs + c.softmax + c.lrn_ptflops), _params,
            "ptflops (pytorch backend) adds bias adds, batch norm, ReLU, pooling and softmax elements"),
    Profile("ptflops-aten", "MACs", lambda a, c: normalize(a.totals.macs + c.bias_adds), _params,
            "ptflops' aten backend adds one operation per biased output"),
    Profile("thop", "MACs", lambda a, c: normalize(a.totals.macs + 4 * c.batchnorm_affine + 2 * c.batchnorm_plain
                                                   + c.adaptive_thop + c.avgpool_outputs + c.softmax_thop), _params,
            "thop adds 4 per batch-norm element, adaptive pooling and softmax, and ignores biases and ReLU"),
    Profile("keras", "MACs", _macs, lambda a, c: normalize(a.totals.params + 2 * c.batchnorm_channels),
            "Keras also counts each batch norm's moving mean and variance (non-trainable)"),
)}


@dataclass(frozen=True)
class ConventionTotals:
    profile: Profile
    params: Dim
    ops: Dim


def apply(analysis: Analysis, name: str) -> ConventionTotals:
    """The totals under one profile."""
    profile = PROFILES[name]
    counts = element_counts(analysis)
    return ConventionTotals(profile, profile.params(analysis, counts), profile.ops(analysis, counts))


def all_conventions(analysis: Analysis) -> list[ConventionTotals]:
    counts = element_counts(analysis)
    return [ConventionTotals(p, p.params(analysis, counts), p.ops(analysis, counts)) for p in PROFILES.values()]
