"""The pure arithmetic of CNN layers, one spatial axis at a time.

Nothing here knows about TOML, tables, click or torch. Every function works on plain ints and
on sympy expressions alike (``Dim``), and cites its formula in one line. Costs come with their
working (``Worked``), computed by the same function as the value.
"""
from __future__ import annotations

from .dims import Dim, ceil_div, floor_div, normalize, remainder
from .working import Worked, divided, times


def effective_kernel(kernel: Dim, dilation: Dim = 1) -> Dim:
    """A dilated kernel spans ``D(F-1) + 1`` inputs.

    >>> effective_kernel(3, 2)
    5
    """
    return normalize(dilation * (kernel - 1) + 1)


def window_span(size: Dim, kernel: Dim, pad_total: Dim, dilation: Dim = 1) -> Dim:
    """``W - D(F-1) - 1 + P_total``: how far the first window can slide (the numerator).

    >>> window_span(227, 11, 0)
    216
    """
    return normalize(size + pad_total - effective_kernel(kernel, dilation))


def conv_output_size(size: Dim, kernel: Dim, stride: Dim = 1, pad_total: Dim = 0, dilation: Dim = 1) -> Dim:
    """``floor((W - D(F-1) - 1 + 2P) / S) + 1`` (conv, and pooling in floor mode).

    >>> conv_output_size(227, 11, stride=4)
    55
    >>> conv_output_size(224, 3, stride=1, pad_total=2)
    224
    """
    return normalize(floor_div(window_span(size, kernel, pad_total, dilation), stride) + 1)


def pool_output_size_ceil(size: Dim, kernel: Dim, stride: Dim, pad_begin: Dim = 0, pad_total: Dim = 0,
                          dilation: Dim = 1) -> Dim:
    """PyTorch's ``ceil_mode``: ``ceil((W - D(F-1) - 1 + 2P) / S) + 1``, minus one when the last
    window would start in the right padding. Since a window must start before ``W + P_begin``, that
    is ``min(ceil(span / S) + 1, ceil((W + P_begin) / S))``, which holds for symbols too.

    >>> pool_output_size_ceil(112, 3, 2)
    56
    >>> pool_output_size_ceil(5, 2, 2, pad_begin=1, pad_total=2)
    3
    """
    rounded_up = normalize(ceil_div(window_span(size, kernel, pad_total, dilation), stride) + 1)
    starts = ceil_div(normalize(size + pad_begin), stride)
    if isinstance(rounded_up, int) and isinstance(starts, int):
        return min(rounded_up, starts)
    import sympy

    return normalize(sympy.Min(rounded_up, starts))


def unused_inputs(size: Dim, kernel: Dim, stride: Dim, pad_total: Dim = 0, dilation: Dim = 1) -> Dim:
    """``(W - D(F-1) - 1 + 2P) mod S``: padded-input positions floor mode never reaches.

    >>> unused_inputs(224, 11, 4)
    1
    """
    return remainder(window_span(size, kernel, pad_total, dilation), stride)


def same_padding(size: Dim, kernel: Dim, stride: Dim = 1, dilation: Dim = 1) -> tuple[Dim, Dim]:
    """TensorFlow's "same": output ``ceil(W/S)``, padding ``max((out-1)S + D(F-1)+1 - W, 0)``
    split with the odd one at the end. Returns ``(before, after)``.

    >>> same_padding(224, 3)
    (1, 1)
    >>> same_padding(224, 2, 2)
    (0, 0)
    >>> same_padding(225, 4, 2)
    (1, 2)
    """
    out = ceil_div(size, stride)
    needed = normalize((out - 1) * stride + effective_kernel(kernel, dilation) - size)
    if isinstance(needed, int):
        total = max(needed, 0)
    else:
        import sympy

        total = normalize(sympy.Max(needed, 0))
    before = floor_div(total, 2)
    return before, normalize(total - before)


def transposed_conv_output_size(size: Dim, kernel: Dim, stride: Dim = 1, pad_total: Dim = 0,
                                dilation: Dim = 1, output_padding: Dim = 0) -> Dim:
    """``(W - 1)S - 2P + D(F-1) + output_padding + 1``.

    >>> transposed_conv_output_size(7, 4, stride=2, pad_total=2)
    14
    """
    return normalize((size - 1) * stride - pad_total + dilation * (kernel - 1) + output_padding + 1)


def conv_weights(kernel_h: Dim, kernel_w: Dim, in_channels: Dim, out_channels: Dim, groups: Dim = 1) -> Worked:
    """``(F_h * F_w * C_in/groups) * C_out``: each filter sees C_in/groups channels.

    >>> str(conv_weights(11, 11, 3, 96))
    '(11*11*3)*96 = 34,848'
    >>> conv_weights(5, 5, 96, 256, groups=2).text
    '(5*5*96/2)*256'
    """
    per_group = in_channels if groups == 1 else divided(in_channels, groups)
    return times(times(kernel_h, kernel_w, per_group), out_channels)


def conv_macs(out_h: Dim, out_w: Dim, out_channels: Dim, kernel_h: Dim, kernel_w: Dim,
              in_channels: Dim, groups: Dim = 1) -> Worked:
    """``(H_out * W_out * C_out) * (F_h * F_w * C_in/groups)``: every output value is one dot product
    (bias adds not counted).

    >>> str(conv_macs(55, 55, 96, 11, 11, 3))
    '290,400 * 363 = 105,415,200'
    """
    outputs = normalize(out_h * out_w * out_channels)
    per_output = normalize(kernel_h * kernel_w * floor_div(in_channels, groups))
    return times(outputs, per_output, spaced=True, thousands=True)


def linear_weights(inputs: tuple, out_features: Dim) -> Worked:
    """A fully connected layer has ``in * out`` weights; a flattened map shows its factors.

    >>> str(linear_weights((7, 7, 512), 4096))
    '7*7*512*4096 = 102,760,448'
    """
    return times(*inputs, out_features)


def linear_macs(in_features: Dim, out_features: Dim) -> Worked:
    """``out * in``: each output is a dot product over every input.

    >>> str(linear_macs(9216, 4096))
    '4,096 * 9,216 = 37,748,736'
    """
    return times(out_features, in_features, spaced=True, thousands=True)
