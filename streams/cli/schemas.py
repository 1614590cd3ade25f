"""``signalbank schemas export``: the JSON Schemas and the AsyncAPI document of every topic, written or
checked for staleness."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from faust.cli.base import cli

from streams.cli.errors import Failure, Group

if TYPE_CHECKING:
    from schemas.export import TopicLayout


def topic_layouts() -> dict[str, TopicLayout]:
    """How each topic is created on a broker (streams/kafka/topics.py), for the AsyncAPI bindings."""
    from schemas.export import TopicLayout
    from streams.kafka.topics import topic_specs

    return {
        spec.name: TopicLayout(spec.compacted, spec.retention_ms, spec.partitions) for spec in topic_specs()
    }


def rendered_contracts() -> dict[Path, str]:
    """Every contract file -> its text as the catalogue and the models render it now."""
    from schemas.export import ASYNCAPI_PATH, SCHEMA_DIR, render_asyncapi, render_schemas

    files = {SCHEMA_DIR / name: text for name, text in render_schemas().items()}
    files[ASYNCAPI_PATH] = render_asyncapi(topic_layouts())
    return files


@cli.group(name="schemas", cls=Group)
def schemas_group() -> None:
    """JSON Schemas and the AsyncAPI document of every topic."""


@schemas_group.command(name="export")
@click.option("--check", is_flag=True, help="Fail if the files on disk differ from the models.")
def schemas_export(check: bool) -> None:
    """Write schemas/json/<topic>.json and schemas/asyncapi.yaml from the catalogue and the models."""
    from schemas.export import export_asyncapi, export_schemas

    if check:
        stale = [
            path.name
            for path, text in rendered_contracts().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            raise Failure(f"stale contracts: {', '.join(stale)}; run `signalbank schemas export`")
        click.echo("JSON Schemas and the AsyncAPI document are up to date")
        return
    for path in (*export_schemas(), export_asyncapi(topic_layouts())):
        click.echo(f"wrote {path}")
