"""What a layer kind is: its fields, and the Step it computes from an input shape.

A kind is registered once by name (see ``archcalc.layers``). It validates its own fields,
says what the output shape is, how many weights and biases it has, how many multiply-accumulates
it costs, and how to label it in a table. Adding a kind touches one module.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any, Mapping

from ..dims import Dim, parse_dim
from ..errors import Location, ShapeError, SpecError

Shape = tuple  # (H, W, C) for feature maps, (N,) for vectors; entries are Dims

MAX_DIMENSION = int(os.environ.get("ARCHCALC_MAX_DIMENSION", 10_000_000))
REQUIRED = object()


@dataclass(frozen=True)
class Layer:
    """One expanded layer of a spec: its kind, its name, its validated fields, and where it came from."""

    kind: str
    name: str
    index: int
    params: Mapping[str, Any]
    location: Location

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

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


@dataclass(frozen=True)
class Step:
    """What one layer does to its input: the output shape and the costs, with the working shown."""

    shape: Shape
    memory: Dim | None = None  # new values this layer stores; None: every output value (a view stores none)
    weights: Dim = 0
    biases: Dim = 0
    macs: Dim = 0
    working: tuple[str, ...] = ()  # output-size derivations, one per axis
    weights_formula: str = ""  # "(3*3*3)*64"
    macs_formula: str = ""  # "224*224*64 * 27"
    inexact: tuple[Inexact, ...] = ()
    assumptions: tuple[str, ...] = ()  # conditions on symbols the result relies on
    notes: tuple[str, ...] = ()
    label: str | None = None  # where the label depends on the input (a shortcut's resolved mode)
    # For the receptive field: per spatial axis (effective kernel, stride, padding before), or
    # "global" where every output sees the whole input (fc, global pooling); None: element-wise.
    window: tuple | str | None = None
    explanation: tuple[str, ...] = ()  # extra lines of working for `archcalc explain`


@dataclass(frozen=True)
class TorchModule:
    """A ``torch.nn`` module as data: the class name and its keyword arguments (no torch import).

    >>> TorchModule("Conv2d", (("in_channels", 3), ("out_channels", 64))).source()
    'nn.Conv2d(in_channels=3, out_channels=64)'
    """

    cls: str
    args: tuple[tuple[str, Any], ...] = ()

    def source(self) -> str:
        return f"nn.{self.cls}(" + ", ".join(f"{key}={_literal(value)}" for key, value in self.args) + ")"


def _literal(value: Any) -> str:
    return "float('-inf')" if value == float("-inf") else repr(value)


@dataclass(frozen=True)
class Field:
    """One field a kind accepts: its name, its type, its default, and one line of help."""

    name: str
    type: str  # count, natural, pair, padding, bool, probability, number, text, shape2
    default: Any = REQUIRED
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def coerce(self, raw: Any, location: Location, variables: Mapping[str, Dim] | None = None) -> Any:
        """Check a raw TOML value against the field's type; return the typed value.

        Text is read as an expression of ``variables`` (a block's parameters) where the type is a size.
        """
        return _COERCERS[self.type](raw, location.with_field(self.name), variables or {})


class LayerKind:
    """Base of every layer kind. Subclasses set the class attributes and override ``infer``."""

    name: str = ""
    family: str = ""
    summary: str = ""
    fields: tuple[Field, ...] = ()
    positional: str | None = None  # the field a bare number fills in the compact syntax
    folds: bool = False  # shown in the table row of the layer before (in-place or a view)
    takes_activation: bool = False  # accepts the `activation = "relu"` shorthand
    weighted: bool = False  # counts towards depth (conv, fc)
    convolutional: bool = False  # counts towards the conv-layer depth

    def infer(self, layer: Layer, x: Shape) -> Step:
        raise NotImplementedError

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        """The PyTorch modules that compute this layer on an input of shape ``x`` (HWC)."""
        raise NotImplementedError(f"{self.name} has no PyTorch lowering")

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        """How many weighted layers this is on a path through the network (the papers' depth)."""
        return 1 if self.weighted else 0

    def label(self, layer: Layer) -> str:
        return self.name.upper()

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def nearest(name: str, candidates) -> str:
    """A 'did you mean' hint, or an empty string.

    >>> nearest("maxpol", ["maxpool", "avgpool"])
    "did you mean 'maxpool'?"
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


# --- field coercion -------------------------------------------------------------------------


def _describe(raw: Any) -> str:
    return f"{raw!r} ({type(raw).__name__})"


def _dimension(raw: Any, where: Location, minimum: int, variables: Mapping[str, Dim]) -> Dim:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise SpecError(f"expected a whole number, found {_describe(raw)}", where)
    if isinstance(raw, str):
        try:
            value = parse_dim(raw, variables, new_symbols=False)
        except SpecError as error:
            raise SpecError(error.message, where, error.hint) from None
    else:
        value = raw
    if isinstance(value, int):
        if value < minimum:
            raise SpecError(f"expected a whole number >= {minimum}, found {value}", where)
        if value > MAX_DIMENSION:
            raise SpecError(f"{value:,} is larger than the limit of {MAX_DIMENSION:,}", where,
                            "sizes this large are almost certainly a typo; the environment variable "
                            "ARCHCALC_MAX_DIMENSION raises the limit")
    return value


def _count(raw, where, variables):
    return _dimension(raw, where, 1, variables)


def _natural(raw, where, variables):
    return _dimension(raw, where, 0, variables)


def _pair_of(element):
    """A pair [h, w], or one value for both; zero is allowed where the element allows it."""
    def coerce(raw, where, variables):
        if isinstance(raw, list):
            if len(raw) != 2:
                raise SpecError(f"expected one number or a pair [h, w], found a list of {len(raw)}", where)
            return (element(raw[0], where, variables), element(raw[1], where, variables))
        value = element(raw, where, variables)
        return (value, value)

    return coerce


def _padding(raw, where, variables):
    """int, [ph, pw], [top, bottom, left, right], "same" or "valid" -> "same" or ((t, b), (l, r))."""
    if raw in ("same", "valid"):
        return raw if raw == "same" else ((0, 0), (0, 0))
    if isinstance(raw, list) and len(raw) == 4:
        top, bottom, left, right = (_natural(v, where, variables) for v in raw)
        return ((top, bottom), (left, right))
    if isinstance(raw, list) and len(raw) != 2:
        raise SpecError(f"expected pad as a number, [ph, pw], [top, bottom, left, right], \"same\" or \"valid\", "
                        f"found a list of {len(raw)}", where)
    if isinstance(raw, str) and raw not in ("same", "valid"):
        try:
            value = _natural(raw, where, variables)
        except SpecError:
            raise SpecError(f"expected pad as a number, [ph, pw], \"same\" or \"valid\", found {raw!r}", where,
                            nearest(raw, ["same", "valid"]) or None) from None
        return ((value, value), (value, value))
    pad_h, pad_w = _pair_of(_natural)(raw, where, variables)
    return ((pad_h, pad_h), (pad_w, pad_w))


def _bool(raw, where, variables):
    if not isinstance(raw, bool):
        raise SpecError(f"expected true or false, found {_describe(raw)}", where)
    return raw


def _probability(raw, where, variables):
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw < 1:
        raise SpecError(f"expected a probability in [0, 1), found {_describe(raw)}", where)
    return float(raw)


def _number(raw, where, variables):
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
        raise SpecError(f"expected a number >= 0, found {_describe(raw)}", where)
    return raw


def _text(raw, where, variables):
    if not isinstance(raw, str):
        raise SpecError(f"expected text, found {_describe(raw)}", where)
    return raw


_COERCERS = {
    "count": _count,
    "natural": _natural,
    "pair": _pair_of(_count),
    "pair0": _pair_of(_natural),
    "padding": _padding,
    "bool": _bool,
    "probability": _probability,
    "number": _number,
    "text": _text,
}


def require_map(layer: Layer, x: Shape) -> None:
    """Spatial layers need an H x W x C feature map."""
    if len(x) != 3:
        found = f"a vector of {x[0]} values" if len(x) == 1 else f"a sequence of {x[0]} x {x[1]}"
        raise ShapeError(f"{layer.kind} needs a feature map (H x W x C), but its input is {found}", layer.location)


def require_sequence(layer: Layer, x: Shape) -> None:
    """1-D layers need an L x C sequence."""
    if len(x) != 2:
        found = f"a vector of {x[0]} values" if len(x) == 1 else "a feature map (H x W x C)"
        raise ShapeError(f"{layer.kind} needs a sequence (L x C), but its input is {found}", layer.location)


