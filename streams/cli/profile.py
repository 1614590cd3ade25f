"""``signalbank profile``: a customer's current profile, read from Redis."""

from __future__ import annotations

import asyncio
import json

import click
from faust.cli.base import cli

from streams.cli.context import current_settings, profile_store
from streams.cli.errors import Command, Failure
from streams.runtime import load_churn_model


@cli.command(name="profile", cls=Command)
@click.argument("customer_id")
def profile_command(customer_id: str) -> None:
    """Print a customer's current profile from Redis as JSON."""
    from agents.lookup import read_profile
    from schemas.profile.view import Profile

    settings = current_settings()

    async def read() -> Profile | None:
        async with profile_store(settings) as store:
            return await read_profile(store, customer_id, load_churn_model(settings.churn_model))

    profile = asyncio.run(read())
    if profile is None:
        raise Failure(f"no profile for {customer_id}")
    click.echo(json.dumps(profile, indent=2, sort_keys=True))
