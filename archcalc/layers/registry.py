"""The one registry of layer kinds: name -> kind object, with each kind's aliases, and the kinds
that plugins add through the entry-point group ``archcalc.kinds``.

Plugins are looked up only when a name is not among the kinds already known (or when every kind
is listed), because reading the installed packages' entry points costs more than analysing a
network: ``archcalc table vgg16`` never pays for it.
"""
from __future__ import annotations

from typing import Iterator

from ..errors import ArchcalcError, Location, SpecError
from .base import LayerKind, nearest

ENTRY_POINT_GROUP = "archcalc.kinds"


class PluginError(ArchcalcError):
    """An installed plugin kind cannot be loaded or is not a kind."""


class Registry:
    """Kinds by name; a name that is not found makes the registry load the plugins once."""

    def __init__(self) -> None:
        self._kinds: dict[str, LayerKind] = {}
        self._aliases: dict[str, str] = {}
        self._shorthands: list[LayerKind] = []
        self._plugins_loaded = False

    def add(self, kind: LayerKind) -> None:
        if not kind.name or kind.name != kind.name.lower():
            raise ValueError(f"a layer kind needs a lower-case name, found {kind.name!r}")
        for name in (kind.name,) + tuple(kind.aliases):
            if name in self._kinds or name in self._aliases:
                raise ValueError(f"layer kind name {name!r} registered twice")
        self._kinds[kind.name] = kind
        self._aliases.update({alias: kind.name for alias in kind.aliases})
        if kind.shorthand:
            self._shorthands.append(kind)

    def find(self, name: str) -> LayerKind | None:
        """The kind called ``name`` (any case, or an alias), loading plugins if it is not known yet."""
        key = name.lower()
        found = self._known(key)
        if found is None and not self._plugins_loaded:
            self.load_plugins()
            found = self._known(key)
        return found

    def _known(self, key: str) -> LayerKind | None:
        return self._kinds.get(self._aliases.get(key, key))

    def known(self, name: str) -> bool:
        """Whether ``name`` is a kind already registered (plugins are not loaded for this)."""
        return self._known(name.lower()) is not None

    def __getitem__(self, name: str) -> LayerKind:
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __iter__(self) -> Iterator[str]:
        self.load_plugins()
        return iter(sorted(self._kinds))

    def __len__(self) -> int:
        self.load_plugins()
        return len(self._kinds)

    def values(self) -> list[LayerKind]:
        """Every kind, plugins included, in registration order."""
        self.load_plugins()
        return list(self._kinds.values())

    def shorthands(self) -> list[LayerKind]:
        """The kinds registered so far that a key on a conv or fc adds after it, in order."""
        return self._shorthands

    def load_plugins(self) -> bool:
        """Register every kind named in the entry-point group ``archcalc.kinds`` (once). Returns
        whether this call loaded them, so that a caller that missed a name can look again."""
        if self._plugins_loaded:
            return False
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for entry in entry_points(group=ENTRY_POINT_GROUP):
            where = f"the plugin {entry.value!r} (entry point {entry.name!r} of group {ENTRY_POINT_GROUP})"
            try:
                loaded = entry.load()
            except Exception as error:  # a plugin's import can fail in any way; say which plugin
                raise PluginError(f"{where} cannot be loaded: {type(error).__name__}: {error}",
                                  hint="fix or uninstall that package") from None
            if not (isinstance(loaded, type) and issubclass(loaded, LayerKind)):
                raise PluginError(f"{where} names {loaded!r}, which is not a subclass of archcalc.layers.LayerKind")
            if type(self._known(loaded.name)) is loaded:
                continue  # its module registered it on import
            try:
                self.add(loaded())
            except ValueError as error:
                raise PluginError(f"{where}: {error}", hint="a plugin kind needs a name of its own") from None
        return True


KINDS = Registry()


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator (or call): instantiate the kind and register it under its name and aliases."""
    KINDS.add(cls())
    return cls


def kind_named(name: str, location: Location | None = None) -> LayerKind:
    """The kind called ``name`` (any case, or a common alias such as ``dense``); an unknown name lists
    the known ones and suggests the nearest.

    >>> kind_named("Dense").name
    'fc'
    """
    found = KINDS.find(name)
    if found is not None:
        return found
    from .merge import MERGES

    names = list(KINDS)
    merges = [merge for merge, kind in MERGES.items() if not kind.passes_input]
    hint = nearest(name, names + merges)
    raise SpecError(f"unknown layer kind {name!r}" + (f"; {hint}" if hint else "") +
                    f" (known kinds: {', '.join(names)}; merges of named inputs: {', '.join(merges)})", location)
