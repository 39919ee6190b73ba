"""The spec language's constructs for the networks around the lecture, each against hand arithmetic
or PyTorch running the lowered network."""
import json

import pytest
from click.testing import CliRunner

from archcalc import analyze, parse_spec
from archcalc.cli import main
from archcalc.errors import ShapeError, SpecError


def spec(layers: str, input_shape: str = "[8, 8, 4]", blocks: str = "") -> object:
    return parse_spec(f"input = {input_shape}\nlayers = {layers}\n{blocks}")


def verified(model):
    torch = pytest.importorskip("torch")  # noqa: F841
    from archcalc.lower.verify import verify

    report = verify(model, batch=2, with_onnx=False)
    assert report.ok, [(layer.name, layer.checks) for layer in report.layers if not layer.ok]
    return report


def test_shared_parameters_count_once_and_their_macs_at_every_use():
    """A Siamese pair: the second conv uses the first's 3*3*4*8 + 8 = 296 parameters."""
    model = spec('[{ concat = [["a: conv 8 3x3 p1"], ["b: conv 8 3x3 p1 share=b1/a"]] }]')
    result = analyze(model)
    rows = {row.name: row for row in result.rows}
    assert (rows["b1/a"].params, rows["b2/b"].params) == (296, 0)
    assert rows["b2/b"].macs == rows["b1/a"].macs == 8 * 8 * 8 * 36
    assert result.totals.params == 296 and "b2/b uses the 296 parameters of b1/a" in result.notes[0]
    verified(model)  # PyTorch holds the parameters once, and counts the MACs of both uses


def test_sharing_needs_a_twin():
    with pytest.raises(SpecError, match="share must name an earlier layer"):
        spec('["a: conv 8 3x3 p1 share=zz"]')
    with pytest.raises(ShapeError, match="cannot share the parameters of a"):
        analyze(spec('["a: conv 8 3x3 p1", "b: conv 8 3x3 p1 share=a"]'))  # 4 input channels there, 8 here


def test_frozen_layers_are_parameters_but_not_trainable():
    """``trainable = false`` on a layer, and on a block use (all its layers)."""
    model = spec('["a: conv 8 3x3 p1 bn relu trainable=false", "b: tail 2"]',
                 blocks='[blocks.tail]\nparams = ["n"]\nlayers = ["fc n"]')
    totals = analyze(model).totals
    conv_and_bn = 3 * 3 * 4 * 8 + 8 + 2 * 8
    assert (totals.params, totals.trainable_params) == (conv_and_bn + 8 * 8 * 8 * 2 + 2, 8 * 8 * 8 * 2 + 2)
    frozen_block = spec('["a: conv 8 3x3 p1", "b: tail 2 trainable=false"]',
                        blocks='[blocks.tail]\nparams = ["n"]\nlayers = ["fc n"]')
    assert analyze(frozen_block).totals.trainable_params == 3 * 3 * 4 * 8 + 8
    data = json.loads(CliRunner().invoke(main, ["table", "--input", "8x8x4", "--layers",
                                                "conv 8 3x3 p1 trainable=false; fc 2", "-f", "json"]).stdout)
    assert data["totals"]["trainable_params"] == 8 * 8 * 8 * 2 + 2
    verified(model)  # requires_grad is off for exactly those parameters


def test_side_outputs_count_parameters_but_not_inference_macs():
    model = spec('["conv 8 3x3 p1", { side = [["aux: fc 10"]] }, "fc 2"]')
    result = analyze(model)
    assert result.totals.params == (3 * 3 * 4 * 8 + 8) + (8 * 8 * 8 * 10 + 10) + (8 * 8 * 8 * 2 + 2)
    assert result.totals.macs == 8 * 8 * 8 * 36 + 8 * 8 * 8 * 2
    assert result.totals.training_only_macs == 8 * 8 * 8 * 10
    verified(model)  # the verifier runs the side output too, to check its row


def test_cs231n_alexnet_conv1_without_parameter_sharing():
    """CS231n: without sharing, conv1's 55*55*96 = 290,400 neurons each have 11*11*3 weights and a bias:
    290,400 * 364 = 105,705,600 parameters."""
    result = analyze(spec('["local 96 11x11 s4"]', "[227, 227, 3]"))
    assert result.rows[1].params == 105_705_600 and result.rows[1].shape == (55, 55, 96)


def test_a_locally_connected_layer_runs_in_pytorch():
    verified(spec('["local 4 3x3 s2 p1", "local 2 2x2 bias=false"]'))


