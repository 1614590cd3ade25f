"""The worker's runtime: lazy (building it connects nothing and loads no rules), the active ruleset
swapped whole (same version: nothing changes), a batch run on the ruleset active when it starts,
and the churn model read from the settings."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from agents.decode import RawRecord
from rules.load.problems import RulesetError
from schemas.catalog import INTERACTIONS, SIGNALS
from schemas.profile.bgnbd import BgNbdParams
from streams.runtime import Runtime, load_churn_model
from streams.settings import DEFAULT_CHURN_MODEL, Settings
from tests.support.rule_texts import SECOND, SEEN, ruleset_of, runtime_for, seen_folder
from tests.unit.streams.loopback import connections, listening, port_of


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return seen_folder(tmp_path)


def test_runtime_swap_shows_exactly_the_active_version(folder: Path) -> None:
    runtime = runtime_for(folder)
    first = runtime.ruleset  # the folder's, loaded on first use
    assert runtime.ruleset is first
    second = ruleset_of(("a.yaml", SEEN), ("b.yaml", SECOND))
    assert runtime.use_ruleset(second, "test")
    assert runtime.ruleset is second
    assert not runtime.use_ruleset(ruleset_of(("a.yaml", SEEN), ("b.yaml", SECOND)), "same version")
    registry = runtime.metrics.registry
    info = {
        s.labels["version"]: s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "signalbank_ruleset_info"
    }
    assert info == {second.version: 1.0}
    assert registry.get_sample_value("signalbank_ruleset_updates_total") == 1.0


def test_runtime_starts_with_a_published_ruleset_without_loading_the_folder(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path / "missing")  # loading this folder would fail
    published = ruleset_of(("seen.yaml", SEEN))
    assert not runtime.has_ruleset
    runtime.use_ruleset(published, "test")
    assert runtime.ruleset is published


def test_building_the_runtime_connects_nothing_and_loads_no_rules(tmp_path: Path) -> None:
    with listening() as listener:
        port = port_of(listener)
        runtime = Runtime(
            Settings(
                redis_url=f"redis://127.0.0.1:{port}/0",
                kafka_url=f"kafka://127.0.0.1:{port}",
                rules_dir=tmp_path / "missing",  # loading it would fail
                churn_model=tmp_path / "missing.json",
            )
        )
        runtime.redis  # noqa: B018  (a client with its scripts registered: still nothing sent)
        runtime.pipeline  # noqa: B018
        runtime.checks  # noqa: B018
        assert not runtime.has_ruleset
        assert connections(listener) == 0
    with pytest.raises(RulesetError):  # the folder is read on first use, not before
        runtime.ruleset  # noqa: B018
    assert not runtime.has_ruleset


def test_a_ruleset_of_the_active_version_changes_nothing(folder: Path) -> None:
    runtime = runtime_for(folder)
    first = ruleset_of(("seen.yaml", SEEN))
    assert runtime.use_ruleset(first, "first")
    again = ruleset_of(("seen.yaml", SEEN))
    assert again is not first and again.version == first.version
    assert not runtime.use_ruleset(again, "the same files again")
    assert runtime.ruleset is first
    assert runtime.metrics.registry.get_sample_value("signalbank_ruleset_updates_total") == 1.0


def test_an_invalid_folder_is_read_again_on_the_next_use(tmp_path: Path) -> None:
    (tmp_path / "seen.yaml").write_text(SEEN.replace('event.kind != ""', "profile.nope > 1"))
    runtime = runtime_for(tmp_path)
    with pytest.raises(RulesetError):
        runtime.ruleset  # noqa: B018
    (tmp_path / "seen.yaml").write_text(SEEN)
    assert runtime.ruleset.version == ruleset_of(("x", SEEN)).version


def login(customer: str, offset: int) -> RawRecord:
    body = {
        "event_id": f"{customer}-login",
        "customer_id": customer,
        "occurred_at": "2026-01-05T09:00:00+00:00",
        "kind": "login",
        "channel": "mobile",
    }
    return RawRecord(INTERACTIONS, 0, offset, customer.encode(), json.dumps(body).encode())


def test_each_batch_runs_on_the_ruleset_active_when_it_starts(folder: Path, redis_url: str) -> None:
    runtime = Runtime(Settings(rules_dir=folder, redis_url=redis_url, churn_model=None))
    second = ruleset_of(("seen.yaml", SEEN), ("second.yaml", SECOND))

    async def batches() -> list[list[tuple[str, str, str]]]:
        seen: list[list[tuple[str, str, str]]] = []
        try:
            for n, customer in enumerate(("A", "B")):
                outputs = await runtime.pipeline.process([login(customer, n)])
                seen.append(
                    sorted(
                        (o.key.decode(), getattr(o.value, "tag", ""), getattr(o.value, "ruleset_version", ""))
                        for o in outputs
                        if o.topic == SIGNALS
                    )
                )
                runtime.use_ruleset(second, "between the batches")
        finally:
            await runtime.redis.aclose()
        return seen

    first_batch, second_batch = asyncio.run(batches())
    first = ruleset_of(("seen.yaml", SEEN)).version
    assert first_batch == [("A", "seen", first)]
    assert second_batch == [("B", "second", second.version), ("B", "seen", second.version)]


def test_the_churn_model_is_the_settings_file_or_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = load_churn_model(DEFAULT_CHURN_MODEL)
    assert isinstance(shipped, BgNbdParams) and shipped.customers > 0
    assert Runtime(Settings()).churn_model == shipped
    with caplog.at_level(logging.WARNING, logger="streams.runtime"):
        assert load_churn_model(None) is None
        assert Runtime(Settings(churn_model=tmp_path / "absent.json")).churn_model is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "no churn model at None: profile.p_alive stays 1",
        f"no churn model at {tmp_path / 'absent.json'}: profile.p_alive stays 1",
    ]
