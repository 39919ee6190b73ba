"""Sliding a window along one axis: the shared arithmetic of conv and pooling layers, with the
working written out the way the lecture writes it: ``(227 - 11 + 2*0)/4 + 1 = 55``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from ..dims import Dim, format_dim, is_nonnegative, is_zero, normalize
from ..errors import ShapeError
from ..formulas import (conv_output_size, effective_kernel, pool_output_size_ceil, same_padding,
                        unused_inputs, window_span)
from .base import Inexact, Layer

AXES = ("row", "column")


@dataclass(frozen=True)
class AxisResult:
    size: Dim
    working: str
    inexact: Inexact | None
    assumptions: tuple[str, ...]


def resolve_padding(padding, size_h: Dim, size_w: Dim, kernel, stride, dilation) -> tuple:
    """Turn "same" into explicit ``((top, bottom), (left, right))``; pass explicit padding through."""
    if padding != "same":
        return padding
    return (same_padding(size_h, kernel[0], stride[0], dilation[0]),
            same_padding(size_w, kernel[1], stride[1], dilation[1]))


def slide_axis(layer: Layer, axis: int, size: Dim, kernel: Dim, stride: Dim, pad: tuple[Dim, Dim],
               dilation: Dim = 1, ceil: bool = False) -> AxisResult:
    """The output size along one axis, its working, and what (if anything) does not divide."""
    check_dilation(layer, dilation)
    pad_total = normalize(pad[0] + pad[1])
    span = window_span(size, kernel, pad_total, dilation)
    _check_kernel_fits(layer, axis, size, kernel, pad, dilation, span)
    if ceil:
        out = pool_output_size_ceil(size, kernel, stride, pad[0], pad_total, dilation)
    else:
        out = conv_output_size(size, kernel, stride, pad_total, dilation)
    left = _numerator_text(size, kernel, pad, dilation)
    stride_text = format_dim(stride)
    unused = unused_inputs(size, kernel, stride, pad_total, dilation)
    exact = is_zero(unused)
    if isinstance(span, int) and isinstance(stride, int):
        quotient = Fraction(span, stride) + 1
        value = _decimal(quotient)
        working = f"({left})/{stride_text} + 1 = {value}"
        if exact:
            return AxisResult(out, working, None, ())
        inexact = Inexact(AXES[axis], working, out, unused, "ceil" if ceil else "floor", pad[1] != 0)
        return AxisResult(out, working + f" -> {'ceil' if ceil else 'floor'} {out}", inexact, ())
    # Symbolic: the formula keeps its floor (or ceil), so it is right whether or not it divides.
    working = f"({left})/{stride_text} + 1 = {format_dim(out)}"
    return AxisResult(out, working, None, _symbolic_fit(layer, axis, span))


def check_dilation(layer: Layer, dilation) -> None:
    """PyTorch numbers dilation from 1 (an ordinary kernel); 0 only makes sense counted from zero."""
    if isinstance(dilation, int) and dilation < 1:
        raise ShapeError("dilation 0: in PyTorch's numbering an ordinary kernel has dilation 1", layer.at("dilation"),
                         "if your course counts the gaps between taps (0 = ordinary), pass --dilation-from-zero")


def _check_kernel_fits(layer, axis, size, kernel, pad, dilation, span) -> None:
    if is_nonnegative(span) is not False:
        return
    eff = effective_kernel(kernel, dilation)
    kernel_text = f"kernel {kernel}" if dilation == 1 else f"dilated kernel {dilation}*({kernel}-1)+1 = {eff}"
    padded = normalize(size + pad[0] + pad[1])
    raise ShapeError(
        f"{kernel_text} is larger than the padded input along the {AXES[axis]}s: "
        f"{size} + {pad[0]} + {pad[1]} = {padded} < {eff}",
        layer.at("kernel"),
    )


def _symbolic_fit(layer: Layer, axis: int, span: Dim) -> tuple[str, ...]:
    if is_nonnegative(span) is None:
        return (f"{layer.name}: needs {format_dim(span)} >= 0 (the kernel fits in the {AXES[axis]}s)",)
    return ()


def _numerator_text(size: Dim, kernel: Dim, pad: tuple[Dim, Dim], dilation: Dim) -> str:
    """``224 - 11 + 2*0``; dilated kernels appear as ``2*(3-1)+1``; uneven pads as ``(1+2)``."""
    kernel_text = format_dim(kernel) if dilation == 1 else f"({dilation}*({kernel}-1)+1)"
    if pad[0] == pad[1]:
        pad_text = f"2*{format_dim(pad[0])}"
    else:
        pad_text = f"({format_dim(pad[0])}+{format_dim(pad[1])})"
    size_text = format_dim(size)
    if not isinstance(size, int) and len(size_text) > 1 and not size_text.isidentifier():
        size_text = f"({size_text})"
    return f"{size_text} - {kernel_text} + {pad_text}"


def _decimal(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def merged_axes(inexact) -> tuple[Inexact, ...]:
    """Rows and columns with the same working are one finding ("the last row and column")."""
    inexact = tuple(inexact)
    if len(inexact) == 2 and inexact[0].working == inexact[1].working:
        return (replace(inexact[0], axis="row and column", both_axes=True),)
    return inexact


def describe_inexact(layer_name: str, inexact: Inexact) -> str:
    """``conv1: (224 - 11 + 2*0)/4 + 1 = 54.25; floor keeps 54, the last 1 input column is unused``."""
    both = inexact.both_axes
    if inexact.rounding == "ceil":
        along = "rows and columns" if both else f"{inexact.axis}s"
        return (f"{layer_name}: {inexact.working}; ceil mode keeps {inexact.kept} "
                f"(the last window along the {along} overhangs the input)")
    where = "padded-input" if inexact.padded else "input"
    several = inexact.unused != 1
    if both:
        axis = "rows and columns" if several else "row and column"
    else:
        axis = inexact.axis + ("s" if several else "")
    verb = "are" if several or both else "is"
    return f"{layer_name}: {inexact.working}; floor keeps {inexact.kept}, the last {inexact.unused} {where} {axis} {verb} unused"
