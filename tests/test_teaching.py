"""Homework and exam questions from public course material, each with its source, answered by
archcalc: single layers, short stacks, receptive fields, inverse questions, and answer checking."""
import math

import pytest
from click.testing import CliRunner

from archcalc import analyze, load_spec
from archcalc.marking import check_answers, parse_number, read_answers
from archcalc.cli import main
from archcalc.errors import ShapeError
from archcalc.report.explain import explain
from archcalc.inverse import input_sizes, solve_window
from archcalc.spec import quick_spec


def rows(input_shape, layers):
    return analyze(quick_spec(input_shape, layers)).rows


# --- CS231n (Stanford), "Convolutional Neural Networks for Visual Recognition", lecture 5 and notes


def test_cs231n_ten_5x5_filters_stride_1_pad_2():
    # "Input volume: 32x32x3, 10 5x5 filters with stride 1, pad 2. Output volume size: (32+2*2-5)/1+1 = 32
    # spatially, so 32x32x10. Number of parameters: each filter has 5*5*3 + 1 = 76 params => 76*10 = 760"
    conv = rows("32x32x3", "conv 10 5x5 s1 p2")[1]
    assert conv.shape == (32, 32, 10) and conv.params == 760


def test_cs231n_7x7_input_3x3_filter():
    # "7x7 input (spatially), 3x3 filter: stride 1 => 5x5 output; stride 2 => 3x3; stride 3? doesn't fit"
    assert rows("7x7x1", "conv 1 3x3 s1")[1].shape[:2] == (5, 5)
    assert rows("7x7x1", "conv 1 3x3 s2")[1].shape[:2] == (3, 3)
    with pytest.raises(ShapeError, match=r"\(7 - 3 \+ 2\*0\)/3 \+ 1 = 2.33"):
        analyze(quick_spec("7x7x1", "conv 1 3x3 s3"), strict=True)


def test_cs231n_alexnet_conv1_without_parameter_sharing():
    # notes: "there are 55*55*96 = 290,400 neurons in the first Conv Layer, and each has 11*11*3 = 363
    # weights and 1 bias. Together, this adds up to 290400 * 364 = 105,705,600 parameters ...
    # With parameter sharing ... 96*11*11*3 = 34,848 unique weights, or 34,944 parameters (+96 biases)"
    conv = rows("227x227x3", "conv 96 11x11 s4")[1]
    assert conv.memory * (363 + 1) == 105_705_600
    assert (conv.weights, conv.params) == (34_848, 34_944)


@pytest.mark.parametrize("kernel, pad", [(3, 1), (5, 2), (7, 3)])
def test_cs231n_zero_padding_that_preserves_size(kernel, pad):
    # "common to see CONV layers with stride 1, filters of size FxF, and zero-padding with (F-1)/2"
    solutions = solve_window(224, "same", kernel=kernel, stride=1)
    assert [(s.pad, s.exact) for s in solutions] == [(pad, True)]


def test_cs231n_pooling_and_the_vgg_memory_slide():
    pool = rows("224x224x64", "maxpool 2 s2")[1]  # "224x224x64 -> pool -> 112x112x64"
    assert pool.shape == (112, 112, 64) and pool.params == 0


# --- Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016)


@pytest.mark.parametrize("size, kernel, stride, pad, dilation, expected", [
    (4, 3, 1, 0, 1, 2),  # relationship 1: no padding, unit strides
    (5, 4, 1, 2, 1, 6),  # relationship 2: arbitrary padding (Figure 2.2)
    (5, 3, 1, 1, 1, 5),  # relationship 3: half (same) padding
    (5, 3, 1, 2, 1, 7),  # relationship 4: full padding
    (5, 3, 2, 0, 1, 2),  # relationship 5: no padding, non-unit strides
    (5, 3, 2, 1, 1, 3),  # relationship 6: padding and strides (Figure 2.6)
    (6, 3, 2, 1, 1, 3),  # relationship 6, the floor case (Figure 2.7)
    (7, 3, 1, 0, 2, 3),  # relationship 15: dilated convolution (Figure 5.1)
])
def test_convolution_arithmetic_guide(size, kernel, stride, pad, dilation, expected):
    layer = f"conv 1 {kernel}x{kernel} s{stride} p{pad} d{dilation}"
    assert rows(f"{size}x{size}x1", layer)[1].shape[0] == expected


