"""What the baseline consumers share: their settings and how they report when they are done.

A baseline runs as its own Faust worker process (so it pays exactly what a Faust worker pays), and
reports the wall-clock time of its first and last event to a JSON file the benchmark waits for.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import faust
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.dev.embedded import free_port

#: Where the per-event baseline sends its alerts (not the real output topics, which the benchmark reads).
PER_EVENT_TOPIC = "signalbank.bench.per-event-alerts"


class BaselineSettings(BaseSettings):
    """Set by the benchmark through ``SIGNALBANK_BENCH_*`` variables when it starts a baseline."""

    model_config = SettingsConfigDict(env_prefix="SIGNALBANK_BENCH_", frozen=True, extra="ignore")

    app_id: str = Field("signalbank-bench-baseline", description="Faust app id (its consumer group).")
    kafka_url: str = "kafka://127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    expected: int = Field(1, ge=1, description="Events to consume before reporting.")
    result_path: Path = Path("baseline.json")
    data_dir: Path = Path(".signalbank/bench")


class Progress:
    """Counts events; once the expected count is reached writes {count, first, first_count, last}
    (times in epoch seconds) once.

    A batch counts all its events at once (``tick(len(batch))``). ``first`` is when the first batch
    (or event) arrived and ``first_count`` how many it held, so the rate is taken over the events
    after it, between ``first`` and ``last``, as the benchmark takes the workers' rate.
    """

    def __init__(self, expected: int, result_path: Path) -> None:
        self.expected = expected
        self.result_path = result_path
        self.count = 0
        self.first = 0.0
        self.first_count = 0

    def tick(self, events: int = 1) -> None:
        reached = self.count < self.expected <= self.count + events
        if self.count == 0 and events:
            self.first, self.first_count = time.time(), events
        self.count += events
        if reached:
            report = {
                "count": self.count,
                "first": self.first,
                "first_count": self.first_count,
                "last": time.time(),
            }
            partial = self.result_path.with_suffix(".part")
            partial.write_text(json.dumps(report))
            partial.replace(self.result_path)  # the benchmark never reads half a file


def baseline_app(settings: BaselineSettings) -> faust.App:
    """A Faust app with Faust's default settings (only what a separate process needs changed: its
    web server, which Faust's worker command starts anyway, on a free loopback port, so that two
    benchmarks or a worker on this machine do not collide on 0.0.0.0:6066)."""
    return faust.App(
        settings.app_id,
        broker=settings.kafka_url,
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        web_bind="127.0.0.1",
        web_host="127.0.0.1",
        web_port=free_port(),
        datadir=str(settings.data_dir),
    )
