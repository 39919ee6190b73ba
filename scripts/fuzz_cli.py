"""CLI-wide fuzzer: every command, every option, given bad values; every outcome must be exit 0 or
1 (where the input is valid) or 2 with a message, never a traceback, and a failed command leaves
no file behind.

    python scripts/fuzz_cli.py --cases 20000 [--seed 1] [--quick] [--timeout 60] [--verbose]

Each case starts from a valid command line (a small network) and replaces one or two of its
options or arguments with a generated value: missing and unwritable paths, folders where files are
expected, empty, binary and malformed files, huge, negative and zero numbers, symbolic and 2-D
sizes, unknown formats and choices, unicode and control characters, conflicting options. Cases run
in-process through click's test runner, each in a fresh folder. Prints the counts by exit code and
command, the slowest case, and every failure; exits 1 on any failure. ``--quick`` draws the slow
commands (plot, handout, verify, export, PDF printing) less often, as the test suite does.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from archcalc.cli import main  # noqa: E402

# A valid command line per command, on small networks; {sheet} is a filled answer sheet.
BASE = {
    "table": ["table", "lenet5"], "list": ["list"], "layers": ["layers"],
    "compare": ["compare", "lenet5", "alexnet"], "explain": ["explain", "lenet5", "c1"],
    "sizes": ["sizes", "lenet5", "--max", "40"], "solve": ["solve", "--size", "32", "--target", "16"],
    "worksheet": ["worksheet", "lenet5", "-o", "ws"], "check": ["check", "lenet5", "{sheet}"],
    "conventions": ["conventions", "lenet5"], "memory": ["memory", "lenet5"],
    "plot": ["plot", "lenet5", "-o", "p.png"], "handout": ["handout", "lenet5", "-o", "h"],
    "verify": ["verify", "lenet5", "--no-onnx"], "export": ["export", "lenet5", "--torch", "m.py"],
    "import": ["import", "{onnx}"],
}
SLOW = {"plot", "handout", "verify", "export"}
TEXT = ["", "HxWx3", "0x0x0", "224x224", "9999999x9999999x3", "32x32x3", "conv 4 3x3", ";;;", "conv 4 99x99",
        "\x00", "\x1b[31m", "é ü 中", "x" * 3000, "../..", "lenet5,nope", "-1", "1e400", "nan", "output,banana",
        "lenet5", "--help", "24GiB", "same", "{{", "$(touch pwned)"]
NUMBERS = ["0", "-1", "99999999999999999999", "1e9", "abc", "", "3", "2.5", "nan", "\x00"]
PATHS = ["", "missing/deeper/out.x", "{folder}", "{empty}", "{binary}", "{malformed}", "/proc/no/such/x",
         "é/ü.txt", "a\x01b.txt", "{sheet}", "-", "{badonnx}", "{onnx}"]
SPECS = ["lenet5", "nope", "vgg61", "{empty}", "{binary}", "{malformed}", "{folder}", "-", "", "{toml}",
         "alexnet", "{huge}", "{onnx}", "{badonnx}", "{emptyonnx}", "missing.onnx"]


def fixtures(folder: Path) -> dict[str, str]:
    """Files a case may point at, made fresh in the case's folder."""
    (folder / "a_folder").mkdir()
    (folder / "empty.toml").write_text("")
    (folder / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (folder / "malformed.toml").write_text('input = [8, 8, 3\nlayers = ["conv 4 3x3"')
    (folder / "ok.toml").write_text('input = [8, 8, 3]\nlayers = ["conv 4 3x3", "fc 10"]\n')
    (folder / "huge.toml").write_text('input = [9999999, 9999999, 3]\nlayers = ["conv 4 3x3 x10000"]\n')
    (folder / "sheet.csv").write_text("name,output,memory\nc1,28x28x6,4704\n")
    (folder / "model.onnx").write_bytes(TINY_ONNX)
    (folder / "bad.onnx").write_bytes(TINY_ONNX[: len(TINY_ONNX) // 2] + bytes(range(256)))
    (folder / "empty.onnx").write_bytes(b"")
    return {"folder": str(folder / "a_folder"), "empty": str(folder / "empty.toml"),
            "binary": str(folder / "binary.toml"), "malformed": str(folder / "malformed.toml"),
            "toml": str(folder / "ok.toml"), "huge": str(folder / "huge.toml"), "sheet": str(folder / "sheet.csv"),
            "onnx": str(folder / "model.onnx"), "badonnx": str(folder / "bad.onnx"),
            "emptyonnx": str(folder / "empty.onnx")}


def tiny_onnx() -> bytes:
    """A conv, a ReLU and a global pool, as ONNX (written once: onnx's helpers are slow to import)."""
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.1] * 108)
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
                               helper.make_node("Relu", ["c"], ["r"], name="relu"),
                               helper.make_node("GlobalAveragePool", ["r"], ["y"], name="pool")], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


