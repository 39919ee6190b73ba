"""What a newcomer tripped over, each checked as they met it: long lines, ambiguous formulas,
implausible designs first, typos without a hint, tracebacks, a byte-order mark; and course questions
that got wrong answers. Expected values are worked by hand in the comments."""
import json
import re

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.spec import shipped_spec_names


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_explain_wraps_at_100_columns_and_writes_formulas_unambiguously():
    text = run("explain", "alexnet_simplified", "conv1").output
    assert max(len(line) for line in text.splitlines()) <= 100
    symbolic = run("explain", "lenet5", "s2", "--input", "HxWx1").output
    assert max(len(line) for line in symbolic.splitlines()) <= 100
    # LeNet's s2 halves c1's H - 4: each size in parentheses, so that the x between them cannot be misread
    assert "(floor(H/2) - 2) x (floor(W/2) - 2) x 6" in " ".join(symbolic.split())


def test_solve_ranks_plausible_designs_first():
    text = run("solve", "--size", "32", "--target", "16").output
    designs = [tuple(map(int, found)) for found in re.findall(r"kernel (\d+), stride (\d+), pad (\d+)", text)]
    # 32 -> 16 exactly: (32 - F + 2P)/S + 1 = 16. The first are a common stride, padding at most half the
    # kernel, a small kernel: 2x2 s2 p0 (a pool), 4x4 s2 p1, ...; 15x15 s3 p14 pads more than the kernel
    assert designs[:2] == [(2, 2, 0), (4, 2, 1)]
    assert all(s in (1, 2, 4) and 2 * p <= k <= 11 for k, s, p in designs[:5])


@pytest.mark.parametrize("args, hint", [
    (["explain", "alexnet", "cnov1"], "did you mean 'conv1'?"),
    (["worksheet", "lenet5", "--blank", "outptu"], "did you mean 'output'?"),
    (["compare", "lenet5", "vgg11", "--keys", "parms"], "did you mean 'params'?"),
])
def test_did_you_mean(args, hint, tmp_path):
    result = run(*args, *(["-o", tmp_path] if args[0] == "worksheet" else []))
    assert result.exit_code == 2 and hint in result.output


def test_compare_keys_without_the_error_row_is_a_table():
    result = run("compare", "lenet5", "vgg11", "--keys", "params")
    # LeNet-5 61,706 parameters (checked in test_engine), VGG11 132,863,336 (torchvision's vgg11)
    assert result.exit_code == 0 and "61.7K params" in result.output and "133M params" in result.output


def test_compare_states_units_and_has_no_empty_rows():
    text = run("compare", "alexnet_simplified", "vgg16").output
    assert "width multiplier" not in text and "1x1 reductions" not in text  # no value for either network
    assert re.search(r"^MACs +1\.14G MACs +15\.5G MACs", text, re.M)
    assert re.search(r"^memory \(values / image\) +1\.05M values +15\.2M values", text, re.M)


def test_a_spec_with_a_byte_order_mark_reads(tmp_path):
    spec = tmp_path / "bom.toml"
    spec.write_bytes(b'\xef\xbb\xbfinput = [32, 32, 3]\nlayers = ["conv 8 3x3"]\n')
    result = run("table", spec, "-f", "csv")
    assert result.exit_code == 0 and "30x30x8" in result.output  # (32 - 3)/1 + 1 = 30


def test_layers_states_each_default_once():
    text = run("layers").output
    assert "(default None)" not in text and "(default: the kernel size, as in PyTorch) (default" not in text
    assert "stride: S (default: the kernel size, as in PyTorch)\n" in text


@pytest.mark.parametrize("command", [["export", "alexnet", "--torch"], ["plot", "vgg16", "-o"],
                                     ["table", "vgg16", "-o"]])
def test_a_name_longer_than_the_file_system_allows(command, tmp_path):
    result = run(*command, tmp_path / ("a" * 300 + ".out"))
    assert result.exit_code == 2 and "more than the 255 a file system allows" in result.output
    assert "Traceback" not in result.output


