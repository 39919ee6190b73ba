"""The engine against the lecture's tables, the papers and torchvision's documented counts.

Every expected number here comes from a source named beside it or from arithmetic written out
in the test; none is pasted from archcalc's output.
"""
import pytest

from archcalc import analyze, load_spec, parse_spec
from archcalc.dims import format_dim, symbol
from archcalc.errors import ShapeError
from archcalc.spec import with_input, without_bias


def rows_by_name(analysis):
    return {row.name: row for row in analysis.rows}


# The lecture note's VGG16 slide: per-layer output shapes, memory and weights (biases not counted).
VGG16_SLIDE = [
    ("input", (224, 224, 3), 224 * 224 * 3, 0),
    ("conv1_1", (224, 224, 64), 224 * 224 * 64, (3 * 3 * 3) * 64),
    ("conv1_2", (224, 224, 64), 224 * 224 * 64, (3 * 3 * 64) * 64),
    ("pool1", (112, 112, 64), 112 * 112 * 64, 0),
    ("conv2_1", (112, 112, 128), 112 * 112 * 128, (3 * 3 * 64) * 128),
    ("conv2_2", (112, 112, 128), 112 * 112 * 128, (3 * 3 * 128) * 128),
    ("pool2", (56, 56, 128), 56 * 56 * 128, 0),
    ("conv3_1", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 128) * 256),
    ("conv3_2", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("conv3_3", (56, 56, 256), 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("pool3", (28, 28, 256), 28 * 28 * 256, 0),
    ("conv4_1", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 256) * 512),
    ("conv4_2", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("conv4_3", (28, 28, 512), 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("pool4", (14, 14, 512), 14 * 14 * 512, 0),
    ("conv5_1", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("conv5_2", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("conv5_3", (14, 14, 512), 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("pool5", (7, 7, 512), 7 * 7 * 512, 0),
    ("fc6", (4096,), 4096, 7 * 7 * 512 * 4096),
    ("fc7", (4096,), 4096, 4096 * 4096),
    ("fc8", (1000,), 1000, 4096 * 1000),
]


def test_vgg16_reproduces_the_slide_row_by_row():
    analysis = analyze(load_spec("vgg16"))
    assert [row.name for row in analysis.rows] == [name for name, *_ in VGG16_SLIDE]
    for row, (name, shape, memory, weights) in zip(analysis.rows, VGG16_SLIDE):
        assert (row.shape, row.memory, row.weights) == (shape, memory, weights), name
    # the slide's own figures, as printed: 1,728 ... 4,096,000
    slide_params = [1_728, 36_864, 73_728, 147_456, 294_912, 589_824, 589_824, 1_179_648, 2_359_296,
                    2_359_296, 2_359_296, 2_359_296, 2_359_296, 102_760_448, 16_777_216, 4_096_000]
    assert [row.weights for row in analysis.rows if row.weights] == slide_params


def test_vgg16_totals():
    analysis = analyze(load_spec("vgg16"))
    totals = analysis.totals
    assert totals.memory == sum(memory for *_, memory, _ in VGG16_SLIDE) == 15_237_608  # "15.2M"
    assert totals.weights == 138_344_128  # the slide's sum, biases not counted
    assert totals.params == 138_357_544  # torchvision's documented vgg16
    assert totals.biases == 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512 + 4096 + 4096 + 1000
    # MACs: each conv costs out_h*out_w*C_out*(9*C_in); the fcs in*out
    conv_macs = sum(h * w * c * 9 * cin for (h, w, c), cin in [
        ((224, 224, 64), 3), ((224, 224, 64), 64), ((112, 112, 128), 64), ((112, 112, 128), 128),
        ((56, 56, 256), 128), ((56, 56, 256), 256), ((56, 56, 256), 256), ((28, 28, 512), 256),
        ((28, 28, 512), 512), ((28, 28, 512), 512), ((14, 14, 512), 512), ((14, 14, 512), 512),
        ((14, 14, 512), 512)])
    assert totals.macs == conv_macs + 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert round(totals.macs / 1e9, 1) == 15.5  # the commonly quoted 15.5 GMACs


def test_without_bias_gives_the_slides_count():
    assert analyze(without_bias(load_spec("vgg16"))).totals.params == 138_344_128


@pytest.mark.parametrize("name, params", [
    ("vgg11", 132_863_336), ("vgg13", 133_047_848), ("vgg16", 138_357_544), ("vgg19", 143_667_240),
    ("vgg16_bn", 138_365_992), ("alexnet_torchvision", 61_100_840),
])
def test_torchvision_documented_parameter_counts(name, params):
    assert analyze(load_spec(name)).totals.params == params


@pytest.mark.parametrize("name, millions", [("vgg11", 133), ("vgg13", 133), ("vgg16", 138), ("vgg19", 144)])
def test_vgg_paper_table_2(name, millions):
    assert round(analyze(load_spec(name)).totals.params / 1e6) == millions


def test_alexnet_conv1_as_in_the_lecture():
    conv1 = rows_by_name(analyze(load_spec("alexnet_simplified")))["conv1"]
    assert conv1.shape == (55, 55, 96)  # (227 - 11)/4 + 1 = 55
    assert conv1.params == 11 * 11 * 3 * 96 + 96 == 34_944
    assert conv1.memory == 55 * 55 * 96 == 290_400
    assert conv1.macs == 290_400 * 363 == 105_415_200


def test_alexnet_simplified_has_the_lecture_notes_shapes():
    rows = rows_by_name(analyze(load_spec("alexnet_simplified")))
    lecture_note = {"conv1": (55, 55, 96), "pool1": (27, 27, 96), "norm1": (27, 27, 96), "conv2": (27, 27, 256),
            "pool2": (13, 13, 256), "norm2": (13, 13, 256), "conv3": (13, 13, 384), "conv4": (13, 13, 384),
            "conv5": (13, 13, 256), "pool3": (6, 6, 256), "fc6": (4096,), "fc7": (4096,)}
    assert {name: rows[name].shape for name in lecture_note} == lecture_note
    # CS231n: "CONV1 ... Parameters: (11*11*3)*96 = 35K"; single-tower total 62,378,344 (hand sum):
    assert analyze(load_spec("alexnet_simplified")).totals.params == (
        34_944 + (5 * 5 * 96 * 256 + 256) + (3 * 3 * 256 * 384 + 384) + (3 * 3 * 384 * 384 + 384)
        + (3 * 3 * 384 * 256 + 256) + (6 * 6 * 256 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000))


def test_alexnet_as_published_has_about_60_million_parameters():
    analysis = analyze(load_spec("alexnet"))
    two_tower = (34_944 + (5 * 5 * 48 * 256 + 256) + (3 * 3 * 256 * 384 + 384) + (3 * 3 * 192 * 384 + 384)
                 + (3 * 3 * 192 * 256 + 256) + (6 * 6 * 256 * 4096 + 4096) + (4096 * 4096 + 4096)
                 + (4096 * 1000 + 1000))
    assert analysis.totals.params == two_tower == 60_965_224
    assert round(analysis.totals.params / 1e6) == 61  # "60 million parameters" (abstract)
    assert rows_by_name(analysis)["pool5"].shape == (6, 6, 256)


def test_zfnet_figure_3_sizes():
    rows = analyze(load_spec("zfnet")).rows
    sizes = [row.shape[0] for row in rows if len(row.shape) == 3 and row.kind != "lrn"]
    assert sizes == [224, 110, 55, 26, 13, 13, 13, 13, 6]


def test_lenet5_parameters():
    # C1 156, C3 2,416, C5 48,120, F6 10,164, output 850
    assert analyze(load_spec("lenet5")).totals.params == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706


def rows_add_up(analysis) -> None:
    """Parameters over every row; memory, MACs and connections over the rows that run at inference
    (side outputs run only in training), and the side outputs' MACs in their own total."""
    rows, totals = analysis.rows, analysis.totals
    for attribute in ("weights", "biases", "params", "frozen"):
        assert sum(getattr(row, attribute) for row in rows) == getattr(totals, attribute)
    for attribute in ("memory", "macs", "connections"):
        assert sum(getattr(row, attribute) for row in rows if not row.training_only) == getattr(totals, attribute)
    assert sum(row.macs for row in rows if row.training_only) == totals.training_only_macs


def test_rows_add_up_to_totals_for_every_shipped_spec():
    from archcalc.spec import shipped_spec_names

    for name in shipped_spec_names():
        analysis = analyze(load_spec(name))
        rows_add_up(analysis)


def test_floor_warns_and_strict_refuses():
    spec = with_input(load_spec("alexnet_simplified"), (224, 224, 3))
    analysis = analyze(spec)
    assert analysis.rows[1].shape == (54, 54, 96)  # floor((224 - 11)/4) + 1
    assert analysis.warnings[0] == ("conv1: (224 - 11 + 2*0)/4 + 1 = 54.25; floor keeps 54, "
                                    "the last 1 input row and column are unused")
    with pytest.raises(ShapeError, match="54.25"):
        analyze(spec, strict=True)


def test_symbolic_input_gives_formulas_that_agree_with_concrete_sizes():
    H, W = symbol("H"), symbol("W")
    for name in ("alexnet", "vgg16", "zfnet"):
        spec = load_spec(name)
        symbolic = analyze(with_input(spec, (H, W, 3)))
        for size in (227, 256, 300):
            concrete = analyze(with_input(spec, (size, size, 3)))
            for sym_row, row in zip(symbolic.rows, concrete.rows):
                shape = tuple(d if isinstance(d, int) else int(d.subs({H: size, W: size})) for d in sym_row.shape)
                assert shape == row.shape, (name, row.name)
            macs = symbolic.totals.macs.subs({H: size, W: size})
            assert macs == concrete.totals.macs


def test_symbolic_width_only():
    spec = parse_spec('input = [32, "W", 3]\nlayers = ["conv 8 3x3 s2"]')
    row = analyze(spec).rows[1]
    assert row.shape[0] == 15  # (32 - 3)/2 + 1 = 15.5 -> 15
    assert format_dim(row.shape[1]) == "floor((W - 3)/2) + 1"


def test_grouped_and_dilated_conv():
    spec = parse_spec('input = [32, 32, 64]\nlayers = ["conv 128 3x3 d2 g4 p2"]')
    row = analyze(spec).rows[1]
    assert row.shape == (32, 32, 128)  # (32 - 5 + 4)/1 + 1
    assert row.weights == 3 * 3 * (64 // 4) * 128


def test_same_padding_and_asymmetric_pad():
    spec = parse_spec('input = [224, 224, 3]\nlayers = ["conv 64 7x7 s2 same", "maxpool 3 s2 same"]')
    rows = analyze(spec).rows
    assert rows[1].shape == (112, 112, 64)  # ceil(224/2)
    assert rows[2].shape == (56, 56, 64)
    spec = parse_spec('input = [10, 10, 1]\n[[layers]]\nkind = "conv"\nfilters = 1\nkernel = 3\npad = [0, 1, 2, 0]')
    assert analyze(spec).rows[1].shape == (9, 10, 1)  # (10 - 3 + 1) + 1, (10 - 3 + 2) + 1


def test_kernel_larger_than_input_is_an_error():
    spec = parse_spec('input = [5, 5, 3]\nlayers = ["conv 8 7x7"]', "tiny.toml")
    with pytest.raises(ShapeError) as caught:
        analyze(spec)
    assert "tiny.toml:2: layer 1 (conv1), field 'kernel'" in str(caught.value)  # the file's line 2
    assert "5 + 0 + 0 = 5 < 7" in str(caught.value)


def test_groups_must_divide_channels():
    spec = parse_spec('input = [8, 8, 6]\nlayers = ["conv 8 3x3 g4"]')
    with pytest.raises(ShapeError, match="groups = 4 does not divide the 6 input channels"):
        analyze(spec)


def test_batchnorm_counts_gamma_and_beta():
    spec = parse_spec('input = [8, 8, 3]\nlayers = ["conv 16 3x3 p1 nobias bn relu"]')
    rows = analyze(spec).rows
    assert rows[1].params == 3 * 3 * 3 * 16
    assert rows[2].kind == "batchnorm" and rows[2].params == 2 * 16 and rows[2].folded == ("relu",)
