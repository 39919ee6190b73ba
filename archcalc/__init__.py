"""archcalc: a calculator for convolutional network architectures.

>>> from archcalc import analyze, load_spec
>>> analyze(load_spec("alexnet_simplified")).rows[1].shape
(55, 55, 96)
"""
from .engine import Analysis, Row, Totals, analyze
from .errors import ArchcalcError, Location, ShapeError, SpecError
from .spec import ModelSpec, load_spec, parse_spec

__all__ = ["Analysis", "ArchcalcError", "Location", "ModelSpec", "Row", "ShapeError", "SpecError", "Totals",
           "analyze", "load_spec", "parse_spec"]
__version__ = "0.1.0"
