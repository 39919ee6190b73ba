"""The Python API: the same numbers as the command line, as a DataFrame and in notebook reprs."""
import archcalc


def test_analyze_by_name_with_an_input_size():
    result = archcalc.analyze("vgg16", input="32x32x3")
    assert result.rows[-1].shape == (1000,)
    assert result.rows[1].shape == (32, 32, 64)
    # the fc6 input is 1x1x512 at 32x32 (five 2x2 pools): 512*4096 weights
    assert {row.name: row for row in result.rows}["fc6"].weights == 512 * 4096


def test_to_frame_has_the_exact_values():
    frame = archcalc.analyze("vgg16").to_frame()
    assert list(frame["name"][:2]) == ["input", "conv1_1"]
    assert frame["params"].sum() == 138_357_544
    assert frame.loc[1, "macs"] == 224 * 224 * 64 * 27


def test_notebook_reprs():
    result = archcalc.analyze("lenet5")
    assert "<table" in result._repr_html_() and "61,706" in result._repr_html_()
    assert result._repr_markdown_().startswith("**LeNet-5")


def test_compare_by_name():
    matrix = archcalc.compare(["alexnet", "resnet152"])
    frame = matrix.to_frame()
    assert frame.loc["layers", "alexnet"] == 8 and frame.loc["layers", "resnet152"] == 152
    assert "<table" in matrix._repr_html_()
