"""Handouts: for each network its table (with receptive fields), totals, memory, worked derivations
and plot; the comparison matrix; the lecture's two questions answered with computed figures.
Markdown, and one HTML file that needs nothing else (inline CSS, images embedded) and prints as a
lecturer would hand it out: A4 or Letter, tables at 9 pt or more, a wide table on a landscape page,
every section on a new page, table headers repeated, no derivation or plot split across pages.

The student version leaves chosen columns blank everywhere (table cells with room to write, the
totals, the plots, the comparison rows, the evidence of the answers); its key is the same pages
with the answers filled in."""
from __future__ import annotations

import base64
import html
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..comparison import build_comparison
from ..engine import Analysis, collapse
from ..errors import ArchcalcError
from ..layers import kind_of
from ..layers.base import nearest
from .answers import Answer, lecture_answers, short_title
from .explain import explain_row, explanation_html, explanation_markdown
from .matrix import comparison_model
from .render import render_html, render_markdown
from .table import TableModel, TableOptions, build_table

BLANKABLE = ("output", "memory", "params", "macs", "rf", "jump", "start")
STUDENT_BLANKS = ("output", "memory", "params", "macs", "rf")
# blanking a table column blanks what would give it away elsewhere
_IMPLIED = {"rf": ("jump", "start")}
# the comparison's rows that a student computes (the others are given: year, input, kernel sizes,
# the kinds of layer used, the published error); the student version leaves them blank
COMPUTED_ROWS = ("layers", "conv_layers", "params", "macs", "connections", "memory", "inference_peak", "training_peak",
                 "fc_share", "params_per_layer", "pointwise_saving", "params_per_error", "macs_per_error")
_TOTALS = {"memory": ("TOTAL memory", "INFERENCE peak"), "params": ("TOTAL params",),
           "macs": ("TOTAL MACs", "TOTAL connections", "AS ")}
PAPERS = {"A4": (210, 297), "Letter": (215.9, 279.4)}  # millimetres
MARGIN_MM = 12
ROWS_BEFORE_COLLAPSING = 40


@dataclass(frozen=True)
class HandoutOptions:
    paper: str = "A4"
    blank: tuple[str, ...] = STUDENT_BLANKS  # the student version's blank columns
    depth: int | None = None  # None: blocks collapse (identical ones grouped) where a table passes 40 rows
    svg: bool = False  # plots as SVG (sharp at any size) instead of PNG
    plots: bool = True
    convention: str = "archcalc"  # how the totals count params and ops


def parse_blank(text: str | tuple | list | None) -> tuple[str, ...]:
    """``"output,memory"`` -> the columns to blank, with a clear error for an unknown one."""
    if text is None:
        return STUDENT_BLANKS
    names = [name.strip() for name in (text.split(",") if isinstance(text, str) else text) if name.strip()]
    unknown = [name for name in names if name not in BLANKABLE]
    if unknown:
        hint = nearest(unknown[0], BLANKABLE)
        raise ArchcalcError(f"--blank: no column {unknown[0]!r}" + (f"; {hint}" if hint else "")
                            + f" (columns: {', '.join(BLANKABLE)})")
    return tuple(dict.fromkeys(name for name in names for name in (name, *_IMPLIED.get(name, ()))))


NO_PLOTS = "Plots left out: matplotlib is not installed (pip install 'archcalc[plot]')."


@dataclass
class Handout:
    markdown: str
    html: str
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> image, for the Markdown
    notices: tuple[str, ...] = ()  # what the reader of the command line should know (plots left out)


def can_plot() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Version:
    """What one document shows: everything (the handout), blanks (student), or the key to the blanks."""

    blank: tuple[str, ...] = ()
    key: bool = False  # the blanks filled in and marked

    @property
    def student(self) -> bool:
        return bool(self.blank) and not self.key

    def hides(self, *columns: str) -> bool:
        """Whether what shows these columns (a plot, a comparison row, the memory section) is left
        out: in the student version, and in its key, which keeps the student's pages."""
        return bool(self.blank) and any(column in self.blank for column in columns)


