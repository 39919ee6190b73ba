"""The pure formulas against hand arithmetic, and against PyTorch over random sizes."""
import pytest
from hypothesis import given, settings, strategies as st

from archcalc.formulas import (conv_macs, conv_output_size, conv_weights, effective_kernel, linear_weights,
                               pool_output_size_ceil, same_padding, transposed_conv_output_size, unused_inputs)


def test_lecture_examples():
    assert conv_output_size(227, 11, stride=4) == 55  # (227 - 11)/4 + 1
    assert conv_output_size(55, 3, stride=2) == 27  # (55 - 3)/2 + 1
    assert conv_output_size(27, 5, pad_total=4) == 27  # (27 - 5 + 2*2)/1 + 1
    assert conv_output_size(13, 3, stride=2) == 6  # (13 - 3)/2 + 1
    assert conv_output_size(32, 5, pad_total=4) == 32  # CS231n: 32x32 input, 5x5, pad 2 keeps 32
    assert conv_output_size(7, 3, stride=3) == 2  # CS231n: 7x7 input, 3x3 stride 3 -> (7-3)/3+1 = 2.33, floor 2


def test_floor_and_what_it_drops():
    assert conv_output_size(224, 11, stride=4) == 54  # (224 - 11)/4 + 1 = 54.25
    assert unused_inputs(224, 11, 4) == 1  # 213 = 4*53 + 1
    assert unused_inputs(227, 11, 4) == 0


def test_dilation():
    assert effective_kernel(3, 2) == 5  # 2*(3-1) + 1
    assert conv_output_size(32, 3, dilation=2) == 28  # (32 - 5)/1 + 1


def test_ceil_mode_drops_a_window_starting_in_padding():
    assert pool_output_size_ceil(112, 3, 2) == 56  # ceil(109/2) + 1 = 56
    assert pool_output_size_ceil(13, 3, 2) == 6  # (13 - 3)/2 + 1 = 6 exactly
    # 5 wide, kernel 2, stride 2, pad 1: ceil((5+2-2)/2)+1 = 4, but window 4 would start at 6 >= 5+1: 3
    assert pool_output_size_ceil(5, 2, 2, pad_begin=1, pad_total=2) == 3


def test_same_padding_tensorflow_rule():
    assert same_padding(224, 3) == (1, 1)
    assert same_padding(224, 7, 2) == (2, 3)  # out 112: (112-1)*2 + 7 - 224 = 5 -> 2 before, 3 after
    assert same_padding(5, 1, 2) == (0, 0)


def test_transposed_conv():
    assert transposed_conv_output_size(7, 4, stride=2, pad_total=2) == 14  # (7-1)*2 - 2 + 3 + 0 + 1
    assert transposed_conv_output_size(7, 3, stride=2, pad_total=2, output_padding=1) == 14


def test_parameters_and_macs():
    assert conv_weights(3, 3, 3, 64).value == 1_728  # the slide: (3*3*3)*64
    assert conv_weights(3, 3, 512, 512).value == 2_359_296
    assert conv_weights(5, 5, 96, 256, groups=2).value == 5 * 5 * 48 * 256
    assert linear_weights((7, 7, 512), 4096).value == 102_760_448
    assert conv_macs(55, 55, 96, 11, 11, 3).value == 105_415_200  # 290,400 outputs * 363


def test_each_cost_comes_with_its_working():
    """The working is made by the function that makes the value, in the lecture's notation."""
    assert str(conv_weights(3, 3, 3, 64)) == "(3*3*3)*64 = 1,728"
    assert str(conv_weights(5, 5, 96, 256, groups=2)) == "(5*5*96/2)*256 = 307,200"
    assert str(conv_macs(55, 55, 96, 11, 11, 3)) == "290,400 * 363 = 105,415,200"
    assert str(linear_weights((6, 6, 256), 4096)) == "6*6*256*4096 = 37,748,736"


def test_symbolic_working_keeps_its_parentheses():
    """A sum inside a product is parenthesised: (H - 2)*(W - 2)*16, not H - 2*W - 2*16."""
    from archcalc.dims import parse_dim
    from archcalc.working import times

    height, width = parse_dim("H - 2"), parse_dim("W - 2")
    assert times(height, width, 16).text == "(H - 2)*(W - 2)*16"
    assert times(8, parse_dim("3*C"), spaced=True).text == "8 * 3*C"  # a product needs none


torch = pytest.importorskip("torch")


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 64), kernel=st.integers(1, 7), stride=st.integers(1, 4), pad=st.integers(0, 3),
       dilation=st.integers(1, 3))
def test_conv_output_size_matches_pytorch(size, kernel, stride, pad, dilation):
    padded = size + 2 * pad
    if padded < effective_kernel(kernel, dilation):
        return
    x = torch.empty(1, 1, size, size, device="meta")
    w = torch.empty(1, 1, kernel, kernel, device="meta")
    out = torch.nn.functional.conv2d(x, w, stride=stride, padding=pad, dilation=dilation)
    assert out.shape[-1] == conv_output_size(size, kernel, stride, 2 * pad, dilation)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 64), kernel=st.integers(1, 7), stride=st.integers(1, 4), pad=st.integers(0, 3),
       dilation=st.integers(1, 3), ceil=st.booleans())
def test_maxpool_output_size_matches_pytorch(size, kernel, stride, pad, dilation, ceil):
    if 2 * pad > kernel or size + 2 * pad < effective_kernel(kernel, dilation):
        return
    x = torch.empty(1, 1, size, size, device="meta")
    out = torch.nn.functional.max_pool2d(x, kernel, stride, pad, dilation, ceil_mode=ceil)
    expected = (pool_output_size_ceil(size, kernel, stride, pad, 2 * pad, dilation) if ceil
                else conv_output_size(size, kernel, stride, 2 * pad, dilation))
    assert out.shape[-1] == expected
