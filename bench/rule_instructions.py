"""What evaluating the default ruleset costs per event in CPU instructions: a figure that does not
drift with the load on a shared machine, for before/after comparisons of the engine.

Collects the same realistic samples as ``bench.rule_cost``, then runs the evaluation under
valgrind's callgrind twice, once without evaluating and once evaluating every sample, and prints the
difference per event. Needs ``valgrind`` on the PATH; takes a few minutes (valgrind runs Python
about 50x slower).

Run: ``make bench-rules-instructions`` (or ``python -m bench.rule_instructions --events 1000``).
"""

from __future__ import annotations

import argparse
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.rule_cost import add_scenario_arguments, simulated_samples
from rules.evaluate.engine import evaluate
from rules.load.ruleset import load_ruleset
from streams.settings import DEFAULT_RULES_DIR, Settings

_COLLECTED = re.compile(r"Collected : (\d+)")


def _evaluate_file(path: Path, passes: int) -> None:
    """The measured program: load the samples and the ruleset, evaluate ``passes`` times."""
    samples = pickle.loads(path.read_bytes())
    ruleset = load_ruleset([DEFAULT_RULES_DIR])
    for _ in range(passes):
        for profile, event in samples:
            evaluate(ruleset, profile, event)


def _instructions(path: Path, passes: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.rule_instructions",
        "--evaluate",
        str(path),
        "--passes",
        str(passes),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scenario_arguments(parser, events=1000)
    parser.add_argument("--evaluate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluate is not None:
        _evaluate_file(args.evaluate, args.passes)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this benchmark counts instructions with callgrind")
    samples = simulated_samples(args, Settings())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "samples.pickle"
        path.write_bytes(pickle.dumps([(s.profile, s.event) for s in samples]))
        base = _instructions(path, 0)
        measured = _instructions(path, 1)
    ruleset = load_ruleset([DEFAULT_RULES_DIR])
    print(
        f"rule cost in instructions: ruleset {ruleset.version}, {len(samples)} events of "
        f"{args.customers} simulated customers over {args.days} days"
    )
    print(f"  evaluate: {(measured - base) / len(samples):,.0f} instructions per event (callgrind)")


if __name__ == "__main__":
    main()