def build_handout(analyses: list[Analysis], comparison: list[Analysis], name: str, title: str,
                  version: Version = Version(), options: HandoutOptions = HandoutOptions(),
                  lecun: Analysis | None = None) -> Handout:
    """Both documents of one version of a handout."""
    if options.paper not in PAPERS:
        raise ArchcalcError(f"--paper: no paper {options.paper!r} (papers: {', '.join(PAPERS)})")
    images: dict[str, bytes] = {}
    sections: list[tuple[str, str, list[str], str]] = []  # (anchor, heading, markdown lines, html)
    missing_plots = options.plots and not can_plot()  # said on the page and on the command line, never silent
    answers = lecture_answers(comparison if len(comparison) > 1 else analyses, lecun)
    if lecun is not None and any(answer.number == 1 for answer in answers) and \
            lecun.spec.name not in {analysis.spec.name for analysis in analyses}:
        analyses = [*analyses, lecun]  # the first question is about LeCun's network: its table comes along
    for analysis in analyses:
        shown = _shown(analysis, options.depth)
        model = build_table(shown, TableOptions(receptive_field=True, effective_padding=False,
                                                convention=options.convention))
        picture = None if version.hides("memory", "params", "macs") or not options.plots else _plot(analysis, options)
        image_name = f"{name}_{analysis.spec.name}.{_extension(options)}"
        if picture:
            images[image_name] = picture
        sections.append(_network_section(analysis, shown, model, version, options, picture,
                                         image_name if picture else None,
                                         missing_plots and not version.hides("memory", "params", "macs")))
    figure = None  # the comparison's plot: under the answers it is evidence for, else under the matrix
    if len(comparison) > 1:
        matrix = comparison_model(build_comparison(comparison))
        hidden = list(COMPUTED_ROWS) if version.student else []
        picture = (_comparison_plot(comparison, options) if options.plots and not version.hides("params", "macs")
                   else None)
        if picture:
            image_name = f"{name}_comparison.{_extension(options)}"
            images[image_name] = picture
            figure = (picture, image_name)
        sections.append(_comparison_section(_blank_rows(matrix, hidden), None if answers else figure, options))
    if answers:
        sections.append(_answers_section(answers, version, figure, options))
    return Handout(_markdown(title, sections, version), _html(title, sections, options, version), images,
                   (NO_PLOTS,) if missing_plots else ())


def _shown(analysis: Analysis, depth: int | None) -> Analysis:
    """The rows a handout prints: blocks collapsed (and identical ones grouped) where a table is long."""
    if depth is not None:
        return collapse(analysis, depth, group=True)
    if len(analysis.rows) > ROWS_BEFORE_COLLAPSING and analysis.blocks:
        return collapse(analysis, 0, group=True)
    return analysis


def _extension(options: HandoutOptions) -> str:
    return "svg" if options.svg else "png"


def default_title(analyses: list[Analysis]) -> str:
    """``AlexNet, VGG16, GoogLeNet and ResNet-152: layer by layer``."""
    names = [short_title(a.spec.title) for a in analyses]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed}: layer by layer"


# -- one network ---------------------------------------------------------------------------------

def _network_section(analysis, shown, model, version, options, picture, image_name, missing_plot=False):
    title = analysis.spec.title
    anchor = f"net-{analysis.spec.name}"
    table = _version_table(model, version, analysis.caption)
    source = _source(analysis, version)
    md = [f"*{source}*", "", render_markdown(table)]
    body = [f'<p class="source">{html.escape(source)}</p>', _table_html(table, version)]
    memory = () if version.hides("memory", "params") else _memory_paragraphs(analysis)
    if memory:
        md += ["### Memory as execution holds it", "", *[f"- {line}" for line in memory], ""]
        body.append('<h3>Memory as execution holds it</h3><ul class="memory">'
                    + "".join(f"<li>{html.escape(line)}</li>" for line in memory) + "</ul>")
    if missing_plot:
        md += [f"*{NO_PLOTS}*", ""]
        body.append(f'<p class="notice">{html.escape(NO_PLOTS)}</p>')
    if picture:
        alt = f"{analysis.spec.name}: memory, parameters and MACs per layer"
        md += [f"![{alt}]({image_name})", ""]
        body.append(f'<figure class="plot">{_img(picture, alt, options)}</figure>')
    if not version.student:  # the student version asks once, under the title
        explanations = [explain_row(row) for row in key_rows(analysis)]  # im2col and FLOPs views: in explain
        md += ["### Worked derivations", "", *[explanation_markdown(e) for e in explanations], ""]
        body.append('<h3>Worked derivations</h3><div class="derivations">'
                    + "".join(explanation_html(e) for e in explanations) + "</div>")
    wide = _too_wide(table, version, options)
    return anchor, title, md, _section(anchor, title, "\n".join(body), "network" + (" wide" if wide else ""))


