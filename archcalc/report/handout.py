"""Handouts: for each network the table (with receptive fields), the totals, worked derivations of
its key layers and a plot; for several networks the comparison matrix. Markdown, and one HTML file
that needs nothing else (inline CSS, images embedded) and prints cleanly: every network starts on a
new page and its derivations on the next, so the page count is known in advance."""
from __future__ import annotations

import base64
import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..comparison import build_comparison
from ..engine import Analysis, collapse
from ..layers import kind_of
from .explain import explain_row
from .matrix import comparison_model
from .render import render_html, render_markdown
from .table import TableModel, TableOptions, build_table

STUDENT_BLANKS = ("output", "memory", "params")

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; margin: 2em; color: #000; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 1.5em; } h3 { font-size: 13px; }
table.archcalc { border-collapse: collapse; margin: 0.5em 0; }
table.archcalc caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
table.archcalc th, table.archcalc td { border-bottom: 1px solid #999; padding: 1px 6px; white-space: pre; }
table.archcalc th { border-bottom: 2px solid #000; }
td.right, th.right { text-align: right; }
ul.totals { list-style: none; padding: 0; font-weight: bold; } ul.notes { font-size: 9px; color: #333; }
pre.derivation { white-space: pre-wrap; font-size: 10px; }
img.plot { max-width: 100%; max-height: 14cm; }
p.source { font-style: italic; }
@page { size: A4; margin: 10mm; }
@media print {
  body { margin: 0; font-size: 8px; }
  table.archcalc { font-size: 7px; }
  section.network + section.network, section.comparison, div.derivations { break-before: page; }
  img.plot { max-height: 12cm; }
}
"""

READY_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-images-loaded",
    String(images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length));
});
</script>"""


@dataclass
class Handout:
    markdown: str
    html: str
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG, for the Markdown
    pages: int = 0  # printed pages, by construction


def build_handout(analyses: list[Analysis], comparison: list[Analysis], name: str, title: str,
                  student: bool = False, plots: bool = True) -> Handout:
    """Both documents of a handout; ``student`` leaves the output, memory and params cells blank."""
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    images: dict[str, bytes] = {}
    for analysis in analyses:
        shown = collapse(analysis, 0) if len(analysis.rows) > 40 and analysis.blocks else analysis
        model = _blank(build_table(shown, TableOptions(receptive_field=True)), student)
        picture = _plot_png(analysis) if plots else None
        image_name = f"{name}_{analysis.spec.name}.png"
        if picture:
            images[image_name] = picture
        md += _network_markdown(analysis, model, student, image_name if picture else None)
        body.append(_network_html(analysis, model, student, picture))
    pages = 2 * len(analyses)  # the first network shares its page with the title
    if len(comparison) > 1:
        matrix = comparison_model(build_comparison(comparison))
        picture = _comparison_png(comparison) if plots else None
        image_name = f"{name}_comparison.png"
        if picture:
            images[image_name] = picture
        md += ["## Comparison", "", render_markdown(matrix)]
        md += [f"![parameters against MACs]({image_name})", ""] if picture else []
        body.append('<section class="comparison"><h2>Comparison</h2>' + render_html(matrix)
                    + (_img(picture, "parameters against MACs") if picture else "") + "</section>")
        pages += 1
    document = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
                + "\n".join(body) + f"\n{READY_SCRIPT}\n</body></html>\n")
    return Handout("\n".join(md).rstrip() + "\n", document, images, pages)


def _blank(model: TableModel, student: bool) -> TableModel:
    if not student:
        return model
    rows = tuple(row if index == 0 else {**row, **{key: "" for key in STUDENT_BLANKS}}
                 for index, row in enumerate(model.rows))
    return TableModel(model.title, model.columns, rows, (), (), model.records, model.document)


def key_rows(analysis: Analysis):
    """The first row of each kind worth working through by hand (the kinds say which they are)."""
    seen, rows = set(), []
    for row in analysis.rows:
        kind = kind_of(row.kind)
        if kind is not None and kind.worked_example and row.kind not in seen:
            seen.add(row.kind)
            rows.append(row)
    return rows


def _source(analysis: Analysis) -> str:
    meta = analysis.spec.meta
    return "; ".join(str(meta[key]) for key in ("authors", "paper", "source") if meta.get(key))


def _memory_paragraphs(analysis) -> tuple[str, ...]:
    from .memory import memory_summary

    return memory_summary(analysis)


def _network_markdown(analysis, model, student, image) -> list[str]:
    lines = [f"## {analysis.spec.title}", "", f"*{_source(analysis)}*", "", render_markdown(model)]
    memory = _memory_paragraphs(analysis)
    if memory:
        lines += ["### Memory as execution holds it", "", *[f"- {line}" for line in memory], ""]
    if not student:
        lines += ["### Worked derivations", ""] + [f"    {line}" for row in key_rows(analysis)
                                                  for line in explain_row(row).text().splitlines()] + [""]
    else:
        lines += ["### Questions", "", "Fill in the output size, memory and parameters of every layer, "
                  "showing (W - F + 2P)/S + 1 for each conv and pool.", ""]
    if image:
        lines += [f"![memory, parameters and MACs per layer]({image})", ""]
    return lines


def _network_html(analysis, model, student, picture) -> str:
    parts = [f'<section class="network"><h2>{html.escape(analysis.spec.title)}</h2>',
             f'<p class="source">{html.escape(_source(analysis))}</p>', render_html(model)]
    memory = _memory_paragraphs(analysis)
    if memory:
        parts.append('<h3>Memory as execution holds it</h3><ul class="memory">'
                     + "".join(f"<li>{html.escape(line)}</li>" for line in memory) + "</ul>")
    parts.append('<div class="derivations">')
    if student:
        parts.append("<h3>Questions</h3><p>Fill in the output size, memory and parameters of every layer, "
                     "showing (W - F + 2P)/S + 1 for each conv and pool.</p>")
    else:
        text = "\n".join(explain_row(row).text() for row in key_rows(analysis))
        parts.append(f'<h3>Worked derivations</h3><pre class="derivation">{html.escape(text)}</pre>')
    if picture:
        parts.append(_img(picture, f"{analysis.spec.name}: memory, parameters and MACs per layer"))
    parts.append("</div></section>")
    return "\n".join(parts)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _plot_png(analysis: Analysis) -> bytes | None:
    from .plots import plot_network

    return _png(lambda path: plot_network(analysis, path))


def _comparison_png(analyses: list[Analysis]) -> bytes | None:
    from .plots import plot_comparison

    return _png(lambda path: plot_comparison(analyses, path))


def _png(draw) -> bytes | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plot.png"
        draw(path)
        return path.read_bytes()


def find_chromium() -> str:
    """The headless browser that prints PDFs, or an error that says how to install one."""
    import shutil

    from ..errors import ArchcalcError

    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        raise ArchcalcError("--pdf needs Chromium (Debian: apt-get install chromium)")
    return found


def print_pdf(html_path: Path, pdf_path: Path, chromium: str) -> None:
    """Print the HTML to PDF with headless Chromium."""
    import subprocess

    from ..errors import ArchcalcError

    try:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        "--disable-background-networking", "--disable-component-update", "--no-first-run",
                        f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as error:
        raise ArchcalcError(f"Chromium could not print {html_path.name} to PDF: {error}") from None
