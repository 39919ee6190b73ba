"""Worksheets and answer checking: a blank table for students, and a marker for what they fill in.

A worksheet gives some cells (the input row, the layer labels, the columns not blanked) and asks
the rest. The marker scores exactly the cells asked: each is right, follow-through (wrong, but what
the layer gives on the student's own earlier answer, as examiners credit it), wrong, or unanswered.
Score = right / asked, so a blank sheet scores 0. Given cells are never scored; a sheet that alters
them is flagged. Rows are matched by layer name, so a reordered sheet marks the same, and rows
missing, extra or from another network are reported, never mis-scored.

Answers may be written as a student would: ``55x55x96``, ``[55 x 55 x 96]``, ``290,400``, ``290K``,
``3.2M``, ``1.2e6``. A rounded answer is right when the true value rounds to it at the precision it
is written in (``3.2M`` accepts 3,150,000 to 3,249,999); an answer with every digit must be exact.
On a symbolic worksheet (``--input HxWx3``) answers are formulas (``(H - 3)/2 + 1``,
``floor((H - 3)/2) + 1``), read by the spec's own safe parser and compared as functions of the input.
"""
from __future__ import annotations

import csv
import io
import math
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .dims import Dim, format_dim, format_shape, product
from .engine import Analysis, Row
from .errors import ArchcalcError, Location, SpecError
from .files import write_outputs
from .layers import KINDS, MERGES, Slip
from .layers.base import nearest

COLUMNS = ("output", "memory", "weights", "biases", "params", "macs")
DEFAULT_BLANK = ("output", "memory", "params")  # what ``worksheet`` and ``check`` leave blank unless told
ALIASES = {"shape": "output", "out": "output", "output size": "output", "mem": "memory", "parameters": "params",
           "flops": "flops", "mac": "macs", "multiply-adds": "macs"}
RIGHT, FOLLOW_THROUGH, WRONG, UNANSWERED = "right", "follow-through", "wrong", "unanswered"


@dataclass(frozen=True)
class Answer:
    """A number as written: its value and the half-width of what it accepts."""

    value: Decimal
    tolerance: Decimal

    def accepts(self, truth: int) -> bool:
        return abs(Decimal(truth) - self.value) <= self.tolerance


def parse_number(text: str, kilo: int = 1000) -> Answer:
    """``290,400`` exact; ``3.2M`` means 3.15M..3.25M (K = ``kilo``); ``800K`` 750K..850K.

    >>> parse_number("3.2M").accepts(3_211_264), parse_number("290,400").accepts(290_401)
    (True, False)
    >>> parse_number("800K").accepts(802_816), parse_number("3.21M").accepts(3_100_000)
    (True, False)
    """
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "").lower()
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)(e[+-]?\d+)?([kmgt]?)", cleaned)
    if not match:
        raise ValueError(f"cannot read {text!r} as a number")
    digits, exponent, suffix = match.groups()
    try:
        mantissa = Decimal(digits + (exponent or ""))
    except InvalidOperation:
        raise ValueError(f"cannot read {text!r} as a number") from None
    unit = Decimal(kilo) ** "kmgt".index(suffix) * kilo if suffix else Decimal(1)
    # the last significant digit's place, in the number's own units; as usual, trailing zeros
    # without a decimal point are not significant ("800K" is 8e5, which 802,816 rounds to)
    significant = Decimal(digits + (exponent or ""))
    if "." not in digits:
        significant = significant.normalize()
    place = Decimal(1).scaleb(significant.as_tuple().exponent)
    rounded = bool(suffix) or bool(exponent) or "." in digits
    tolerance = place * unit / 2 if rounded else Decimal(0)
    return Answer(mantissa * unit, tolerance)


