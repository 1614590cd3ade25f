"""Backtesting commands: fit the churn model and replay event files through the rules."""

from __future__ import annotations

from pathlib import Path

import click
from faust.cli.base import cli


@cli.group(name="churn")
def churn_group() -> None:
    """The BG/NBD churn model behind ``profile.p_alive``."""


@churn_group.command(name="fit")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Parameters file."
)
def churn_fit(files: tuple[Path, ...], out: Path) -> None:
    """Fit the model's four population parameters from event history (JSONL files) by maximum likelihood."""
    from streams.churn_fit import fit_files

    try:
        result = fit_files(list(files))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    result.params.save(out)
    p = result.params
    click.echo(
        f"fitted on {p.customers} customers ({result.events} events, {result.skipped} invalid lines skipped, "
        f"{result.customers_without_activity} customers without activity left out)"
    )
    click.echo(
        f"r={p.r:.4g} alpha={p.alpha:.4g} a={p.a:.4g} b={p.b:.4g} log-likelihood={p.log_likelihood:.1f}"
    )
    click.echo(f"wrote {out}")
