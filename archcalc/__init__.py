"""archcalc: a calculator for convolutional network architectures.

>>> import archcalc
>>> archcalc.analyze("alexnet_simplified").rows[1].shape
(55, 55, 96)

The public names load on first use, so that ``archcalc --help`` does not pay for the engine.
"""
import importlib

__version__ = "0.1.0"
_API = ("analyze", "check", "compare", "conventions", "explain", "export", "gradebook", "handout", "kinds", "load",
        "memory",
        "plot", "import_model", "from_torch", "shipped", "sizes", "solve", "verify", "worksheet", "write_output", "Result", "ComparisonResult",
        "ConventionsResult", "Explained", "MemoryResult", "Solutions", "Verified")
_PUBLIC = {
    **{name: "api" for name in _API},
    "Analysis": "engine", "Row": "engine", "Totals": "engine", "collapse": "engine",
    "ArchcalcError": "errors", "Location": "errors", "ShapeError": "errors", "SpecError": "errors",
    "ModelSpec": "spec", "load_spec": "spec", "parse_spec": "spec",
    "SizesResult": "inverse", "Worksheet": "marking", "Marked": "marking", "Gradebook": "marking",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'archcalc' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
