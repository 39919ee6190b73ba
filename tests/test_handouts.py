"""Handout options, the lecture's questions as figures, LaTeX that compiles, and results that read
well in a notebook. Every expected number is worked by hand here or taken from a paper."""
import shutil
import subprocess

import pytest
from click.testing import CliRunner

import archcalc
from archcalc import analyze
from archcalc.cli import main
from archcalc.questions import fc_share, how_much_bigger, per_error_point, pointwise_savings

# GoogLeNet, Table 1 of Szegedy et al. 2015: input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj, and the feature-map side, for the nine inception modules
INCEPTION_TABLE = [(192, 64, 96, 128, 16, 32, 32, 28), (256, 128, 128, 192, 32, 96, 64, 28),
                   (480, 192, 96, 208, 16, 48, 64, 14), (512, 160, 112, 224, 24, 64, 64, 14),
                   (512, 128, 128, 256, 24, 64, 64, 14), (512, 112, 144, 288, 32, 64, 64, 14),
                   (528, 256, 160, 320, 32, 128, 128, 14), (832, 256, 160, 320, 32, 128, 128, 7),
                   (832, 384, 192, 384, 48, 128, 128, 7)]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_what_the_1x1_reductions_save_in_googlenet():
    saving = pointwise_savings(analyze("googlenet"))
    with_them = [c * n1 + c * r3 + 9 * r3 * n3 + c * r5 + 25 * r5 * n5 + c * pool for c, n1, r3, n3, r5, n5, pool, _
                 in INCEPTION_TABLE]
    without = [c * n1 + 9 * c * n3 + 25 * c * n5 for c, n1, _, n3, _, n5, _, _ in INCEPTION_TABLE]
    assert (saving.example.block, saving.example.input_shape) == ("inception3a", (28, 28, 192))
    assert (saving.example.with_weights, saving.example.without_weights) == (with_them[0], without[0])
    assert (with_them[0], without[0]) == (163_328, 387_072)
    assert saving.example.with_macs == 163_328 * 28 * 28  # every weight used once per output position
    assert saving.blocks == 9 and saving.with_weights == sum(with_them) and saving.without_weights == sum(without)
    assert saving.without_macs == sum(w * side * side for w, (*_, side) in zip(without, INCEPTION_TABLE))


def test_what_the_1x1_reductions_save_in_a_resnet_bottleneck():
    # He et al. 2016, Figure 5 (right): 1x1 256->64, 3x3 64->64, 1x1 64->256 on 56x56, against one 3x3
    # conv 256->256; ResNet-152 has 3 + 8 + 36 + 3 bottlenecks, the first of each stage has a projection
    # (conv2_1's first 1x1 keeps 64 channels: nothing to reduce)
    saving = pointwise_savings(analyze("resnet152"))
    assert saving.example.block == "conv2_2" and saving.example.input_shape == (56, 56, 256)
    assert saving.example.with_weights == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632
    assert saving.example.without_weights == 9 * 256 * 256
    assert saving.example.with_macs == 69_632 * 56 * 56
    assert saving.blocks == 3 + 8 + 36 + 3 - 1
    assert pointwise_savings(analyze("vgg16")) is None and pointwise_savings(analyze("mobilenet_v2")) is None


def test_share_of_parameters_in_fc_layers():
    # AlexNet's fcs: 9216*4096 + 4096, 4096*4096 + 4096, 4096*1000 + 1000 of 60,965,224 (the two towers)
    fc = 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert fc_share(analyze("alexnet")) == round(100 * fc / 60_965_224, 1) == 96.2
    assert fc_share(analyze("vgg16")) == round(100 * (25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4_097_000)
                                                / 138_357_544, 1)
    assert fc_share(analyze("googlenet")) == round(100 * (1024 * 1000 + 1000) / 6_998_552, 1)
    assert fc_share(analyze("resnet152")) == round(100 * (2048 * 1000 + 1000) / 60_192_808, 1)


