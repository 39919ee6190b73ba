"""Table models for the other commands' outputs (conventions, check), rendered like every table."""
from __future__ import annotations

from ..marking import CheckResult, check_document, summary_line
from ..dims import to_json
from .numbers import compact
from .table import Column, TableModel


def conventions_model(analysis, results) -> TableModel:
    columns = (Column("convention", "convention"), Column("params", "params", "right"),
               Column("ops", "ops", "right"), Column("reason", "why it differs"))
    rows = tuple({"convention": r.profile.name, "params": f"{r.params:,}" if isinstance(r.params, int) else str(r.params),
                  "ops": f"{compact(r.ops, kilo=r.profile.kilo)} {r.profile.ops_name}", "reason": r.profile.reason}
                 for r in results)
    records = tuple({"convention": r.profile.name, "params": to_json(r.params), "ops": to_json(r.ops),
                     "ops_name": r.profile.ops_name, "reason": r.profile.reason} for r in results)
    return TableModel(f"{analysis.spec.title}: totals by convention", columns, rows, (), (), records, list(records))


def check_model(result: CheckResult, sheet: str) -> TableModel:
    columns = (Column("row", "layer"), Column("column", "column"), Column("given", "given"),
               Column("expected", "expected"), Column("verdict", "verdict"), Column("feedback", "feedback"))
    rows = tuple({"row": m.row, "column": m.column, "given": m.given, "expected": m.expected,
                  "verdict": m.state, "feedback": m.feedback} for m in result.marks)
    document = check_document(result)
    return TableModel(f"{sheet}: {summary_line(result)}", columns, rows, (), (), tuple(document["marks"]), document)
