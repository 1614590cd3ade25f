"""``signalbank profile``: a customer as of now (or ``--at``), read from Redis: the same view as the
worker's /customers page (``agents.lookup.customer_view``): profile, tier and since when, churn
score, current tags, the last events (``timeline``) and the last outputs with offer responses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from faust.cli.base import cli

from streams.cli.context import current_settings, profile_store
from streams.cli.errors import Command, Failure
from streams.cli.options import at_option, rules_option
from streams.runtime import load_churn_model

if TYPE_CHECKING:
    from agents.lookup import CustomerView


@cli.command(name="profile", cls=Command)
@click.argument("customer_id")
@at_option
@rules_option
def profile_command(customer_id: str, at: int | None, rules_dir: Path | None) -> None:
    """Print a customer as of now from Redis as JSON: profile, tier (since when), churn score, tags, the
    last events (timeline) and outputs about them (offers with their responses)."""
    from agents.lookup import customer_view
    from rules.load.ruleset import load_ruleset
    from rules.tools.explain import parse_at

    settings = current_settings()
    now_ms = parse_at(None) if at is None else at
    ruleset = load_ruleset([rules_dir or settings.rules_dir])

    async def read() -> CustomerView | None:
        async with profile_store(settings) as store:
            return await customer_view(
                store, ruleset, customer_id, now_ms, load_churn_model(settings.churn_model)
            )

    view = asyncio.run(read())
    if view is None:
        raise Failure(f"no profile for {customer_id}")
    click.echo(json.dumps(view.as_json(), indent=2, sort_keys=True))
