"""Worksheets and answer checking: a blank table for students, and a marker for what they fill in.

Answers may be written as a student would: ``55x55x96``, ``[55 x 55 x 96]``, ``290,400``, ``290K``,
``3.2M``, ``1.2e6``. A rounded answer is right when the true value rounds to it at the precision it
is written in (``3.2M`` accepts 3,150,000 to 3,249,999); an answer with every digit must be exact.
"""
from __future__ import annotations

import csv
import io
import math
import re
import tomllib
from pathlib import Path
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .dims import format_dim
from .engine import Analysis, Row
from .errors import ArchcalcError, Location, SpecError
from .files import write_output, write_outputs
from .layers import KINDS, Slip
from .layers.base import nearest

COLUMNS = ("output", "memory", "weights", "biases", "params", "macs")
ALIASES = {"shape": "output", "out": "output", "output size": "output", "mem": "memory", "parameters": "params",
           "flops": "flops", "mac": "macs", "multiply-adds": "macs"}


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


@dataclass(frozen=True)
class Mark:
    row: str
    column: str
    given: str
    expected: str
    right: bool
    working: str = ""
    consistent: bool = False  # wrong, but it follows from the student's own earlier wrong answer


@dataclass(frozen=True)
class CheckResult:
    marks: tuple[Mark, ...]
    unknown_rows: tuple[str, ...]

    @property
    def right(self) -> int:
        return sum(mark.right for mark in self.marks)

    @property
    def ok(self) -> bool:
        return all(mark.right for mark in self.marks) and not self.unknown_rows

    @property
    def consistent(self) -> int:
        """Wrong answers that follow from the student's own earlier slip (follow-through credit)."""
        return sum(mark.consistent for mark in self.marks)

    @property
    def first_divergence(self) -> Mark | None:
        return next((mark for mark in self.marks if not mark.right), None)

    def score(self, column: str) -> tuple[int, int]:
        """Right answers and answers given in one column."""
        marks = [mark for mark in self.marks if mark.column == column]
        return sum(mark.right for mark in marks), len(marks)


def read_answers(text: str, file: str) -> list[dict[str, str]]:
    """A filled-in sheet as rows of column -> text. CSV with a header row, or TOML ``[[answers]]``."""
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


def check_answers(analysis: Analysis, answers: list[dict[str, str]], kilo: int = 1000) -> CheckResult:
    """Mark every filled cell of every row against the analysis. A wrong answer that follows from
    the student's own wrong output size one row up (the layer applied to what they wrote) is marked
    "consistent with your earlier answer": follow-through credit, as examiners give it."""
    rows = {row.name: row for row in analysis.rows}
    order = {row.name: number for number, row in enumerate(analysis.rows)}
    written = {answer.get("name", ""): answer.get("output", "") for answer in answers}
    marks, unknown = [], []
    for answer in answers:
        row = rows.get(answer.get("name", ""))
        if row is None:
            unknown.append(answer.get("name", ""))
            continue
        slips = row_slips(analysis, row)
        earlier = _students_input(analysis, row, order, written)
        for column in COLUMNS:
            given = answer.get(column, "")
            if given:
                mark = _mark(row, column, given, kilo, answer, slips)
                marks.append(mark if mark.right or earlier is None else _follow_through(analysis, row, mark, earlier,
                                                                                      kilo))
    return CheckResult(tuple(marks), tuple(unknown))


def _students_input(analysis: Analysis, row: Row, order: dict, written: dict) -> tuple | None:
    """The input this row reads, as the student wrote it one row up, where that differs from the truth."""
    number = order[row.name]
    if number == 0 or row.name not in analysis.layers:
        return None
    before = analysis.rows[number - 1]
    if tuple(before.shape) != tuple(analysis.inputs[row.name]) or not written.get(before.name):
        return None
    try:
        shape = read_shape_answer(written[before.name])
    except ValueError:
        return None
    return shape if shape != tuple(before.shape) and len(shape) == len(before.shape) else None