def _version_table(model: TableModel, version: Version, caption: str = "") -> TableModel:
    """The student version: blank columns (the input row keeps its shape), totals as fill-in
    lines, no notes (they give answers away) but the caption that says what the labels leave out."""
    if not version.student:  # the full handout, and the key, which fills the blanks in
        return model
    blanks = version.blank
    rows = tuple(row if number == 0 else {**row, **{key: "" for key in blanks}} for number, row in enumerate(model.rows))
    totals = tuple(_blank_total(line, blanks) for line in model.totals)
    return replace(model, rows=rows, totals=tuple(line for line in totals if line),
                   footnotes=(caption,) if caption else ())


def _blank_total(line: str, blanks: tuple[str, ...]) -> str:
    for column, leads in _TOTALS.items():
        if column in blanks and line.startswith(leads):
            lead = next(lead for lead in leads if line.startswith(lead))
            return f"{lead.rstrip(': ')}: ____________________" if lead.startswith("TOTAL") else ""
    return line


def _prompt(blanks: tuple[str, ...]) -> str:
    what = {"output": "output size", "memory": "memory (values)", "params": "parameters", "macs": "MACs",
            "rf": "receptive field (with its jump and start)"}
    asked = [text for key, text in what.items() if key in blanks]
    listed = ", ".join(asked[:-1]) + (" and " if len(asked) > 1 else "") + asked[-1] if asked else "blank cells"
    return (f"Fill in the {listed} of every row, and the totals. Show (W - F + 2P)/S + 1 for each conv and "
            "pool, F*F*C_in*K (+ K biases) for each layer's parameters, and output values x (F*F*C_in) for "
            "its MACs.")


def _table_html(model: TableModel, version: Version) -> str:
    """The table with a class per column (``col-params``); in the student version the blank cells
    marked to give room to write, in the key the answers marked (the input row is given in both)."""
    text = render_html(model)
    if not version.blank:
        return text
    head, body = text.split("<tbody>\n", 1)
    rows = body.split("</tr>\n")
    mark = "blank" if version.student else "answer"
    for number in range(1, len(rows)):
        for key in version.blank:
            rows[number] = rows[number].replace(f'col-{key}">', f'col-{key} {mark}">')
    return head + "<tbody>\n" + "</tr>\n".join(rows)


def _too_wide(model: TableModel, version: Version, options: HandoutOptions) -> bool:
    """Whether the table needs a landscape page: its widest cells, at 9 pt, against the paper's width."""
    return table_width_mm(model, version.blank) > PAPERS[options.paper][0] - 2 * MARGIN_MM


def table_width_mm(model: TableModel, blank: tuple[str, ...] = ()) -> float:
    """An estimate of a table's printed width at 9 pt (within 6% of Chromium's, measured for the
    shipped networks): 1.75 mm a character, 3.5 mm padding a column, 24 mm for a blank column."""
    width = 0.0
    for column in model.columns:
        longest = max([len(column.title)] + [len(row.get(column.key, "")) for row in model.rows])
        width += (24 if column.key in blank else longest * 1.75) + 3.5
    return width


def key_rows(analysis: Analysis):
    """The first row of each kind worth working through by hand (the kinds say which they are)."""
    seen, rows = set(), []
    for row in analysis.rows:
        kind = kind_of(row.kind)
        if kind is not None and kind.worked_example and row.kind not in seen:
            seen.add(row.kind)
            rows.append(row)
    return rows


def _source(analysis: Analysis, version: Version = Version()) -> str:
    """Authors, paper and the tables cited; the student version leaves out the citation's details,
    which quote the answers ("Table 2 gives 138 million parameters")."""
    meta = analysis.spec.meta
    keys = ("authors", "paper") if version.blank else ("authors", "paper", "source")
    return "; ".join(str(meta[key]) for key in keys if meta.get(key))


def _memory_paragraphs(analysis) -> tuple[str, ...]:
    from .memory import memory_summary

    return memory_summary(analysis)


# -- the comparison and the lecture's questions ---------------------------------------------------