def test_lecun_1989_against_alexnet():
    # LeCun et al. 1989: "1256 units, 64,660 connections, and 9760 independent parameters"
    bigger = how_much_bigger(analyze("lecun1989"), analyze("alexnet")).quantities
    assert bigger["units (output values)"][0] == 1256
    assert bigger["connections"][0] == 64_660 and bigger["parameters"][0] == 9760
    assert bigger["parameters"][1] == 60_965_224 and bigger["parameters"][2] == 60_965_224 / 9760
    assert bigger["input values"] == (16 * 16, 227 * 227 * 3, 227 * 227 * 3 / 256)


def test_compare_rows_for_the_second_question():
    import pandas

    frame = archcalc.compare(["alexnet", "googlenet"]).to_frame()
    assert frame.loc["fc_share", "alexnet"] == 96.2 and pandas.isna(frame.loc["pointwise_saving", "alexnet"])
    assert frame.loc["params_per_layer", "alexnet"] == round(60_965_224 / 8)
    assert frame.loc["params_per_error", "alexnet"] == round(60_965_224 / 16.4)  # top-5 16.4% (Table 2)
    # googlenet's nine modules, from Table 1 as above
    with_them = sum(c * n1 + c * r3 + 9 * r3 * n3 + c * r5 + 25 * r5 * n5 + c * pool
                    for c, n1, r3, n3, r5, n5, pool, _ in INCEPTION_TABLE)
    without = sum(c * n1 + 9 * c * n3 + 25 * c * n5 for c, n1, _, n3, _, n5, _, _ in INCEPTION_TABLE)
    assert frame.loc["pointwise_saving", "googlenet"] == round(without / with_them, 1)
    assert per_error_point(analyze("lecun1989")) is None  # no top-5 error for zip codes


def test_vgg16_and_the_simplified_alexnet_state_their_accuracy():
    text = run("compare", "alexnet_simplified", "vgg16", "--keys", "top5_error,data_augmentation").output
    assert "16.4" in text and "7.5" in text and "Table 4 of the paper" in text and "+" in text


# --- handout options


def test_handout_takes_the_tables_options(tmp_path):
    result = run("handout", "vgg16", "--input", "32x32x3", "--no-bias", "--convention", "torchvision",
                 "--student", "--blank", "output,params", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "handout.md").read_text()
    assert "input 32x32x3" in text
    assert "| conv1_1 " in text and " 1,728 " in text  # 3*3*3*64 weights, no biases
    assert "fc6" in text and f"{512 * 4096:,}" in text  # 1x1x512 after five pools of 32x32
    assert "AS TORCHVISION COUNTS" in text
    student = (tmp_path / "handout_student.md").read_text()
    assert "1,728" not in student and "[32x32x64]" not in student and "memory" in student
    assert "VGG16: layer by layer" in text  # a title made of the network's short name


def test_handout_depth_and_the_default_collapse(tmp_path):
    assert run("handout", "resnet152", "-o", str(tmp_path / "a")).exit_code == 0
    assert "conv4_2 - conv4_36" in (tmp_path / "a" / "handout.md").read_text()  # 150 rows collapse by default
    assert run("handout", "resnet152", "--depth", "1", "-o", str(tmp_path / "b")).exit_code == 0
    assert "conv4_2 - conv4_36" not in (tmp_path / "b" / "handout.md").read_text()


@pytest.mark.parametrize("args, message", [(["--blank", "outptu"], "--blank: no column 'outptu'"),
                                           (["--paper", "A5"], "'A5' is not one of 'A4', 'Letter'")])
def test_handout_bad_options(tmp_path, args, message):
    result = run("handout", "vgg16", *args, "-o", str(tmp_path / "h"))
    assert result.exit_code == 2 and message in result.output + (result.stderr or "")
    assert not (tmp_path / "h").exists() or not list((tmp_path / "h").iterdir())


def test_handout_lists_every_file_it_wrote(tmp_path):
    result = run("handout", "lenet5", "vgg16", "--student", "-o", str(tmp_path))
    listed = result.output.removeprefix("wrote ").strip().split(", ")
    assert sorted(listed) == sorted(str(path) for path in tmp_path.iterdir())
    assert {path.name for path in tmp_path.iterdir()} >= {"handout_student_key.md", "handout_student.html"}


# --- LaTeX


