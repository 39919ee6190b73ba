"""Receptive fields, one spatial axis at a time (Dumoulin & Visin 2016; Araujo et al. 2019):

    jump'  = jump * S
    size'  = size + (F_eff - 1) * jump
    start' = start + ((F_eff - 1)/2 - P) * jump

``size`` is how many input pixels one output sees, ``jump`` the distance in input pixels between
neighbouring outputs (the effective stride), ``start`` the centre of the first output's field in
input coordinates (the first input pixel's centre is 0.5), and ``effective_padding`` how far the
first output's field reaches before the first input pixel (Araujo et al.'s effective padding,
the sum of each layer's padding times the jump before it):

    effective_padding = (size - 1)/2 + 1/2 - start

With pixel indices (the centre of pixel i is i, as TensorFlow's receptive-field library reports
it), the start is 0.5 less: ``start_index``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class ReceptiveField:
    size: Fraction | int
    jump: Fraction | int
    start: Fraction

    def text(self) -> str:
        return f"{number_text(self.size)} (jump {number_text(self.jump)}, start {number_text(self.start)})"

    @property
    def effective_padding(self) -> Fraction:
        """Input pixels the first output's field spans before the first input pixel.

        >>> through_window(through_window(input_field(), 3, 1, 1), 3, 1, 1).effective_padding  # two 3x3, pad 1
        Fraction(2, 1)
        """
        return Fraction(self.size, 2) - self.start  # (size - 1)/2 + 1/2 - start

    @property
    def start_index(self) -> Fraction:
        """The start with pixel centres at integer indices (TensorFlow's receptive-field library)."""
        return Fraction(self.start) - Fraction(1, 2)


def number_text(value) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def input_field() -> ReceptiveField:
    """A pixel of the input sees itself."""
    return ReceptiveField(1, 1, Fraction(1, 2))


def through_window(field: ReceptiveField, kernel: int, stride, pad_before: int) -> ReceptiveField:
    """One sliding window (conv, pool). ``stride`` may be ``("up", s)`` for a transposed conv or an
    upsampling, whose outputs are 1/s input pixels apart.

    >>> rf = input_field()
    >>> for _ in range(3):
    ...     rf = through_window(rf, 3, 1, 1)
    >>> rf.size   # three stacked 3x3 convs see 7x7
    7
    """
    if isinstance(stride, tuple):
        return _through_transposed(field, kernel, stride[1], pad_before)
    size = field.size + (kernel - 1) * field.jump
    start = field.start + (Fraction(kernel - 1, 2) - pad_before) * field.jump
    return ReceptiveField(_plain(size), _plain(field.jump * stride), start)


def _through_transposed(field: ReceptiveField, kernel: int, stride: int, pad: int) -> ReceptiveField:
    """Output o of a transposed conv depends on the inputs i with i*S - P <= o <= i*S - P + F - 1:
    at most ceil(F/S) of them; neighbouring outputs are 1/S input steps apart."""
    first = -((kernel - 1 - pad) // stride)  # ceil((P - F + 1) / S): the inputs that reach output 0
    last = pad // stride
    size = field.size + (-(-kernel // stride) - 1) * field.jump
    start = field.start + Fraction(first + last, 2) * field.jump
    return ReceptiveField(_plain(size), _plain(Fraction(field.jump) / stride), start)


FLATTENED = "flattened"  # a window: each value keeps its field; a later global window sees the whole map


def whole_input(field: ReceptiveField, size: int) -> ReceptiveField:
    """fc and global pooling: every output sees all ``size`` positions."""
    return through_window(field, size, size, 0)


def _plain(value):
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else value