def test_per_unit_biases():
    """``bias = "unit"``: one bias for every output unit, 6*6*5 = 180 here, not 5."""
    row = analyze(spec('["conv 5 3x3 bias=unit"]')).rows[1]
    assert (row.weights, row.biases) == (3 * 3 * 4 * 5, 6 * 6 * 5)
    verified(spec('["conv 5 3x3 bias=unit"]'))


def test_a_connection_table_sets_parameters_and_macs():
    """Three filters seeing 1, 2 and 4 input maps: 3*3*(1+2+4) weights, 6*6 positions of 3*3*7 MACs."""
    model = spec('[{ kind = "conv", filters = 3, kernel = 3, connections = [[0], [1, 2], [0, 1, 2, 3]] }]')
    row = analyze(model).rows[1]
    assert (row.weights, row.biases, row.macs) == (63, 3, 6 * 6 * 63)
    verified(model)
    with pytest.raises(ShapeError, match="names input map 4"):
        analyze(spec('[{ kind = "conv", filters = 1, kernel = 3, connections = [[4]] }]'))


def test_squeeze_and_excitation_multiplies_a_gate_over_the_map():
    model = spec('[{ multiply = [[], ["globalavgpool", "conv 2 1x1 relu", "conv 4 1x1 hardsigmoid"]] }]')
    result = analyze(model)
    merged = result.rows[-1]
    assert (merged.kind, merged.shape, merged.step.elementwise.value) == ("multiply", (8, 8, 4), 8 * 8 * 4)
    assert result.totals.params == (4 * 2 + 2) + (2 * 4 + 4)
    verified(model)
    with pytest.raises(ShapeError, match="does not broadcast"):
        analyze(spec('[{ multiply = [[], ["conv 4 3x3"]] }]'))


def test_channel_split_and_shuffle():
    model = spec('[{ concat = [["channels 0 count=2"], ["channels 2 count=2", "conv 2 1x1"]] }, "shuffle 2"]')
    result = analyze(model)
    assert result.rows[1].memory == 0  # a view of its input
    assert result.rows[-1].shape == (8, 8, 4)
    verified(model)
    with pytest.raises(ShapeError, match="do not exist"):
        analyze(spec('["channels 3 count=2"]'))
    with pytest.raises(ShapeError, match="3 groups do not divide the 4 channels"):
        analyze(spec('["shuffle 3"]'))


def test_dense_connectivity_grows_the_channels():
    """A dense block of three layers of growth 2 on 4 channels: 4 + 3*2 = 10."""
    model = spec('["dense_layer 2 x3"]', blocks='[blocks.dense_layer]\nparams = ["k"]\n'
                 'layers = [{ concat = [[], ["batchnorm relu", "conv k 3x3 p1 nobias"]] }]')
    result = analyze(model)
    assert result.rows[-1].shape == (8, 8, 10)
    assert result.totals.params == sum(2 * c + 3 * 3 * c * 2 for c in (4, 6, 8))
    verified(model)


def test_block_parameters_can_be_words_and_fractions():
    model = spec('["a: unit 4 hardswish 0.1", "b: unit 4 relu 0"]', blocks='[blocks.unit]\n'
                 'params = ["c", "act", "p"]\nlayers = [{ add = [["conv c 3x3 p1 act", "stochasticdepth p"], []] }]')
    rows = {row.name: row for row in analyze(model).rows}
    assert rows["a/b1/conv1"].folded == ("hardswish", "stochastic depth 0.1")
    assert rows["b/b1/conv1"].folded == ("relu", "stochastic depth 0")


def test_connections_in_the_table_and_json():
    result = CliRunner().invoke(main, ["table", "lenet5_1998", "--connections"])
    assert "TOTAL connections: 340,908" in result.stdout
    data = json.loads(CliRunner().invoke(main, ["table", "lenet5_1998", "-f", "json"]).stdout)
    assert data["layers"][1]["connections"] == (5 * 5 + 1) * 6 * 28 * 28  # C1: 122,304
    assert data["totals"]["connections"] == 340908


def test_compare_has_rows_for_the_new_constructs():
    from archcalc import compare

    frame = compare(["lecun1989", "alexnet", "mobilenet_v3_small", "densenet121"]).to_frame()
    assert list(frame.loc["squeeze_excitation"]) == [False, False, True, False]
    assert list(frame.loc["depthwise"]) == [False, False, True, False]
    assert list(frame.loc["dense"]) == [False, False, False, True]
    assert frame.loc["input", "lecun1989"] == "16x16x1" and frame.loc["connections", "lecun1989"] == 64660
