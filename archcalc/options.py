"""The options of an analysis, in one object checked in one place: the library's functions take
them as keywords and build one ``Options``; the CLI declares each once, with the ranges here.

Library messages name an option as Python does (`` `batch` ``); the CLI shows it as its flag
(``--batch``). Nothing here imports more than the standard library, so that ``--help`` stays fast.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ArchcalcError

BATCH_RANGE = (1, 1_000_000)
DEPTH_RANGE = (0, 32)
DTYPES = ("float32", "float16", "bfloat16", "float64", "int8", "uint8")  # archcalc.dtypes.DTYPE_BYTES (a test checks)
CONVENTIONS = ("archcalc", "torchvision", "slide", "paper-k1024", "flops", "mults-adds", "fvcore", "ptflops",
               "ptflops-aten", "thop", "keras")  # archcalc.counting.PROFILES (a test checks)


@dataclass(frozen=True)
class Options:
    """How to read and count a network.

    >>> Options(batch=8, dtype="float16").batch
    8
    >>> Options(batch=0)
    Traceback (most recent call last):
    archcalc.errors.ArchcalcError: `batch` must be a whole number in 1..1,000,000, found 0
    """

    input: str | tuple | None = None  # another input size ("224x224x3", "HxWx3")
    batch: int = 1
    dtype: str = "float32"
    no_bias: bool = False  # biases left out, as the lecture slide does
    convention: str = "archcalc"  # how MACs and parameters are counted (archcalc.counting.PROFILES)
    caffe_pooling: bool = False  # every pooling rounds up
    dilation_from_zero: bool = False  # a written dilation counts the gaps between taps
    depth: int | None = None  # blocks nested deeper shown as one row each
    strict: bool = False  # a non-integer output size is an error, not a floor
    as_exported: bool = False  # an ONNX file counted as it stands (batch norms the exporter folded left folded)

    def __post_init__(self) -> None:
        _whole("batch", self.batch, BATCH_RANGE)
        if self.depth is not None:
            _whole("depth", self.depth, DEPTH_RANGE)
        _one_of("dtype", self.dtype, DTYPES)
        _one_of("convention", self.convention, CONVENTIONS)
        for name in ("no_bias", "caffe_pooling", "dilation_from_zero", "strict", "as_exported"):
            if not isinstance(getattr(self, name), bool):
                raise ArchcalcError(f"`{name}` must be true or false, found {getattr(self, name)!r}")


def _whole(name: str, value, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ArchcalcError(f"`{name}` must be a whole number in {low:,}..{high:,}, found {value!r}")


def _one_of(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ArchcalcError(f"unknown {name} {value!r} (known: {', '.join(choices)})")


def as_flags(text: str) -> str:
    """A library message as the CLI says it: each `` `option_name` `` as its flag ``--option-name``.

    >>> as_flags("`layers` needs `input` (e.g. `input` 32x32x3)")
    '--layers needs --input (e.g. --input 32x32x3)'
    """
    return re.sub(r"`([a-z][a-z_0-9]*)`", lambda match: "--" + match.group(1).replace("_", "-"), text)


__all__ = ["BATCH_RANGE", "CONVENTIONS", "DEPTH_RANGE", "DTYPES", "Options", "as_flags"]
