"""Dimensions: plain ints where known, sympy expressions only where a symbol is involved.

``Dim = int | sympy.Expr``. Concrete networks never touch sympy, so they stay fast and print
as plain numbers; sympy is imported the first time a symbol appears. Every symbol is an
integer >= 1. Checks on dimensions are three-valued: True, False, or None for "cannot tell
without knowing the symbols" (reported by the engine as an assumption, never passed silently).
"""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Union

from .errors import SpecError

if TYPE_CHECKING:
    import sympy

Dim = Union[int, "sympy.Expr"]

MAX_EXPRESSION_LENGTH = 200
_SYMBOL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_symbols: dict[str, object] = {}


def symbol(name: str) -> sympy.Symbol:
    """The symbol called ``name``: a positive integer (one object per name).

    >>> symbol("H") is symbol("H")
    True
    """
    if name not in _symbols:
        import sympy

        _symbols[name] = sympy.Symbol(name, integer=True, positive=True)
    return _symbols[name]


def is_symbolic(value: object) -> bool:
    """True for a sympy expression that still has free symbols."""
    return not isinstance(value, int) and bool(getattr(value, "free_symbols", False))


def normalize(value: Dim) -> Dim:
    """Fold a sympy expression without symbols to a plain int; leave everything else alone.

    >>> normalize(7)
    7
    """
    if isinstance(value, int) or is_symbolic(value):
        return value
    if getattr(value, "is_Integer", False):
        return int(value)
    return value


def floor_div(numerator: Dim, denominator: Dim) -> Dim:
    """floor(numerator / denominator), as an int when both are known.

    >>> floor_div(213, 4)
    53
    """
    if isinstance(numerator, int) and isinstance(denominator, int):
        return numerator // denominator
    import sympy

    inner, offset = _split_rounding(numerator, sympy.floor)
    return normalize(sympy.floor((inner + offset) / sympy.Integer(denominator) if isinstance(denominator, int)
                                 else (inner + offset) / denominator))


def ceil_div(numerator: Dim, denominator: Dim) -> Dim:
    """ceil(numerator / denominator), as an int when both are known.

    >>> ceil_div(213, 4)
    54
    """
    if isinstance(numerator, int) and isinstance(denominator, int):
        return -((-numerator) // denominator)
    import sympy

    inner, offset = _split_rounding(numerator, sympy.ceiling)
    return normalize(sympy.ceiling((inner + offset) / sympy.Integer(denominator) if isinstance(denominator, int)
                                   else (inner + offset) / denominator))


def _split_rounding(value, rounding) -> tuple:
    """Write ``value`` as ``rounding(x) + c`` with an integer ``c`` where it has that form.

    Since ``floor((floor(x) + c)/d) == floor((x + c)/d)`` for integers c and d > 0 (and likewise
    for ceil), nested roundings collapse: ``floor(floor(H/2)/2)`` becomes ``floor(H/4)``.
    """
    import sympy

    value = sympy.Integer(value) if isinstance(value, int) else value
    terms = sympy.Add.make_args(value)
    rounded = [term for term in terms if isinstance(term, rounding)]
    offset = sympy.Add(*[term for term in terms if not isinstance(term, rounding)])
    if len(rounded) == 1 and offset.is_Integer:
        return rounded[0].args[0], offset
    return value, 0


def remainder(numerator: Dim, denominator: Dim) -> Dim:
    """numerator mod denominator (a sympy Mod when it cannot be decided)."""
    if isinstance(numerator, int) and isinstance(denominator, int):
        return numerator % denominator
    import sympy

    return normalize(sympy.Mod(numerator, denominator))


def is_nonnegative(value: Dim) -> bool | None:
    """Three-valued ``value >= 0``: True, False, or None when the symbols decide it."""
    if isinstance(value, int):
        return value >= 0
    import sympy

    verdict = sympy.Ge(value, 0)
    if verdict in (sympy.true, sympy.false):
        return bool(verdict)
    return None


def is_zero(value: Dim) -> bool | None:
    """Three-valued ``value == 0``."""
    if isinstance(value, int):
        return value == 0
    simplified = normalize(value)
    if isinstance(simplified, int):
        return simplified == 0
    return None


def product(values) -> Dim:
    """The product of dimensions, an int when all are known."""
    result: Dim = 1
    for value in values:
        result = normalize(result * value)
    return result


def format_dim(value: Dim, thousands: bool = False) -> str:
    """A dimension as text: ``224``, ``1,728`` with ``thousands``, or the formula.

    >>> format_dim(1728, thousands=True)
    '1,728'
    """
    if isinstance(value, int):
        return f"{value:,}" if thousands else str(value)
    return _print_expression(value)


def format_shape(shape, separator: str | None = None) -> str:
    """A shape as text, each formula that is more than a name in parentheses, so that the sizes
    cannot run together: ``55x55x96``, ``(H - 4) x (W - 4) x 6``. ``separator`` defaults to ``x``
    between numbers and `` x `` where a size is a formula.

    >>> import sympy
    >>> H = symbol("H")
    >>> format_shape((sympy.floor((H - 3) / 2) + 1, H, 64))
    '(floor((H - 3)/2) + 1) x H x 64'
    """
    symbolic = not all(isinstance(d, int) for d in shape)
    separator = separator if separator is not None else (" x " if symbolic else "x")
    return separator.join(_shape_part(d) for d in shape)


def _shape_part(value: Dim) -> str:
    text = format_dim(value)
    return text if isinstance(value, int) or getattr(value, "is_Atom", False) or getattr(value, "is_Function", False) \
        else f"({text})"


@functools.lru_cache(maxsize=4096)
def _print_expression(value) -> str:
    """Printing is the costly part of symbolic analysis, and the same sizes recur in many rows."""
    return _printer().doprint(value)


_printers: list = []


def _printer():
    """A sympy printer that writes ``floor((H - 11)/4)`` rather than ``floor(H/4 - 11/4)``."""
    if not _printers:
        import sympy
        from sympy.printing.str import StrPrinter

        class LecturePrinter(StrPrinter):
            def _print_rounding(self, expr, name):
                # floor(H/4 - 11/4) -> floor((H - 11)/4): multiply out the common denominator
                argument = expr.args[0]
                denominator = sympy.ilcm(*[sympy.fraction(c)[1] for c in argument.as_coefficients_dict().values()], 1)
                if denominator == 1:
                    return f"{name}({self._print(argument)})"
                numerator = sympy.expand(argument * denominator)
                top = self._print(numerator)
                top = f"({top})" if numerator.is_Add else top
                return f"{name}({top}/{denominator})"

            def _print_floor(self, expr):
                return self._print_rounding(expr, "floor")

            def _print_ceiling(self, expr):
                return self._print_rounding(expr, "ceil")

        _printers.append(LecturePrinter())
    return _printers[0]


def to_json(value: Dim) -> int | str:
    """An int stays an int; a formula becomes its text (the JSON contract)."""
    return value if isinstance(value, int) else format_dim(value)


# --- A small safe parser for dimension expressions in specs ("H", "2*c", "(W - 1)//2 + 1").
# Spec text is never evaluated as Python: this grammar knows numbers, symbol names,
# + - * / // %, parentheses and min/max/floor/ceil, and nothing else.

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*/%(),]))")
_FUNCTIONS = ("min", "max", "floor", "ceil")


