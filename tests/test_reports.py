"""The handouts in reports/ are current, answer the lecture's questions with figures checked here by
hand, open in a real browser without errors and print as a lecturer would hand them out (cell
sizes from computed style, page fill from the printed PDF); plots exist and carry their labels."""
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import shipped
from archcalc.cli import main

REPORTS = Path(__file__).parent.parent / "reports"
HANDOUT = ["handout", "alexnet_simplified", "vgg16", "googlenet", "resnet152",
           "--compare", "alexnet,vgg19,googlenet,resnet152", "--title", "Lecture 9: CNN architectures",
           "--name", "lecture9", "--student"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytest.importorskip("matplotlib")


def without_images(text: str) -> str:
    """Handouts compared as text: embedded images depend on the matplotlib version, not on the data."""
    return re.sub(r"data:image/(png|svg\+xml);base64,[A-Za-z0-9+/=]+", "data:image/...", text)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    assert CliRunner().invoke(main, HANDOUT + ["-o", str(folder)]).exit_code == 0
    result = CliRunner().invoke(main, ["compare", "alexnet", "vgg19", "googlenet", "resnet152", "-f", "markdown",
                                       "-o", str(folder / "comparison.md")])
    assert result.exit_code == 0
    family = [spec.name for specs in shipped().values() for spec in specs]  # as scripts/make_reports.sh lists them
    keys = "year,input,layers,params,macs,memory,inference_peak,training_peak,top5_error"
    result = CliRunner().invoke(main, ["compare", *family, "--keys", keys, "--transpose", "-f", "markdown",
                                       "-o", str(folder / "family.md")])
    assert result.exit_code == 0
    return folder


@pytest.mark.parametrize("name", ["lecture9.md", "lecture9.html", "lecture9_student.md", "lecture9_student.html",
                                  "lecture9_student_key.md", "lecture9_student_key.html", "comparison.md", "family.md"])
def test_reports_are_current(fresh, name):
    assert without_images((REPORTS / name).read_text()) == without_images((fresh / name).read_text()), (
        f"reports/{name} is stale: regenerate with bash scripts/make_reports.sh")


def markdown_row(text: str, name: str) -> list[str]:
    """The cells of the first Markdown table row whose first cell is ``name``."""
    line = next(line for line in text.splitlines() if re.match(rf"\|\s*{re.escape(name)}\s*\|", line))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_handout_contents(fresh):
    text = (fresh / "lecture9.md").read_text()
    assert "  - output: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96" in text  # a derivation, one quantity a line
    assert "TOTAL params: 138M (138,357,544" in text  # VGG16's totals
    assert "resnet152 conv kernel sizes: computed 7, 1, 3, claimed 7, 1, 3, 5" in text  # the audit
    assert "conv4_2 - conv4_36" in text and "35 x 1,117,184" in text  # ResNet's identical blocks, once
    student = (fresh / "lecture9_student.md").read_text()
    key = (fresh / "lecture9_student_key.md").read_text()
    # the student's conv1 row: name and layer given; output, memory, params, MACs, RF, jump, start blank
    assert markdown_row(student, "conv1") == ["conv1", "CONV11-96 s4 + relu"] + [""] * 7
    assert markdown_row(key, "conv1") == ["conv1", "CONV11-96 s4 + relu", "[55x55x96]", "290K", "34,944", "105M",
                                          "11", "4", "5.5"]
    # blank everywhere: no totals, working, plots or comparison figures that give the answers away
    for answer in ("138,357,544", "Worked derivations", "![", "19.6G", "387,072", "TOTAL MACs: 1"):
        assert answer not in student, answer
    assert "TOTAL params: ____" in student and "Answer with figures from your tables" in student
    assert "Worked derivations" in key and "138,357,544" in key


def test_the_lectures_questions_are_answered_with_figures(fresh):
    text = (fresh / "lecture9.md").read_text()
    answers = text[text.index("## The lecture's two questions"):]
    # LeCun et al. 1989: "1256 units, 64,660 connections, and 9760 independent parameters"; AlexNet's two
    # towers by hand: convs 34,944 + 307,456 + 885,120 + 663,936 + 442,624, fcs 58,631,144
    assert "| units (output values) |" in answers and "1,256" in answers and "64,660" in answers
    assert "9,760" in answers and "60,965,224" in answers and f"{60_965_224 / 9_760:,.0f}x" in answers
    # fc layers' share: AlexNet 58,631,144 of 60,965,224; ResNet-152 2,049,000 of 60,192,808
    assert f"AlexNet {100 * 58_631_144 / 60_965_224:.1f}%" in answers
    assert f"ResNet-152 {100 * 2_049_000 / 60_192_808:.1f}%" in answers
    # inception 3a on 28x28x192: 192*64 + 9*192*128 + 25*192*32 without its 1x1 reductions, and with them
    # 192*64 + 192*96 + 9*96*128 + 192*16 + 25*16*32 + 192*32
    assert f"holds {192*64 + 192*96 + 9*96*128 + 192*16 + 25*16*32 + 192*32:,} weights" in answers
    assert f"reductions, {192*64 + 9*192*128 + 25*192*32:,}" in answers
    # a ResNet bottleneck on 56x56x256: 256*64 + 9*64*64 + 64*256 against one 3x3 conv 256 -> 256
    assert f"holds {256*64 + 9*64*64 + 64*256:,} weights" in answers and f"reductions, {9*256*256:,}" in answers
    # the question assumes parameters fell; VGG19 (143,667,240) has more than AlexNet
    assert "parameters rose from AlexNet to VGG19" in answers


def test_the_family_report_names_its_sources():
    text = (REPORTS / "family.md").read_text()
    assert text.count("\n| ") - 1 == len([spec for specs in shipped().values() for spec in specs])  # a row each
    assert "efficientnet_b0: 6.468%, torchvision's IMAGENET1K_V1 weights, single 224 crop" in text
    assert (REPORTS / "family_accuracy.png").stat().st_size > 50_000


def test_plots_exist_with_labels(tmp_path):
    svg = tmp_path / "vgg16.svg"
    assert CliRunner().invoke(main, ["plot", "vgg16", "-o", str(svg)]).exit_code == 0
    text = svg.read_text()
    assert 20_000 < len(text) < 2_000_000
    for label in ("parameters", "MACs", "memory", "(output values)", "conv1_1", "fc6", "most: fc6"):
        assert label in text, label
    png = tmp_path / "compare.png"
    assert CliRunner().invoke(main, ["plot", "alexnet", "vgg19", "googlenet", "resnet152", "-o", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


MEASURE_SCRIPT = """<script>
window.addEventListener("load", function () {
  var cells = Array.prototype.slice.call(document.querySelectorAll("table.archcalc td, table.archcalc th"));
  var sizes = cells.map(function (c) { return parseFloat(getComputedStyle(c).fontSize); });
  var blanks = Array.prototype.slice.call(document.querySelectorAll("td.blank"));
  var boxes = blanks.map(function (c) { var r = c.getBoundingClientRect(); return [r.width, r.height]; });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({cells: cells.length, smallest: Math.min.apply(null, sizes), blanks: blanks.length,
    narrowest: Math.min.apply(null, boxes.map(function (b) { return b[0]; })),
    lowest: Math.min.apply(null, boxes.map(function (b) { return b[1]; }))});
  document.body.appendChild(out);
});
</script>"""
MM = 96 / 25.4  # CSS pixels a millimetre
MINIMUM_FILL = 0.5  # of a page's text area, on every page but a section's last


def measured(html_file: Path, tmp_path: Path) -> dict:
    """Computed styles of the handout's table cells, read in headless Chromium."""
    import json

    copy = tmp_path / html_file.name
    copy.write_text(html_file.read_text().replace("</body>", MEASURE_SCRIPT + "</body>"))
    dom = subprocess.run([CHROMIUM, *BROWSER_FLAGS, "--virtual-time-budget=5000", "--dump-dom", copy.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    return json.loads(html.unescape(re.search(r'<pre id="measured">(.*?)</pre>', dom).group(1)))


def print_to_pdf(html_file: Path, tmp_path: Path) -> Path:
    pdf = tmp_path / (html_file.stem + ".pdf")
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    html_file.resolve().as_uri()], capture_output=True, timeout=120, check=True)
    return pdf


def page_fills(pdf: Path) -> list[tuple[float, str, str]]:
    """Per page: how far down its text area the ink goes (0 to 1), the first line of text, and the
    orientation; read with pdftoppm, pdftotext and PIL."""
    from PIL import Image

    pages = []
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), f"{folder}/page"], check=True)
        for number, image_file in enumerate(sorted(Path(folder).glob("page-*.pgm")), 1):
            image = Image.open(image_file)
            width, height = image.size
            per_mm = height / (297 if height > width else 210)  # A4
            top, bottom = int(12 * per_mm), height - int(14 * per_mm)  # the CSS margins; the page number below
            pixels = image.load()
            inked = [y for y in range(top, bottom) if any(pixels[x, y] < 200 for x in range(0, width, 2))]
            fill = (inked[-1] - top) / (bottom - top) if inked else 0.0
            text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-layout", str(pdf), "-"],
                                  capture_output=True, text=True).stdout
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            pages.append((fill, first, "portrait" if height > width else "landscape"))
    return pages


