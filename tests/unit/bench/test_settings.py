"""The benchmarks' in-process steps are configured from the settings, as a worker is: the home
bank, the store's dedupe capacity and the batch size come from ``SIGNALBANK_*`` (real Redis)."""

from __future__ import annotations

import asyncio
from itertools import islice

import pytest

from bench.e2e import parse
from bench.pipeline_profile import profile_pipeline, records_of
from bench.rule_cost import collect
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.scenario import Scenario

SCENARIO = Scenario(customers=30, days=30, seed=3)


def test_samples_see_the_settings_home_bank(redis_url: str) -> None:
    """Our own bank's code decides which transfers leave for another bank."""

    def leaving_for(home_bank: str) -> set[str]:
        samples = asyncio.run(collect(redis_url, SCENARIO, 100_000, Settings(home_bank=home_bank)))
        return {str(s.event.get("counterparty_bank")) for s in samples if s.event.get("to_other_bank")}

    ours = leaving_for("SIGNALBANK")
    assert ours and "SIGNALBANK" not in ours
    assert "SIGNALBANK" in leaving_for("NOBANK")


def test_the_dedupe_capacity_comes_from_the_environment_unless_the_flag_sets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNALBANK_DEDUPE_CAPACITY", "48")
    monkeypatch.setenv("SIGNALBANK_RETENTION_DAYS", "120")
    options, _ = parse([])
    assert (options.settings.dedupe_capacity, options.settings.retention_days) == (48, 120)
    options, _ = parse(["--dedupe-capacity", "32"])
    assert (options.settings.dedupe_capacity, options.settings.retention_days) == (32, 120)


def test_the_profiled_pipeline_runs_batches_of_the_settings_size(redis_url: str) -> None:
    records = records_of(islice(generate(SCENARIO), 120))
    _, stages = profile_pipeline(Settings(batch_size=40), redis_url, records)
    assert stages.events == 80  # the first batch warms up, untimed
