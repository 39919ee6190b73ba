"""Questions a course asks that used to get a wrong answer: the smallest input that runs, the
receptive field after a flatten, input symbols in fields, exact totals and the convention's totals
in JSON. Each expected value is worked by hand here, or checked by PyTorch running the network."""
import json
import re

import pytest
import sympy
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.inverse import input_sizes
from archcalc.spec import load_spec, quick_spec


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_smallest_input_that_runs_follows_every_layer():
    # alexnet_simplified at 67: conv1 (67-11)/4+1 = 15, pool1 7, conv2 (p2) 7, pool2 3, conv3-5 3,
    # pool3 1; at 66: conv1 floor(14.75) = 14, pool1 6, pool2 floor(2.5) = 2, and pool3's 3x3 does not fit
    assert input_sizes(load_spec("alexnet_simplified"), 300).runs[0] == 67
    # a CIFAR-style net: conv 5x5, pool 2, conv 5x5, pool 2; at 16: 12, 6, 2, 1; at 15: 11, 5, 1, and
    # the second pool does not fit
    cifar = quick_spec("32x32x3", "conv 6 5x5; maxpool 2 s2; conv 16 5x5; maxpool 2 s2; fc 10")
    assert input_sizes(cifar, 64).runs[0] == 16
    assert "smallest input that runs (flooring where needed): 67" in run("sizes", "alexnet_simplified").output


def test_smallest_input_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    from archcalc.engine import analysis_of
    from archcalc.lower.build import build
    from archcalc.spec import with_input

    spec = load_spec("alexnet_simplified")
    smallest = input_sizes(spec, 100).runs[0]
    network = build(with_input(spec, (smallest, smallest, 3)), analysis_of(with_input(spec, (smallest, smallest, 3))))
    network.eval()
    with torch.no_grad():
        assert network(torch.zeros(1, 3, smallest, smallest)).shape == (1, 1000)
        with pytest.raises(RuntimeError):  # one pixel less: a kernel is larger than its input
            network(torch.zeros(1, 3, smallest - 1, smallest - 1))


def test_nearest_exact_sizes_at_a_size_that_floors():
    # AlexNet divides exactly at 67 + 32k: 195 and 227 either side of 224
    text = run("sizes", "alexnet_simplified", "--at", "224").output
    assert "nearest sizes where every layer divides exactly: 195 below, 227 above" in text


def test_receptive_field_after_an_explicit_flatten():
    # conv 3x3 on 8x8 gives 6x6 values that each see 3x3; the fc reads all of them: 6 + 3 - 1 = 8
    with_flatten = archcalc.analyze(input="8x8x1", layers="conv 2 3x3; flatten; fc 10")
    without = archcalc.analyze(input="8x8x1", layers="conv 2 3x3; fc 10")
    assert with_flatten.rows[-1].rf[0].size == without.rows[-1].rf[0].size == 8
    assert with_flatten.rows[1].rf[0].size == 3  # the conv row (the flatten folds into it) keeps its own
    table = with_flatten.render("text")
    assert "[6x6x2] -> [72]" in table  # the folded flatten shown as the vector it makes


def test_input_symbols_in_fields():
    # three 3x3 convs of C channels against one 7x7 (no biases): 3 * 9 * C * C = 27 C^2 and 49 C^2
    three = archcalc.analyze(input="HxWxC", layers="conv C 3x3 p1; conv C 3x3 p1; conv C 3x3 p1", no_bias=True)
    one = archcalc.analyze(input="HxWxC", layers="conv C 7x7 p3", no_bias=True)
    c, h, w = sympy.symbols("C H W", positive=True, integer=True)
    assert sympy.simplify(three.totals.params - 27 * c ** 2) == 0 and sympy.simplify(one.totals.params - 49 * c ** 2) == 0
    assert sympy.simplify(three.totals.macs - 27 * c ** 2 * h * w) == 0
    result = run("table", "--input", "HxWxC", "--layers", "conv D 3x3")
    assert result.exit_code == 2 and "unknown name 'D'" in result.stderr  # only the input's symbols