def test_import_to_a_name_too_long(tmp_path):
    pytest.importorskip("onnx")
    model = tmp_path / "l5.onnx"
    assert run("export", "lenet5", "--onnx", model).exit_code == 0
    result = run("import", model, "-o", tmp_path / ("a" * 300 + ".toml"))
    assert result.exit_code == 2 and "more than the 255" in result.output


def test_verify_on_a_device_that_is_not_there():
    torch = pytest.importorskip("torch")
    result = run("verify", "lenet5", "--device", f"cuda:{torch.cuda.device_count() + 98}")
    assert result.exit_code == 2 and "--device cuda:" in result.output and "Traceback" not in result.output


def test_verify_shows_progress_in_a_pipe_and_ends_with_a_summary():
    pytest.importorskip("torch")
    result = CliRunner().invoke(main, ["verify", "lenet5", "lecun1989", "--no-onnx"])
    assert result.exit_code == 0
    assert "verifying 1/2: lenet5" in result.stderr and "verifying 2/2: lecun1989" in result.stderr
    assert result.stdout.rstrip().endswith("2 of 2 networks agree with PyTorch")


def exported_module(tmp_path, name):
    """The module ``export --torch`` writes for ``name``, imported from its file."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    assert run("export", name, "--torch", path).exit_code == 0
    loader = importlib.util.spec_from_file_location(f"exported_{name}", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def test_an_exported_module_runs(tmp_path):
    torch = pytest.importorskip("torch")
    network = exported_module(tmp_path, "resnet18").build().eval()  # its residual adds call reduce()
    with torch.no_grad():
        assert network(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.slow
@pytest.mark.parametrize("name", shipped_spec_names())
def test_every_exported_module_runs(tmp_path, name):
    torch = pytest.importorskip("torch")
    network = exported_module(tmp_path, name).build().eval()
    shape = archcalc.analyze(name).spec.input_shape
    x = torch.zeros(1, shape[-1], *shape[:-1])
    with torch.no_grad():
        assert network(x).shape[0] == 1


# --- course questions


def test_memory_gives_the_textbook_minimum_beside_the_real_peak():
    # VGG16: the largest layer by input + output is conv1_2, 224*224*64 in and out: 6,422,528 values,
    # 25,690,112 bytes; the parameters 138,357,544 * 4 = 553,430,176 bytes
    document = json.loads(run("memory", "vgg16", "-f", "json").output)["inference"]
    assert (document["textbook_layer"], document["textbook_activation_bytes"]) == ("conv1_2", 25_690_112)
    assert document["textbook_bytes"] == 25_690_112 + 553_430_176
    assert "TEXTBOOK minimum" in run("memory", "vgg16").output


def test_pixel_index_reaches_json():
    # VGG16's conv1_1, 3x3 with padding 1: its first output's window covers pixels -1..1, centred on
    # pixel 0, whose centre is at 0.5 where pixel i's centre is i + 0.5, and at 0 with pixel indices
    plain = json.loads(run("table", "vgg16", "--rf", "-f", "json").output)["layers"][1]["receptive_field"][0]
    indexed = json.loads(run("table", "vgg16", "--rf", "--pixel-index", "-f", "json").output)
    assert (plain["start"], indexed["layers"][1]["receptive_field"][0]["start"]) == (0.5, 0.0)


def test_dilation_from_zero_only_where_a_dilation_is_given():
    # an ordinary 3x3 conv on 8x8: (8 - 3)/1 + 1 = 6, with or without the option
    csv = run("table", "--input", "8x8x1", "--layers", "conv 1 3x3", "--dilation-from-zero", "-f", "csv").output
    assert "6x6x1" in csv
    plain = archcalc.analyze("googlenet")
    shifted = archcalc.analyze("googlenet", dilation_from_zero=True)
    assert [r.shape for r in shifted.rows] == [r.shape for r in plain.rows]


def test_the_result_states_bytes_for_its_batch_and_dtype():
    # VGG16's memory column, 15,237,608 values, at 2 bytes (float16) for 8 images; parameters without
    # biases 138,344,128 at 2 bytes
    result = archcalc.analyze("vgg16", batch=8, dtype="float16", no_bias=True)
    assert result.memory_bytes == 15_237_608 * 2 * 8
    assert result.params_bytes == 138_344_128 * 2
    assert result.macs == 15_470_264_320 * 8
