"""``signalbank topics create``: the contract's topics on the configured broker.

The Compose stack's ``topics-init`` job runs exactly this, so the topics it creates, with their
partitions, compaction and retention, come from the catalogue (``streams/kafka/topics.py``).
"""

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
    """Create every input, output and control topic that is missing."""
    from streams.kafka.admin import bootstrap_of, create_topics
    from streams.kafka.topics import topic_spec

    settings = current_settings()

    created = create_topics(
        bootstrap_of(settings.kafka_url), settings.partitions, settings.replication_factor
    )
    for name in created:
        spec = topic_spec(name)
        configs = " ".join(f"{key}={value}" for key, value in spec.configs().items())
        partitions = spec.partitions_for(settings.partitions)
        click.echo(f"{name}: {partitions} partitions, replication {settings.replication_factor}, {configs}")
    click.echo(f"created: {', '.join(created) or 'none (all exist)'}")
