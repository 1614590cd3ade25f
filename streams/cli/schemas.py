"""``signalbank schemas export``: the JSON Schemas of every topic, written or checked for staleness."""

from __future__ import annotations

import click
from faust.cli.base import cli

from streams.cli.errors import Failure, Group


@cli.group(name="schemas", cls=Group)
def schemas_group() -> None:
    """JSON Schemas of every topic."""


@schemas_group.command(name="export")
@click.option("--check", is_flag=True, help="Fail if the files on disk differ from the models.")
def schemas_export(check: bool) -> None:
    """Write schemas/json/<topic>.json from the pydantic models."""
    from schemas.export import SCHEMA_DIR, export_schemas, render_schemas

    if check:
        stale = [
            name
            for name, text in render_schemas().items()
            if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            raise Failure(f"stale JSON Schemas: {', '.join(stale)}; run `signalbank schemas export`")
        click.echo("JSON Schemas are up to date")
        return
    for path in export_schemas():
        click.echo(f"wrote {path}")
