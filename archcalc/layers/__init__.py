"""The registry of layer kinds. Importing this package registers every family."""
from . import activation, conv, linear, norm, pool, resample, shortcut, variants  # noqa: F401  (each registers)
from .base import Field, Layer, LayerKind, Shape, Step
from .registry import KINDS, kind_named, register

__all__ = ["KINDS", "Field", "Layer", "LayerKind", "Shape", "Step", "kind_named", "register"]