def test_latex_has_times_a_totals_block_and_names_booktabs():
    text = run("table", "lenet5", "-f", "latex").output
    assert text.splitlines()[1] == r"% needs \usepackage{booktabs} in the preamble"
    assert r"[$28\times28\times6$]" in text
    body = text[text.index(r"\midrule"):]
    assert body.count(r"\midrule") == 2 and r"\multicolumn{6}{@{}l}{TOTAL params: 61.7K (61,706" in body
    assert "% TOTAL" not in text


def test_latex_standalone_needs_latex():
    result = run("table", "lenet5", "-f", "html", "--standalone")
    assert result.exit_code == 2 and "use it with -f latex" in result.stderr


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="no LaTeX here (Debian: apt-get install texlive-latex-base texlive-latex-recommended)")
@pytest.mark.parametrize("command", [["table", "resnet18", "--rf"], ["compare", "alexnet", "vgg19", "resnet152"]])
def test_latex_standalone_compiles(tmp_path, command):
    assert run(*command, "-f", "latex", "--standalone", "-o", str(tmp_path / "t.tex")).exit_code == 0
    for _ in range(2):  # longtable settles its column widths on the second run
        compiled = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120)
        assert compiled.returncode == 0, compiled.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 10_000


# --- notebooks


def test_short_reprs():
    result = analyze("lenet5")
    # the input row and LeNet-5's seven layers (C1, S2, C3, S4, C5, F6, output); 61,706 parameters
    assert repr(result) == "Result(lenet5: input 32x32x1, 8 rows, params 61,706, MACs 417K, float32, batch 1)"
    matrix = archcalc.compare(["alexnet", "resnet152"])
    assert repr(matrix).startswith("ComparisonResult(alexnet, resnet152: ") and len(repr(matrix)) < 200
    assert str(result).startswith("LeNet-5")


def test_notebook_html_aligns_its_own_columns():
    html = analyze("lenet5")._repr_html_()
    assert "<style>" in html and "td.left" in html and "text-align: left" in html
    assert '<td class="left col-layer">CONV5-6 + tanh</td>' in html
    assert "<style>" in archcalc.compare(["alexnet", "vgg16"])._repr_html_()


def test_flat_frame():
    import pandas

    frame = analyze("alexnet_simplified").to_frame()
    assert "index" not in frame.columns and frame.index.name == "row"
    assert not any(isinstance(value, (list, dict)) for value in frame.to_numpy().ravel())
    conv1 = frame[frame["name"] == "conv1"].iloc[0]
    # (227 - 11)/4 + 1 = 55; the receptive field of one 11x11 stride-4 conv is 11, jump 4, start 5.5
    assert (conv1["H"], conv1["W"], conv1["C"]) == (55, 55, 96)
    assert (conv1["rf"], conv1["jump"], conv1["start"]) == (11, 4, 5.5)
    fc8 = frame[frame["name"] == "fc8"].iloc[0]
    assert fc8["C"] == 1000 and pandas.isna(fc8["H"]) and pandas.isna(fc8["W"])  # a vector has no H or W


def test_a_handout_without_matplotlib_says_so(tmp_path, monkeypatch):
    import archcalc.report.handout as handout_module

    monkeypatch.setattr(handout_module, "can_plot", lambda: False)
    result = CliRunner().invoke(main, ["handout", "lenet5", "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert "note: Plots left out: matplotlib is not installed" in result.stderr
    assert "Plots left out: matplotlib is not installed" in (tmp_path / "handout.html").read_text()
    assert not list(tmp_path.glob("*.png"))


def test_plot_text_is_8_points_or_more(monkeypatch, tmp_path):
    """ResNet-152's 57 bars: names at 8 pt, every other one where they would not fit side by side."""
    pytest.importorskip("matplotlib")
    import archcalc.report.plots as plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: figures.append(figure))
    plots.plot_network(analyze("resnet152"), tmp_path / "r.png")
    texts = [text for axis in figures[0].axes for text in axis.texts + axis.get_xticklabels() + axis.get_yticklabels()]
    assert texts and min(text.get_fontsize() for text in texts) >= 8
    names = [label.get_text() for label in figures[0].axes[-1].get_xticklabels()]
    assert names[:3] == ["conv1", "pool1", "conv2_2"]  # conv1, conv1_bn, pool1, conv2_1, ...: every second
