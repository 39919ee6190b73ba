"""Custom kinds as plugins: the worked example of docs/kinds.md, installed as its page says (a module
and an entry point in the group archcalc.kinds), works in every command; so does a kind registered
in-process; a broken plugin or a missing capability is a clear error."""
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "kinds.md"
QUESTION = ["--input", "16x16x3", "--layers", "conv 12 3x3 p1 relu; pixelshuffle 2; conv 3 3x3 p1"]
SPEC = '''input = [16, 16, 3]
layers = ["conv 12 3x3 p1 relu", "up: pixelshuffle 2", "conv 3 3x3 p1", "globalavgpool", "fc 10"]
[model]
name = "superres"
'''


def doc_block(language: str) -> str:
    """The first fenced block of ``language`` on the docs page: the code as a reader copies it."""
    return re.search(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)


def install(site: Path, module: str, entry_points: dict[str, str], name: str = "archcalc_pixelshuffle") -> Path:
    """A module and its distribution's metadata on a path of its own, as pip would leave them."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(module, encoding="utf-8")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[archcalc.kinds]\n{lines}")
    return site


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The page's module, and the page's entry point, installed on their own path."""
    declared = tomllib.loads(doc_block("toml"))["project"]["entry-points"]["archcalc.kinds"]
    return install(tmp_path_factory.mktemp("site"), doc_block("python"), declared)


def archcalc(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "archcalc", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=300)


def test_layers_lists_the_plugin(plugin):
    result = archcalc(plugin, "layers")
    assert result.returncode == 0 and re.search(r"^pixelshuffle +sub-pixel", result.stdout, re.M)
    assert "factor: r, the upscaling factor (required)" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "csv", "json", "grid"])
def test_table_in_every_format(plugin, fmt):
    result = archcalc(plugin, "table", *QUESTION, "-f", fmt, "--rf")
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        row = json.loads(result.stdout)["layers"][2]
        # 16x16x12 -> 32x32x3 by hand; no parameters, no MACs; each output sees one input pixel
        assert (row["kind"], row["shape"], row["params"], row["macs"]) == ("pixelshuffle", [32, 32, 3], 0, 0)
        assert row["receptive_field"][0]["size"] == 3 and row["receptive_field"][0]["jump"] == 0.5
    else:
        assert "PIXELSHUFFLE x2" in result.stdout


def test_symbolic_sizes_and_explain(plugin):
    result = archcalc(plugin, "table", "--input", "HxWx12", "--layers", "pixelshuffle 2", "-f", "json")
    assert json.loads(result.stdout)["layers"][1]["shape"] == ["2*H", "2*W", 3]
    result = archcalc(plugin, "explain", *QUESTION, "pixelshuffle1")
    assert result.returncode == 0
    assert "output: 16*2 = 32 and 12/2^2 = 3 channels -> 32x32x3\n  parameters: no parameters" in result.stdout


def test_a_wrong_channel_count_names_the_field(plugin):
    result = archcalc(plugin, "table", "--input", "8x8x10", "--layers", "pixelshuffle 2")
    assert result.returncode == 2 and "field 'factor'" in result.stderr
    assert "10 channels are not a multiple of r^2 = 4" in result.stderr and "Traceback" not in result.stderr


def test_compare_conventions_worksheet_check(plugin, tmp_path):
    spec = tmp_path / "superres.toml"
    spec.write_text(SPEC)
    assert archcalc(plugin, "compare", str(spec), "vgg11").returncode == 0
    conventions = json.loads(archcalc(plugin, "conventions", str(spec), "-f", "json").stdout)
    # conv 3*3*3*12 + 12 = 336, conv 3*3*3*3 + 3 = 84, fc 3*10 + 10 = 40: 460 params in every convention with biases
    assert {row["convention"]: row["params"] for row in conventions}["fvcore"] == 336 + 84 + 40
    assert archcalc(plugin, "worksheet", str(spec), "-o", str(tmp_path / "ws")).returncode == 0
    key = tmp_path / "ws" / "superres_answers.csv"
    assert "up,PIXELSHUFFLE x2,32x32x3" in key.read_text()
    assert archcalc(plugin, "check", str(spec), str(key)).returncode == 0