@pytest.mark.parametrize("size, kernel, stride, pad, extra, expected", [
    (2, 3, 1, 0, 0, 4),  # relationship 8: the transpose of (i=4, k=3, s=1, p=0)
    (6, 4, 1, 2, 0, 5),  # relationship 9: the transpose of (i=5, k=4, s=1, p=2)
    (2, 3, 2, 0, 0, 5),  # relationship 12: the transpose of (i=5, k=3, s=2, p=0)
    (3, 3, 2, 1, 1, 6),  # relationship 14: the transpose of (i=6, k=3, s=2, p=1), output padding a=1
])
def test_transposed_convolution_arithmetic(size, kernel, stride, pad, extra, expected):
    layer = f"deconv 1 {kernel}x{kernel} s{stride} pad={pad} output_padding={extra}"
    assert rows(f"{size}x{size}x1", layer)[1].shape[0] == expected


# --- receptive fields


def test_three_stacked_3x3_convs_see_7x7():
    # Simonyan & Zisserman 2014, Section 2.3: "a stack of three 3x3 conv. layers ... effective receptive
    # field of 7x7"; two of them 5x5
    stack = rows("32x32x3", "conv 8 3x3 p1; conv 8 3x3 p1; conv 8 3x3 p1")
    assert [row.rf[0].size for row in stack[1:]] == [3, 5, 7]
    assert all(row.rf[0].jump == 1 for row in stack)


@pytest.mark.parametrize("name, layer, size", [
    # Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019,
    # Table 1 (alexnet_v2 has AlexNet's kernels and strides; resnet_v1 strides in the first 1x1)
    ("alexnet", "pool5", 195), ("vgg16", "pool5", 212), ("resnet50", "conv5_3/add", 483),
    ("resnet101", "conv5_3/add", 1027), ("resnet152", "conv5_3/add", 1507),
])
def test_published_receptive_fields(name, layer, size):
    row = {row.name: row for row in analyze(load_spec(name)).rows}[layer]
    assert row.rf[0].size == size and row.rf[1].size == size


def test_receptive_field_by_hand_with_stride_and_dilation():
    # conv 3x3 s2 p1: r = 1 + 2*1 = 3, j = 2; dilated 3x3 (D = 2, F_eff = 5): r = 3 + 4*2 = 11, j = 2
    stack = rows("64x64x1", "conv 4 3x3 s2 p1; conv 4 3x3 d2 p2")
    assert (stack[1].rf[0].size, stack[1].rf[0].jump) == (3, 2)
    assert (stack[2].rf[0].size, stack[2].rf[0].jump) == (11, 2)
    assert stack[2].rf[0].start == stack[1].rf[0].start == 0.5  # centred: (F_eff - 1)/2 = P


def test_misaligned_branches_are_warned():
    from archcalc.spec import parse_spec

    # a valid 3x3 conv then 1 pixel of padding on each side is centred like a padded conv: aligned
    aligned = 'input = [32, 32, 8]\nlayers = [{ concat = [["conv 8 3x3 p1"], ["conv 8 3x3 p0", "zeropad 1"]] }]'
    assert not analyze(parse_spec(aligned)).warnings
    # padding only at the end shifts the second branch's grid by one pixel
    shifted = ('input = [32, 32, 8]\nlayers = [{ concat = [["conv 8 3x3 p1"], '
               '["conv 8 3x3 p0", { kind = "zeropad", pad = [0, 2, 0, 2] }]] }]')
    warnings = analyze(parse_spec(shifted)).warnings
    assert any("misaligned along the rows and columns" in warning and "start 1.5" in warning for warning in warnings)


# --- depthwise separable convolution (Howard et al. 2017, MobileNets, Section 3.1)


def test_mobilenet_cost_ratio():
    # standard: Dk*Dk*M*N*Df*Df; separable: Dk*Dk*M*Df*Df + M*N*Df*Df; ratio 1/N + 1/Dk^2
    dk, m, n, df = 3, 512, 512, 14
    standard, separable = rows(f"{df}x{df}x{m}", f"conv {n} 3x3 p1 nobias")[1], rows(
        f"{df}x{df}x{m}", f"sepconv {n} 3x3 p1 nobias")[1]
    assert standard.macs == dk * dk * m * n * df * df
    assert separable.macs == dk * dk * m * df * df + m * n * df * df
    assert math.isclose(separable.macs / standard.macs, 1 / n + 1 / dk ** 2)
    depthwise = rows(f"{df}x{df}x{m}", "dwconv 3x3 p1 nobias")[1]
    assert depthwise.weights == dk * dk * m and depthwise.shape == (df, df, m)


