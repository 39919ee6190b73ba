"""Renderers: each formats a TableModel and nothing else. One entry per format; any tabulate
format can also be named (``grid``, ``rst``, ``mediawiki``, ...)."""
from __future__ import annotations

import csv
import html
import io
import json

from ..errors import ArchcalcError
from .table import TableModel

FORMATS = ("text", "markdown", "latex", "html", "csv", "json")


def _grid(model: TableModel, tablefmt: str) -> str:
    from tabulate import tabulate

    return tabulate([[row.get(c.key, "") for c in model.columns] for row in model.rows],
                    headers=[c.title for c in model.columns], colalign=[c.align for c in model.columns],
                    tablefmt=tablefmt, disable_numparse=True, preserve_whitespace=True)


def render_text(model: TableModel) -> str:
    """A plain-text table, the title above and the totals and footnotes below."""
    notes = ["", "Notes:", *(f"  {line}" for line in model.footnotes)] if model.footnotes else []
    return "\n".join([model.title, "", _grid(model, "simple"), "", *model.totals, *notes]).rstrip("\n") + "\n"


def render_markdown(model: TableModel) -> str:
    """A GitHub-flavoured Markdown table with the totals as a list under it."""
    totals = [f"- {line}" for line in model.totals]
    notes = ["", "Notes:", *(f"- {line}" for line in model.footnotes)] if model.footnotes else []
    return "\n".join([f"**{model.title}**", "", _grid(model, "github"), *([""] + totals if totals else []),
                      *notes]) + "\n"


def render_latex(model: TableModel) -> str:
    """A booktabs tabular, escaped, ready for ``\\input``; the title and totals as comments."""
    lines = [f"% {model.title}", _grid(model, "latex_booktabs")]
    lines += [f"% {line}" for line in model.totals + model.footnotes]
    return "\n".join(lines) + "\n"


def render_html(model: TableModel) -> str:
    """An HTML fragment: a caption, the table, and the totals as a list (everything escaped)."""
    head = "".join(f'<th class="{c.align}"{_unit_title(c)}>{html.escape(c.title)}</th>' for c in model.columns)
    body = "".join("<tr>" + "".join(f'<td class="{c.align}">{html.escape(row.get(c.key, ""))}</td>'
                                    for c in model.columns) + "</tr>\n" for row in model.rows)
    totals = "".join(f"<li>{html.escape(line)}</li>" for line in model.totals)
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in model.footnotes)
    return (f'<table class="archcalc">\n<caption>{html.escape(model.title)}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"
            + (f'<ul class="totals">{totals}</ul>\n' if totals else "")
            + (f'<ul class="notes">{notes}</ul>\n' if notes else ""))


def _unit_title(column) -> str:
    return f' title="{html.escape(column.unit)}"' if column.unit else ""


def render_csv(model: TableModel) -> str:
    """Exact values, one line per row: for spreadsheets and graders."""
    buffer = io.StringIO()
    if not model.records:
        return ""
    fields = [key for key in model.records[0] if not isinstance(model.records[0][key], (list, dict)) or key == "shape"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in model.records:
        writer.writerow({key: _csv_value(record[key]) for key in fields})
    return buffer.getvalue()


def _csv_value(value):
    if isinstance(value, list):
        separator = "x" if all(isinstance(v, int) for v in value) else " x "
        return separator.join(str(v) for v in value)
    return value


def render_json(model: TableModel) -> str:
    return json.dumps(model.document if model.document is not None else list(model.records), indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "latex": render_latex, "html": render_html,
             "csv": render_csv, "json": render_json}


def render(model: TableModel, fmt: str) -> str:
    """Dispatch on the format name; any other name is looked up among tabulate's formats."""
    if fmt in RENDERERS:
        return RENDERERS[fmt](model)
    from tabulate import tabulate_formats

    if fmt not in tabulate_formats:
        raise ArchcalcError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}, or a tabulate format "
                            f"({', '.join(sorted(tabulate_formats))})")
    return "\n".join([model.title, "", _grid(model, fmt), "", *model.totals]) + "\n"
