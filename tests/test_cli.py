"""The command line through click's CliRunner, plus start-up and output-file behaviour."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

GOLDEN = Path(__file__).parent / "golden"


def run(*args, stdin=None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_table_vgg16_like_the_slide():
    result = run("table", "vgg16")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    conv = next(line for line in lines if line.startswith("conv1_1"))
    assert "CONV3-64" in conv and "[224x224x64]" in conv and "3.2M" in conv and "1,792" in conv
    assert "TOTAL memory: 15.2M values x 4 bytes = 61 MB / image (forward only" in result.output
    assert "TOTAL params: 138M (138,357,544" in result.output


def test_no_bias_markdown():
    result = run("table", "alexnet_simplified", "--no-bias", "--format", "markdown")
    assert result.exit_code == 0
    assert "| conv1 " in result.output and "34,848" in result.output  # (11*11*3)*96, no biases


def test_json_contract():
    data = json.loads(run("table", "vgg16", "--format", "json").output)
    assert data["model"] == "vgg16" and data["input"] == [224, 224, 3]
    assert data["layers"][0]["kind"] == "input"
    expected = {"name": "conv1_1", "kind": "conv", "shape": [224, 224, 64], "memory": 224 * 224 * 64,
                "weights": 1728, "biases": 64, "params": 1792, "macs": 224 * 224 * 64 * 27}
    assert {key: data["layers"][1][key] for key in expected} == expected
    # connections (LeCun's count): every MAC, plus one per output unit of a biased conv or fc
    biased_outputs = (224 * 224 * 64 * 2 + 112 * 112 * 128 * 2 + 56 * 56 * 256 * 3 + 28 * 28 * 512 * 3
                      + 14 * 14 * 512 * 3 + 4096 + 4096 + 1000)
    assert data["totals"] == {"memory": 15237608, "weights": 138344128, "biases": 13416,
                              "params": 138357544, "trainable_params": 138357544, "macs": 15470264320,
                              "training_only_macs": 0, "connections": 15470264320 + biased_outputs}


def test_symbolic_json_values_are_strings():
    data = json.loads(run("table", "alexnet", "--input", "HxWx3", "-f", "json").output)
    assert data["layers"][1]["shape"] == ["floor((H - 11)/4) + 1", "floor((W - 11)/4) + 1", 96]


def test_csv_has_exact_numbers():
    import csv

    records = list(csv.DictReader(run("table", "vgg16", "-f", "csv").output.splitlines()))
    assert list(records[0])[:3] == ["index", "name", "kind"]
    conv = records[1]
    assert (conv["name"], conv["shape"]) == ("conv1_1", "224x224x64")
    assert [conv[k] for k in ("memory", "weights", "biases", "params", "macs")] == [
        str(224 * 224 * 64), "1728", "64", "1792", str(224 * 224 * 64 * 27)]


@pytest.mark.parametrize("fmt, marker", [("latex", "\\toprule"), ("html", "<table"), ("grid", "+====="),
                                         ("rst", "====="), ("markdown", "|---")])
def test_every_format_renders_the_same_numbers(fmt, marker):
    text = run("table", "vgg16", "-f", fmt, "--exact").output
    assert marker in text
    for number in ("3,211,264", "1,792", "102,764,544", "86,704,128"):
        assert number in text, (fmt, number)


def test_latex_is_escaped():
    text = run("table", "resnet18", "-f", "latex").output
    assert "conv2\\_1/b1/conv1" in text  # the underscore escaped for LaTeX


def test_unknown_format_is_a_clean_error():
    result = run("table", "vgg16", "-f", "docx")
    assert result.exit_code == 2 and "unknown format 'docx'" in result.stderr


def test_batch_and_dtype_scale_the_bytes():
    result = run("table", "vgg16", "--batch", "32", "--dtype", "float16")
    # 15,237,608 values * 2 bytes * 32 = 975,206,912 bytes
    assert "x 2 bytes x 32 = 975 MB" in result.output


def test_input_override_and_stdin():
    result = run("table", "-", "--input", "64x64x3", stdin='input = [8, 8, 1]\nlayers = ["conv 10 5x5 p2"]')
    assert result.exit_code == 0 and "[64x64x10]" in result.output


LEGACY_ALEXNET = 'input = [224, 224, 3]\nlayers = ["conv1: conv 64 11x11 s4 p2 relu", "pool1: maxpool 3 s2"]'


def test_floor_warning_on_stderr_and_strict_exit_2():
    result = run("table", "-", stdin=LEGACY_ALEXNET)
    assert result.exit_code == 0
    assert "warning: conv1: (224 - 11 + 2*2)/4 + 1 = 55.25; floor keeps 55" in result.stderr
    result = run("table", "-", "--strict", stdin=LEGACY_ALEXNET)
    assert result.exit_code == 2 and "non-integer output size" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_flooring_marked_as_intended_teaches_instead_of_warning():
    """torchvision's AlexNet floors 55.25 to 55 by design: its spec says so ([model] floors), so the
    table notes it and --strict accepts it; ResNet-152's five stride-2 floors do not nag either."""
    result = run("table", "alexnet_torchvision", "--strict")
    assert result.exit_code == 0 and result.stderr == ""
    assert "conv1: (224 - 11 + 2*2)/4 + 1 = 55.25; floor keeps 55" in result.stdout
    assert "by design" in result.stdout
    assert run("table", "resnet152").stderr == ""
    explained = run("explain", "resnet152", "conv3_1/b1/conv1").stdout
    assert "by design (the spec marks this flooring as intended): not an integer" in explained


