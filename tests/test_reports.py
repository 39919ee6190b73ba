"""The handouts in reports/ are current, open in a real browser without errors, and print to the
expected number of pages; plots exist, have a sensible size and carry their labels."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import analyze, shipped
from archcalc.cli import main
from archcalc.report.handout import build_handout

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
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,...", text)


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
                                  "comparison.md", "family.md"])
def test_reports_are_current(fresh, name):
    assert without_images((REPORTS / name).read_text()) == without_images((fresh / name).read_text()), (
        f"reports/{name} is stale: regenerate with bash scripts/make_reports.sh")


def test_handout_contents(fresh):
    text = (fresh / "lecture9.md").read_text()
    assert "conv1: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96" in text  # a worked derivation
    assert "TOTAL params: 138M (138,357,544" in text  # VGG16's totals
    assert "resnet152 conv kernel sizes: computed 7, 1, 3, claimed 7, 1, 3, 5" in text  # the audit
    student = (fresh / "lecture9_student.md").read_text()
    assert "| [55x55x96]" in text and "| [55x55x96]" not in student  # the output cells are blank
    assert "TOTAL" not in student and "Worked derivations" not in student  # so are the totals and working


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
    for label in ("parameters", "MACs", "memory (output values)", "conv1_1", "fc6", "most: fc6"):
        assert label in text, label
    png = tmp_path / "compare.png"
    assert CliRunner().invoke(main, ["plot", "alexnet", "vgg19", "googlenet", "resnet152", "-o", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")
def test_handout_in_a_real_browser(fresh, tmp_path):
    page = (fresh / "lecture9.html").resolve().as_uri()
    run = subprocess.run([CHROMIUM, *BROWSER_FLAGS, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                          "--dump-dom", page], capture_output=True, text=True, timeout=120)
    dom = run.stdout
    # the tables are there, with the right numbers
    assert dom.count('<table class="archcalc">') == 5
    for number in ("55x55x96", "138,357,544", "INCEPTION (64, 96, 128, 16, 32, 32)", "64+128+32+32 = 256",
                   "60,192,808"):
        assert number in dom, number
    # every image loaded
    images = re.search(r'data-images="(\d+)" data-images-loaded="(\d+)"', dom)
    assert images and images.group(1) == images.group(2) == "5"
    # no console errors
    assert not [line for line in run.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    # print to PDF: each network starts a page and its derivations the next, then the comparison
    pdf = tmp_path / "lecture9.pdf"
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page],
                   capture_output=True, timeout=120, check=True)
    expected = build_handout([analyze(n) for n in ("alexnet_simplified", "vgg16", "googlenet", "resnet152")],
                             [analyze(n) for n in ("alexnet", "vgg19", "googlenet", "resnet152")],
                             "lecture9", "t", plots=False).pages
    assert pdf_pages(pdf) == expected == 9


def pdf_pages(path: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))
