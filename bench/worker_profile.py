"""Where a running worker's time goes, Kafka and Faust included: py-spy samples the real
``signalbank worker`` process while it reads the backlog, counting only the thread that holds the
GIL (``--gil``), so the shares say what the one Python core does.

The pipeline alone (bench/pipeline_profile.py) shows our own stages; this adds what Faust and
aiokafka spend fetching and dispatching each message, which the Faust consume-only baseline pays
too, and what the worker loop around the pipeline costs (sending outputs, committing).

Needs ``py-spy`` (in the dev extras) and the right to trace a child process; without either the
benchmark prints why and goes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.pipeline_profile import STAGES

#: The pipeline's modules: a sample in any of them is the pipeline's work (``Pipeline.process`` calls
#: into the others, and the timer's checks reach the pipeline through agents/checks.py).
PIPELINE_MODULES = (
    "agents/pipeline.py",
    "agents/decode.py",
    "agents/trigger.py",
    "agents/claims.py",
    "agents/outputs.py",
    "agents/silence.py",
    "agents/checks.py",
)

#: (category, test on one sample's frames, outermost first). The first category that matches wins.
CATEGORIES: tuple[tuple[str, Callable[[list[str]], bool]], ...] = (
    ("start-up (imports)", lambda frames: any("importlib" in f for f in frames[:12])),
    (
        "signalbank pipeline (agents/pipeline.py and its steps: stages below)",
        lambda frames: any(_in(frames, path) for path in PIPELINE_MODULES),
    ),
    (
        "worker loop around it (agents/ingest.py: batches, sending outputs, commits)",
        lambda frames: _in(frames, "agents/ingest.py"),
    ),
    (
        "Faust and aiokafka: fetching and dispatching each message, stream buffers (the baseline's work)",
        lambda frames: any(f"({lib}/" in f for f in frames for lib in ("faust", "mode", "aiokafka")),
    ),
    ("event loop and everything else", lambda frames: True),
)


def _in(frames: list[str], path: str) -> bool:
    return any(path in frame for frame in frames)


@dataclass(frozen=True, slots=True)
class WorkerProfile:
    """Shares of GIL-holding samples by category, and of the pipeline's by stage."""

    seconds: float
    rate_hz: int
    samples: int
    categories: tuple[tuple[str, int], ...]
    stages: tuple[tuple[str, int], ...]
    error: str = ""

    @property
    def gil_share(self) -> float:
        """Share of the wall time some thread of the worker held the GIL."""
        return self.samples / (self.seconds * self.rate_hz) if self.seconds else 0.0

    def share(self, prefix: str) -> float:
        """Share of the samples in the category whose name starts with ``prefix``."""
        return sum(n for name, n in self.categories if name.startswith(prefix)) / max(1, self.samples)

    def lines(self, indent: str = "    ") -> list[str]:
        if self.error:
            return [f"{indent}not profiled: {self.error}"]
        total = max(1, self.samples)
        lines = [f"{indent}{n / total:6.1%}  {name}" for name, n in self.categories]
        lines.extend(f"{indent}        {n / total:6.1%}  {label}" for label, n in self.stages if n)
        return lines


def summarize(folded: Iterable[str], seconds: float, rate_hz: int) -> WorkerProfile:
    """Classify py-spy's raw output ("frame;frame;... count" lines, outermost frame first)."""
    categories: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    stage_of = {name: label for name, label in STAGES}
    for line in folded:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, n = stack.split(";"), int(count)
        category = next(name for name, matches in CATEGORIES if matches(frames))
        categories[category] += n
        if category.startswith("signalbank pipeline"):
            stage = next((stage_of[f] for f in map(_function, frames) if f in stage_of), "other")
            stages[stage] += n
    return WorkerProfile(
        seconds,
        rate_hz,
        sum(categories.values()),
        tuple((name, categories[name]) for name, _ in CATEGORIES if categories[name]),
        tuple(stages.most_common()),
    )


def _function(frame: str) -> str:
    """``Pipeline.decide (agents/pipeline.py:312)`` -> ``decide``; ``epoll.poll`` stays as it is."""
    name = frame.split(" (", 1)[0]
    return name if name == "epoll.poll" else name.rsplit(".", 1)[-1]


def profile_process(pid: int, seconds: float, rate_hz: int = 100) -> WorkerProfile:
    """Sample process ``pid`` for ``seconds`` with py-spy (GIL holder only) and classify."""
    # Installed next to this Python (the venv's bin), which need not be on PATH.
    spy = shutil.which("py-spy", path=os.pathsep.join((str(Path(sys.executable).parent), os.defpath)))
    if spy is None:
        return WorkerProfile(seconds, rate_hz, 0, (), (), "py-spy is not installed (pip install py-spy)")
    with tempfile.TemporaryDirectory(prefix="signalbank-spy-") as tmp:
        out = Path(tmp) / "worker.folded"
        command = [spy, "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", str(rate_hz)]
        command += ["--duration", str(round(seconds)), "--format", "raw", "--output", str(out)]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        elapsed = time.monotonic() - started
        if done.returncode != 0 or not out.exists():
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return WorkerProfile(seconds, rate_hz, 0, (), (), f"py-spy failed: {reason}")
        return summarize(out.read_text().splitlines(), min(seconds, elapsed), rate_hz)