def _follow_through(analysis: Analysis, row: Row, mark: Mark, shape: tuple, kilo: int) -> Mark:
    """The mark, as "consistent" where the answer is what the layer gives on the student's own input."""
    layer = analysis.layers[row.name]
    try:
        step = KINDS[layer.kind].infer(layer, shape)
    except ArchcalcError:  # the student's input does not fit the layer: nothing follows from it
        return mark
    values = {"output": tuple(step.shape), "memory": math.prod(step.shape), "weights": step.weights.value,
              "biases": step.biases.value, "params": step.weights.value + step.biases.value, "macs": step.macs.value}
    expected = values[mark.column]
    try:
        follows = (read_shape_answer(mark.given) == expected if mark.column == "output"
                   else parse_number(mark.given, kilo).accepts(expected))
    except (ValueError, TypeError):
        return mark
    if not follows:
        return mark
    own = "x".join(map(str, shape))
    shown = "x".join(map(str, expected)) if mark.column == "output" else f"{expected:,}"
    return Mark(mark.row, mark.column, mark.given, mark.expected, False,
                f"consistent with your earlier answer: on your input {own} this layer gives {shown}", True)


def _mark(row: Row, column: str, given: str, kilo: int, answer: dict[str, str], slips: tuple[Slip, ...]) -> Mark:
    if column == "output":
        expected = "x".join(format_dim(d) for d in row.shape)
        try:
            shape = read_shape_answer(given)
        except ValueError as error:
            return Mark(row.name, column, given, expected, False, str(error))
        right = shape == tuple(row.shape)
        working = "" if right else "; ".join(filter(None, [_shape_working(row), _shape_diagnosis(row, shape)]))
        return Mark(row.name, column, given, expected, right, working)
    truth = getattr(row, column)
    try:
        number = parse_number(given, kilo)
    except ValueError as error:
        return Mark(row.name, column, given, f"{truth:,}", False, str(error))
    if number.accepts(truth):
        return Mark(row.name, column, given, f"{truth:,}", True)
    diagnosis = _diagnosis(row, column, number, answer, slips)
    return Mark(row.name, column, given, f"{truth:,}", False, "; ".join(filter(None, [diagnosis, _working(row, column)])))


def _diagnosis(row: Row, column: str, number: Answer, answer: dict[str, str], slips: tuple[Slip, ...]) -> str:
    """Where a wrong number most likely went wrong: the first step at which it diverges."""
    if column == "memory" and answer.get("output"):
        try:
            own = read_shape_answer(answer["output"])
        except ValueError:
            own = None
        if own and own != tuple(row.shape) and number.accepts(math.prod(own)):
            return (f"diverges at the output size: this memory follows from your output {answer['output']}, "
                    f"which should be {'x'.join(format_dim(d) for d in row.shape)}")
    if column == "macs" and answer.get("output") and row.macs and isinstance(row.macs, int):
        try:
            own = read_shape_answer(answer["output"])
        except ValueError:
            own = None
        terms, whole = divmod(row.macs, math.prod(row.shape)) if math.prod(row.shape) else (0, 1)
        if own and own != tuple(row.shape) and not whole and number.accepts(math.prod(own) * terms):
            return (f"diverges at the output size: these MACs are your output {answer['output']} x {terms:,} "
                    f"per output; the output should be {'x'.join(format_dim(d) for d in row.shape)}")
    if column == "params" and row.biases and number.accepts(row.weights):
        return f"diverges at the biases: that is the weights alone; add the {row.biases:,} biases"
    for slip in slips:
        if slip.column == column and number.accepts(slip.value):
            return slip.diagnosis
    if column == "macs" and number.accepts(2 * row.macs):
        return "that is FLOPs (2 per multiply-add); MACs count each multiply-add once"
    return ""


def row_slips(analysis: Analysis, row: Row) -> tuple[Slip, ...]:
    """The typical wrong answers the row's kind knows of (a layer's row; none for merges and the input)."""
    layer = analysis.layers.get(row.name)
    return KINDS[layer.kind].slips(layer, analysis.inputs[row.name], row.step) if layer and row.step else ()