def test_exact_totals():
    # LeNet-5's MACs: 28*28*6*25 + 10*10*16*150 + 120*400 + 84*120 + 10*84
    macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 84 * 120 + 10 * 84
    text = run("table", "lenet5", "--exact").output
    assert f"TOTAL MACs: {macs:,} / image ({2 * macs:,} FLOPs" in text
    assert "TOTAL memory: 9,118 values" in text  # 1024 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10


def test_json_totals_follow_the_convention():
    text_line = next(line for line in run("table", "resnet50_torchvision", "--convention", "fvcore").output.splitlines()
                     if line.startswith("AS FVCORE COUNTS"))
    document = json.loads(run("table", "resnet50_torchvision", "--convention", "fvcore", "-f", "json").output)
    convention = document["convention"]
    assert convention["name"] == "fvcore" and f"({convention['ops']:,})" in text_line
    assert f"({convention['params']:,})" in text_line
    assert "convention" not in json.loads(run("table", "resnet50_torchvision", "-f", "json").output)


# --- answers that were missing


def test_im2col_view_of_alexnet_conv1():
    # CS231n's notes (Convolutional Networks, "Implementation as Matrix Multiplication"): for AlexNet's
    # conv1 X_col is [363 x 3025], W_row is [96 x 363], and the product [96 x 3025]
    text = run("explain", "alexnet_simplified", "conv1").output
    assert "im2col: columns [363 x 3,025]" in text and "filters [96 x 363]" in text
    assert "filters x columns = [96 x 3,025] -> 55x55x96" in text
    torch = pytest.importorskip("torch")
    columns = torch.nn.functional.unfold(torch.zeros(1, 3, 227, 227), kernel_size=11, stride=4)
    assert tuple(columns.shape) == (1, 363, 3025)


def test_grouped_conv_im2col_is_one_product_per_group():
    # AlexNet's conv2 in two towers: 5*5*48 = 1,200 rows, 128 filters per group, 27*27 = 729 positions
    text = run("explain", "alexnet", "conv2").output
    assert "columns [1,200 x 729]" in text and "filters [128 x 1,200]" in text and "(2 groups)" in text


def test_transposed_conv_as_a_direct_convolution():
    # Dumoulin & Visin, relationship 14: 7 inputs, stride 2, kernel 4, padding 1: 1 zero between inputs
    # (13), padding 4 - 1 - 1 = 2 each side, a stride-1 4-window: 13 + 4 - 4 + 1 = 14
    text = run("explain", "--input", "7x7x8", "--layers", "deconv 4 4x4 s2 p1").output
    assert "7 inputs with 1 zero(s) between them = 13, padded by 2 each side" in text and "= 14" in text
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    transposed = torch.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=False)
    x = torch.randn(1, 8, 7, 7)
    stuffed = torch.zeros(1, 8, 13, 13)
    stuffed[:, :, ::2, ::2] = x
    direct = torch.nn.functional.conv2d(torch.nn.functional.pad(stuffed, (2, 2, 2, 2)),
                                        transposed.weight.flip(2, 3).transpose(0, 1))
    assert direct.shape == (1, 4, 14, 14) and torch.allclose(direct, transposed(x), atol=1e-5)


def test_flops_as_multiplications_plus_additions():
    # a 3x3 conv with one input map: 9 multiplications and 8 additions per output (17); with a bias 18
    result = archcalc.analyze(input="28x28x1", layers="conv 8 3x3 nobias; fc 10")
    from archcalc.counting import apply

    conv, fc = (2 * 9 - 1) * 26 * 26 * 8, 2 * (26 * 26 * 8) * 10  # the fc has biases: 2k per output
    assert apply(result, "mults-adds").ops == conv + fc
    text = " ".join(run("explain", "--input", "28x28x1", "--layers", "conv 8 3x3 nobias").output.split())
    assert "2*9 - 1 = 17 per output x 5,408 = 91,936" in text
    assert "AS MULTS-ADDS COUNTS" in run("table", "vgg16", "--convention", "mults-adds").output


