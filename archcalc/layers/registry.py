"""The one registry of layer kinds: name -> kind object."""
from __future__ import annotations

from ..errors import Location, SpecError
from .base import LayerKind, nearest

KINDS: dict[str, LayerKind] = {}
ALIASES = {  # names students and other tools use for the same kinds
    "pool": "maxpool", "max": "maxpool", "avg": "avgpool", "conv2d": "conv", "linear": "fc", "dense": "fc",
    "bn": "batchnorm", "norm": "lrn", "convtranspose": "deconv", "transposedconv": "deconv",
    "conv_transpose": "deconv", "depthwise": "dwconv", "separable": "sepconv", "gap": "globalavgpool",
}


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator: instantiate the kind and file it under its name (once)."""
    kind = cls()
    if kind.name in KINDS:
        raise ValueError(f"layer kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return cls


def kind_named(name: str, location: Location | None = None) -> LayerKind:
    """The kind called ``name`` (any case, or a common alias such as ``dense``); an unknown name lists
    the known ones and suggests the nearest.

    >>> kind_named("Dense").name
    'fc'
    """
    key = name.lower()
    key = ALIASES.get(key, key)
    if key in KINDS:
        return KINDS[key]
    hint = nearest(name, KINDS)
    known = ", ".join(sorted(KINDS))
    message = f"unknown layer kind {name!r}" + (f"; {hint}" if hint else "") + f" (known kinds: {known})"
    raise SpecError(message, location)