def test_grouped_conv_alexnet_conv2():
    # Krizhevsky et al. 2012: conv2 has 256 kernels of 5x5x48 (each GPU sees half of conv1's 96 maps)
    conv2 = {row.name: row for row in analyze(load_spec("alexnet")).rows}["conv2"]
    assert conv2.weights == 256 * 5 * 5 * 48


# --- worked derivations


def test_explain_matches_the_lecture_notation():
    analysis = analyze(load_spec("alexnet_simplified"))
    text = explain(analysis, ["conv1"])[0].summary
    assert text.startswith("conv1: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96")
    assert "weights (11*11*3)*96 = 34,848, biases 96, params 34,944" in text
    assert "memory 55*55*96 = 290,400" in text and "MACs 290,400 * 363 = 105,415,200" in text


def test_explain_a_non_integer_case_says_what_frameworks_do():
    text = "\n".join(e.text() for e in explain(analyze(load_spec("alexnet_torchvision")), ["conv1"]))
    assert "55.25" in text and "floor to 55" in text and "Caffe's pooling" in text


def test_explain_working_is_computed_with_the_value():
    """A symbolic channel count used to drop the per-output cost from the working (``1,568 *  = 4704*C``):
    98 outputs x 16 filters, each a dot product over 3*C inputs."""
    text = explain(analyze(quick_spec("100xC", "conv1d 16 kernel=3")))[1].summary
    assert "MACs 1,568 * 3*C = 4704*C" in text and "weights (3*C)*16 = 48*C" in text


def test_explain_cli_with_a_quick_question():
    result = CliRunner().invoke(main, ["explain", "--input", "32x32x3", "--layers", "conv 10 5x5 s1 p2"])
    assert result.exit_code == 0 and "(32 - 5 + 2*2)/1 + 1 = 32 -> 32x32x10" in result.output


# --- sizes and solve


def test_alexnet_input_sizes():
    # 227 is the size the lecture uses; the sizes that divide everywhere repeat every 4*2*2*2 = 32
    sizes = input_sizes(load_spec("alexnet"), 400)
    assert 227 in sizes.exact and 224 not in sizes.exact
    assert sizes.period == 4 * 2 * 2 * 2 and sizes.exact[0] == 227 - 5 * 32


def test_solve_says_when_there_is_no_solution():
    assert solve_window(10, 4, kernel=3, stride=1, pad=0) == []
    strides = solve_window(224, 112, kernel=3, pad=1)
    assert any(s.stride == 2 and not s.exact for s in strides)  # (224 - 3 + 2)/2 + 1 = 112.5 -> 112


# --- answer checking


def test_number_parsing_accepts_rounded_answers_at_their_precision():
    assert parse_number("3.2M").accepts(3_211_264)  # the VGG slide's "3.2M"
    assert parse_number("150K").accepts(150_528)
    assert not parse_number("3.21M").accepts(3_200_000)
    assert parse_number("290,400").accepts(290_400) and not parse_number("290,400").accepts(290_401)
    assert parse_number("1.5K", kilo=1024).accepts(1_536)


def test_check_marks_a_filled_sheet(tmp_path):
    sheet = tmp_path / "student.csv"
    sheet.write_text("name,output,memory,params\n"
                     "conv1_1,224x224x64,3.2M,\"1,728\"\n"  # the slide's numbers: params without bias
                     "pool1,[112 x 112 x 64],800K,0\n"
                     "conv2_1,112x112x128,1.6M,70000\n")
    result = CliRunner().invoke(main, ["check", "vgg16", str(sheet), "--no-bias"])
    assert result.exit_code == 1
    assert "WRONG conv2_1 params: you wrote 70000, expected 73,728" in result.output
    # VGG16 has 21 rows after the input, 3 questions each (output, memory, params): 9 answered, 8 right
    assert "score 8/63 right (12.7%): 0 follow-through, 1 wrong, 54 unanswered" in result.output


def test_worksheet_round_trip(tmp_path):
    assert CliRunner().invoke(main, ["worksheet", "lenet5", "-o", str(tmp_path)]).exit_code == 0
    key = tmp_path / "lenet5_answers.csv"
    blank = (tmp_path / "lenet5_worksheet.csv").read_text().splitlines()
    assert blank[2].startswith("c1,") and ",,," in blank[2]  # output, memory, params left blank
    analysis = analyze(load_spec("lenet5"))
    assert check_answers(analysis, read_answers(key.read_text(), str(key))).ok  # the key passes