def _shape_diagnosis(row: Row, shape: tuple[int, ...]) -> str:
    """Common slips in an output size: rounding up instead of down."""
    if not row.step or not row.step.inexact:
        return ""
    if shape[:-1] == tuple(item.kept + 1 for item in row.step.inexact):
        return "you rounded up: (W - F + 2P)/S + 1 is not a whole number here, and frameworks floor it"
    return ""


def _shape_working(row: Row) -> str:
    steps = list(dict.fromkeys(row.step.working)) if row.step else []
    return "; ".join(steps)


def _working(row: Row, column: str) -> str:
    from .report.explain import explain_row

    return explain_row(row).summary


# --- worksheets -------------------------------------------------------------------------------


def worksheet_rows(analysis: Analysis, blank: tuple[str, ...], answers: bool) -> list[dict[str, str]]:
    """The table as a sheet: name and layer always given; ``blank`` columns left empty unless ``answers``."""
    sheet = []
    for row in analysis.rows:
        cells = {"name": row.name, "layer": " + ".join((row.label,) + row.folded)}
        for column in COLUMNS:
            if column in blank or column in ("output", "memory", "params", "macs"):
                value = "x".join(format_dim(d) for d in row.shape) if column == "output" else str(getattr(row, column))
                cells[column] = value if answers or column not in blank or row.kind == "input" else ""
        sheet.append(cells)
    return sheet


def sheet_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_check(result: CheckResult, kilo: int) -> str:
    """The marks as text: wrong cells with the expected value and the working, then a summary."""
    lines = []
    for mark in result.marks:
        if not mark.right:
            verdict = "CONSISTENT" if mark.consistent else "WRONG"
            lines.append(f"{verdict} {mark.row} {mark.column}: you wrote {mark.given}, expected {mark.expected}")
            if mark.working:
                lines.append(f"      working: {mark.working}")
    for name in result.unknown_rows:
        lines.append(f"WRONG row {name!r}: no such layer in the network")
    first = result.first_divergence
    if first:
        lines.append(f"first divergence: {first.row} ({first.column})")
    total = len(result.marks) + len(result.unknown_rows)
    lines.append(f"{result.right}/{total} answers right" + (" (K = 1024)" if kilo == 1024 else "")
                 + (f"; {result.consistent} more consistent with an earlier slip (follow-through)"
                    if result.consistent else ""))
    return "\n".join(lines) + "\n"


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
            total = len(result.marks) + len(result.unknown_rows)
            first = result.first_divergence
            row = {"student": student, "right": str(result.right), "answers": str(total),
                   "score": f"{100 * result.right / total:.1f}" if total else "",
                   "consistent": str(result.consistent),
                   "first_divergence": f"{first.row} ({first.column})" if first else ""}
            for column in COLUMNS:
                right, given = result.score(column)
                row[column] = f"{right}/{given}" if given else ""
            rows.append(row)
        return rows

    def render(self, fmt: str = "csv") -> str:
        """CSV for a spreadsheet, or a text summary (one line per student)."""
        rows = self.rows()
        if fmt == "csv":
            return sheet_csv(rows)
        return "\n".join(f"{row['student']}: {row['right']}/{row['answers']} right ({row['score']}%)"
                         + (f", {row['consistent']} consistent with an earlier slip" if row["consistent"] != "0" else "")
                         + (f", first divergence {row['first_divergence']}" if row["first_divergence"] else "")
                         for row in rows) + "\n"


@dataclass(frozen=True)
class Marked:
    """A marked answer sheet: the marks, and how to show them."""

    result: CheckResult
    sheet: str
    kilo: int

    @property
    def ok(self) -> bool:
        return self.result.ok

    def render(self, fmt: str = "text") -> str:
        from .marking import render_check
        from .report.models import check_model
        from .report.render import render

        return render_check(self.result, self.kilo) if fmt == "text" else render(check_model(self.result, self.sheet), fmt)