TINY_ONNX = tiny_onnx()


def values_for(param: click.Parameter) -> list[str]:
    if isinstance(param.type, click.Choice):
        return ["banana", "", "LETTER", *param.type.choices]
    if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType, click.IntRange)):
        return NUMBERS
    if isinstance(param.type, click.Path):
        return PATHS
    return TEXT


def make_case(rng: random.Random, quick: bool) -> list[str]:
    """A valid command line with one or two options or arguments replaced."""
    commands = [name for name in BASE if not (quick and name in SLOW and rng.random() < 0.9)]
    name = rng.choice(commands)
    args = list(BASE[name])
    command = main.commands[name]
    for _ in range(rng.choice([1, 1, 1, 2]) if command.params else 0):
        param = rng.choice(command.params)
        if isinstance(param, click.Argument):
            value = rng.choice(SPECS if param.name in ("spec", "specs") else PATHS + TEXT)
            position = next((i for i, arg in enumerate(args[1:], 1) if not arg.startswith("-")), None)
            if position is not None and rng.random() < 0.7:
                args[position] = value
            else:
                args.insert(1, value)
            continue
        option = param.opts[0]
        if option in ("--help", "--version", "--debug"):
            continue
        if param.is_flag:
            if quick and option in ("--pdf", "--all"):  # printing, and verifying all 46 networks (40 s)
                continue
            args.append(option)
            continue
        args += [option, rng.choice(values_for(param))]
    return args


class Hang(Exception):
    """A case that ran past the time limit."""


def _alarm(signum, frame):
    raise Hang()


def run_case(args: list[str], timeout: int = 60) -> tuple[str, int, float, str]:
    """('ok' or a failure, exit code, seconds, output) for one command line, in a fresh folder;
    a case that runs past ``timeout`` seconds is a failure (every command must stay bounded)."""
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        files = fixtures(folder)
        args = [arg.format(**files) if "{" in arg and "}" in arg and not arg.startswith("{{") else arg
                for arg in args]
        before = set(folder.rglob("*"))
        cwd = os.getcwd()
        os.chdir(folder)
        start = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
        try:
            result = runner.invoke(main, args, catch_exceptions=True)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            os.chdir(cwd)
        seconds = time.perf_counter() - start
        if isinstance(result.exception, Hang):
            return f"ran past {timeout} s", -1, seconds, ""
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return f"exception {type(result.exception).__name__}: {result.exception}", result.exit_code, seconds, output
        if "Traceback" in output:
            return "a traceback in the output", result.exit_code, seconds, output
        if result.exit_code not in (0, 1, 2):
            return f"exit {result.exit_code}", result.exit_code, seconds, output
        if result.exit_code == 2 and not result.stderr.strip() and "Error" not in output:
            return "exit 2 without a message", result.exit_code, seconds, output
        left = set(folder.rglob("*")) - before
        if result.exit_code == 2 and left:
            return f"files left behind: {sorted(str(p.relative_to(folder)) for p in left)}", 2, seconds, output
    return "ok", result.exit_code, seconds, output


def main_loop(cases: int, seed: int, quick: bool, timeout: int = 60, verbose: bool = False) -> int:
    rng = random.Random(seed)
    codes, commands, failures = Counter(), Counter(), []
    slowest = (0.0, [])
    for _ in range(cases):
        args = make_case(rng, quick)
        verdict, code, seconds, output = run_case(args, timeout)
        if verbose:
            print(f"{seconds:6.2f} s  exit {code}  {verdict}: archcalc {' '.join(repr(a)[:60] for a in args)}", flush=True)
        codes[code] += 1
        commands[args[0]] += 1
        slowest = max(slowest, (seconds, args), key=lambda item: item[0])
        if verdict != "ok":
            failures.append((args, verdict, output[-400:]))
    print(f"{cases} cases (seed {seed}): exit codes {dict(sorted(codes.items()))}; by command {dict(commands)}")
    print(f"slowest: {slowest[0]:.2f} s: archcalc {' '.join(repr(a) for a in slowest[1])}")
    for args, verdict, output in failures[:20]:
        print(f"FAIL {verdict}: archcalc {' '.join(repr(a) for a in args)}\n  {output}")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=int, default=60, help="seconds a case may take")
    parser.add_argument("--verbose", action="store_true", help="a line per case")
    arguments = parser.parse_args()
    sys.exit(main_loop(arguments.cases, arguments.seed, arguments.quick, arguments.timeout, arguments.verbose))