def test_one_dimensional_layers_in_the_compact_syntax():
    # (101 - 3 + 2*1)/2 + 1 = 51; 3*16*32 + 32 = 1,568 parameters; PyTorch's Conv1d agrees
    result = archcalc.analyze(input="101x16", layers="conv1d 32 3 s2 p1 relu; maxpool1d 2")
    assert result.rows[1].shape == (51, 32) and result.rows[1].params == 3 * 16 * 32 + 32
    assert result.rows[2].shape == (25, 32)
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv1d(16, 32, 3, stride=2, padding=1)
    assert conv(torch.zeros(1, 16, 101)).shape == (1, 32, 51)
    assert sum(p.numel() for p in conv.parameters()) == 1568


def test_solve_finds_uneven_padding():
    # 224 -> 55 with an 11x11 stride-4 conv: (224 - 11 + P)/4 + 1 = 55 needs P = 3 in all, 1 + 2 as
    # TensorFlow's SAME pads (the extra after); no even padding divides
    text = run("solve", "--size", "224", "--target", "55", "--kernel", "11", "--stride", "4").output
    assert "exact: 1 solution(s)" in text and "pad 1+2 (3 in all): (224 - 11 + 1 + 2)/4 + 1 = 55" in text
    torch = pytest.importorskip("torch")
    padded = torch.nn.functional.pad(torch.zeros(1, 3, 224, 224), (1, 2, 1, 2))
    assert torch.nn.functional.conv2d(padded, torch.zeros(96, 3, 11, 11), stride=4).shape[-1] == 55


def test_solve_transposed_with_output_padding():
    # 6 -> 12 with a 3x3 transposed conv: (6 - 1)*2 - 2*1 + 2 + 1 + 1 = 12 needs output_padding 1
    text = run("solve", "--size", "6", "--target", "12", "--kernel", "3", "--transposed").output
    assert "kernel 3, stride 2, pad 1, output_padding 1" in text
    torch = pytest.importorskip("torch")
    layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
    assert layer(torch.zeros(1, 1, 6, 6)).shape[-1] == 12


@pytest.mark.parametrize("name, layer, published", [
    ("vgg16", "pool5", (212, 32, 90)), ("mobilenet_v1", "pw13_bn", (315, 32, 126)),
    ("inception_v3", "Mixed_7c/concat", (1311, 32, 618)), ("alexnet", "pool5", (195, 32, 64))])
def test_effective_padding_against_the_receptive_field_library(name, layer, published):
    # google-research/receptive_field's README: receptive field, effective stride and effective padding of
    # vgg_16, mobilenet_v1, inception_v3 and alexnet_v2 (whose pool5 field matches AlexNet's)
    row = next(row for row in archcalc.analyze(name).rows if row.name == layer)
    field = row.rf[0]
    assert (field.size, field.jump, field.effective_padding) == published


def test_receptive_field_columns_and_the_pixel_index_convention():
    # VGG16 conv2_1: two 3x3 pad-1 convs, a 2x2 pool, a 3x3 pad-1 conv: padding 1 + 1 + 0 + 1*2 = 4
    text = run("table", "vgg16", "--rf").output
    assert "eff. pad" in text and re.search(r"conv2_1 .* 10 +2 +1 +4\n", text)
    # AlexNet conv1's field covers pixels 0..10: centre 5.5 with centres at i + 0.5, 5 with pixel indices
    plain = run("table", "alexnet_simplified", "--rf").output
    indexed = run("table", "alexnet_simplified", "--rf", "--pixel-index").output
    assert re.search(r"conv1 .* 11 +4 +5\.5 +0\n", plain) and re.search(r"conv1 .* 11 +4 +5 +0\n", indexed)


def test_the_lectures_x2_rule_for_training_memory():
    # CS231n's VGG slide: "TOTAL memory ... (only forward! ~*2 for bwd)"; VGG16's memory column sums to
    # 15,237,608 values (checked in test_engine), each with its gradient, except the 224*224*3 = 150,528
    # input values, which have none: (2 * 15,237,608 - 150,528) * 4 = 121,298,752 bytes
    assert "x2 with the backward pass, the slide's rule, the input once: 121 MB" in run("table", "vgg16").output
    document = json.loads(run("memory", "vgg16", "--train", "-f", "json").output)
    assert document["training"]["lecture_rule_bytes"] == 121_298_752
    assert "THE LECTURE'S RULE" in run("memory", "vgg16", "--train").output