@pytest.mark.parametrize("args", [["table", "no_such_net"], ["table", "missing.toml"],
                                  ["table", "vgg16", "--input", "0x3x3"], ["table", "vgg16", "--input", "9x9x3"]])
def test_bad_input_exits_2_with_one_paragraph(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_output_file_is_atomic(tmp_path):
    target = tmp_path / "out.md"
    assert run("table", "vgg16", "-f", "markdown", "-o", str(target)).exit_code == 0
    assert target.read_text().startswith("**VGG16")
    assert run("table", "vgg16", "-o", str(target)).exit_code == 2  # exists, no --force
    bad = tmp_path / "bad.txt"
    assert run("table", "vgg16", "--input", "5x5x3", "-o", str(bad)).exit_code == 2
    assert list(tmp_path.iterdir()) == [target]  # no partial or temporary file left


def test_every_command_has_help_with_an_example():
    for command in main.commands.values():
        result = run(command.name, "--help")
        assert result.exit_code == 0 and "archcalc " in result.output.split("Example")[-1], command.name


def test_list_and_layers():
    assert "vgg16" in run("list").output
    output = run("layers").output
    assert "conv" in output and "maxpool" in output and "filters" in output


def test_help_and_table_do_not_import_heavy_libraries():
    code = ("import sys; from archcalc.cli import main\n"
            "try: main(['table', 'vgg16'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('sympy', 'pandas', 'torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name, options", [("vgg16", ["--working"]), ("alexnet_simplified", ["--working"]),
                                           ("resnet18", []), ("googlenet", ["--depth", "0", "-f", "markdown"])])
def test_golden_text_tables(name, options, update_golden):
    """Formatting only: the numbers in these files are checked by the engine and graph tests."""
    text = run("table", name, *options).stdout
    path = GOLDEN / f"{name}{'_' + '_'.join(o.strip('-') for o in options) if options else ''}.txt"
    if update_golden:
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "csv", "json", "grid"])
def test_golden_every_format(fmt, update_golden):
    """One golden file per format (formatting only: LeNet-5's numbers are checked in test_engine),
    and in every format the rows add up to the totals."""
    text = run("table", "lenet5", "--exact", "-f", fmt).stdout
    path = GOLDEN / f"lenet5.{fmt}"
    if update_golden:
        path.write_text(text)
    assert text == path.read_text()
    params = [156, 2_416, 48_120, 10_164, 850]  # C1, C3, C5, F6, output: 61,706 in all
    if fmt == "json":
        data = json.loads(text)
        assert [layer["params"] for layer in data["layers"] if layer["params"]] == params
        assert sum(layer["params"] for layer in data["layers"]) == data["totals"]["params"] == sum(params)
        assert sum(layer["macs"] for layer in data["layers"]) == data["totals"]["macs"]
    elif fmt == "csv":
        import csv

        rows = list(csv.DictReader(text.splitlines()))
        assert sum(int(row["params"]) for row in rows) == sum(params)
    else:
        for number in ("156", "2,416", "48,120", "10,164", "850", "61,706"):
            assert number in text, (fmt, number)
