"""The registry of layer kinds, and what a plugin kind is built from. Importing this package
registers every built-in family; plugins come from the entry-point group ``archcalc.kinds``.

See docs/kinds.md for how a kind is built, with a complete plugin as the example.
"""
from . import activation, channels, conv, linear, merge, norm, opaque, pool, resample, shortcut  # noqa: F401  (each registers)
from ..working import Worked, divided, given, labelled, plus, times
from .base import (BOOL, COUNT, DILATION, NATURAL, NUMBER, PADDING, PAIR, PAIR0, PROBABILITY, CapabilityError, Choice,
                   Cost, Dilation, Field, FieldType, Layer, LayerKind, TensorSize, Shape, Shorthand, Slip, Step, TorchModule,
                   Trait, Usage, choice, per_input, per_output, require_map, require_sequence)
from .merge import MERGES, MergeKind, register_merge
from .registry import ENTRY_POINT_GROUP, KINDS, PluginError, kind_named, register

__all__ = ["BOOL", "COUNT", "DILATION", "ENTRY_POINT_GROUP", "KINDS", "MERGES", "NATURAL", "NUMBER", "PADDING", "PAIR",
           "PAIR0", "PROBABILITY", "CapabilityError", "Choice", "Cost", "Dilation", "Field", "FieldType", "Layer",
           "LayerKind", "MergeKind", "PluginError", "TensorSize", "Shape", "Shorthand", "Slip", "Step", "TorchModule",
           "Trait", "Usage", "Worked", "choice", "divided", "given", "kind_named", "kind_of", "labelled", "per_input",
           "per_output", "plus", "register", "register_merge", "require_map", "require_sequence", "times"]


def kind_of(name: str):
    """The kind or merge whose rows are called ``name`` (None for the input row and collapsed blocks)."""
    return MERGES.get(name) or (KINDS.find(name) if KINDS.known(name) else None)