def check_fill(pdf: Path, headings: list[str]) -> list[tuple[float, str, str]]:
    """No page below MINIMUM_FILL except a section's last (the next page starts a section)."""
    pages = page_fills(pdf)
    for number, (fill, first, _) in enumerate(pages):
        last_of_section = number == len(pages) - 1 or any(pages[number + 1][1].startswith(h) for h in headings)
        assert last_of_section or fill >= MINIMUM_FILL, (pdf.name, number + 1, fill, first)
    return pages


TOOLS = CHROMIUM and shutil.which("pdftoppm") and shutil.which("pdftotext")


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils (Debian: apt-get install chromium "
                                      "poppler-utils)")
def test_handout_in_a_real_browser(fresh, tmp_path):
    page = (fresh / "lecture9.html").resolve().as_uri()
    run = subprocess.run([CHROMIUM, *BROWSER_FLAGS, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                          "--dump-dom", page], capture_output=True, text=True, timeout=120)
    dom = run.stdout
    # the tables are there (four networks, LeCun et al.'s for the first question, the comparison, two
    # answers), with the right numbers
    assert dom.count('<table class="archcalc">') == 8
    for number in ("55x55x96", "138,357,544", "INCEPTION (64, 96, 128, 16, 32, 32)", "35 x 1,117,184",
                   "60,192,808"):
        assert number in dom, number
    images = re.search(r'data-images="(\d+)" data-images-loaded="(\d+)"', dom)
    assert images and images.group(1) == images.group(2) == "6"  # five networks and the comparison
    assert not [line for line in run.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    # table cells at 9 pt (12 CSS pixels) or more, as the browser computes them
    sizes = measured(fresh / "lecture9.html", tmp_path)
    assert sizes["cells"] > 300 and sizes["smallest"] >= 12
    # printed: every section starts a page, no half-empty page inside one, wide tables on landscape pages
    headings = ["AlexNet, simplified", "VGG16 (configuration D)", "GoogLeNet (Inception v1)", "ResNet-152",
                "Comparison", "The lecture's two questions"]
    pages = check_fill(print_to_pdf(fresh / "lecture9.html", tmp_path), headings)
    starts = [next(n for n, page in enumerate(pages) if page[1].startswith(h)) for h in headings[1:]]
    assert starts == sorted(starts) and len(pages) <= 14
    assert pages[0][1] == "Lecture 9: CNN architectures" and pages[0][2] == "portrait"
    assert pages[starts[1]][2] == "landscape"  # GoogLeNet's table is wider than a portrait page


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils")
def test_student_version_prints_with_room_to_write(fresh, tmp_path):
    sizes = measured(fresh / "lecture9_student.html", tmp_path)
    assert sizes["smallest"] >= 12 and sizes["blanks"] > 300
    assert sizes["narrowest"] >= 20 * MM and sizes["lowest"] >= 5 * MM  # a blank cell: 22 mm by 5.5 mm
    headings = ["VGG16 (configuration D)", "GoogLeNet (Inception v1)", "ResNet-152", "Comparison",
                "The lecture's two questions"]
    pages = check_fill(print_to_pdf(fresh / "lecture9_student.html", tmp_path), headings)
    assert len(pages) == 7  # a page a network (LeCun et al.'s too), the comparison, the questions


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils")
def test_letter_paper(tmp_path):
    result = CliRunner().invoke(main, ["handout", "vgg16", "--paper", "Letter", "--svg", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = print_to_pdf(tmp_path / "handout.html", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
    assert (tmp_path / "handout_vgg16.svg").read_text().lstrip().startswith("<?xml")


def test_no_output_names_a_path_of_ours(fresh):
    """Shipped outputs cite the lecture note by what it is, never by a folder of this repository."""
    outputs = [*REPORTS.rglob("*"), *fresh.rglob("*")]
    texts = {path: path.read_text() for path in outputs if path.suffix in (".md", ".html", ".svg", ".json", ".txt")}
    assert len(texts) >= 14
    for name, text in texts.items():
        for word in ("seed", "shared/", "scripts/", "/work/", "/tmp/", ".ci/"):
            assert word not in without_images(text).lower(), (name, word)


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils")
def test_the_fill_check_catches_a_half_empty_page(tmp_path):
    """The page-fill check above can fail: a forced break leaves a section's first page nearly empty."""
    page = tmp_path / "half.html"
    page.write_text("<!doctype html><html><head><style>@page { size: A4; margin: 12mm 12mm 14mm; }</style></head>"
                    "<body><section><h2>First</h2><p>a short page</p><p style='break-before: page'>more of it</p>"
                    "</section><section style='break-before: page'><h2>Second</h2></section></body></html>")
    with pytest.raises(AssertionError):
        check_fill(print_to_pdf(page, tmp_path), ["First", "Second"])


def table_widths_mm(pdf: Path) -> list[tuple[str, float]]:
    """Per page: its orientation and its widest table, measured as the longest unbroken horizontal
    line of ink (a table's rules run its whole width; text breaks between words)."""
    from PIL import Image

    widths = []
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", "60", "-gray", str(pdf), f"{folder}/page"], check=True)
        for image_file in sorted(Path(folder).glob("page-*.pgm")):
            image = Image.open(image_file)
            width, height = image.size
            per_mm = width / (210 if height > width else 297)
            pixels = image.load()
            longest = 0
            for y in range(height):
                run = 0
                for x in range(width):
                    run = run + 1 if pixels[x, y] < 220 else 0
                    longest = max(longest, run)
            widths.append(("portrait" if height > width else "landscape", longest / per_mm))
    return widths


@pytest.mark.skipif(not TOOLS, reason="needs headless Chromium and poppler-utils")
def test_the_key_prints_as_the_student_version_does(fresh, tmp_path):
    """The teacher's key (the student's pages filled in, and the worked derivations) fills its pages
    as the student version does; and no landscape page, in any version, holds a table that would
    have fitted a portrait page (186 mm of text width)."""
    headings = ["LeCun et al. 1989", "VGG16 (configuration D)", "GoogLeNet (Inception v1)", "ResNet-152",
                "Comparison", "The lecture's two questions"]
    key = check_fill(print_to_pdf(fresh / "lecture9_student_key.html", tmp_path), headings)
    assert any(first.startswith("Worked derivations") for _, first, _ in key)
    networks = headings[:4] + ["AlexNet, simplified"]
    for name in ("lecture9_student.html", "lecture9_student_key.html", "lecture9.html"):
        pdf = print_to_pdf(fresh / name, tmp_path)
        widths = table_widths_mm(pdf)
        assert max(width for _, width in widths) > 100  # the rules are seen: the measure can fail
        # a network's table opens its section's first page (a title page opens with the contents)
        tables = [number for number, (_, first, _) in enumerate(page_fills(pdf))
                  if any(first.startswith(h) for h in networks)]
        narrow = [number + 1 for number in tables
                  if widths[number][0] == "landscape" and widths[number][1] < 210 - 2 * 12]
        assert len(tables) >= 4 and not narrow, (name, narrow)
