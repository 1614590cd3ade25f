"""``signalbank dev``: the whole pipeline on this machine (``streams.dev.run`` does the work)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.cli.errors import Command
from streams.cli.options import rules_option
from streams.cli.scenario import scenario_of, scenario_options


@cli.command(name="dev", cls=Command)
@click.option("--seconds", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C).")
@click.option(
    "--kafka", "kafka_url", default=None, help="Use this broker (kafka://host:port) instead of Tansu."
)
@click.option(
    "--redis", "redis_url", default=None, help="Use this Redis (redis://...) instead of an embedded one."
)
@click.option("--rate", type=float, default=1500.0, show_default=True, help="Events per second (0 = max).")
@rules_option
@scenario_options
def dev_command(
    seconds: float | None,
    kafka_url: str | None,
    redis_url: str | None,
    rate: float,
    rules_dir: Path | None,
    customers: int,
    days: int,
    seed: int,
    start: datetime | None,
    invalid_ratio: float,
) -> None:
    """Run broker, Redis, worker and simulated traffic on this machine; print alerts and offers."""
    from streams.dev.run import DevOptions, run_dev

    settings = current_settings()

    scenario = scenario_of(customers, days, seed, start, invalid_ratio)
    options = DevOptions(
        seconds,
        kafka_url,
        redis_url,
        scenario,
        rate or None,
        settings.partitions,
        rules_dir or settings.rules_dir,
    )
    sys.exit(run_dev(options))
