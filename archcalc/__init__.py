"""archcalc: a calculator for convolutional network architectures.

>>> import archcalc
>>> archcalc.analyze("alexnet_simplified").rows[1].shape
(55, 55, 96)

The public names load on first use, so that ``archcalc --help`` does not pay for the engine.
"""
import importlib

__version__ = "0.1.0"
_PUBLIC = {
    "Analysis": "engine", "Row": "engine", "Totals": "engine", "analyze": "api", "collapse": "engine",
    "Result": "api", "ComparisonResult": "api",
    "ArchcalcError": "errors", "Location": "errors", "ShapeError": "errors", "SpecError": "errors",
    "ModelSpec": "spec", "load_spec": "spec", "parse_spec": "spec", "compare": "api",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'archcalc' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
