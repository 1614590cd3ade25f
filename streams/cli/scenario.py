"""The simulated-traffic options ``dev`` and ``simulate`` share, and the Scenario they describe."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from streams.sim.scenario import Scenario


def scenario_options(fn: click.decorators.FC) -> click.decorators.FC:
    """Add --customers, --days, --seed, --start and --invalid-ratio to a command."""
    for option in reversed(
        [
            click.option("--customers", default=200, show_default=True, help="Simulated customers."),
            click.option("--days", default=120, show_default=True, help="Days of history to simulate."),
            click.option(
                "--seed", default=7, show_default=True, help="Random seed (same seed, same traffic)."
            ),
            click.option(
                "--start",
                type=click.DateTime(["%Y-%m-%d"]),
                default=None,
                help="First day of the scenario (default: DAYS before today).",
            ),
            click.option(
                "--invalid-ratio",
                default=0.002,
                show_default=True,
                help="Share of deliberately broken messages (to show dead-lettering).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def scenario_of(
    customers: int, days: int, seed: int, start: datetime | None, invalid_ratio: float
) -> Scenario:
    """The scenario the options describe (``--start`` is a UTC day)."""
    return Scenario(
        customers=customers,
        days=days,
        seed=seed,
        start=start.replace(tzinfo=UTC) if start else None,
        invalid_ratio=invalid_ratio,
    )