def _blank_rows(model: TableModel, keys: list[str]) -> TableModel:
    """The comparison with the rows ``keys`` left blank (their footnotes too)."""
    if not keys:
        return model
    titles = {record["key"]: row["row"] for record, row in zip(model.records, model.rows)}
    hidden = {titles[key] for key in keys if key in titles}
    rows = tuple({"row": row["row"]} if row["row"] in hidden else row for row in model.rows)
    totals = tuple(line for line in model.totals if not any(title in line for title in hidden))
    return replace(model, rows=rows, totals=totals)


def _comparison_section(matrix: TableModel, figure, options):
    md, body = [render_markdown(matrix)], [render_html(matrix)]
    _add_figure(md, body, figure, "parameters against MACs", options)
    return "comparison", "Comparison", md, _section("comparison", "Comparison", "\n".join(body), "comparison")


def _add_figure(md: list[str], body: list[str], figure, alt: str, options) -> None:
    if figure:
        picture, image_name = figure
        md += [f"![{alt}]({image_name})", ""]
        body.append(f'<figure class="plot">{_img(picture, alt, options)}</figure>')


def _answers_section(answers: list[Answer], version: Version, figure, options):
    heading = "The lecture's two questions"
    md, body = [], []
    for answer in answers:
        md += [f"### Question {answer.number}", "", f"*{answer.question}*", ""]
        body.append(f'<div class="answer"><h3>Question {answer.number}</h3>'
                    f'<p class="question">{html.escape(answer.question)}</p>')
        if version.student:
            md += ["Answer with figures from your tables:", "", *["_" * 70] * 6, ""]
            body.append('<p>Answer with figures from your tables:</p><div class="lines"></div></div>')
            continue
        md += [render_markdown(answer.table), *[f"- {line}" for line in answer.evidence], ""]
        body.append(render_html(answer.table) + '<ul class="evidence">'
                    + "".join(f"<li>{html.escape(line)}</li>" for line in answer.evidence) + "</ul></div>")
    _add_figure(md, body, figure, "parameters against MACs, with top-5 error", options)
    return "questions", heading, md, _section("questions", heading, "\n".join(body), "questions")


# -- documents ------------------------------------------------------------------------------------

def _section(anchor: str, heading: str, body: str, classes: str) -> str:
    return f'<section id="{anchor}" class="{classes}"><h2>{html.escape(heading)}</h2>\n{body}\n</section>'


def _markdown(title: str, sections, version: Version) -> str:
    lines = [f"# {title}", ""] + ([_prompt(version.blank), ""] if version.student else []) + ["Contents:", ""]
    lines += [f"{number}. [{heading}](#{anchor})" for number, (anchor, heading, _, _) in enumerate(sections, 1)]
    lines.append("")
    for anchor, heading, md, _ in sections:
        lines += [f'<a id="{anchor}"></a>', "", f"## {heading}", "", *md]
    return "\n".join(lines).rstrip() + "\n"


def _html(title: str, sections, options: HandoutOptions, version: Version) -> str:
    contents = "".join(f'<li><a href="#{anchor}">{html.escape(heading)}</a></li>' for anchor, heading, _, _ in sections)
    kind = ("student version: fill in the blank cells" if version.student
            else "key to the student version" if version.key else "")
    prompt = f'<p class="prompt">{html.escape(_prompt(version.blank))}</p>' if version.student else ""
    head = (f'<header><h1>{html.escape(title)}</h1>'
            + (f'<p class="version">{html.escape(kind)}</p>' if kind else "") + prompt
            + f'<nav><ol class="contents">{contents}</ol></nav></header>')
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{stylesheet(options.paper)}</style></head>\n<body>\n"
            + "\n".join(_with_header(section, head) if number == 0 else section
                        for number, (_, _, _, section) in enumerate(sections))
            + f"\n{READY_SCRIPT}\n</body></html>\n")


def _with_header(section: str, head: str) -> str:
    """The title and contents open the first section, on its page (landscape where it is)."""
    return section.replace("<h2>", head + "<h2>", 1)


def stylesheet(paper: str) -> str:
    """The handout's CSS: print sizes set outright (not only under @media print) so that a browser's
    computed style shows them."""
    return STYLE.replace("PAPER", paper).replace("MARGIN", f"{MARGIN_MM}mm")