def parse_dim(text: str, variables: dict[str, Dim] | None = None, new_symbols: bool = True) -> Dim:
    """Parse a dimension expression; unknown names become symbols (positive integers), or are
    an error when ``new_symbols`` is false.

    >>> parse_dim("2*c + 1", {"c": 32})
    65
    >>> parse_dim("H")
    H
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(
            f"expression is {len(text)} characters long, more than the limit of {MAX_EXPRESSION_LENGTH}"
        )
    tokens = _tokenize(text)
    parser = _Parser(text, tokens, variables or {}, new_symbols)
    value = parser.expression()
    if parser.position < len(tokens):
        parser.fail("unexpected text")
    return normalize(value)


def is_symbol_name(text: str) -> bool:
    return bool(_SYMBOL_NAME.match(text)) and text not in _FUNCTIONS


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise SpecError(
                f"cannot read expression {text!r} at column {column}",
                hint="expressions may use numbers, names, + - * / // %, parentheses, min, max, floor, ceil",
            )
        number, name, operator = match.groups()
        kind, value = ("num", number) if number else ("name", name) if name else ("op", operator)
        tokens.append((kind, value, match.start(match.lastindex)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str, int]], variables: dict[str, Dim], new_symbols: bool):
        self.text, self.tokens, self.variables, self.position = text, tokens, variables, 0
        self.new_symbols = new_symbols

    def fail(self, what: str):
        column = self.tokens[self.position][2] + 1 if self.position < len(self.tokens) else len(self.text) + 1
        raise SpecError(
            f"{what} in expression {self.text!r} at column {column}",
            hint="expressions may use numbers, names, + - * / // %, parentheses, min, max, floor, ceil",
        )

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            self.fail("unexpected end")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> Dim:
        value = self.term()
        while self.peek() in ("+", "-"):
            operator = self.take()[1]
            right = self.term()
            value = value + right if operator == "+" else value - right
        return value

    def term(self) -> Dim:
        value = self.unary()
        while self.peek() in ("*", "/", "//", "%"):
            operator = self.take()[1]
            right = self.unary()
            value = self.apply(operator, value, right)
        return value

    def apply(self, operator: str, left: Dim, right: Dim) -> Dim:
        if operator == "*":
            return normalize(left * right)
        if isinstance(right, int) and right == 0:
            self.fail("division by zero")
        if operator == "//":
            return floor_div(left, right)
        if operator == "%":
            return remainder(left, right)
        if isinstance(left, int) and isinstance(right, int):
            if left % right:
                self.fail(f"{left}/{right} is not an integer")
            return left // right
        import sympy

        return normalize(sympy.Integer(1) * left / right)

    def unary(self) -> Dim:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> Dim:
        kind, value, _ = self.take()
        if kind == "num":
            if len(value) > 12:
                self.position -= 1
                self.fail("number too large")
            return int(value)
        if kind == "name":
            if value in _FUNCTIONS:
                return self.call(value)
            if value in self.variables:
                return self.variables[value]
            if not self.new_symbols:
                self.position -= 1
                self.fail(f"unknown name {value!r}")
            return symbol(value)
        if value == "(":
            inner = self.expression()
            if self.take()[1] != ")":
                self.position -= 1
                self.fail("expected ')'")
            return inner
        self.position -= 1
        self.fail(f"unexpected {value!r}")

    def call(self, function: str) -> Dim:
        if self.take()[1] != "(":
            self.position -= 1
            self.fail(f"expected '(' after {function}")
        arguments = [self.expression()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expression())
        if self.take()[1] != ")":
            self.position -= 1
            self.fail("expected ')'")
        return _call(function, arguments)


def _call(function: str, arguments: list[Dim]) -> Dim:
    if all(isinstance(a, int) for a in arguments):
        if function in ("floor", "ceil"):
            return arguments[0]
        return min(arguments) if function == "min" else max(arguments)
    import sympy

    table = {"min": sympy.Min, "max": sympy.Max, "floor": sympy.floor, "ceil": sympy.ceiling}
    return normalize(table[function](*arguments))
