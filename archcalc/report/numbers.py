"""How numbers are written: exact with thousands separators, or compact with K/M/G (K = 1000)."""
from __future__ import annotations

import math

from ..dims import Dim, format_dim
from ..dtypes import DTYPE_BYTES  # noqa: F401  (re-exported: the table states bytes)

UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def exact(value: Dim) -> str:
    """``1,728``; a formula prints as itself."""
    return format_dim(value, thousands=True)


def significant(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, without trailing zeros.

    >>> significant(3.211264, 2), significant(150.528, 2), significant(60.950432, 3)
    ('3.2', '150', '61')
    """
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    text = f"{rounded:.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def compact(value: Dim, digits: int = 3, exact_below: int = 10_000, kilo: int = 1000) -> str:
    """The slide's style: ``3.2M``, ``150K``; small values exactly (``4096``), formulas as they are.

    >>> compact(3211264, 2), compact(802816, 2), compact(4096, 2), compact(138357544)
    ('3.2M', '800K', '4096', '138M')
    """
    if not isinstance(value, int):
        return format_dim(value)
    if abs(value) < exact_below:
        return str(value)
    units = UNITS if kilo == 1000 else tuple((kilo ** (4 - i), suffix) for i, (_, suffix) in enumerate(UNITS))
    for size, suffix in units:
        if abs(value) >= size:
            text = significant(value / size, digits)
            if float(text) >= 1000 and suffix != "T":  # 999.96K rounds to 1000K: say 1M
                continue
            return text + suffix
    return str(value)


def byte_sizes(count: Dim) -> tuple[str, str]:
    """A byte count in decimal and binary units: ``("61 MB", "58.1 MiB")``.

    >>> byte_sizes(60950432)
    ('61 MB', '58.1 MiB')
    """
    if not isinstance(count, int):
        text = f"({format_dim(count)}) bytes"
        return text, text
    decimal = next(((size, suffix) for size, suffix in ((10**9, "GB"), (10**6, "MB"), (10**3, "KB"))
                    if count >= size), (1, "B"))
    binary = next(((size, suffix) for size, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))
                   if count >= size), (1, "B"))
    return (f"{significant(count / decimal[0], 3)} {decimal[1]}", f"{significant(count / binary[0], 3)} {binary[1]}")


def byte_size(count: Dim) -> str:
    """``61 MB (58.1 MiB)``: decimal and binary units side by side.

    >>> byte_size(60950432)
    '61 MB (58.1 MiB)'
    """
    decimal, binary = byte_sizes(count)
    return decimal if decimal == binary else f"{decimal} ({binary})"