STYLE = """
@page { size: PAPER portrait; margin: MARGIN MARGIN 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; } }
@page wide { size: PAPER landscape; }
html { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #000; }
body { margin: 0 auto; max-width: 60em; padding: 0 1em; }
@media print { body { max-width: none; padding: 0; } }
h1 { font-size: 18pt; margin: 0 0 0.2em; } h2 { font-size: 14pt; margin: 0 0 0.3em; }
h3 { font-size: 11pt; margin: 0.8em 0 0.3em; break-after: avoid; }
p.version { font-style: italic; margin: 0; } p.notice { font-style: italic; color: #7a1f1f; } p.source { font-style: italic; margin: 0 0 0.4em; }
ol.contents { margin: 0.3em 0 1em; columns: 2; }
section + section { break-before: page; }
section.wide { page: wide; }
table.archcalc { border-collapse: collapse; margin: 0.3em 0; font-size: 9pt; line-height: 1.25; }
table.archcalc caption { text-align: left; font-weight: bold; padding: 0 0 0.3em; }
table.archcalc th, table.archcalc td { border-bottom: 0.5pt solid #999; padding: 1pt 5pt; white-space: pre;
                                       vertical-align: top; }
table.archcalc th { border-bottom: 1pt solid #000; text-align: left; }
table.archcalc thead { display: table-header-group; }
table.archcalc tr { break-inside: avoid; }
table.archcalc td.right, table.archcalc th.right { text-align: right; }
section.comparison td.col-row, section.questions td { white-space: normal; }
td.blank, td.answer { min-width: 22mm; height: 5.5mm; border: 0.5pt solid #666; }
td.answer { color: #1f4e9c; font-weight: bold; }
ul.totals { list-style: none; padding: 0; margin: 0.3em 0; font-weight: bold; font-size: 9pt; }
section.comparison ul.totals { font-weight: normal; }
ul.notes, ul.memory, ul.evidence { font-size: 9pt; padding-left: 1.2em; margin: 0.3em 0; }
div.derivations { columns: 2; column-gap: 6mm; font-size: 9pt; }
section.wide div.derivations { columns: 3; }
dl.derivation { break-inside: avoid; margin: 0 0 0.5em; }
dl.derivation dt { font-weight: bold; } dl.derivation dd { margin: 0 0 0 1em; }
dl.derivation dd.note { font-style: italic; } span.what { font-style: italic; }
figure.plot { break-inside: avoid; margin: 0.5em 0 0; }
figure.plot img { display: block; width: 100%; max-width: 185mm; max-height: 11cm; object-fit: contain;
                  object-position: left top; }
div.answer { break-inside: auto; } p.question { font-style: italic; }
div.lines { height: 45mm; background: repeating-linear-gradient(#fff 0, #fff 8.5mm, #999 8.5mm, #999 9mm); }
"""

READY_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-images-loaded",
    String(images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length));
});
</script>"""


# -- pictures -------------------------------------------------------------------------------------

def _img(picture: bytes, alt: str, options: HandoutOptions) -> str:
    data = base64.b64encode(picture).decode("ascii")
    mime = "image/svg+xml" if options.svg else "image/png"
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{data}">'


def _plot(analysis: Analysis, options: HandoutOptions) -> bytes | None:
    from .plots import plot_network

    return _draw(lambda path: plot_network(analysis, path), options)


def _comparison_plot(analyses: list[Analysis], options: HandoutOptions) -> bytes | None:
    from .plots import plot_comparison

    return _draw(lambda path: plot_comparison(analyses, path), options)


def _draw(draw, options: HandoutOptions) -> bytes | None:
    if not can_plot():
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plot.{_extension(options)}"
        draw(path)
        return path.read_bytes()


# -- printing -------------------------------------------------------------------------------------

def find_chromium() -> str:
    """The headless browser that prints PDFs, or an error that says how to install one."""
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        raise ArchcalcError("--pdf needs Chromium (Debian: apt-get install chromium)")
    return found


def print_pdf(html_path: Path, pdf_path: Path, chromium: str) -> None:
    """Print the HTML to PDF with headless Chromium (the page size and margins come from the CSS)."""
    import subprocess

    try:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        "--disable-background-networking", "--disable-component-update", "--no-first-run",
                        f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as error:
        raise ArchcalcError(f"Chromium could not print {html_path.name} to PDF: {error}") from None