def read_shape_answer(text: str) -> tuple[int, ...]:
    """An output size as a student writes it: ``55x55x96``, ``[55 x 55 x 96]``, ``55*55*96``,
    ``(55, 55, 96)`` or ``4096``.

    >>> read_shape_answer("[55 x 55 x 96]")
    (55, 55, 96)
    """
    parts = [p for p in re.split(r"[x×*,\s()\[\]]+", text.strip().lower()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"cannot read {text!r} as a shape (write e.g. 55x55x96)")
    return tuple(int(p) for p in parts)


# --- reading and comparing answers, in numbers or in the input's symbols ----------------------


@dataclass(frozen=True)
class Reader:
    """Reads answers in a worksheet's terms and compares them with true values: numbers at the
    precision written (K = ``kilo``), formulas in the input's ``symbols`` as functions of them."""

    symbols: dict = field(default_factory=dict)  # name -> sympy symbol; empty for a numeric sheet
    kilo: int = 1000

    def shape(self, text: str) -> tuple:
        if not self.symbols:
            return read_shape_answer(text)
        parts = _split_shape(text.strip().strip("[]"), self.symbols)
        if not parts:
            raise ValueError(f"cannot read {text!r} as a shape (write e.g. (H - 4) x (W - 4) x 6)")
        return tuple(self.formula(part) for part in parts)

    def formula(self, text: str) -> Dim:
        """A size written as a formula of the input's symbols (``(H - 3)/2 + 1``), or a plain number."""
        from .dims import parse_dim

        cleaned = text.replace(",", "") if re.fullmatch(r"[\d,\s]+", text) else text  # 1,568 is a number
        try:
            return parse_dim(cleaned, self.symbols, new_symbols=False)
        except ArchcalcError:
            raise ValueError(f"cannot read {text!r} as a formula of {', '.join(sorted(self.symbols))}") from None

    def read(self, text: str, column: str):
        """The answer as a shape (output), an Answer (a number) or a formula (a symbolic sheet)."""
        if column == "output":
            return self.shape(text)
        try:
            return parse_number(text, self.kilo)
        except ValueError:
            if not self.symbols:
                raise
            return self.formula(text)

    def matches(self, answer, truth) -> bool | str:
        """True, False, or the condition under which it holds (``"where the division is exact"``)."""
        if isinstance(truth, tuple):
            if not isinstance(answer, tuple) or len(answer) != len(truth):
                return False
            verdicts = [self.matches(a, t) for a, t in zip(answer, truth)]
            return False if False in verdicts else next((v for v in verdicts if isinstance(v, str)), True)
        if isinstance(answer, Answer):
            return isinstance(truth, int) and answer.accepts(truth)
        return same_function(answer, truth, self.symbols)


def _split_shape(text: str, symbols: dict) -> list[str]:
    """``(H - 4) x (W - 4) x 6`` -> its three sizes: split on x, × and commas outside parentheses,
    but not inside a name (``max``, or a symbol with an x in it)."""
    parts, depth, current = [], 0, ""
    for position, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and (char in ",×" or char == "x" and not _inside_name(text, position, symbols)):
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    parts = [part.strip() for part in parts]
    return parts if all(parts) else []


def _inside_name(text: str, position: int, symbols: dict) -> bool:
    """Whether the x at ``position`` belongs to a name (``max``, a symbol with an x in it) rather than
    separating sizes, judged by the run of letters and digits around it: ``28x28x6`` and ``HxWx1``
    are sizes, ``max`` is a name."""
    start = end = position
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end + 1 < len(text) and (text[end + 1].isalnum() or text[end + 1] == "_"):
        end += 1
    word = text[start:end + 1]
    if word in symbols or word in ("max", "min"):
        return True
    return not all(part in symbols or part.isdigit() for part in word.split("x") if part)


def same_function(answer: Dim, truth: Dim, symbols: dict) -> bool | str:
    """Whether two sizes are the same function of the input: at a spread of input sizes, exactly;
    or, with floors and ceilings dropped on both sides, "where the division is exact" (the
    lecture's (W - F + 2P)/S + 1 assumes it divides).

    >>> from archcalc.dims import symbol, parse_dim
    >>> H = {"H": symbol("H")}
    >>> same_function(parse_dim("(H - 3)/2 + 1", H), parse_dim("floor((H - 3)/2) + 1", H), H)
    'where the division is exact'
    >>> same_function(parse_dim("floor((H-3)/2)+1", H), parse_dim("floor((H - 3)/2) + 1", H), H)
    True
    """
    if isinstance(answer, int) and isinstance(truth, int):
        return answer == truth
    if _equal_at_samples(answer, truth, symbols):
        return True
    import sympy

    def exact(value):
        return value.replace(sympy.floor, lambda a: a).replace(sympy.ceiling, lambda a: a) \
            if isinstance(value, sympy.Basic) else value

    return "where the division is exact" if _equal_at_samples(exact(answer), exact(truth), symbols) else False


SAMPLES = (224, 227, 256, 299, 320, 331, 512, 1000, 1023, 4096)


def _equal_at_samples(a: Dim, b: Dim, symbols: dict) -> bool:
    names = sorted(symbols)
    for shift in range(len(SAMPLES)):
        point = {symbols[name]: SAMPLES[(shift + 3 * i) % len(SAMPLES)] for i, name in enumerate(names)}
        left = a if isinstance(a, int) else a.subs(point)  # both are sizes read by parse_dim, never text
        right = b if isinstance(b, int) else b.subs(point)
        if left != right:
            return False
    return True


# --- marks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One asked cell: what the student wrote, the true value, the verdict, a one-line feedback
    that names the slip where it is a known one, and the derivation (shown on request)."""

    row: str
    column: str
    given: str
    expected: str
    state: str  # right, follow-through, wrong or unanswered
    feedback: str = ""
    working: str = ""

    @property
    def right(self) -> bool:
        return self.state == RIGHT

    @property
    def consistent(self) -> bool:
        """Wrong, but it follows from the student's own earlier answer (follow-through credit)."""
        return self.state == FOLLOW_THROUGH


@dataclass(frozen=True)
class Altered:
    """A cell the worksheet gave that the sheet changed: flagged, never scored."""

    row: str
    column: str
    given: str
    sheet: str


@dataclass(frozen=True)
class CheckResult:
    """The marks of one sheet (one per asked cell), and what about the sheet itself is off."""

    marks: tuple[Mark, ...]
    unknown_rows: tuple[str, ...] = ()  # rows on the sheet that are no layer of the network
    missing_rows: tuple[str, ...] = ()  # layers whose row is not on the sheet (their cells unanswered)
    duplicate_rows: tuple[str, ...] = ()  # names on the sheet twice (the first is marked)
    altered: tuple[Altered, ...] = ()
    not_asked: tuple[str, ...] = ()  # columns answered that the worksheet did not ask
    network: str = ""
    matched_rows: int = 0  # rows on the sheet that are layers of the network

    def count(self, state: str) -> int:
        return sum(mark.state == state for mark in self.marks)

    @property
    def asked(self) -> int:
        return len(self.marks)

    @property
    def right(self) -> int:
        return self.count(RIGHT)

    @property
    def follow_through(self) -> int:
        return self.count(FOLLOW_THROUGH)

    @property
    def wrong(self) -> int:
        return self.count(WRONG)

    @property
    def unanswered(self) -> int:
        return self.count(UNANSWERED)

    @property
    def ok(self) -> bool:
        return self.right == self.asked and not self.unknown_rows and not self.altered

    @property
    def other_network(self) -> bool:
        """Most of the sheet's rows are not layers of this network: a sheet for another one."""
        return len(self.unknown_rows) > self.matched_rows

    @property
    def first_divergence(self) -> Mark | None:
        return next((mark for mark in self.marks if mark.state in (WRONG, FOLLOW_THROUGH)), None)

    def score(self, column: str) -> tuple[int, int]:
        """Right answers and cells asked in one column."""
        marks = [mark for mark in self.marks if mark.column == column]
        return sum(mark.right for mark in marks), len(marks)

    def percent(self) -> float:
        return 100 * self.right / self.asked if self.asked else 0.0


def read_answers(text: str, file: str) -> list[dict[str, str]]:
    """A filled-in sheet as rows of column -> text. CSV with a header row, or TOML ``[[answers]]``."""
    text = text.removeprefix("\ufeff")  # a spreadsheet's UTF-8 byte-order mark
    if file.endswith(".toml"):
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SpecError(f"TOML syntax error: {error}", Location(file)) from None
        rows = document.get("answers")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise SpecError("expected [[answers]] tables", Location(file, field="answers"))
        return [{_column(k): str(v) for k, v in row.items()} for row in rows]
    reader = csv.DictReader(io.StringIO(quote_tuples(text)))
    if not reader.fieldnames or "name" not in [_column(f) for f in reader.fieldnames]:
        raise SpecError("the answer sheet needs a header row with a 'name' column", Location(file),
                        "archcalc worksheet writes one to fill in")
    _check_columns(reader.fieldnames, file)
    rows = []
    for number, row in enumerate(reader, 2):
        if None in row:
            raise SpecError(f"line {number} has more cells than the header row ({', '.join(reader.fieldnames)}): "
                            f"extra {row[None]}", Location(file), "quote a cell that holds commas")
        rows.append({_column(k): (v or "").strip() for k, v in row.items() if k})
    return rows


KNOWN_COLUMNS = ("name", "layer", "kind", "index") + COLUMNS + tuple(ALIASES)


def _check_columns(names, file: str) -> None:
    """A misspelt column (``ouput``) is an error naming the nearest known one, not silently ignored."""
    for name in names:
        if name and _column(name) not in KNOWN_COLUMNS and name.strip().lower() not in KNOWN_COLUMNS:
            hint = nearest(name.strip().lower(), KNOWN_COLUMNS) or f"columns: {', '.join(('name',) + COLUMNS)}"
            raise SpecError(f"unknown column {name!r} in the answer sheet", Location(file, field=name), hint)


def quote_tuples(text: str) -> str:
    """``(16,16,64)`` or ``[16, 16, 64]`` left unquoted in a CSV cell, quoted so that it stays one cell.

    >>> quote_tuples("conv1,(16,16,64),16384")
    'conv1,"(16,16,64)",16384'
    """
    return re.sub(r'(^|,)\s*([(\[][^)\]"\n]*,[^)\]"\n]*[)\]])\s*(?=,|$)', r'\1"\2"', text, flags=re.M)


def _column(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


def blank_columns(blank) -> tuple[str, ...]:
    """``"output,memory"`` or a list -> the columns, checked against the ones a sheet has."""
    columns = tuple(c.strip() for c in (blank.split(",") if isinstance(blank, str) else blank) if c.strip())
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        hint = nearest(unknown[0], COLUMNS)
        raise SpecError(f"`blank`: unknown column {unknown[0]!r} (choose from {', '.join(COLUMNS)})",
                        hint=hint or None)
    return columns


def check_answers(analysis: Analysis, answers: list[dict[str, str]], kilo: int = 1000,
                  blank=DEFAULT_BLANK, given: dict | None = None) -> CheckResult:
    """Mark every cell the worksheet of ``analysis`` asks (the ``blank`` columns of every layer row)
    against the sheet ``answers``, matched by layer name. ``given``: the worksheet's cells by row name
    (``given_cells``), for a class of sheets made once."""
    from .spec import input_symbols

    blank = blank_columns(blank)
    given = given if given is not None else given_cells(analysis, blank)
    reader = Reader(input_symbols(analysis.spec.input_shape), kilo)
    sheet, duplicates = {}, []
    for answer in answers:
        name = answer.get("name", "")
        if name in sheet:
            duplicates.append(name)
        else:
            sheet[name] = answer
    known = {row.name for row in analysis.rows}
    unknown = tuple(name for name in sheet if name not in known)
    asked_rows = [row for row in analysis.rows if row.kind != "input"]
    missing = tuple(row.name for row in asked_rows if row.name not in sheet)
    marker = _Marker(analysis, sheet, reader)
    marks = tuple(marker.mark(row, column) for row in asked_rows for column in blank)
    altered, not_asked = _changed_givens(given, sheet, reader)
    return CheckResult(marks, unknown, missing, tuple(duplicates), altered, not_asked, analysis.spec.name,
                       len(sheet) - len(unknown))


def given_cells(analysis: Analysis, blank) -> dict[str, dict[str, str]]:
    """The cells a worksheet with these ``blank`` columns gives, by row name."""
    return {cells["name"]: cells for cells in worksheet_rows(analysis, blank_columns(blank), answers=False)}


def _changed_givens(given: dict, sheet: dict, reader: Reader):
    """Given cells the sheet changed, and columns answered that nobody asked."""
    altered, not_asked = [], []
    for name, answer in sheet.items():
        cells = given.get(name)
        if cells is None:
            continue
        for column in COLUMNS:
            written = answer.get(column, "")
            if not written:
                continue
            if column not in cells:
                not_asked.append(column)
            elif cells[column] and not _same_text(written, cells[column], column, reader):
                altered.append(Altered(name, column, cells[column], written))
    return tuple(altered), tuple(dict.fromkeys(not_asked))


def _same_text(written: str, given: str, column: str, reader: Reader) -> bool:
    try:
        truth = reader.read(given, column)
        answer = reader.read(written, column)
    except ValueError:
        return written.strip() == given.strip()
    if isinstance(truth, Answer):
        truth = int(truth.value)
    return reader.matches(answer, truth) is True


class _Marker:
    """Marks one sheet's cells: the truth first, then follow-through from the student's own
    answers, then the known slips."""

    def __init__(self, analysis: Analysis, sheet: dict, reader: Reader):
        self.analysis = analysis
        self.sheet = sheet
        self.reader = reader
        self.rows = {row.name: row for row in analysis.rows}
        self.steps: dict[str, tuple | None] = {}  # row -> its step on the student's inputs (one per row, not cell)

    def mark(self, row: Row, column: str) -> Mark:
        truth = _truth(row, column)
        expected = _shown(truth, column)
        written = (self.sheet.get(row.name) or {}).get(column, "").strip()
        if not written:
            return Mark(row.name, column, "", expected, UNANSWERED)
        try:
            answer = self.reader.read(written, column)
        except ValueError as error:
            return Mark(row.name, column, written, expected, WRONG, str(error), _working(row, column))
        verdict = self.reader.matches(answer, truth)
        if verdict:
            return Mark(row.name, column, written, expected, RIGHT, "" if verdict is True else f"right {verdict}")
        working = _working(row, column)  # the derivation, for --explain: only where the answer is not right
        follows = self.follow_through(row, column, answer)
        if follows:
            return Mark(row.name, column, written, expected, FOLLOW_THROUGH, follows, working)
        return Mark(row.name, column, written, expected, WRONG, self.diagnosis(row, column, answer, written), working)

    # follow-through: the layer applied to what the student wrote before

    def own_output(self, name: str) -> tuple | None:
        """The output size the student wrote for a row, where it is readable and differs from the truth."""
        written = (self.sheet.get(name) or {}).get("output", "")
        if not written or name not in self.rows:
            return None
        try:
            shape = self.reader.shape(written)
        except ValueError:
            return None
        truth = tuple(self.rows[name].shape)
        return None if len(shape) != len(truth) or self.reader.matches(shape, truth) else shape

    def students_step(self, row: Row):
        """What this row computes on the inputs as the student wrote them, where one differs from
        the truth: (the step, the rows whose answers it used); None where nothing differs or the
        student's sizes do not fit the layer."""
        if row.name not in self.steps:
            self.steps[row.name] = self._step_on_answers(row)
        return self.steps[row.name]

    def _step_on_answers(self, row: Row):
        sources = self.analysis.sources.get(row.name, ())
        inputs, used = [], []
        for source in sources:
            own = self.own_output(source)
            if own is None:
                inputs.append(self._output_after_folds(source, tuple(self.rows[source].shape)))
            else:
                inputs.append(self._output_after_folds(source, own))
                used.append(source)
        if not used or any(shape is None for shape in inputs):
            return None
        try:
            if row.name in self.analysis.layers:
                layer = self.analysis.layers[row.name]
                return KINDS[layer.kind].infer(layer, inputs[0]), used
            return MERGES[row.kind].combine(row.name, Location(), inputs, []), used
        except (ArchcalcError, KeyError, TypeError, ValueError, ZeroDivisionError):
            return None

    def _output_after_folds(self, source: str, shape: tuple) -> tuple | None:
        """A row's output passed through the layers folded into it (activations, a flatten)."""
        for name in self.rows[source].folded_names:
            layer = self.analysis.layers[name]
            try:
                shape = tuple(KINDS[layer.kind].infer(layer, shape).shape)
            except ArchcalcError:
                return None
        return shape

    def follow_through(self, row: Row, column: str, answer) -> str:
        """Why the answer is right for the student's own earlier answer, or "" where it is not."""
        found = self.students_step(row)
        if found:
            step, used = found
            values = {"output": tuple(step.shape), "memory": product(step.shape), "weights": step.weights.value,
                      "biases": step.biases.value, "params": step.weights.value + step.biases.value,
                      "macs": step.macs.value}
            value = values.get(column)
            if value is not None and value != _truth(row, column) and self.reader.matches(answer, value):
                yours = ", ".join(f"{name} {format_shape(self.own_output(name))}" for name in used)
                return f"follows from your {yours}: on that this layer gives {_shown(value, column)}"
        own = self.own_output(row.name)
        if own is not None and column in ("memory", "macs"):
            value = product(own) if column == "memory" else _macs_for(row, own)
            if value is not None and self.reader.matches(answer, value):
                return f"follows from your output {format_shape(own)} ({_shown(value, column)})"
        return ""

    # diagnosis: the slip a tutor would name

    def diagnosis(self, row: Row, column: str, answer, written: str) -> str:
        for slip in self.slips(row):
            if slip.column == column and self.reader.matches(answer, slip.value) is True:
                return slip.diagnosis
        return self.unit_slip(row, column, answer, written)

    def slips(self, row: Row) -> tuple[Slip, ...]:
        return row_slips(self.analysis, row) + self.channel_slips(row)

    def channel_slips(self, row: Row) -> tuple[Slip, ...]:
        """An output with the channels of another row (the input's, or the previous layer's)."""
        truth = tuple(row.shape)
        if len(truth) != 3:
            return ()
        slips, seen = [], {truth[-1]}
        for source in self.analysis.sources.get(row.name, ()):
            channels = self.rows[source].shape[-1]
            if channels not in seen:
                seen.add(channels)
                slips.append(Slip("output", truth[:-1] + (channels,),
                                  f"those are the channels of {source}, this layer's input; the output has "
                                  f"{format_dim(truth[-1])} (one per filter)"))
        return tuple(slips)

    def unit_slip(self, row: Row, column: str, answer, written: str) -> str:
        """FLOPs for MACs, bytes for values, K = 1024 for K = 1000 (or the reverse)."""
        truth = _truth(row, column)
        if not isinstance(truth, int) or not isinstance(answer, Answer):
            return ""
        if column == "macs" and truth and answer.accepts(2 * truth):
            return "that is FLOPs (2 per multiply-add): the column asks MACs, each multiply-add once"
        size = next((size for size in (4, 2) if truth and answer.accepts(size * truth)), None)
        if column in ("memory", "params") and size:
            return f"that is bytes ({size} per value, as {'float32' if size == 4 else 'float16'}): the column asks values"
        other = 1024 if self.reader.kilo == 1000 else 1000
        if re.search(r"[kmgtKMGT]\s*$", written):
            try:
                if parse_number(written, other).accepts(truth):
                    return f"that reads K as {other}: this sheet counts K = {self.reader.kilo}"
            except ValueError:
                pass
        return ""


def _truth(row: Row, column: str):
    return tuple(row.shape) if column == "output" else getattr(row, column)


def _shown(value, column: str) -> str:
    if column == "output":
        return format_shape(value)
    return format_dim(value, thousands=True)


def _macs_for(row: Row, own: tuple):
    """A row's MACs on the student's own output size: the same work per output value."""
    outputs = product(row.shape)
    if not isinstance(row.macs, int) or not isinstance(outputs, int) or not outputs or row.macs % outputs:
        return None
    own_outputs = product(own)
    return own_outputs * (row.macs // outputs) if isinstance(own_outputs, int) else None


def row_slips(analysis: Analysis, row: Row) -> tuple[Slip, ...]:
    """The typical wrong answers the row's kind knows of (a layer's row; none for merges and the input)."""
    layer = analysis.layers.get(row.name)
    return KINDS[layer.kind].slips(layer, analysis.inputs[row.name], row.step) if layer and row.step else ()


def _working(row: Row, column: str) -> str:
    """The derivation of one cell, from the row's explanation."""
    from .report.explain import explain_row

    wanted = {"output": "output", "memory": "memory", "macs": "MACs"}.get(column, "parameters")
    items = dict(explain_row(row).items)
    return items.get(wanted, explain_row(row).summary)


def check_model(result: CheckResult, sheet: str):
    """The marks as a table model, rendered like every table (CSV, Markdown, any tabulate format)."""
    from .report.table import Column, TableModel

    columns = (Column("row", "layer"), Column("column", "column"), Column("given", "given"),
               Column("expected", "expected"), Column("verdict", "verdict"), Column("feedback", "feedback"))
    rows = tuple({"row": m.row, "column": m.column, "given": m.given, "expected": m.expected,
                  "verdict": m.state, "feedback": m.feedback} for m in result.marks)
    document = check_document(result)
    return TableModel(f"{sheet}: {summary_line(result)}", columns, rows, (), (), tuple(document["marks"]), document)


def render_check(result: CheckResult, kilo: int, explain: bool = False) -> str:
    """The marks as text: one line per wrong or follow-through cell (the slip named where known),
    the derivation under it with ``explain``, what is off with the sheet, then the score."""
    lines = []
    if result.other_network:
        lines.append(f"this sheet does not look like {result.network}'s: {len(result.unknown_rows)} of its rows are "
                     f"no layer of {result.network} ({', '.join(result.unknown_rows[:5])}"
                     f"{', ...' if len(result.unknown_rows) > 5 else ''}); nothing on them was marked")
    for mark in result.marks:
        if mark.state in (WRONG, FOLLOW_THROUGH):
            verdict = "FOLLOW-THROUGH" if mark.consistent else "WRONG"
            lines.append(f"{verdict} {mark.row} {mark.column}: you wrote {mark.given}, expected {mark.expected}"
                         + (f"; {mark.feedback}" if mark.feedback else ""))
            if explain and mark.working:
                lines.append(f"      working: {mark.working}")
        elif mark.right and mark.feedback:
            lines.append(f"RIGHT {mark.row} {mark.column}: {mark.given}, {mark.feedback} (the exact size is {mark.expected})")
    unanswered = [f"{mark.row} {mark.column}" for mark in result.marks if mark.state == UNANSWERED]
    if unanswered:
        lines.append(f"UNANSWERED ({len(unanswered)}): {', '.join(unanswered[:12])}"
                     + (f", ... ({len(unanswered) - 12} more)" if len(unanswered) > 12 else ""))
    if result.unknown_rows and not result.other_network:
        lines.append(f"not marked: rows that are no layer of {result.network}: {', '.join(result.unknown_rows)}")
    if result.missing_rows and len(result.missing_rows) < result.asked:
        lines.append(f"missing from the sheet (their cells unanswered): {', '.join(result.missing_rows)}")
    if result.duplicate_rows:
        lines.append(f"rows written twice (the first is marked): {', '.join(result.duplicate_rows)}")
    for cell in result.altered:
        lines.append(f"ALTERED given cell {cell.row} {cell.column}: the worksheet gave {cell.given}, "
                     f"the sheet says {cell.sheet} (not marked)")
    if result.altered:
        columns = ", ".join(dict.fromkeys(cell.column for cell in result.altered))
        lines.append(f"(if the worksheet left {columns} blank, give check the same --blank as the worksheet)")
    if result.not_asked:
        lines.append(f"not marked: answers in columns the worksheet did not ask ({', '.join(result.not_asked)}); "
                     f"check --blank names the columns asked")
    first = result.first_divergence
    if first:
        lines.append(f"first divergence: {first.row} ({first.column})")
    if not explain and any(mark.state in (WRONG, FOLLOW_THROUGH) for mark in result.marks):
        lines.append("(--explain shows the working under each of these)")
    lines.append(summary_line(result) + (" (K = 1024)" if kilo == 1024 else ""))
    return "\n".join(lines) + "\n"


def summary_line(result: CheckResult) -> str:
    """``score 7/11 right (63.6%): 1 follow-through, 2 wrong, 1 unanswered``."""
    return (f"score {result.right}/{result.asked} right ({result.percent():.1f}%): {result.follow_through} "
            f"follow-through, {result.wrong} wrong, {result.unanswered} unanswered")


# --- worksheets -------------------------------------------------------------------------------


def worksheet_rows(analysis: Analysis, blank: tuple[str, ...], answers: bool) -> list[dict[str, str]]:
    """The table as a sheet: name and layer (with its padding, which the student needs) always
    given; ``blank`` columns left empty on every row but the input, unless ``answers``."""
    from .engine import full_label

    sheet = []
    for row in analysis.rows:
        cells = {"name": row.name, "layer": " + ".join((full_label(analysis, row),) + row.folded)}
        for column in COLUMNS:
            if column in blank or column in ("output", "memory", "params", "macs"):
                value = format_shape(row.shape) if column == "output" else format_dim(getattr(row, column))
                cells[column] = value if answers or column not in blank or row.kind == "input" else ""
        sheet.append(cells)
    return sheet


def sheet_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class Worksheet:
    """A blank table for students and its answer key, as CSV text."""

    name: str
    sheet: str
    key: str

    def write(self, output_dir: str | Path = ".", force: bool = False) -> list[Path]:
        """Write NAME_worksheet.csv and NAME_answers.csv into ``output_dir`` (both or neither)."""
        folder = Path(output_dir)
        sheet, key = folder / f"{self.name}_worksheet.csv", folder / f"{self.name}_answers.csv"
        return write_outputs({sheet: self.sheet, key: self.key}, force)


GRADEBOOK_COLUMNS = ("student", "right", "follow_through", "wrong", "unanswered", "asked", "score", "altered",
                     "unknown_rows", "missing_rows", "first_divergence")


@dataclass(frozen=True)
class Gradebook:
    """A class's marks: (student, result) per sheet; as CSV, one row per student."""

    results: tuple[tuple[str, CheckResult], ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for _, result in self.results)

    def rows(self) -> list[dict[str, str]]:
        rows = []
        for student, result in self.results:
            first = result.first_divergence
            row = {"student": student, "right": str(result.right), "follow_through": str(result.follow_through),
                   "wrong": str(result.wrong), "unanswered": str(result.unanswered), "asked": str(result.asked),
                   "score": f"{result.percent():.1f}",
                   "altered": "; ".join(f"{cell.row} {cell.column}" for cell in result.altered),
                   "unknown_rows": "; ".join(result.unknown_rows), "missing_rows": "; ".join(result.missing_rows),
                   "first_divergence": f"{first.row} ({first.column})" if first else ""}
            for column in COLUMNS:
                right, asked = result.score(column)
                row[column] = f"{right}/{asked}" if asked else ""
            rows.append(row)
        return rows

    def render(self, fmt: str = "csv") -> str:
        """CSV for a spreadsheet, JSON for a course platform, or a text summary (one line per student)."""
        rows = self.rows()
        if fmt == "csv":
            return sheet_csv(rows)
        if fmt == "json":
            import json

            return json.dumps([check_document(result) | {"student": student} for student, result in self.results],
                              indent=2) + "\n"
        return "\n".join(f"{student}: {summary_line(result)}"
                         + (f"; ALTERED given cells: {row['altered']}" if row["altered"] else "")
                         + (f"; not this network's rows: {row['unknown_rows']}" if row["unknown_rows"] else "")
                         + (f"; first divergence {row['first_divergence']}" if row["first_divergence"] else "")
                         for (student, result), row in zip(self.results, rows)) + "\n"


def check_document(result: CheckResult) -> dict:
    """The marks of one sheet for a course platform: the counts, the sheet's problems, every cell."""
    return {"network": result.network, "ok": result.ok, "score": round(result.percent(), 1),
            "right": result.right, "follow_through": result.follow_through, "wrong": result.wrong,
            "unanswered": result.unanswered, "asked": result.asked,
            "unknown_rows": list(result.unknown_rows), "missing_rows": list(result.missing_rows),
            "duplicate_rows": list(result.duplicate_rows), "other_network": result.other_network,
            "altered": [cell.__dict__ for cell in result.altered], "not_asked": list(result.not_asked),
            "marks": [{**mark.__dict__, "right": mark.right} for mark in result.marks]}


@dataclass(frozen=True)
class Marked:
    """A marked answer sheet: the marks, and how to show them."""

    result: CheckResult
    sheet: str
    kilo: int

    @property
    def ok(self) -> bool:
        return self.result.ok

    def render(self, fmt: str = "text", explain: bool = False) -> str:
        """Text (``explain``: the derivation under each wrong cell), JSON, or any table format."""
        if fmt == "text":
            return render_check(self.result, self.kilo, explain)
        if fmt == "json":
            import json

            return json.dumps({"sheet": self.sheet, **check_document(self.result)}, indent=2) + "\n"
        from .report.render import render

        return render(check_model(self.result, self.sheet), fmt)
