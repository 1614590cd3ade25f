"""``signalbank replay``: one or two rulesets over the same event files, summarised and scored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import click

from rules.load.problems import RulesetError
from rules.load.ruleset import Ruleset, load_ruleset
from schemas.outputs import ChurnLevel
from schemas.profile.bgnbd import BgNbdParams
from sinks.redis.client import connect_blocking
from streams.backtest.replay import (
    ReplayOptions,
    ReplayResult,
    at_ms,
    churn_firings,
    replay,
    summary_lines,
)
from streams.backtest.risk_scorecard import (
    RiskScorecard,
    RiskTruth,
    format_risk_scorecard,
    load_risk_truth,
    risk_scorecard,
)
from streams.backtest.scorecard import (
    DEFAULT_HORIZON_DAYS,
    CustomerScore,
    Scorecard,
    format_scorecard,
    is_labelled,
    load_scores,
    load_truth,
    scorecard,
)
from streams.backtest.scores import write_scores
from streams.backtest.shards import replay_sharded
from streams.dev.embedded import EmbeddedRedis
from streams.settings import Settings


class _Progress(Protocol):
    """What replay uses of ``click.progressbar`` (whose class lives in a private click module)."""

    def update(self, n_steps: int) -> None: ...


@dataclass(frozen=True, slots=True)
class BacktestRun:
    files: tuple[Path, ...]
    rules_dirs: tuple[Path, ...]  # the ruleset, then optionally one to compare with
    out_dir: Path | None
    truth: Path | None
    redis_url: str | None
    flush: bool
    min_level: str
    checks: bool
    settings: Settings  # the worker's: replay is configured from them (streams/config.py)
    churn_model: BgNbdParams | None
    shards: int = 1  # worker processes, customers split between them (1: the sequential replay)
    scores: Path | None = None  # the scores file the replay writes (--scores), ranked against the truth
    observed_on: date | None = None  # the truth's observation date (a CSV's, or the sim truth's labels)
    horizon_days: int = DEFAULT_HORIZON_DAYS  # sim truth: churned = lost by observed_on + this
    scores_at: date | None = None  # the day the scores file holds every customer's score as of
    risk_warmup_days: int = 0  # risk scorecard: days from the first event left out (profiles learning)


def _load(path: Path) -> Ruleset:
    try:
        return load_ruleset([path])
    except RulesetError as exc:
        raise ValueError(f"invalid ruleset in {path}:\n{exc}") from exc


def shard_urls(url: str, shards: int) -> list[str]:
    """One database per worker on the given Redis: the URL's own, then the ones after it."""
    parts = urlsplit(url)
    first = int(parts.path.strip("/") or 0)
    return [urlunsplit(parts._replace(path=f"/{first + n}")) for n in range(shards)]


def _prepare(url: str, flush: bool) -> None:
    """Replay writes profiles: refuse a database that holds data unless told to empty it (on a
    cluster: every master's)."""
    client = connect_blocking(url)
    try:
        if flush:
            client.flushdb()
        elif client.dbsize():
            raise ValueError(f"{url} is not empty: use an empty database or --flush")
    finally:
        client.close()


def _one(run: BacktestRun, ruleset: Ruleset, urls: list[str], out_dir: Path | None) -> ReplayResult:
    options = ReplayOptions(
        files=run.files,
        redis_url=urls[0],
        settings=run.settings,
        churn_model=run.churn_model,
        out_dir=out_dir,
        checks=run.checks,
    )
    total = sum(path.stat().st_size for path in run.files)
    shown = {"events": 0, "bytes": 0}
    bar: _Progress
    with click.progressbar(
        length=total,
        label=f"ruleset {ruleset.version}",
        item_show_func=lambda _: f"{shown['events']:,} events",
        file=click.get_text_stream("stderr"),
    ) as bar:

        def progress(read: int, events: int) -> None:
            bar.update(read - shown["bytes"])
            shown["bytes"], shown["events"] = read, events

        if len(urls) > 1:
            return replay_sharded(options, ruleset, urls, progress)
        return asyncio.run(replay(options, ruleset, progress))


def scores_path(run: BacktestRun, index: int, version: str) -> Path | None:
    """Where the replay of the ``index``-th ruleset writes its scores file: ``--scores`` for the
    first, beside it with the ruleset's version for the one compared with (as ``--out``'s)."""
    if run.scores is None or index == 0:
        return run.scores
    return run.scores.with_name(f"{run.scores.stem}-compare-{version}{run.scores.suffix}")


def _read_scores(path: Path) -> dict[str, CustomerScore]:
    if not path.is_file():
        raise ValueError(
            f"{path}: no scores file: the replay did not write it (--scores-at DATE --scores FILE)"
        )
    return load_scores(path)


