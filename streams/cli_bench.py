"""``signalbank bench``: the end-to-end benchmark (bench/e2e.py) from the installed command line."""

from __future__ import annotations

import click
from faust.cli.base import cli


@cli.command(
    name="bench",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_command(args: tuple[str, ...]) -> None:
    """Worker vs Faust consume-only and per-event baselines, latency, Redis memory (--help: options)."""
    from bench.e2e import main

    main(list(args))
