"""Mutation fuzzer over the shipped specs: every outcome must be a result or an archcalc error,
never another exception or a hang.

    python scripts/fuzz.py --cases 100000 [--seed 1] [--timeout 5]

Each case takes a shipped spec's text and applies one to three mutations: drop, duplicate or swap
a line; change a number (0, -1, huge, a float, a word); drop, duplicate or retype a token of a
compact layer line; truncate; or insert random bytes. It then parses, analyses (strict and not),
collapses and explains the spec. Prints the counts and the slowest input; exits 1 on any crash or hang.
"""
from __future__ import annotations

import argparse
import random
import re
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archcalc.engine import analysis_of, collapse  # noqa: E402
from archcalc.errors import ArchcalcError  # noqa: E402
from archcalc.report.explain import explain  # noqa: E402
from archcalc.spec import parse_spec, shipped_spec_names, shipped_specs_dir  # noqa: E402

NUMBERS = ["0", "-1", "1", "2", "3", "7", "10000000", "99999999999999", "1.5", '"x"', "true", '"H"', "[]", "[1, 2, 3]"]
TOKENS = ["s0", "p-1", "x0", "x100000", "3x0", "g7", "d0", "ceil", "nobias", "bn", "relu", "same", "k=", "=", "1e99",
          "conv", "fc", "{", "}", "[[", "'", '"', "\\", "__import__('os')", "9**9**9", "(" * 50]


class Hang(Exception):
    pass


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(8)
        if not lines:
            break
        i = rng.randrange(len(lines))
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines.insert(i, lines[i])
        elif choice == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == 3:
            numbers = list(re.finditer(r"-?\d+(\.\d+)?", lines[i]))
            if numbers:
                match = rng.choice(numbers)
                lines[i] = lines[i][:match.start()] + rng.choice(NUMBERS) + lines[i][match.end():]
        elif choice == 4:
            words = lines[i].split(" ")
            k = rng.randrange(len(words))
            action = rng.randrange(3)
            if action == 0 and len(words) > 1:
                del words[k]
            elif action == 1:
                words.insert(k, words[k])
            else:
                words[k] = rng.choice(TOKENS)
            lines[i] = " ".join(words)
        elif choice == 5:
            lines = lines[:i]
        elif choice == 6:
            position = rng.randrange(len(lines[i]) + 1)
            junk = "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randint(1, 6)))
            lines[i] = lines[i][:position] + junk + lines[i][position:]
        else:
            lines[i] = lines[i].replace("conv", rng.choice(["conv", "fc", "maxpool", "deconv", "shortcut", "sepconv"]))
    return "\n".join(lines) + "\n"


def run_case(text: str) -> str:
    spec = parse_spec(text, "fuzz.toml")
    analysis = analysis_of(spec)
    collapse(analysis, 0)
    explain(analysis)
    analysis_of(spec, strict=True)
    return "result"


def fuzz(cases: int, seed: int, timeout: float) -> dict:
    rng = random.Random(seed)
    sources = [(path.stem, path.read_text()) for path in sorted(shipped_specs_dir().glob("*.toml"))]
    outcomes, crashes, hangs = Counter(), [], []
    slowest = (0.0, "", "")

    def on_alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, on_alarm)
    for number in range(cases):
        name, source = rng.choice(sources)
        text = mutate(source, rng)
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            outcomes[run_case(text)] += 1
        except ArchcalcError as error:
            outcomes[type(error).__name__] += 1
        except Hang:
            hangs.append((name, text))
        except Exception:  # anything else is a bug in archcalc
            crashes.append((name, text, traceback.format_exc()))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.perf_counter() - start
        if elapsed > slowest[0]:
            slowest = (elapsed, name, text)
    return {"cases": cases, "outcomes": outcomes, "crashes": crashes, "hangs": hangs, "slowest": slowest}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a case counts as a hang")
    args = parser.parse_args()
    started = time.perf_counter()
    report = fuzz(args.cases, args.seed, args.timeout)
    print(f"{report['cases']} cases in {time.perf_counter() - started:.1f} s (seed {args.seed}, "
          f"{len(shipped_spec_names())} shipped specs mutated)")
    for outcome, count in report["outcomes"].most_common():
        print(f"  {outcome}: {count}")
    print(f"  crashes: {len(report['crashes'])}\n  hangs: {len(report['hangs'])}")
    seconds, name, _ = report["slowest"]
    print(f"  slowest input: a mutation of {name} in {seconds:.3f} s")
    for name, text, trace in report["crashes"][:5]:
        print(f"\n--- crash on a mutation of {name}:\n{text}\n{trace}")
    for name, text in report["hangs"][:3]:
        print(f"\n--- hang on a mutation of {name}:\n{text}")
    return 1 if report["crashes"] or report["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
