"""Renderers for the comparison matrix: text, Markdown, CSV and JSON from one Comparison."""
from __future__ import annotations

import csv
import io
import json

from ..compare import Comparison, format_value
from ..dims import to_json
from .numbers import compact

COMPACT_KEYS = ("params", "macs", "memory")


def _cell(key: str, value, disputed: bool) -> str:
    text = compact(value) if key in COMPACT_KEYS and isinstance(value, int) else format_value(value)
    if key == "fc_layers" and isinstance(value, list):
        text = f"{len(value)}: {text}" if value else "0"
    return text + (" (!)" if disputed else "")


def _grid(comparison: Comparison) -> list[list[str]]:
    return [[row.title] + [_cell(row.key, value, disputed) for value, disputed in zip(row.values, row.disputed)]
            for row in comparison.rows]


def render_comparison(comparison: Comparison, fmt: str) -> str:
    return {"text": _text, "markdown": _markdown, "csv": _csv, "json": _json}[fmt](comparison)


def _notes(comparison: Comparison) -> list[str]:
    notes = comparison.footnotes()
    return ["(!) a claim disagrees with the spec:", *notes] if notes else []


def _text(comparison: Comparison) -> str:
    from tabulate import tabulate

    body = tabulate(_grid(comparison), headers=[""] + list(comparison.models), tablefmt="simple",
                                    disable_numparse=True)
    return "\n".join([body, "", *_notes(comparison)]) + "\n"


def _markdown(comparison: Comparison) -> str:
    from tabulate import tabulate

    body = tabulate(_grid(comparison), headers=[""] + list(comparison.models), tablefmt="github", disable_numparse=True)
    notes = [f"- {line}" for line in comparison.footnotes()]
    return "\n".join([body, *(["", "Claims that disagree with the specs (marked (!)):", *notes] if notes else [])]) + "\n"


def _csv(comparison: Comparison) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key"] + list(comparison.models))
    for row in comparison.rows:
        writer.writerow([row.key] + [format_value(to_json(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                                     for v in row.values])
    return buffer.getvalue()


def _json(comparison: Comparison) -> str:
    def plain(value):
        return to_json(value) if not isinstance(value, (bool, list, float, type(None))) else value

    record = {
        "models": list(comparison.models),
        "rows": [{"key": row.key, "title": row.title, "values": [plain(v) for v in row.values],
                  "claims": [plain(c) for c in row.claims], "disputed": list(row.disputed)}
                 for row in comparison.rows],
        "notes": comparison.footnotes(),
    }
    return json.dumps(record, indent=2) + "\n"
