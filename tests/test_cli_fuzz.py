"""The CLI-wide fuzzer (scripts/fuzz_cli.py): every command and option with generated bad values
exits 0, 1 or 2, never with a traceback, and a failed command leaves no file behind. 400 cases in
every run, 1,500 in the slow sweep; the script runs more."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent.parent / "scripts"


@pytest.mark.parametrize("cases", [400, pytest.param(1500, marks=pytest.mark.slow)])
def test_cli_fuzzer(cases):
    seed = "7" if cases == 1500 else "11"
    result = subprocess.run([sys.executable, str(SCRIPTS / "fuzz_cli.py"), "--cases", str(cases), "--seed", seed,
                             "--quick"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{cases} cases" in result.stdout and "0 failures" in result.stdout


def test_the_fuzzer_can_fail(tmp_path, monkeypatch):
    """A command that raises an unexpected exception is caught as a failure."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import fuzz_cli
    finally:
        sys.path.remove(str(SCRIPTS))
    import archcalc.api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(archcalc.api, "conventions", broken)
    verdict, code, _, _ = fuzz_cli.run_case(["conventions", "lenet5"])
    assert verdict.startswith("exception ZeroDivisionError")


# --- resource limits for every command, not only the parser


def flat_network(layers: int) -> str:
    body = ", ".join(['"conv 16 3x3 p1"', '"batchnorm"'] * (layers // 2))
    return f"input = [32, 32, 16]\nlayers = [{body}]\n"


def test_a_plot_of_ten_thousand_layers_draws_a_bounded_number_of_bars():
    from archcalc import analyze, parse_spec
    from archcalc.report.plots import MAX_DRAWN, plottable_rows

    bars = plottable_rows(analyze(parse_spec(flat_network(10_000))))
    # 10,000 rows (conv and batch norm alternate) in 200 bars: 50 rows, 25 convs and 25 batch norms, a bar
    assert len(bars) == MAX_DRAWN == 200 and bars[0].name == "conv1 - batchnorm25"
    assert sum(bar.params for bar in bars) == 5_000 * (3 * 3 * 16 * 16 + 16 + 2 * 16)  # conv + bn, by hand


def test_onnx_stops_at_a_named_limit(tmp_path):
    from click.testing import CliRunner

    from archcalc.cli import main

    spec = tmp_path / "flat.toml"
    spec.write_text(flat_network(10_000))
    for args in (["verify", str(spec)], ["export", str(spec), "--onnx", str(tmp_path / "x.onnx")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "ONNX export is limited to 5,000 layers" in result.stderr
        assert "ARCHCALC_MAX_ONNX_LAYERS" in result.stderr and not (tmp_path / "x.onnx").exists()
