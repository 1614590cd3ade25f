"""``signalbank topics create``: the contract's topics on the configured broker."""

from __future__ import annotations

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.cli.errors import Group


@cli.group(name="topics", cls=Group)
def topics_group() -> None:
    """Kafka topics of the contract."""


@topics_group.command(name="create")
def topics_create() -> None:
    """Create every input and output topic that is missing."""
    from streams.kafka.admin import bootstrap_of, create_topics

    settings = current_settings()

    created = create_topics(
        bootstrap_of(settings.kafka_url), settings.partitions, settings.replication_factor
    )
    click.echo(f"created: {', '.join(created) or 'none (all exist)'}")
