"""Renderers: each formats a TableModel (or, for JSON, the analysis itself) and nothing else."""
from __future__ import annotations

import csv
import io
import json

from ..engine import Analysis, Row
from ..dims import to_json
from .table import TableModel, shape_text


def render_text(model: TableModel) -> str:
    """A plain-text table, the title above and the totals and footnotes below."""
    from tabulate import tabulate

    body = tabulate([[row[c.key] for c in model.columns] for row in model.rows],
                    headers=[c.title for c in model.columns],
                    colalign=[c.align for c in model.columns], tablefmt="simple", disable_numparse=True,
                    preserve_whitespace=True)  # keep the indentation that shows nesting
    return "\n".join([model.title, "", body, "", *model.totals, *_footnotes(model)]) + "\n"


def render_markdown(model: TableModel) -> str:
    """A GitHub-flavoured Markdown table with the totals as a list under it."""
    from tabulate import tabulate

    body = tabulate([[row[c.key] for c in model.columns] for row in model.rows],
                    headers=[c.title for c in model.columns],
                    colalign=[c.align for c in model.columns], tablefmt="github", disable_numparse=True,
                    preserve_whitespace=True)
    totals = [f"- {line}" for line in model.totals]
    notes = [f"- {line}" for line in model.footnotes]
    return "\n".join([f"**{model.title}**", "", body, "", *totals, *(["", "Notes:", *notes] if notes else [])]) + "\n"


def render_csv(analysis: Analysis) -> str:
    """One line per row with exact numbers: for spreadsheets and graders."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "name", "kind", "layer", "shape", "memory", "weights", "biases", "params", "macs"])
    for row in analysis.rows:
        record = row_record(row)
        writer.writerow([row.index, row.name, row.kind, record["layer"].strip(), shape_text(row.shape)[1:-1],
                         record["memory"], record["weights"], record["biases"], record["params"], record["macs"]])
    return buffer.getvalue()


def row_record(row: Row) -> dict:
    """A row as the JSON contract spells it."""
    return {"name": row.name, "kind": row.kind, "layer": " + ".join((row.label,) + row.folded),
            "shape": [to_json(d) for d in row.shape], "memory": to_json(row.memory),
            "weights": to_json(row.weights), "biases": to_json(row.biases), "params": to_json(row.params),
            "macs": to_json(row.macs), "folded": list(row.folded), "level": row.level,
            "receptive_field": [{"size": float(f.size), "jump": float(f.jump), "start": float(f.start)}
                                for f in row.rf] if row.rf else None}


def analysis_record(analysis: Analysis) -> dict:
    """The JSON contract: model, input, layers (first row the input) and totals."""
    totals = analysis.totals
    return {
        "model": analysis.spec.name,
        "title": analysis.spec.title,
        "input": [to_json(d) for d in analysis.spec.input_shape],
        "layers": [row_record(row) for row in analysis.rows],
        "totals": {"memory": to_json(totals.memory), "weights": to_json(totals.weights),
                   "biases": to_json(totals.biases), "params": to_json(totals.params),
                   "macs": to_json(totals.macs)},
        "depth": {"layers": analysis.depth, "conv_layers": analysis.conv_depth},
        "warnings": list(analysis.warnings),
        "assumptions": list(analysis.assumptions),
    }


def render_json(analysis: Analysis) -> str:
    return json.dumps(analysis_record(analysis), indent=2) + "\n"


def _footnotes(model: TableModel) -> list[str]:
    return ["", "Notes:", *(f"  {line}" for line in model.footnotes)] if model.footnotes else []


FORMATS = ("text", "markdown", "csv", "json")


def render(analysis: Analysis, model: TableModel, fmt: str) -> str:
    """Dispatch on the format name (one entry per format)."""
    table_renderers = {"text": render_text, "markdown": render_markdown}
    if fmt in table_renderers:
        return table_renderers[fmt](model)
    return {"csv": render_csv, "json": render_json}[fmt](analysis)