# --- homework checking


ASKED = "output,memory,params,macs"


def class_of_sheets(folder):
    """alice copies the key; bob forgets conv2's padding (27 - 5 + 1 = 23, not 27) and carries his 23 on:
    pool2 (23 - 3)/2 + 1 = 11, norm2 keeps 11, and conv2's MACs 23*23*256 x 5*5*96"""
    import csv

    assert run("worksheet", "alexnet_simplified", "--blank", ASKED, "-o", str(folder)).exit_code == 0
    key = list(csv.DictReader((folder / "alexnet_simplified_answers.csv").open()))
    (folder / "alice.csv").write_text((folder / "alexnet_simplified_answers.csv").read_text())
    for row in key:
        if row["name"] == "conv2":
            row.update(output="23x23x256", memory=str(23 * 23 * 256), macs=str(23 * 23 * 256 * 5 * 5 * 96))
        if row["name"] in ("pool2", "norm2"):
            row.update(output="11x11x256", memory=str(11 * 11 * 256))
    with (folder / "bob.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(key[0]))
        writer.writeheader()
        writer.writerows(key)
    return folder / "alice.csv", folder / "bob.csv"


def test_follow_through_credit(tmp_path):
    _, bob = class_of_sheets(tmp_path)
    result = run("check", "alexnet_simplified", str(bob), "--blank", ASKED)
    assert result.exit_code == 1
    text = result.output
    assert ("WRONG conv2 output: you wrote 23x23x256, expected 27x27x256; that is the size without the padding (p2)"
            in text)
    assert "FOLLOW-THROUGH pool2 output: you wrote 11x11x256, expected 13x13x256; follows from your conv2 23x23x256" \
        in text
    # 23*23*256 outputs x 5*5*96 = 2,400 terms each = 325,017,600
    assert "FOLLOW-THROUGH conv2 macs: you wrote 325017600, expected 447,897,600; follows from your output " \
           "23x23x256" in text
    # 13 rows after the input x 4 questions; bob: conv2's output wrong, its memory and MACs, and pool2's
    # and norm2's output and memory follow through (6)
    assert "score 45/52 right (86.5%): 6 follow-through, 1 wrong, 0 unanswered" in text


def test_a_misspelt_column_is_an_error(tmp_path):
    sheet = tmp_path / "dave.csv"
    sheet.write_text("name,ouput,memory\nconv1,55x55x96,290400\n")
    result = run("check", "alexnet_simplified", str(sheet))
    assert result.exit_code == 2 and "unknown column 'ouput'" in result.stderr and "did you mean 'output'" in result.stderr


def test_an_unquoted_tuple_is_one_shape(tmp_path):
    sheet = tmp_path / "erin.csv"
    sheet.write_text("name,output,memory\nconv1,(55,55,96),290400\n")  # 55*55*96 = 290,400
    result = run("check", "alexnet_simplified", str(sheet), "--blank", "output,memory")
    assert "conv1 output" not in result.output  # both read and right: (55,55,96) is one shape
    assert "score 2/26 right" in result.output


def test_gradebook_for_a_class(tmp_path):
    import csv

    alice, bob = class_of_sheets(tmp_path)
    grades = tmp_path / "grades.csv"
    result = run("check", "alexnet_simplified", str(alice), str(bob), "--gradebook", str(grades), "--blank", ASKED)
    assert result.exit_code == 1 and "(2 students)" in result.output
    rows = {row["student"]: row for row in csv.DictReader(grades.open())}
    # 13 rows after the input (conv1 to fc8) x 4 questions (output, memory, params, MACs)
    assert rows["alice"]["right"] == rows["alice"]["asked"] == "52" and rows["alice"]["first_divergence"] == ""
    assert (rows["bob"]["right"], rows["bob"]["follow_through"], rows["bob"]["wrong"]) == ("45", "6", "1")
    assert rows["bob"]["first_divergence"] == "conv2 (output)" and rows["bob"]["output"] == "10/13"
    summary = run("check", "alexnet_simplified", str(alice), str(bob), "--blank", ASKED).output
    assert summary.startswith("alice: score 52/52 right (100.0%)")