def test_verify_and_export_run_the_plugin_in_pytorch(plugin, tmp_path):
    pytest.importorskip("torch")
    spec = tmp_path / "superres.toml"
    spec.write_text(SPEC)
    result = archcalc(plugin, "verify", str(spec), "-f", "json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    report = json.loads(result.stdout)
    up = next(layer for layer in report["layers"] if layer["name"] == "up")
    assert up["checks"]["shape"] == {"engine": [32, 32, 3], "measured": [32, 32, 3], "ok": True}
    assert report["onnx"]["ok"]
    written = archcalc(plugin, "export", str(spec), "--torch", str(tmp_path / "net.py"), "--onnx",
                       str(tmp_path / "net.onnx"))
    assert written.returncode == 0 and (tmp_path / "net.onnx").stat().st_size > 0
    assert "nn.PixelShuffle(upscale_factor=2)" in (tmp_path / "net.py").read_text()


def test_memory_of_the_plugin_is_what_pytorch_holds(plugin, tmp_path):
    """The default rules (a kind holds its output at inference) are the plugin's: measured equal."""
    pytest.importorskip("torch")
    spec = tmp_path / "superres.toml"
    spec.write_text(SPEC)
    result = archcalc(plugin, "memory", str(spec), "--train", "--measure", "-f", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["measured"]["inference_peak_bytes"] == document["inference"]["peak_bytes"]
    assert document["measured"]["saved_bytes"] == document["training"]["saved_bytes"]


def test_plot_and_handout(plugin, tmp_path):
    pytest.importorskip("matplotlib")
    spec = tmp_path / "superres.toml"
    spec.write_text(SPEC)
    assert archcalc(plugin, "plot", str(spec), "-o", str(tmp_path / "p.svg")).returncode == 0
    result = archcalc(plugin, "handout", str(spec), "-o", str(tmp_path / "h"))
    assert result.returncode == 0 and "PIXELSHUFFLE x2" in (tmp_path / "h" / "handout.md").read_text()


def test_registered_in_process(monkeypatch, tmp_path):
    """``archcalc.layers.register`` without packaging, as the page shows."""
    import archcalc
    from archcalc.layers import KINDS, register

    monkeypatch.setattr(KINDS, "_kinds", dict(KINDS._kinds))  # leave the registry as it was
    namespace: dict = {}
    exec(compile(doc_block("python"), "archcalc_pixelshuffle.py", "exec"), namespace)  # the page's own code
    register(namespace["PixelShuffle"])
    assert archcalc.analyze(input="16x16x12", layers="pixelshuffle 2").rows[1].shape == (32, 32, 3)


def test_a_kind_without_a_lowering_says_so(tmp_path):
    module = ('from archcalc.layers import LayerKind, Step\n'
              'class Twice(LayerKind):\n'
              '    name = "twice"\n'
              '    summary = "doubles the channels (no lowering)"\n'
              '    def infer(self, layer, x):\n'
              '        return Step(shape=x[:-1] + (2 * x[-1],))\n')
    site = install(tmp_path / "site", module, {"twice": "archcalc_twice:Twice"}, "archcalc_twice")
    assert archcalc(site, "table", "--input", "4x4x3", "--layers", "twice").returncode == 0
    result = archcalc(site, "verify", "--input", "4x4x3", "--layers", "twice", "--no-onnx")
    assert result.returncode == 2 and "'twice' has no PyTorch lowering" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_plugin_is_named(tmp_path):
    site = install(tmp_path / "site", "raise RuntimeError('half installed')\n",
                   {"broken": "archcalc_broken:Broken"}, "archcalc_broken")
    result = archcalc(site, "table", "--input", "4x4x3", "--layers", "brokenkind")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "archcalc_broken:Broken" in result.stderr and "half installed" in result.stderr
    assert archcalc(site, "table", "vgg16").returncode == 0  # built-in kinds never load plugins
