"""``signalbank replay``'s run: each ruleset replayed on a clean database with the settings given,
summarised and scored against the truth, two rulesets compared (real Redis)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, OUTPUT_MODELS, RISK_SIGNALS, SIGNALS
from streams.backtest.risk_scorecard import load_risk_truth, risk_firing, risk_scorecard
from streams.backtest.run import BacktestRun, run_backtest, scores_path
from streams.settings import DEFAULT_RULES_DIR, Settings
from streams.sim.generator import generate
from streams.sim.jsonl import write_jsonl
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth
from tests.unit.streams.backtest.test_replay import T0, story_file


def _run(
    tmp_path: Path, redis_url: str | None, rules_dirs: tuple[Path, ...], settings: Settings
) -> BacktestRun:
    """The replay test's story (SILENT's salary stops; CLOCK acts 41.5 days later), SILENT lost."""
    truth = tmp_path / "truth.json"
    lost_on = (T0 + timedelta(days=60)).date().isoformat()
    truth.write_text(
        json.dumps({"SILENT": {"persona": "leaver", "lost_on": lost_on}, "CLOCK": {"persona": "x"}})
    )
    return BacktestRun(
        files=(story_file(tmp_path / "transactions.jsonl"),),
        rules_dirs=rules_dirs,
        out_dir=tmp_path / "out",
        truth=truth,
        redis_url=redis_url,
        flush=True,
        min_level="watch",
        checks=True,
        settings=settings,
        churn_model=None,
    )


def test_two_rulesets_are_scored_and_compared_with_the_settings_given(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    lines: list[str] = []
    settings = Settings(batch_size=1, check_after_s=2 * 86_400.0)
    run = _run(tmp_path, redis_url, (DEFAULT_RULES_DIR, DEFAULT_RULES_DIR), settings)
    cards = run_backtest(run, lines.append)
    assert [(c.alerts.precision, c.alerts.recall) for c in cards] == [(1.0, 1.0), (1.0, 1.0)]
    assert sum(line.startswith(f"scorecard of ruleset {ruleset.version}") for line in lines) == 2
    assert lines[-7].split() == ["compare", ruleset.version, ruleset.version]
    assert lines[-3].split()[:3] == ["median", "lead", "(days)"]
    assert "AUROC" not in lines[-1]  # no scores file: no ranking
    for out_dir in (tmp_path / "out", tmp_path / "out" / f"compare-{ruleset.version}"):
        [alert] = [json.loads(x) for x in (out_dir / f"{CHURN_ALERTS}.jsonl").read_text().splitlines()]
        assert alert["trigger_event_id"].startswith("check:")  # SILENT's silence check, by the watermark


def test_a_csv_truth_judges_the_alerts_and_ranks_the_scores_file(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    """Labels as of a day instead of loss dates, and the scores file read after the replay."""
    truth = tmp_path / "truth.csv"
    truth.write_text("customer_id,churned\nSILENT,1\nCLOCK,0\nNEWCOMER,0\n")
    settings = Settings(batch_size=1, check_after_s=2 * 86_400.0)
    run = dataclasses.replace(
        _run(tmp_path, redis_url, (DEFAULT_RULES_DIR, DEFAULT_RULES_DIR), settings),
        truth=truth,
        scores=tmp_path / "scores.csv",
        observed_on=(T0 + timedelta(days=60)).date(),
    )
    for index in (0, 1):  # as the replay writes them (NEWCOMER did not exist yet)
        path = scores_path(run, index, ruleset.version)
        assert path is not None
        path.write_text(
            "customer_id,probability,level,p_alive,reasons\nSILENT,0.9,high,0.1,x\nCLOCK,0.2,,0.8,\n"
        )
    lines: list[str] = []
    cards = run_backtest(run, lines.append)
    assert [(c.alerts.precision, c.alerts.recall, c.alerts.lead_days) for c in cards] == [(1.0, 1.0, ())] * 2
    rank = cards[0].ranking
    assert rank is not None and (rank.customers, rank.churned, rank.not_scored) == (2, 1, 1)
    assert rank.auroc == 1.0
    assert lines[-1].split() == ["AUROC", "1.000", "1.000"]
    assert any(
        line.startswith("2 customers ranked; left out: 1 in the truth but not scored") for line in lines
    )


def test_ranking_against_the_simulator_truth_needs_an_observation_date(tmp_path: Path) -> None:
    run = dataclasses.replace(
        _run(tmp_path, None, (DEFAULT_RULES_DIR,), Settings()), scores=tmp_path / "s.csv"
    )
    with pytest.raises(ValueError, match=r"needs the observation date \(--observed-on\)"):
        run_backtest(run, print)


def test_a_database_holding_data_is_refused_unless_flushed(tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("someone:else", "1")
    client.close()
    run = dataclasses.replace(_run(tmp_path, redis_url, (DEFAULT_RULES_DIR,), Settings()), flush=False)
    with pytest.raises(ValueError, match="is not empty: use an empty database or --flush"):
        run_backtest(run, print)


def test_an_invalid_ruleset_is_reported_with_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "rules.yaml").write_text("rules: [{id: x}]\n")
    with pytest.raises(ValueError, match="invalid ruleset in"):
        run_backtest(_run(tmp_path, None, (folder,), Settings()), print)


def test_a_simulated_scenario_is_scored_against_its_fraud_episodes(tmp_path: Path, redis_url: str) -> None:
    """The real replay of a tiny scenario full of fraud: every risk signal it wrote is judged, and an
    episode is detected exactly when one of its customer's came between its start and its first
    high-value event."""
    start = datetime(2025, 3, 1, tzinfo=UTC)
    scenario = Scenario(customers=40, days=40, seed=3, start=start, fraud_share=0.5)
    sim = tmp_path / "sim"
    write_jsonl(generate(scenario), sim)
    truth = sim / "truth.json"
    truth.write_text(json.dumps(ground_truth(scenario), default=str))
    run = dataclasses.replace(
        _run(tmp_path, redis_url, (DEFAULT_RULES_DIR,), Settings(batch_size=1)),  # warm-up from the first
        files=tuple(sorted(sim.glob("*.jsonl"))),
        truth=truth,
        risk_warmup_days=3,
    )
    lines: list[str] = []
    run_backtest(run, lines.append)
    head = next(i for i, line in enumerate(lines) if line.startswith("risk scorecard: "))
    risk_truth = load_risk_truth(truth)
    assert lines[head].startswith(f"risk scorecard: {len(risk_truth.episodes)} fraud episodes, 40 customers")
    written = [
        firing
        for topic in (RISK_SIGNALS, SIGNALS)
        if (tmp_path / "out" / f"{topic}.jsonl").exists()
        for line in (tmp_path / "out" / f"{topic}.jsonl").read_text().splitlines()
        if (firing := risk_firing(OUTPUT_MODELS[topic].model_validate_json(line))) is not None
    ]
    first = min(e.start for e in risk_truth.episodes) - timedelta(days=30)  # before all: no warm-up cut
    card = risk_scorecard(written, risk_truth, first, first + timedelta(days=70))
    detected = sum(
        any(
            s.customer_id == e.customer_id and e.start <= s.occurred_at <= e.first_high_value_at
            for s in written
        )
        for e in risk_truth.episodes
    )
    assert card.detected == detected
    row = lines[head + 2].split()
    assert (
        row[:2] == ["all", "episodes"] and int(row[2]) == len(risk_truth.episodes) and int(row[3]) == detected
    )
    signals_line = next(line for line in lines[head:] if line.startswith("risk signals: "))
    judged = [s for s in written if s.occurred_at >= start + timedelta(days=3)]
    assert signals_line.startswith(f"risk signals: {len(judged)}, false ")
    sharded: list[str] = []
    run_backtest(dataclasses.replace(run, shards=2, out_dir=None), sharded.append)
    at = next(i for i, line in enumerate(sharded) if line.startswith("risk scorecard: "))
    assert sharded[at:] == lines[head:]  # two workers collect the same risk signals
