"""``signalbank simulate``: synthetic bank traffic, to Kafka or to JSONL files."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.cli.errors import Command
from streams.cli.scenario import scenario_of, scenario_options
from streams.sim.scenario import PERSONA_MIXES, Scenario


def _iso(value: object) -> str:
    """Dates and instants of the truth in ISO 8601 (``2026-09-01``, ``2026-09-21T21:32:22+00:00``)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@cli.command(name="simulate", cls=Command)
@click.option("--rate", type=float, default=0.0, show_default=True, help="Events per second (0 = max).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write JSONL files here instead of producing to Kafka.",
)
@click.option(
    "--personas",
    type=click.Choice(PERSONA_MIXES),
    default="bank",
    show_default=True,
    help="Population: a retail bank's customers, or card payments only (like a purchase history).",
)
@click.option(
    "--fraud-share",
    type=click.FloatRange(0.0, 1.0),
    default=Scenario.fraud_share,
    show_default=True,
    help="Share of customers who meet a fraudster per 60 days (in truth.json as fraud).",
)
@click.option(
    "--origins/--no-origins",
    default=True,
    show_default=True,
    help="Where and how events are made: devices, countries, places, payees, authentication "
    "(--no-origins: without them, and without fraud).",
)
@scenario_options
def simulate_command(
    rate: float,
    out_dir: Path | None,
    personas: str,
    fraud_share: float,
    origins: bool,
    customers: int,
    days: int,
    seed: int,
    start: datetime | None,
    invalid_ratio: float,
) -> None:
    """Generate realistic bank traffic: to Kafka (SIGNALBANK_KAFKA_URL) or to JSONL files."""
    from streams.kafka.admin import bootstrap_of
    from streams.sim.generator import generate
    from streams.sim.jsonl import write_jsonl
    from streams.sim.produce import produce
    from streams.sim.truth import ground_truth

    settings = current_settings()

    scenario = replace(
        scenario_of(customers, days, seed, start, invalid_ratio),
        personas=personas,
        origins=origins,
        fraud_share=fraud_share if origins else 0.0,
    )
    if out_dir is not None:
        counts = write_jsonl(generate(scenario), out_dir)
        truth = json.dumps(ground_truth(scenario), default=_iso, indent=1)
        (out_dir / "truth.json").write_text(truth)
    else:
        counts = produce(generate(scenario), bootstrap_of(settings.kafka_url), rate or None)
    for name, count in sorted(counts.items()):
        click.echo(f"{name}: {count}")
