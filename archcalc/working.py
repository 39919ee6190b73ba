"""A value and the arithmetic that gives it, made by one function so that the two cannot drift.

    >>> weights = times(times(11, 11, 3), 96)
    >>> weights.value, weights.text
    (34848, '(11*11*3)*96')
    >>> str(times(290400, 363, spaced=True, thousands=True))
    '290,400 * 363 = 105,415,200'

A plain number given to a builder is shown by its value; a ``Worked`` is shown by its working,
in parentheses where it is a product or a sum inside a product.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .dims import Dim, floor_div, format_dim, normalize

ATOM, QUOTIENT, PRODUCT, SUM = "atom", "quotient", "product", "sum"


@dataclass(frozen=True)
class Worked:
    """``value`` with its working ``text`` (empty where the value is given, not computed)."""

    value: Dim
    text: str = ""
    form: str = ATOM  # how the text binds: atom, quotient, product or sum

    def __str__(self) -> str:
        shown = format_dim(self.value, thousands=True)
        return f"{self.text} = {shown}" if self.text else shown

    @property
    def shown(self) -> str:
        """The working, or the value where there is none."""
        return self.text or format_dim(self.value)


Term = Union[Worked, int, "object"]  # a Worked, or a Dim shown by its value
ZERO = Worked(0)


def given(value: Dim) -> Worked:
    """A value with no working of its own."""
    return Worked(normalize(value))


def _value(term: Term) -> Dim:
    return term.value if isinstance(term, Worked) else term


def _text(term: Term, thousands: bool, in_product: bool) -> str:
    if isinstance(term, Worked) and term.text:
        wrap = in_product and term.form in (PRODUCT, SUM)
        return f"({term.text})" if wrap else term.text
    value = _value(term)
    text = format_dim(value, thousands)
    return f"({text})" if in_product and getattr(value, "is_Add", False) else text


def times(*factors: Term, spaced: bool = False, thousands: bool = False) -> Worked:
    """The product of ``factors``; ``spaced`` writes ``a * b`` (a count times a cost), else ``a*b``.

    >>> times(times(3, 3, 64), 128).text
    '(3*3*64)*128'
    """
    value: Dim = 1
    for factor in factors:
        value = normalize(value * _value(factor))
    joiner = " * " if spaced else "*"
    return Worked(value, joiner.join(_text(f, thousands, True) for f in factors), PRODUCT)


def plus(*terms: Term, thousands: bool = False) -> Worked:
    """The sum of ``terms``.

    >>> str(plus(times(3, 3, 32), times(32, 24)))
    '3*3*32 + 32*24 = 1,056'
    """
    value: Dim = 0
    for term in terms:
        value = normalize(value + _value(term))
    return Worked(value, " + ".join(_text(t, thousands, False) for t in terms), SUM)


def divided(numerator: Term, denominator: Term) -> Worked:
    """``numerator/denominator``, floored (channels per group divide exactly in practice).

    >>> divided(96, 2)
    Worked(value=48, text='96/2', form='quotient')
    """
    value = floor_div(_value(numerator), _value(denominator))
    return Worked(value, f"{_text(numerator, False, True)}/{_text(denominator, False, True)}", QUOTIENT)


def labelled(value: Dim, label: str) -> Worked:
    """A term that says what it is: ``128 (BN gamma)``."""
    return Worked(normalize(value), f"{format_dim(value)} ({label})")
