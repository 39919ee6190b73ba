"""The student version of a handout gives nothing away: every shipped network's answers are
searched for in the student HTML and PDF, in every form archcalc prints a number. And the tables
show what a student needs to compute them (kernel, stride, padding)."""
import html
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.dims import format_shape
from archcalc.report.numbers import byte_sizes, compact, exact
from archcalc.spec import shipped_spec_names

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOOLS = CHROMIUM and shutil.which("pdftotext")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: no markup, no style sheet, no script."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def givens(analysis) -> str:
    """What a student is given: names, labels, the title and the input row as the table shows it."""
    input_cells = analysis.table().rows[0].values()
    return " ".join([analysis.spec.title, *input_cells] + [f"{row.name} {row.label} {' '.join(row.folded)}"
                                                           for row in analysis.rows])


def answers(analysis) -> set[str]:
    """Every answer of a network as archcalc prints it: shapes, and each count of four digits or more
    exactly, compactly (3.2M) and, for the totals, in bytes."""
    found = set()
    for row in analysis.rows[1:]:
        found.add(format_shape(row.shape))
        for value in (row.memory, row.params, row.macs):
            if isinstance(value, int) and value >= 1000:
                found |= {exact(value), str(value)} | ({compact(value)} if value >= 10_000 else set())
    for value in (analysis.totals.memory, analysis.totals.params, analysis.totals.macs):
        found |= {exact(value), compact(value), byte_sizes(4 * value)[0]}
    return found


def leaked(text: str, analyses) -> dict[str, list[str]]:
    given = " ".join(givens(a) for a in analyses)
    leaks = {}
    for analysis in analyses:
        shown = [answer for answer in answers(analysis) if answer not in given
                 and re.search(r"(?<![\w.,])" + re.escape(answer) + r"(?![\w]|[.,]\d)", text)]
        if shown:
            leaks[analysis.spec.name] = sorted(shown)
    return leaks


@pytest.fixture(scope="module")
def every_network_handout(tmp_path_factory):
    """One student handout of all the shipped networks (the PDF where Chromium is installed)."""
    folder = tmp_path_factory.mktemp("student")
    names = shipped_spec_names()
    result = run("handout", *names, "--student", "-o", folder, *(["--pdf"] if TOOLS else []))
    assert result.exit_code == 0, result.output
    return folder, [archcalc.analyze(name) for name in names]


def test_the_student_html_gives_no_answer_away(every_network_handout):
    folder, analyses = every_network_handout
    student = visible_text((folder / "handout_student.html").read_text())
    assert leaked(student, analyses) == {}
    key = visible_text((folder / "handout_student_key.html").read_text())
    assert set(leaked(key, analyses)) == {a.spec.name for a in analyses}  # the search finds them where they are


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils (Debian: chromium, poppler-utils)")
def test_the_student_pdf_gives_no_answer_away(every_network_handout):
    folder, analyses = every_network_handout
    text = subprocess.run(["pdftotext", "-layout", str(folder / "handout_student.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "VGG16" in text and leaked(text, analyses) == {}


def test_the_citation_and_the_memory_section_are_left_out_for_students(tmp_path):
    assert run("handout", "vgg16", "--student", "-o", tmp_path).exit_code == 0
    student = (tmp_path / "handout_student.md").read_text()
    # VGG16's spec cites "Table 2 gives 138 million parameters"; the memory section states parameter bytes
    assert "138 million" not in student and "Memory as execution holds it" not in student
    assert "138 million" in (tmp_path / "handout.md").read_text()


def test_the_comparison_keeps_only_the_givens_for_students(tmp_path):
    assert run("handout", "alexnet_simplified", "vgg16", "--student", "-o", tmp_path).exit_code == 0
    student = (tmp_path / "handout_student.md").read_text()
    comparison = student[student.index("## Comparison"):]
    assert "training step peak" in comparison  # the row is asked, its cells blank
    assert "953 MB" not in comparison and "62.4M" not in comparison and "| year " in comparison


def test_a_question_about_lecun_comes_with_lecuns_table(tmp_path):
    assert run("handout", "alexnet_simplified", "vgg16", "-o", tmp_path).exit_code == 0
    text = (tmp_path / "handout.md").read_text()
    assert "### Question 1" in text and "## LeCun et al. 1989" in text


# --- what a student needs to compute a row


def test_labels_show_the_padding():
    # LeNet's C3 (5x5, no padding) and a padded 5x5 conv differ in their output, so in their label
    lenet = archcalc.analyze("lenet5")
    padded = archcalc.analyze(input="14x14x6", layers="conv 16 5x5 p2")
    assert lenet.rows[3].label == "CONV5-16" and padded.rows[1].label == "CONV5-16 p2"
    resnet = archcalc.analyze("resnet18")
    assert (resnet.rows[1].label, resnet.rows[3].label) == ("CONV7-64 s2 p3", "POOL3 s2 p1")
    assert archcalc.analyze("googlenet").rows[2].label == "POOL3 s2 ceil"  # Caffe's rounding


def test_the_slide_table_keeps_its_labels_and_says_what_they_leave_out(tmp_path):
    text = run("table", "vgg16").output
    assert "CONV3-64 + relu" in text and "p1" not in text.split("Notes:")[0]
    assert "every 3x3 conv: stride 1, padding 1; every 2x2 maxpool: stride 2, padding 0" in text
    assert run("worksheet", "vgg16", "-o", tmp_path).exit_code == 0  # the worksheet gives the padding
    assert "conv1_1,CONV3-64 p1 + relu," in (tmp_path / "vgg16_worksheet.csv").read_text()
    assert run("handout", "vgg16", "--student", "-o", tmp_path / "h").exit_code == 0
    assert "every 3x3 conv: stride 1, padding 1" in (tmp_path / "h" / "handout_student.md").read_text()
