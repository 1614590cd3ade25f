"""``signalbank churn fit`` and ``signalbank replay``: fit the churn model, replay event files through
the rules (``streams.backtest`` does the work)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.cli.errors import Command, Group, bad_input
from streams.cli.options import horizon_option, min_level_option, rules_option
from streams.runtime import load_churn_model


@cli.group(name="churn", cls=Group)
def churn_group() -> None:
    """The BG/NBD churn model behind ``profile.p_alive``."""


@churn_group.command(name="fit")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Model file."
)
@rules_option
@horizon_option(7, "Days: the probability is of being lost within this many.")
@click.option(
    "--lost-share",
    type=click.FloatRange(0.01, 0.99),
    default=0.2,
    show_default=True,
    help="Lost: active on fewer than this share of the days the customer's own rate predicts.",
)
def churn_fit(
    files: tuple[Path, ...], out: Path, rules_dir: Path | None, horizon_days: int, lost_share: float
) -> None:
    """Fit the churn model on event history (JSONL files): BG/NBD behind p_alive, and the churn
    probability from the rules and each customer's rhythm, judged on a later split."""
    from rules.load.problems import RulesetError
    from rules.load.ruleset import load_ruleset
    from streams.backtest.churn_fit import FitOptions, fit_probability
    from streams.config import pipeline_config, store_config

    settings = current_settings()
    options = FitOptions(horizon_days=horizon_days, lost_share=lost_share)
    try:
        ruleset = load_ruleset([rules_dir or settings.rules_dir])
        result = fit_probability(
            list(files), pipeline_config(settings), store_config(settings), ruleset, options
        )
    except (ValueError, RulesetError) as exc:  # no usable history, an invalid ruleset
        raise bad_input(exc) from exc
    result.model.save(out)
    p = result.model
    click.echo(
        f"BG/NBD on {p.customers} customers ({result.events} events, {result.skipped} invalid lines "
        f"skipped): r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} b={p.b:.4g}"
    )
    probability = p.probability
    assert probability is not None
    click.echo(
        f"churn probability (lost within {horizon_days} days) fitted on {result.rows} customer-days "
        f"from {len(result.split_days)} splits; rules weighed: {len(probability.rules)}"
    )
    quality = probability.quality
    if quality is None or quality.auroc is None:
        click.echo("no later split to judge the fit on: the history is shorter than the horizon plus a step")
    else:
        click.echo(
            f"on the later split {quality.split_day} ({quality.customers} customers, {quality.lost} lost), "
            f"fitted without it: AUROC {quality.auroc:.3f}, average precision "
            f"{quality.average_precision:.3f}, Brier {quality.brier:.4f}"
        )
    click.echo(f"wrote {out}")


@churn_group.command(name="list")
@click.option(
    "--at", "at", type=click.DateTime(["%Y-%m-%d"]), default=None, help="As of this day (default: now)."
)
@min_level_option("Customers at this level or above.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many, the likeliest first.")
def churn_list(at: datetime | None, min_level: str, limit: int | None) -> None:
    """The retention campaign list: customers by churn probability as of a day, from the live Redis."""
    import asyncio

    from agents.retention import retention_list
    from rules.load.ruleset import load_ruleset
    from schemas.outputs import ChurnLevel
    from streams.config import connect_redis

    settings = current_settings()
    when = (at or datetime.now(UTC)).replace(tzinfo=UTC)
    as_of_ms = int(when.timestamp() * 1000) + (86_400_000 - 1 if at is not None else 0)

    async def listed() -> list[str]:
        redis = connect_redis(settings)
        try:
            rows = await retention_list(
                redis.profiles,
                load_ruleset([settings.rules_dir]),
                load_churn_model(settings.churn_model),
                as_of_ms,
                ChurnLevel(min_level),
            )
        finally:
            await redis.aclose()
        return [row.csv() for row in rows[:limit]]

    click.echo("customer_id,probability,level,p_alive,reasons")
    for line in asyncio.run(listed()):
        click.echo(line)


@cli.command(name="replay", cls=Command)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@rules_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Write outputs here.")
@click.option("--truth", type=click.Path(exists=True, path_type=Path), default=None, help="Score against it.")
@click.option(
    "--compare",
    "compare_dir",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="A second rules folder scored on the same events.",
)
@click.option("--redis", "redis_url", default=None, help="Redis to use (default: an embedded one).")
@click.option("--flush", is_flag=True, help="Empty the --redis database first (it must be empty otherwise).")
@min_level_option("Alert level that counts as a churn prediction in the scorecard.")
@click.option("--no-checks", is_flag=True, help="Skip silence checks (only event-triggered outputs).")
@click.option(
    "--shards",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes, customers split between them (same outputs; one Redis database each).",
)
@click.option(
    "--scores-at",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Write every customer's churn score as of the end of this day (UTC) to --scores.",
)
@click.option(
    "--scores", "scores", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Scores CSV."
)
@click.option(
    "--observed-on",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The truth's observation date (default: --scores-at): ranking labels are as of it.",
)
@horizon_option(1, "With the simulator's truth: churned = lost by the observation date plus this many days.")
@click.option(
    "--risk-warmup",
    "risk_warmup_days",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Risk scorecard: leave out the first DAYS (profiles still learn devices, countries, payees).",
)
def replay_command(
    files: tuple[Path, ...],
    rules_dir: Path | None,
    out_dir: Path | None,
    truth: Path | None,
    compare_dir: Path | None,
    redis_url: str | None,
    flush: bool,
    min_level: str,
    no_checks: bool,
    shards: int,
    scores_at: datetime | None,
    scores: Path | None,
    observed_on: datetime | None,
    horizon_days: int,
    risk_warmup_days: int,
) -> None:
    """Run event files (JSONL, merged in event time) through the rules, without Kafka; score them."""
    from streams.backtest.run import BacktestRun, run_backtest

    settings = current_settings()

    run = BacktestRun(
        files=files,
        rules_dirs=(rules_dir or settings.rules_dir, *((compare_dir,) if compare_dir else ())),
        out_dir=out_dir,
        truth=truth,
        redis_url=redis_url,
        flush=flush,
        min_level=min_level,
        checks=not no_checks,
        settings=settings,
        churn_model=load_churn_model(settings.churn_model),
        shards=shards,
        scores=scores,
        observed_on=observed.date() if (observed := observed_on or scores_at) else None,
        horizon_days=horizon_days,
        scores_at=scores_at.date() if scores_at else None,
        risk_warmup_days=risk_warmup_days,
    )
    if (scores_at is None) != (scores is None):
        raise bad_input(ValueError("--scores-at and --scores go together"))
    try:
        run_backtest(run, click.echo)
    except ValueError as exc:  # invalid rules, truth file or event files; a Redis not empty
        raise bad_input(exc) from exc
