"""Element types and their sizes in bytes."""
from __future__ import annotations

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1}  # activations
ITEMSIZE = {**DTYPE_BYTES, "int64": 8, "int32": 4, "bool": 1}


def itemsize(dtype: str) -> int:
    """Bytes per element of ``dtype``.

    >>> itemsize("float16"), itemsize("int64")
    (2, 8)
    """
    return ITEMSIZE[dtype]
