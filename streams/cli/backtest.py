"""``signalbank churn fit`` and ``signalbank replay``: fit the churn model, replay event files through
the rules (``streams.backtest`` does the work)."""

from __future__ import annotations

from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.cli.errors import Command, Group, bad_input
from streams.runtime import load_churn_model


@cli.group(name="churn", cls=Group)
def churn_group() -> None:
    """The BG/NBD churn model behind ``profile.p_alive``."""


@churn_group.command(name="fit")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Parameters file."
)
def churn_fit(files: tuple[Path, ...], out: Path) -> None:
    """Fit the model's four population parameters from event history (JSONL files) by maximum likelihood."""
    from streams.backtest.churn_fit import fit_files
    from streams.config import pipeline_config

    try:
        result = fit_files(list(files), pipeline_config(current_settings()))
    except ValueError as exc:  # no usable activity in the files
        raise bad_input(exc) from exc
    result.params.save(out)
    p = result.params
    click.echo(
        f"fitted on {p.customers} customers ({result.events} events, {result.skipped} invalid lines skipped, "
        f"{result.customers_without_activity} customers without activity left out)"
    )
    click.echo(
        f"r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} b={p.b:.4g} log-likelihood={p.log_likelihood:.1f}"
    )
    click.echo(f"wrote {out}")


@cli.command(name="replay", cls=Command)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="Rules folder.")
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
@click.option(
    "--min-level",
    type=click.Choice(["watch", "elevated", "high", "critical"]),
    default="high",
    show_default=True,
    help="Alert level that counts as a churn prediction in the scorecard.",
)
@click.option("--no-checks", is_flag=True, help="Skip silence checks (only event-triggered outputs).")
@click.option(
    "--shards",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes, customers split between them (same outputs; one Redis database each).",
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
    )
    try:
        run_backtest(run, click.echo)
    except ValueError as exc:  # invalid rules, truth file or event files; a Redis not empty
        raise bad_input(exc) from exc