def test_check_diagnoses_where_an_answer_diverges(tmp_path):
    sheet = tmp_path / "s.toml"
    sheet.write_text('[[answers]]\nname = "pool2"\noutput = "14x14x256"\nmemory = "50,176"\n')
    analysis = analyze(load_spec("alexnet_simplified"))
    marks = {(m.row, m.column): m for m in check_answers(analysis, read_answers(sheet.read_text(), str(sheet))).marks}
    # 14*14*256 = 50,176: right for the student's own (wrong) output, so follow-through, not a new error
    assert marks["pool2", "output"].state == "wrong"
    assert marks["pool2", "memory"].state == "follow-through"
    assert "follows from your output 14x14x256" in marks["pool2", "memory"].feedback


# --- conventions


def test_caffe_pooling_convention():
    result = CliRunner().invoke(main, ["table", "--input", "112x112x64", "--layers", "maxpool 3 s2", "--caffe-pooling"])
    assert "[56x56x64]" in result.output  # ceil((112 - 3)/2) + 1 = 56; PyTorch's floor gives 55


def test_keras_counts_batch_norm_statistics_and_its_conv_biases():
    # Keras' ResNet50 summary: "Total params: 25,636,712", "Non-trainable params: 53,120" (the moving
    # mean and variance of every BN); its convs keep their biases: one per BN channel, 53,120 / 2
    from archcalc.counting import apply

    for name in ("resnet50_torchvision", "resnet50"):
        analysis = analyze(load_spec(name))
        assert apply(analysis, "keras").params == 25_636_712
        assert apply(analysis, "keras").params - analysis.totals.params == 53_120 + 53_120 // 2


def test_table_shows_a_convention():
    result = CliRunner().invoke(main, ["table", "googlenet", "--convention", "paper-k1024"])
    assert "AS PAPER-K1024 COUNTS: params 6.67M (6,990,272)" in result.output


def test_dilation_numbered_from_zero():
    # some courses write an ordinary conv as dilation 0 and a 3x3 with one gap as dilation 1
    # (effective kernel F + (F-1)*D = 5): 32 - 5 + 1 = 28
    result = CliRunner().invoke(main, ["table", "--input", "32x32x1", "--layers", "conv 1 3x3 d1; conv 1 3x3 d0",
                                       "--dilation-from-zero", "-f", "csv"])
    assert "28x28x1" in result.output and "26x26x1" in result.output
    refused = CliRunner().invoke(main, ["table", "--input", "32x32x1", "--layers", "conv 1 3x3 d0"])
    assert refused.exit_code == 2 and "--dilation-from-zero" in refused.stderr
    plain = CliRunner().invoke(main, ["table", "--input", "32x32x1", "--layers", "conv 1 3x3 d1", "-f", "csv"])
    assert "30x30x1" in plain.output  # PyTorch's d1 is an ordinary conv


def test_explain_formats():
    result = CliRunner().invoke(main, ["explain", "alexnet_simplified", "conv1", "-f", "json"])
    import json

    assert json.loads(result.output)[0]["layer"] == "conv1"
    markdown = CliRunner().invoke(main, ["explain", "alexnet_simplified", "conv1", "-f", "markdown"]).output
    # one quantity per line, each under its name: (227 - 11)/4 + 1 = 55, 11*11*3*96 weights
    lines = markdown.splitlines()
    assert lines[0] == "- **conv1** (CONV11-96 s4 + relu)"
    assert lines[1].startswith("  - output: (227 - 11 + 2*0)/4 + 1 = 55 -> 55x55x96")
    assert "  - parameters: weights (11*11*3)*96 = 34,848, biases 96, params 34,944" in lines
    assert "  - MACs: 290,400 * 363 = 105,415,200" in lines


def test_mobilenet_v1():
    # Howard et al. 2017: Table 2, 569 million mult-adds and 4.2 million parameters; Section 3.2,
    # "MobileNet has 28 layers" (depthwise and pointwise counted separately); Keras' MobileNet
    # summary: 4,231,976 trainable parameters, 4,253,864 in all (with the batch-norm statistics)
    from archcalc.counting import apply

    analysis = analyze(load_spec("mobilenet_v1"))
    assert round(analysis.totals.macs / 1e6) == 569
    assert round(analysis.totals.params / 1e6, 1) == 4.2
    assert analysis.totals.params == 4_231_976
    assert apply(analysis, "keras").params == 4_253_864
    assert analysis.depth == 28 and not analysis.warnings  # TF "same" padding: every stride divides
