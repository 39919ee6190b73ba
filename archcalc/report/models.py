"""Table models for the other commands' outputs (conventions), rendered like every table (a check's
is archcalc.marking's, which builds on this package)."""
from __future__ import annotations

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
