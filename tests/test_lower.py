"""The lowering to PyTorch and ONNX: PyTorch executing the network is the oracle for every number."""
import json
import runpy

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from archcalc import analyze, load_spec, parse_spec  # noqa: E402
from archcalc.cli import main  # noqa: E402
from archcalc.lower.build import build  # noqa: E402
from archcalc.lower.verify import verify  # noqa: E402
from archcalc.spec import shipped_spec_names  # noqa: E402
from test_zoo import ZOO  # noqa: E402
from sweeps import sweep


@pytest.mark.parametrize("name", sweep([name for name in shipped_spec_names() if name not in ZOO]))
def test_every_shipped_spec_agrees_with_pytorch_and_onnx(name):
    """The lecture's networks at their own size (the others: test_zoo.py, some at smaller inputs)."""
    report = verify(load_spec(name), batch=2, with_onnx=True)
    bad = [(layer.name, key, check) for layer in report.layers for key, check in layer.checks.items() if not check.ok]
    assert not bad
    assert report.onnx["ok"] and report.onnx["onnxruntime_matches_torch"]
    assert len(report.layers) == len(analyze(load_spec(name)).rows)


def test_the_verifier_can_fail(monkeypatch):
    """Break one engine rule (conv weights off by one) and the verifier must name the layer and exit 1."""
    from dataclasses import replace

    import archcalc.layers.conv as conv

    real = conv.conv_weights
    monkeypatch.setattr(conv, "conv_weights", lambda *args, **kwargs: replace(real(*args, **kwargs),
                                                                              value=real(*args, **kwargs).value + 1))
    result = CliRunner().invoke(main, ["verify", "lenet5", "--no-onnx", "-f", "json"])
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["ok"] is False
    c1 = next(layer for layer in record["layers"] if layer["name"] == "c1")
    assert c1["checks"]["weights"] == {"engine": 5 * 5 * 1 * 6 + 1, "measured": 150, "ok": False}


def test_a_wrong_shape_rule_is_caught_by_torch_and_onnx(monkeypatch):
    import archcalc.layers.spatial as spatial

    real = spatial.conv_output_size
    monkeypatch.setattr(spatial, "conv_output_size", lambda *args, **kwargs: real(*args, **kwargs) + 1)
    report = verify(load_spec("lenet5"), batch=1, with_onnx=True)
    assert not report.ok
    c1 = next(layer for layer in report.layers if layer.name == "c1")
    assert c1.checks["shape"].engine == [29, 29, 6] and c1.checks["shape"].measured == [28, 28, 6]
    f6 = next(layer for layer in report.layers if layer.name == "f6")  # built for the engine's wrong size
    assert "fails to run" in f6.checks["shape"].measured
    assert "does not run" in report.onnx["error"]


def test_onnx_shapes_are_compared_per_layer(monkeypatch):
    import archcalc.lower.verify as verify_module

    real = verify_module._onnx_shapes
    def shifted(model):
        shapes = real(model)
        return {name: ([d + 1 for d in dims] if name.startswith("/c3/") else dims) for name, dims in shapes.items()}
    monkeypatch.setattr(verify_module, "_onnx_shapes", shifted)
    report = verify(load_spec("lenet5"), batch=1, with_onnx=True)
    assert [d["name"] for d in report.onnx["shape_differences"]] == ["c3"]


layer_lines = st.one_of(
    st.builds(lambda f, k, s, p, d, g, b: f"conv {8 * g} {k}x{k} s{s} p{p} d{d} g{g}" + ("" if b else " nobias"),
              st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
              st.sampled_from([1, 2]), st.booleans()),
    st.builds(lambda kind, k, s, c: f"{kind} {k} s{s} p{k // 2}" + (" ceil" if c else ""),
              st.sampled_from(["maxpool", "avgpool"]), st.integers(1, 4), st.integers(1, 3), st.booleans()),
    st.sampled_from(["relu", "batchnorm", "lrn 3", "dropout 0.3", "tanh", "upsample 2", "zeropad 1"]),
    st.builds(lambda k, s, p, op: f"deconv 8 {k}x{k} s{s} pad={p} output_padding={min(op, s - 1)}",
              st.integers(1, 4), st.integers(1, 3), st.integers(0, 1), st.integers(0, 2)),
    st.builds(lambda k, s, m: f"dwconv {k}x{k} s{s} p{k // 2} multiplier={m}", st.integers(1, 5), st.integers(1, 2),
              st.integers(1, 2)),
    st.builds(lambda f, k, s: f"sepconv {8 * f} {k}x{k} s{s} p{k // 2}", st.integers(1, 2), st.integers(1, 5),
              st.integers(1, 2)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(16, 40), lines=st.lists(layer_lines, min_size=1, max_size=5), head=st.booleans())
def test_random_sequential_specs_agree_with_pytorch(size, lines, head):
    lines = ["conv 8 3x3 p1"] + lines + (["fc 7"] if head else [])
    text = f"input = [{size}, {size + 3}, 3]\nlayers = {json.dumps(lines)}"
    try:
        spec = parse_spec(text)
        analyze(spec)
    except Exception as error:  # a random stack may legitimately shrink below the kernel
        assert type(error).__name__ == "ShapeError"
        return
    report = verify(spec, batch=1, with_onnx=False)
    assert report.ok, [(layer.name, layer.checks) for layer in report.layers if not layer.ok]


def test_torch_source_export_builds_the_same_network(tmp_path):
    target = tmp_path / "alexnet.py"
    assert CliRunner().invoke(main, ["export", "alexnet", "--torch", str(target)]).exit_code == 0
    network = runpy.run_path(str(target))["build"]()
    assert sum(p.numel() for p in network.parameters()) == 60_965_224
    assert str(network) == str(build(load_spec("alexnet")))


def test_onnx_export_writes_a_valid_model(tmp_path):
    onnx = pytest.importorskip("onnx")
    target = tmp_path / "lenet5.onnx"
    assert CliRunner().invoke(main, ["export", "lenet5", "--onnx", str(target)]).exit_code == 0
    onnx.checker.check_model(onnx.load(str(target)))


def test_symbolic_specs_need_concrete_sizes():
    result = CliRunner().invoke(main, ["verify", "lenet5", "--input", "HxWx1", "--no-onnx"])
    assert result.exit_code == 2 and "give concrete sizes with --input" in result.stderr
    result = CliRunner().invoke(main, ["verify", "lenet5", "--input", "36x36x1", "--no-onnx"])
    assert result.exit_code == 0


def test_one_dimensional_layers_agree_with_pytorch():
    spec = parse_spec('input = [100, 12]\nlayers = ["conv1d 16 kernel=5 stride=2 pad=2 relu", '
                      '"maxpool1d 3 stride=2 ceil", "conv1d 8 kernel=3 dilation=2 groups=4", "avgpool1d 2", "fc 5"]')
    report = verify(spec, batch=1, with_onnx=True)
    assert report.ok, [(layer.name, layer.checks) for layer in report.layers if not layer.ok]
