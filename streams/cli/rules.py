"""``signalbank rules``: check, test, explain and publish rule files; regenerate the authors' guide.

An invalid rule file is reported the same way by every command here (and by ``replay --rules``):
``streams.cli.errors`` prints its problems, exit 2.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings, profile_store
from streams.cli.errors import BadInput, Failure, Group, bad_input
from streams.cli.options import at_option, rules_option
from streams.runtime import load_churn_model


@cli.group(name="rules", cls=Group)
def rules_group() -> None:
    """Check rule files."""


@rules_group.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_check(paths: tuple[Path, ...]) -> None:
    """Validate rule files; print each problem as file:line:column: message."""
    from rules.load.ruleset import load_ruleset

    settings = current_settings()

    ruleset = load_ruleset(list(paths) or [settings.rules_dir])
    click.echo(
        f"ok: ruleset {ruleset.version}: {len(ruleset.churn_rules)} churn rules, "
        f"{len(ruleset.offers)} offers in {len(ruleset.files)} file(s)"
    )


@rules_group.command(name="test")
@rules_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_test(rules_dir: Path | None, paths: tuple[Path, ...]) -> None:
    """Run rule tests (default: the rules folder's tests/); PASS/FAIL per case, exit 1 on a failure."""
    from rules.load.ruleset import load_ruleset
    from rules.tools.testing import run_suite

    settings = current_settings()

    folder = rules_dir or settings.rules_dir
    load_ruleset([folder])  # invalid rules are bad input (exit 2), not a failing test
    passed = run_suite(folder, list(paths), lambda text, err: click.echo(text, err=err))
    if not passed:
        raise Failure("the rule tests did not all pass")


@rules_group.command(name="publish")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_publish(paths: tuple[Path, ...]) -> None:
    """Validate rule files, then publish them to every worker (signalbank.rules.v1); no restart."""
    from kafka.errors import KafkaError

    from rules.load.problems import RulesetError
    from streams.control.publication import load_paths, publication_of, publish
    from streams.kafka.admin import bootstrap_of

    settings = current_settings()

    try:
        ruleset, sources = load_paths(list(paths) or [settings.rules_dir])
    except RulesetError as exc:
        raise bad_input(exc, "nothing published") from exc
    publication = publication_of(ruleset, sources)
    try:
        bootstrap = bootstrap_of(settings.kafka_url)
        offset = publish(bootstrap, publication, replication=settings.replication_factor)
    except KafkaError as exc:
        raise Failure(f"could not publish ruleset {ruleset.version}: {exc!r}") from exc
    click.echo(
        f"published ruleset {ruleset.version} ({len(ruleset.conditions)} rules and offers "
        f"in {len(sources)} file(s), offset {offset})"
    )


@rules_group.command(name="explain")
@click.argument("customer_id")
@at_option
@rules_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rules_explain(customer_id: str, at: int | None, rules_dir: Path | None, as_json: bool) -> None:
    """Why the rules conclude what they do for a customer now (a silence check, no cooldowns)."""
    from agents.lookup import explain_customer
    from rules.load.ruleset import load_ruleset
    from rules.tools.explain import Explanation, parse_at, render_text

    settings = current_settings()

    now_ms = parse_at(None) if at is None else at
    ruleset = load_ruleset([rules_dir or settings.rules_dir])

    async def read() -> Explanation | None:
        async with profile_store(settings) as store:
            return await explain_customer(
                store, ruleset, customer_id, now_ms, load_churn_model(settings.churn_model)
            )

    explanation = asyncio.run(read())
    if explanation is None:
        raise Failure(f"no profile for {customer_id}")
    click.echo(json.dumps(explanation.as_json(), indent=2) if as_json else render_text(explanation))


@rules_group.command(name="docs")
@click.option("--check", is_flag=True, help="Fail if the document differs from the generated content.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Default: docs/rules.md.",
)
def rules_docs(check: bool, path: Path | None) -> None:
    """Regenerate the field and key tables of the rule authors' guide from the catalogue and models."""
    from rules.tools.catalogue import DOC_PATH, REGENERATE, update_document

    path = path or DOC_PATH
    text = path.read_text(encoding="utf-8")
    try:
        updated = update_document(text)
    except ValueError as exc:
        raise BadInput([f"{path}: {exc}"]) from exc
    if check:
        if updated != text:
            raise Failure(f"{path} is stale: run `{REGENERATE}`")
        click.echo(f"{path} is up to date")
    elif updated != text:
        path.write_text(updated, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(f"{path} is up to date")
