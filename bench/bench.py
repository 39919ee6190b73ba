"""archcalc's benchmark: whole-process timings, medians of several runs, as ratios against
baselines measured in the same run. Standard library only.

    python bench/bench.py                    # print the table
    python bench/bench.py --write            # also write bench/RESULTS.md
    python bench/bench.py --baseline HEAD~3  # also time the same commands on another revision

Targets (issue 8): table vgg16 <= 2x the floor (python -c "import click, tabulate, tomllib"),
table resnet152 <= 2.5x, --help <= 1.5x; 10,000 layers in < 1 s and <= 12x 1,000 layers;
symbolic resnet152 < 1.5 s; 1,000 answer sheets checked in < 10 s; resnet152 peak RSS < 60 MB.
Issue 13: memory resnet152 --train < 1 s; --fit (a search over batch sizes) < 2 s.
Issue 24: sizes resnet50 <= 0.5 s; sizes and verify of a 10,000-layer spec within 40 s.
Where torchinfo, fvcore or ptflops are installed they are timed on the same networks.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
ARCHCALC = [shutil.which("archcalc")] if shutil.which("archcalc") else [PYTHON, "-m", "archcalc"]
FLOOR = [PYTHON, "-c", "import click, tabulate, tomllib"]


def run_once(command: list[str], env: dict | None = None, allowed: tuple[int, ...] = (0,)) -> float:
    """Seconds of one whole process (``allowed``: exit codes that are not failures, as check's 1)."""
    start = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if finished.returncode not in allowed:
        raise subprocess.CalledProcessError(finished.returncode, command)
    return time.perf_counter() - start


def _rss(command: list[str]) -> int:
    """Peak RSS (KB) of a fresh process, measured from a wrapper so that no other child counts."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
            "stderr=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(subprocess.run([PYTHON, "-c", code, *command], capture_output=True, text=True, check=True).stdout)


def median_seconds(command: list[str], runs: int, allowed: tuple[int, ...] = (0,)) -> float:
    run_once(command, allowed=allowed)  # warm the file cache
    return statistics.median(run_once(command, allowed=allowed) for _ in range(runs))


def generated_spec(folder: Path, layers: int) -> Path:
    body = ",\n".join(['"conv 16 3x3 p1"', '"batchnorm"'] * (layers // 2))
    path = folder / f"generated_{layers}.toml"
    path.write_text(f"input = [32, 32, 16]\nlayers = [\n{body}\n]\n")
    return path


def peers(runs: int) -> list[tuple[str, float | None, str]]:
    """torchinfo, fvcore and ptflops on the same networks, where installed. They need a torch model:
    archcalc's own lowering builds it (torchvision does not import beside every torch build)."""
    build = "from archcalc.lower.build import build; from archcalc.spec import load_spec; import torch; "
    scripts = {
        "torchinfo: summary(vgg16)": ("torchinfo", build + "import torchinfo; "
                                      "torchinfo.summary(build(load_spec('vgg16')), (1, 3, 224, 224), verbose=0)"),
        "fvcore: FlopCountAnalysis(resnet152).total()": ("fvcore", build + "from fvcore.nn import FlopCountAnalysis; "
                                                         "FlopCountAnalysis(build(load_spec('resnet152_torchvision')), "
                                                         "torch.randn(1, 3, 224, 224)).total()"),
        "ptflops: get_model_complexity_info(resnet152)": ("ptflops", build + "import ptflops; "
                                                          "ptflops.get_model_complexity_info(build(load_spec("
                                                          "'resnet152_torchvision')), (3, 224, 224), "
                                                          "print_per_layer_stat=False, as_strings=False)"),
    }
    results = []
    for title, (module, code) in scripts.items():
        if importlib.util.find_spec(module) and importlib.util.find_spec("torch"):
            results.append((title, median_seconds([PYTHON, "-c", code], max(1, runs // 2)), "same network, built by archcalc"))
        else:
            results.append((title, None, f"{module} (or torch) not installed"))
    return results


GRADER = """
import sys, pathlib
from archcalc import analyze, load_spec
from archcalc.marking import check_answers, given_cells, read_answers
analysis = analyze(load_spec("vgg16"))
given = given_cells(analysis, ("output", "memory", "params"))
wrong = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.csv")):
    wrong += not check_answers(analysis, read_answers(path.read_text(), str(path)), given=given).ok
print(wrong)
"""


def checking_sheets(folder: Path, count: int = 1000) -> tuple[float, str]:
    """A grader's loop: 1,000 filled vgg16 sheets (some wrong) checked through the library in one process."""
    sheets = folder / "sheets"
    sheets.mkdir()
    subprocess.run(ARCHCALC + ["worksheet", "vgg16", "-o", str(folder)], check=True, stdout=subprocess.DEVNULL)
    key = (folder / "vgg16_answers.csv").read_text().splitlines()
    for number in range(count):
        lines = list(key)
        if number % 3 == 0:  # every third student gets one row wrong
            row = 1 + number % (len(lines) - 1)
            cells = lines[row].split(",")
            cells[2] = "1x1x1"
            lines[row] = ",".join(cells)
        (sheets / f"student{number:04d}.csv").write_text("\n".join(lines) + "\n")
    seconds = median_seconds([PYTHON, "-c", GRADER, str(sheets)], 3)
    single = median_seconds(ARCHCALC + ["check", "vgg16", str(sheets / "student0001.csv")], 3)
    book = median_seconds(ARCHCALC + ["check", "vgg16", *map(str, sorted(sheets.glob("*.csv"))), "--gradebook",
                                      str(folder / "grades.csv"), "--force"], 3, allowed=(0, 1))
    return seconds, (f"< 10 s: {'met' if seconds < 10 else 'MISSED'} (one sheet through the CLI: {single:.2f} s; "
                     f"all 1,000 through `check --gradebook`: {book:.2f} s)")


def compile_package() -> None:
    """Byte-compile archcalc as pip does on a normal install; an editable install under
    PYTHONDONTWRITEBYTECODE would otherwise recompile every module at every start."""
    import archcalc

    subprocess.run([PYTHON, "-m", "compileall", "-q", str(Path(archcalc.__file__).parent)], check=True)


# -P: no current folder in front of PYTHONPATH (with a plain -c, the folder bench runs from shadows
# the tree named by PYTHONPATH, and both columns time the same code: the case before this line)
CLI_IN_TREE = [PYTHON, "-P", "-c", "import sys; from archcalc.cli import main; sys.exit(main())"]


def against_baseline(revision: str, folder: Path, runs: int) -> list[tuple[str, float, float]]:
    """The same commands on this tree and on ``revision`` (a git worktree), run alternately so that
    both see the same machine: (title, this tree's median, the baseline's median)."""
    baseline = folder / "baseline"
    subprocess.run(["git", "-C", str(HERE.parent), "worktree", "add", "--detach", str(baseline), revision],
                   check=True, capture_output=True)
    try:
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(baseline / "archcalc")], check=True)
        trees = [{**os.environ, "PYTHONPATH": str(tree)} for tree in (HERE.parent, baseline)]
        commands = {"--help": ["--help"], "table vgg16": ["table", "vgg16"], "table resnet152": ["table", "resnet152"],
                    "table, generated 10,000 layers": ["table", str(generated_spec(folder, 10_000)), "-f", "csv"],
                    "table resnet152 --input HxWx3": ["table", "resnet152", "--input", "HxWx3"],
                    "explain googlenet": ["explain", "googlenet"], "compare (4 networks)":
                        ["compare", "alexnet", "vgg19", "googlenet", "resnet152"],
                    "worksheet vgg16": ["worksheet", "vgg16", "-o", str(folder / "ws"), "--force"],
                    "check vgg16, its answer key": ["check", "vgg16", str(answer_key(folder))],
                    "check googlenet, its answer key": ["check", "googlenet", str(answer_key(folder, "googlenet"))],
                    "memory resnet152 --train": ["memory", "resnet152", "--train"],
                    "sizes resnet50 (512 input sizes)": ["sizes", "resnet50"]}
        rows = []
        for title, arguments in commands.items():
            timings: list[list[float]] = [[], []]
            for env in trees:
                run_once(CLI_IN_TREE + arguments, env)  # warm the file cache
            for _ in range(runs):
                for number, env in enumerate(trees):
                    timings[number].append(run_once(CLI_IN_TREE + arguments, env))
            rows.append((title, statistics.median(timings[0]), statistics.median(timings[1])))
        return rows
    finally:
        subprocess.run(["git", "-C", str(HERE.parent), "worktree", "remove", "--force", str(baseline)],
                       capture_output=True)


def answer_key(folder: Path, name: str = "vgg16") -> Path:
    """A worksheet's answer key, every question answered right: what a good student hands in."""
    target = folder / f"key_{name}"
    if not (target / f"{name}_answers.csv").exists():
        subprocess.run(ARCHCALC + ["worksheet", name, "-o", str(target), "--force"], check=True,
                       stdout=subprocess.DEVNULL)
    return target / f"{name}_answers.csv"


def importing(folder: Path, floor: float, runs: int) -> list[tuple]:
    """Reading ONNX files: the table of an exported ResNet-152 (with and without its weights) against
    the table of the spec itself, and writing it back as a spec."""
    rows = []
    spec_seconds = median_seconds(ARCHCALC + ["table", "resnet152"], runs)
    for title, extra in (("with its 230 MB of weights", []), ("structure only (--no-weights)", ["--no-weights"])):
        path = folder / f"resnet152{len(extra)}.onnx"
        subprocess.run(ARCHCALC + ["export", "resnet152", "--onnx", str(path), "--force", *extra], check=True,
                       stdout=subprocess.DEVNULL)
        seconds = median_seconds(ARCHCALC + ["table", str(path)], max(3, runs // 2))
        rows.append((f"table resnet152.onnx, {title}", seconds, seconds / floor,
                     f"{seconds / spec_seconds:.1f}x the table of the spec; {path.stat().st_size / 1e6:.1f} MB file"))
    path = folder / "resnet1520.onnx"
    seconds = median_seconds(ARCHCALC + ["import", str(path), "-o", str(folder / "r.toml"), "--force"],
                             max(3, runs // 2))
    loading = median_seconds([PYTHON, "-c", f"import onnx; onnx.load({str(path)!r})"], max(3, runs // 2))
    rows.append(("import resnet152.onnx -o resnet152.toml", seconds, seconds / floor, "< 5 s: "
                 + ("met" if seconds < 5 else "MISSED") + f"; {seconds / loading:.1f}x python -c 'onnx.load(file)' "
                 f"({loading:.2f} s; issue 24: <= 2x)"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description="archcalc benchmark")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    parser.add_argument("--baseline", metavar="REV", help="also time the same commands on this git revision")
    args = parser.parse_args()
    compile_package()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        floor = median_seconds(FLOOR, args.runs)
        rows.append(("floor: python -c 'import click, tabulate, tomllib'", floor, 1.0, "baseline"))
        for title, command, limit in (
                ("archcalc --help", ARCHCALC + ["--help"], 1.5),
                ("archcalc table vgg16", ARCHCALC + ["table", "vgg16"], 2.0),
                ("archcalc table resnet152", ARCHCALC + ["table", "resnet152"], 2.5)):
            seconds = median_seconds(command, args.runs)
            rows.append((title, seconds, seconds / floor, f"<= {limit}x: {'met' if seconds / floor <= limit else 'MISSED'}"))
        small, large = (median_seconds(ARCHCALC + ["table", str(generated_spec(folder, n)), "-f", "csv"], args.runs)
                        for n in (1_000, 10_000))
        rows.append(("table, generated 1,000 layers", small, small / floor, ""))
        rows.append(("table, generated 10,000 layers", large, large / floor,
                     f"< 1 s: {'met' if large < 1 else 'MISSED'}; {large / small:.1f}x 1,000 layers "
                     f"(<= 12x: {'met' if large / small <= 12 else 'MISSED'})"))
        huge = str(generated_spec(folder, 10_000))
        for title, arguments, before in (
                ("plot, generated 10,000 layers (200 bars)", ["plot", huge, "-o", str(folder / "p.png")], 231),
                ("handout, generated 10,000 layers", ["handout", huge, "-o", str(folder / "h")], 277)):
            seconds = median_seconds(ARCHCALC + arguments + ["--force"], max(1, args.runs // 3))
            rows.append((title, seconds, seconds / floor, f"< 30 s: {'met' if seconds < 30 else 'MISSED'} "
                                                          f"(before the bar bound: {before} s)"))
        symbolic = median_seconds(ARCHCALC + ["table", "resnet152", "--input", "HxWx3"], max(3, args.runs // 2))
        rows.append(("table resnet152 --input HxWx3 (symbolic)", symbolic, symbolic / floor,
                     f"< 1.5 s: {'met' if symbolic < 1.5 else 'MISSED'}"))
        for title, arguments, limit in (("memory resnet152 --train", ["memory", "resnet152", "--train"], 1.0),
                                        ("memory resnet50 --train --fit 24GiB (a search over batches)",
                                         ["memory", "resnet50", "--train", "--fit", "24GiB"], 2.0)):
            seconds = median_seconds(ARCHCALC + arguments, args.runs)
            rows.append((title, seconds, seconds / floor, f"< {limit:g} s: {'met' if seconds < limit else 'MISSED'}"))
        sizes = median_seconds(ARCHCALC + ["sizes", "resnet50"], args.runs)
        rows.append(("sizes resnet50 (input sizes 1..512 that divide exactly)", sizes, sizes / floor,
                     f"<= 0.5 s: {'met' if sizes <= 0.5 else 'MISSED'} (issue 24; 5.6 s before)"))
        sizes = median_seconds(ARCHCALC + ["sizes", huge], max(1, args.runs // 3))
        rows.append(("sizes, generated 10,000 layers", sizes, sizes / floor,
                     f"< 40 s: {'met' if sizes < 40 else 'MISSED'} (issue 24: timed out before)"))
        if importlib.util.find_spec("torch"):
            measured = median_seconds(ARCHCALC + ["memory", "resnet50", "--train", "--measure"], max(1, args.runs // 3))
            modelled = median_seconds(ARCHCALC + ["memory", "resnet50", "--train"], args.runs)
            rows.append(("memory resnet50 --train --measure (running it in PyTorch)", measured, measured / floor,
                         f"the model alone: {modelled:.2f} s, {measured / modelled:.0f}x faster than measuring"))
        lecture = ["handout", "alexnet_simplified", "vgg16", "googlenet", "resnet152", "--compare",
                   "alexnet,vgg19,googlenet,resnet152", "--force", "-o", str(folder / "handout")]
        seconds = median_seconds(ARCHCALC + lecture, max(3, args.runs // 2))
        rows.append(("handout, the lecture's 4 networks (Markdown + HTML, 6 plots with LeCun et al.'s, the questions)",
                     seconds,
                     seconds / floor, f"< 10 s: {'met' if seconds < 10 else 'MISSED'}"))
        if shutil.which("chromium"):
            printed = median_seconds(ARCHCALC + lecture + ["--student", "--pdf"], max(1, args.runs // 3))
            rows.append(("the same --student --pdf (3 documents printed by Chromium)", printed, printed / floor,
                         f"{printed - seconds:.1f} s more: the student version, its key and printing"))
        if importlib.util.find_spec("torch") and importlib.util.find_spec("onnx"):
            rows += importing(folder, floor, args.runs)
        sheets, note = checking_sheets(folder)
        rows.append(("check: 1,000 vgg16 answer sheets", sheets, None, note))
        rss_mb = _rss(ARCHCALC + ["table", "resnet152"]) / 1024
        peer_rows = peers(args.runs)
        compared = against_baseline(args.baseline, folder, args.runs) if args.baseline else []
    text = report(rows, rss_mb, peer_rows, args.runs) + baseline_report(compared, args.baseline)
    print(text)
    if args.write:
        (HERE / "RESULTS.md").write_text(text)
    return 0


def report(rows, rss_mb: float, peer_rows, runs: int) -> str:
    lines = [f"# archcalc benchmark, {datetime.date.today().isoformat()}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.platform()}. Whole-process wall time, median of {runs} runs after one warm-up; "
             "ratios against the floor measured in the same run; archcalc byte-compiled first, as pip "
             "installs it.", "",
             "| measurement | median (s) | x floor | target |", "| --- | ---: | ---: | --- |"]
    for title, seconds, ratio, note in rows:
        lines.append(f"| {title} | {'' if seconds is None else f'{seconds:.3f}'} | "
                     f"{'' if ratio is None else f'{ratio:.2f}'} | {note} |")
    lines += ["", f"Peak RSS of `archcalc table resnet152`: {rss_mb:.1f} MB (target < 60 MB: "
                  f"{'met' if rss_mb < 60 else 'MISSED'}).", "",
              "Peers on the same networks (their time includes importing torch and running the model,"
              " which is why they are slow):", "",
              "| tool | median (s) | note |", "| --- | ---: | --- |"]
    for title, seconds, note in peer_rows:
        lines.append(f"| {title} | {'' if seconds is None else f'{seconds:.2f}'} | {note} |")
    return "\n".join(lines) + "\n"


def baseline_report(compared, revision: str | None) -> str:
    if not compared:
        return ""
    lines = ["", f"Against the baseline `{revision}`, measured alternately in the same run "
                 "(`python -P -c 'from archcalc.cli import main; main()'` with PYTHONPATH set to each tree):", "",
             "| command | this tree (s) | baseline (s) | ratio |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {title} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f} |" for title, ours, theirs in compared]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
