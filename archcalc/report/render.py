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


def render_latex(model: TableModel, standalone: bool = False) -> str:
    """A booktabs tabular, ready for ``\\input``: sizes as ``224\\times224\\times3``, the totals in a
    block under a rule, the notes after the table. ``standalone``: a whole document (longtable,
    headers repeated on every page) that pdflatex compiles as it is."""
    align = "".join("r" if c.align == "right" else "l" for c in model.columns)
    head = " & ".join(latex_cell(c.title) for c in model.columns) + r" \\"
    body = [" & ".join(latex_cell(row.get(c.key, "")) for c in model.columns) + r" \\" for row in model.rows]
    span = len(model.columns)
    totals = ([r"\midrule"] + [rf"\multicolumn{{{span}}}{{@{{}}l}}{{{latex_cell(line)}}} \\" for line in model.totals]
              if model.totals else [])
    notes = [r"\par\smallskip{\footnotesize"] + [latex_cell(line) + r"\par" for line in model.footnotes] + ["}"] \
        if model.footnotes else []
    if standalone:
        table = [rf"\begin{{longtable}}{{{align}}}", rf"\caption*{{{latex_cell(model.title)}}}\\", r"\toprule", head,
                 r"\midrule", r"\endhead", *body, *totals, r"\bottomrule", r"\end{longtable}", *notes]
        return "\n".join([*LATEX_PREAMBLE, *table, r"\end{document}"]) + "\n"
    table = [f"% {model.title}", r"% needs \usepackage{booktabs} in the preamble",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule", head, r"\midrule", *body, *totals, r"\bottomrule",
             r"\end{tabular}", *notes]
    return "\n".join(table) + "\n"


LATEX_PREAMBLE = (r"\documentclass[10pt]{article}", r"\usepackage[a4paper,landscape,margin=12mm]{geometry}",
                  r"\usepackage[T1]{fontenc}", r"\usepackage{booktabs}", r"\usepackage{longtable}",
                  r"\usepackage{caption}", r"\begin{document}")
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_cell(text: str) -> str:
    """Escape LaTeX's specials; ``224x224x3`` -> ``$224\\times224\\times3$``, ``35 x 1,117,184`` ->
    ``35 $\\times$ 1,117,184``.

    >>> latex_cell("[55x55x96]"), latex_cell("conv2_1 - conv2_3"), latex_cell("35 x 1,117,184")
    ('[$55\\\\times55\\\\times96$]', 'conv2\\\\_1 - conv2\\\\_3', '35 $\\\\times$ 1,117,184')
    """
    import re

    escaped = "".join(_LATEX_SPECIALS.get(character, character) for character in text)
    escaped = re.sub(r"\b(\d+(?:x\d+)+)\b", lambda m: "$" + m.group(1).replace("x", r"\times") + "$", escaped)
    return re.sub(r"(?<=\d) x (?=\d)", r" $\\times$ ", escaped)


def render_html(model: TableModel) -> str:
    """An HTML fragment: a caption, the table (each cell classed by alignment and column,
    ``right col-params``), and the totals as a list (everything escaped)."""
    head = "".join(f'<th class="{c.align}"{_unit_title(c)}>{html.escape(c.title)}</th>' for c in model.columns)
    body = "".join("<tr>" + "".join(f'<td class="{c.align} col-{c.key}">{html.escape(row.get(c.key, ""))}</td>'
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
    records = [_flat_fields(record) for record in model.records]
    fields = [key for key in records[0] if not isinstance(records[0][key], (list, dict)) or key == "shape"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_value(record.get(key)) for key in fields})
    return buffer.getvalue()


def _flat_fields(record: dict) -> dict:
    """A record's receptive field as columns a spreadsheet reads (rf, jump, start, effective
    padding: one value, or rows x columns where the axes differ)."""
    fields = record.get("receptive_field")
    if not isinstance(fields, list) or not fields:
        return {key: value for key, value in record.items() if key != "receptive_field"}
    flat = {key: value for key, value in record.items() if key != "receptive_field"}
    for key, column in (("size", "rf"), ("jump", "jump"), ("start", "start"), ("effective_padding", "effective_padding")):
        values = [f"{axis[key]:g}" for axis in fields]
        flat[column] = values[0] if len(set(values)) == 1 else "x".join(values)
    return flat


def _csv_value(value):
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return "x".join(map(str, value))
        return " x ".join(v if v.isdigit() or v.isidentifier() else f"({v})" for v in map(str, value))
    return value


def render_json(model: TableModel) -> str:
    return json.dumps(model.document if model.document is not None else list(model.records), indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "latex": render_latex, "html": render_html,
             "csv": render_csv, "json": render_json}


def render(model: TableModel, fmt: str, standalone: bool = False) -> str:
    """Dispatch on the format name; any other name is looked up among tabulate's formats.
    ``standalone`` (LaTeX only): a whole document rather than a table to ``\\input``."""
    if standalone:
        if fmt != "latex":
            raise ArchcalcError(f"--standalone makes a whole LaTeX document: use it with -f latex, not -f {fmt}")
        return render_latex(model, standalone=True)
    if fmt in RENDERERS:
        return RENDERERS[fmt](model)
    from tabulate import tabulate_formats

    if fmt not in tabulate_formats:
        raise ArchcalcError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}, or a tabulate format "
                            f"({', '.join(sorted(tabulate_formats))})")
    return "\n".join([model.title, "", _grid(model, fmt), "", *model.totals]) + "\n"
