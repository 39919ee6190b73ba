"""Fuzzing: random valid specs (sequential and branched) checked against invariants, and the
mutation fuzzer over the shipped specs (a few thousand cases here; scripts/fuzz.py runs more)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archcalc import analyze, parse_spec
from archcalc.dims import symbol
from archcalc.errors import ArchcalcError, ShapeError
from archcalc.spec import with_input
from test_engine import rows_add_up

SCRIPTS = Path(__file__).parent.parent / "scripts"

conv = st.builds(lambda f, k, s, d: f"conv {f} {k}x{k} s{s} p{(d * (k - 1)) // 2} d{d}",
                 st.sampled_from([4, 8, 16]), st.sampled_from([1, 3, 5]), st.integers(1, 2), st.integers(1, 2))
pool = st.builds(lambda kind, k, c: f"{kind} {k} s2 p{k // 2}" + (" ceil" if c else ""),
                 st.sampled_from(["maxpool", "avgpool"]), st.sampled_from([2, 3]), st.booleans())
pointwise = st.sampled_from(["relu", "batchnorm", "dropout 0.2", "lrn 3", "tanh"])
layer = st.one_of(conv, pool, pointwise, st.just("dwconv 3x3 p1"), st.just("sepconv 8 3x3 p1"))


def branch_table(branches):
    widths = [[line, "conv 8 1x1"] for line in branches]
    return {"concat": [[b] for b in branches]} if len(branches) > 1 else {"add": [widths[0], ["shortcut 8"]]}


entries = st.one_of(layer, st.lists(st.sampled_from(["conv 8 3x3 p1", "conv 4 1x1", "maxpool 3 s1 p1",
                                                     "conv 8 5x5 p2"]), min_size=1, max_size=3).map(branch_table))


def toml_value(value) -> str:
    """Strings, lists and inline tables, as TOML writes them."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def spec_text(size, body):
    return f"input = [{size}, {size + 5}, 3]\nlayers = {toml_value(body)}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(24, 64), body=st.lists(entries, min_size=1, max_size=6))
def test_invariants_of_random_specs(size, body):
    body = ["conv 8 3x3 p1"] + body + ["globalavgpool", "fc 10"]
    try:
        spec = parse_spec(spec_text(size, body))
        analysis = analyze(spec)
    except ShapeError:
        return  # a random stack may shrink below a kernel: a clean error is a fine outcome
    rows_add_up(analysis)
    # every shape is positive
    assert all(d >= 1 for row in analysis.rows for d in row.shape)
    # with global pooling before the classifier, the parameters do not depend on the input size
    try:
        larger = analyze(with_input(spec, (size + 32, size + 37, 3)))
    except ShapeError:
        return
    assert larger.totals.params == analysis.totals.params
    # the symbolic analysis, evaluated at this size, is the concrete analysis
    H, W = symbol("H"), symbol("W")
    symbolic = analyze(with_input(spec, (H, W, 3)))
    for sym_row, row in zip(symbolic.rows, analysis.rows):
        evaluated = tuple(d if isinstance(d, int) else int(d.subs({H: size, W: size + 5})) for d in sym_row.shape)
        assert evaluated == row.shape, row.name
    macs = symbolic.totals.macs
    assert (macs if isinstance(macs, int) else int(macs.subs({H: size, W: size + 5}))) == analysis.totals.macs


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_gives_a_result_or_an_archcalc_error(text):
    try:
        analyze(parse_spec(text))
    except ArchcalcError:
        pass


@pytest.mark.parametrize("cases", [800, pytest.param(2500, marks=pytest.mark.slow)])
def test_mutation_fuzzer_finds_no_crash_and_no_hang(cases):
    result = subprocess.run([sys.executable, str(SCRIPTS / "fuzz.py"), "--cases", str(cases), "--seed", "3"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "crashes: 0" in result.stdout and "hangs: 0" in result.stdout
