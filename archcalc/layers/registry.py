"""The one registry of layer kinds: name -> kind object."""
from __future__ import annotations

from ..errors import Location, SpecError
from .base import LayerKind, nearest

KINDS: dict[str, LayerKind] = {}


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator: instantiate the kind and file it under its name (once)."""
    kind = cls()
    if kind.name in KINDS:
        raise ValueError(f"layer kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return cls


def kind_named(name: str, location: Location | None = None) -> LayerKind:
    """The kind called ``name``; an unknown name lists the known ones and suggests the nearest."""
    if name in KINDS:
        return KINDS[name]
    hint = nearest(name, KINDS)
    known = ", ".join(sorted(KINDS))
    message = f"unknown layer kind {name!r}" + (f"; {hint}" if hint else "") + f" (known kinds: {known})"
    raise SpecError(message, location)
