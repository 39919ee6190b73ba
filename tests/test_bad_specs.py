"""The corpus of broken specs and command lines: every one exits 2 with a clear message that names
the file, the layer and the field where they apply, and never shows a traceback."""
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

CORPUS = Path(__file__).parent / "bad_specs"
SPECS = sorted(CORPUS.glob("*.toml"))


def header(path: Path, key: str) -> str:
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    return ""


def test_the_corpus_is_large_enough():
    assert len(SPECS) >= 60


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_bad_spec(path):
    args = shlex.split(header(path, "args"))
    result = CliRunner().invoke(main, ["table", str(path), *args])
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert message.startswith("error: ") and "Traceback" not in message and result.stdout == ""
    assert str(path) in message  # the file is named
    for fragment in header(path, "expect").split(" | "):
        assert fragment in message, (fragment, message)


COMMANDS = [line for line in (CORPUS / "commands.txt").read_text().splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("line", COMMANDS)
def test_bad_command_line(line):
    args, *fragments = [part.strip() for part in line.split(" | ")]
    result = CliRunner().invoke(main, shlex.split(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def test_debug_shows_the_traceback():
    result = CliRunner().invoke(main, ["--debug", "table", "no_such_net"])
    assert result.exit_code != 0 and result.exception is not None