def risk_lines(run: BacktestRun, result: ReplayResult, truth: RiskTruth) -> tuple[RiskScorecard, list[str]]:
    """The risk scorecard of one replay against the simulator's fraud episodes, and its lines."""
    card = risk_scorecard(
        result.risk_signals,
        truth,
        at_ms(result.first_ms),
        at_ms(result.last_ms),
        warmup=timedelta(days=run.risk_warmup_days),
    )
    return card, format_risk_scorecard(card)


def run_backtest(run: BacktestRun, emit: Callable[[str], None]) -> list[Scorecard]:
    """Replay each ruleset on a clean database, print its summary and (with truth) its scorecard,
    ranking the scores file the replay wrote when there is one."""
    rulesets = [_load(path) for path in run.rules_dirs]
    truth = load_truth(run.truth, run.observed_on) if run.truth else None
    if truth is not None and run.scores is not None and run.observed_on is None and not is_labelled(truth):
        raise ValueError(
            f"ranking {run.scores} against {run.truth} needs the observation date (--observed-on)"
        )
    risk_truth = None
    if run.truth is not None and truth is not None and not is_labelled(truth):
        risk_truth = load_risk_truth(run.truth)
    cards: list[Scorecard] = []
    if run.shards < 1:
        raise ValueError(f"shards must be at least 1, not {run.shards}")
    servers: list[EmbeddedRedis] = []
    if run.redis_url is None:  # one server per worker: Redis runs on a core of its own
        servers = [EmbeddedRedis() for _ in range(run.shards)]
        for server in servers:
            server.start()
    urls = [s.url for s in servers] if servers else shard_urls(run.redis_url or "", run.shards)
    try:
        for index, ruleset in enumerate(rulesets):
            for url in urls:
                _prepare(url, run.flush or index > 0 or bool(servers))
            out_dir = (
                run.out_dir
                if index == 0 or run.out_dir is None
                else run.out_dir / f"compare-{ruleset.version}"
            )
            result = _one(run, ruleset, urls, out_dir)
            written = scores_path(run, index, ruleset.version)
            if written is not None and run.scores_at is not None:
                count = write_scores(
                    run.files, run.settings, ruleset, run.churn_model, run.scores_at, written
                )
                emit(f"scores of {count} customers as of {run.scores_at} written to {written}")
            for line in summary_lines(result, ruleset):
                emit(line)
            if truth is not None:
                scores_file = scores_path(run, index, ruleset.version)
                card = scorecard(
                    result.alerts,
                    churn_firings(result, ruleset),
                    truth,
                    result.observed_days,
                    ChurnLevel(run.min_level),
                    scores=_read_scores(scores_file) if scores_file else None,
                    observed_on=run.observed_on,
                    horizon_days=run.horizon_days,
                )
                cards.append(card)
                emit("")
                ranked = f", ranking {scores_file}" if scores_file else ""
                title = f"scorecard of ruleset {ruleset.version} against {run.truth} ({len(truth)} customers)"
                emit(title + ranked)
                for line in format_scorecard(card):
                    emit(line)
            if risk_truth is not None and (risk_truth.episodes or result.risk_signals):
                emit("")
                for line in risk_lines(run, result, risk_truth)[1]:
                    emit(line)
            emit("")
    finally:
        for server in servers:
            server.stop()
    if len(cards) == 2:
        for line in comparison(cards[0], cards[1], rulesets[0].version, rulesets[1].version):
            emit(line)
    return cards


def comparison(a: Scorecard, b: Scorecard, name_a: str, name_b: str) -> list[str]:
    """The alert scores of two rulesets side by side, and their ranking when scored."""

    def median(card: Scorecard) -> str:
        quartiles = card.alerts.lead_quartiles()
        return "-" if quartiles is None else f"{quartiles[1]:.0f}"

    def auroc(card: Scorecard) -> str:
        value = None if card.ranking is None else card.ranking.auroc
        return "-" if value is None else f"{value:.3f}"

    rows = [
        ("precision", f"{a.alerts.precision:.2f}", f"{b.alerts.precision:.2f}"),
        ("recall", f"{a.alerts.recall:.2f}", f"{b.alerts.recall:.2f}"),
        ("f1", f"{a.alerts.f1:.2f}", f"{b.alerts.f1:.2f}"),
        ("median lead (days)", median(a), median(b)),
        (
            "false alarms / 1k / month",
            f"{a.alerts.false_alarms_per_1000_per_month:.1f}",
            f"{b.alerts.false_alarms_per_1000_per_month:.1f}",
        ),
        (
            "alerts / customer / month",
            f"{a.alerts_per_customer_per_month:.3f}",
            f"{b.alerts_per_customer_per_month:.3f}",
        ),
    ]
    if a.ranking is not None or b.ranking is not None:
        rows.append(("AUROC", auroc(a), auroc(b)))
    lines = [f"{'compare':<28} {name_a:>14} {name_b:>14}"]
    lines.extend(f"{label:<28} {x:>14} {y:>14}" for label, x, y in rows)
    return lines
