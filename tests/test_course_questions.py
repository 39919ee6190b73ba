"""Questions a course asks that used to get a wrong answer: the smallest input that runs, the
receptive field after a flatten, input symbols in fields, exact totals and the convention's totals
in JSON. Each expected value is worked by hand here, or checked by PyTorch running the network."""
import json

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
