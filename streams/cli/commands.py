"""Our command-line commands, registered on Faust's own CLI so ``signalbank worker`` and
``signalbank dev`` live side by side under one program."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from faust.cli.base import cli

from streams.cli.context import current_settings
from streams.runtime import load_churn_model
from streams.sim.simulator import Scenario


@cli.group(name="schemas")
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
            raise click.ClickException(
                f"stale JSON Schemas: {', '.join(stale)}; run `signalbank schemas export`"
            )
        click.echo("JSON Schemas are up to date")
        return
    for path in export_schemas():
        click.echo(f"wrote {path}")


@cli.group(name="rules")
def rules_group() -> None:
    """Check rule files."""


@rules_group.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_check(paths: tuple[Path, ...]) -> None:
    """Validate rule files; print each problem as file:line:column: message."""
    from rules.load.problems import RulesetError
    from rules.load.ruleset import load_ruleset

    settings = current_settings()

    try:
        ruleset = load_ruleset(list(paths) or [settings.rules_dir])
    except RulesetError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found", err=True)
        sys.exit(1)
    click.echo(
        f"ok: ruleset {ruleset.version}: {len(ruleset.churn_rules)} churn rules, "
        f"{len(ruleset.offers)} offers in {len(ruleset.files)} file(s)"
    )


@rules_group.command(name="test")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="Rules folder.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_test(rules_dir: Path | None, paths: tuple[Path, ...]) -> None:
    """Run rule tests (default: the rules folder's tests/); PASS/FAIL per case, exit 1 on a failure."""
    from rules.tools.testing import run_suite

    settings = current_settings()

    passed = run_suite(
        rules_dir or settings.rules_dir, list(paths), lambda text, err: click.echo(text, err=err)
    )
    if not passed:
        sys.exit(1)


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
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing published", err=True)
        sys.exit(1)
    publication = publication_of(ruleset, sources)
    try:
        bootstrap = bootstrap_of(settings.kafka_url)
        offset = publish(bootstrap, publication, replication=settings.replication_factor)
    except KafkaError as exc:
        raise click.ClickException(f"could not publish ruleset {ruleset.version}: {exc!r}") from exc
    click.echo(
        f"published ruleset {ruleset.version} ({len(ruleset.conditions)} rules and offers "
        f"in {len(sources)} file(s), offset {offset})"
    )


@rules_group.command(name="explain")
@click.argument("customer_id")
@click.option("--at", "at", default=None, help="As of this ISO time (default: now), e.g. 2026-03-01T09:00Z.")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="Rules folder.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rules_explain(customer_id: str, at: str | None, rules_dir: Path | None, as_json: bool) -> None:
    """Why the rules conclude what they do for a customer now (a silence check, no cooldowns)."""
    from agents.lookup import explain_customer
    from rules.load.problems import RulesetError
    from rules.load.ruleset import load_ruleset
    from rules.tools.explain import Explanation, parse_at, render_text
    from sinks.redis.client import connect
    from sinks.redis.profiles import ProfileStore

    settings = current_settings()

    try:
        now_ms = parse_at(at)
        ruleset = load_ruleset([rules_dir or settings.rules_dir])
    except (ValueError, RulesetError) as exc:
        raise click.ClickException(str(exc)) from exc

    async def read() -> Explanation | None:
        client = connect(settings.redis_url)
        try:
            store = ProfileStore(client, settings.retention_days, settings.dedupe_capacity)
            return await explain_customer(
                store, ruleset, customer_id, now_ms, load_churn_model(settings.churn_model)
            )
        finally:
            await client.aclose()

    explanation = asyncio.run(read())
    if explanation is None:
        raise click.ClickException(f"no profile for {customer_id}")
    click.echo(json.dumps(explanation.as_json(), indent=2) if as_json else render_text(explanation))


@rules_group.command(name="docs")
@click.option("--check", is_flag=True, help="Fail if the document differs from the generated content.")
@click.option("--file", "path", type=click.Path(path_type=Path), default=None, help="Default: docs/rules.md.")
def rules_docs(check: bool, path: Path | None) -> None:
    """Regenerate the field and key tables of the rule authors' guide from the catalogue and models."""
    from rules.tools.catalogue import DOC_PATH, REGENERATE, update_document

    path = path or DOC_PATH
    text = path.read_text(encoding="utf-8")
    try:
        updated = update_document(text)
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if check:
        if updated != text:
            raise click.ClickException(f"{path} is stale: run `{REGENERATE}`")
        click.echo(f"{path} is up to date")
    elif updated != text:
        path.write_text(updated, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(f"{path} is up to date")


@cli.group(name="topics")
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


@cli.command(name="profile")
@click.argument("customer_id")
def profile_command(customer_id: str) -> None:
    """Print a customer's current profile from Redis as JSON."""
    from agents.lookup import read_profile
    from schemas.profile.view import Profile
    from sinks.redis.client import connect
    from sinks.redis.profiles import ProfileStore

    settings = current_settings()

    async def read() -> Profile | None:
        client = connect(settings.redis_url)
        try:
            store = ProfileStore(client, settings.retention_days, settings.dedupe_capacity)
            return await read_profile(store, customer_id, load_churn_model(settings.churn_model))
        finally:
            await client.aclose()

    profile = asyncio.run(read())
    if profile is None:
        raise click.ClickException(f"no profile for {customer_id}")
    click.echo(json.dumps(profile, indent=2, sort_keys=True))


def _scenario_options(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option("--customers", default=200, show_default=True, help="Simulated customers."),
            click.option("--days", default=120, show_default=True, help="Days of history to simulate."),
            click.option(
                "--seed", default=7, show_default=True, help="Random seed (same seed, same traffic)."
            ),
            click.option(
                "--start",
                type=click.DateTime(["%Y-%m-%d"]),
                default=None,
                help="First day of the scenario (default: DAYS before today).",
            ),
            click.option(
                "--invalid-ratio",
                default=0.002,
                show_default=True,
                help="Share of deliberately broken messages (to show dead-lettering).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _scenario(customers: int, days: int, seed: int, start: datetime | None, invalid_ratio: float) -> Scenario:
    return Scenario(
        customers=customers,
        days=days,
        seed=seed,
        start=start.replace(tzinfo=UTC) if start else None,
        invalid_ratio=invalid_ratio,
    )


@cli.command(name="dev")
@click.option("--seconds", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C).")
@click.option(
    "--kafka", "kafka_url", default=None, help="Use this broker (kafka://host:port) instead of Tansu."
)
@click.option(
    "--redis", "redis_url", default=None, help="Use this Redis (redis://...) instead of an embedded one."
)
@click.option("--rate", type=float, default=1500.0, show_default=True, help="Events per second (0 = max).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="Rules folder.")
@_scenario_options
def dev_command(
    seconds: float | None,
    kafka_url: str | None,
    redis_url: str | None,
    rate: float,
    rules_dir: Path | None,
    customers: int,
    days: int,
    seed: int,
    start: datetime | None,
    invalid_ratio: float,
) -> None:
    """Run broker, Redis, worker and simulated traffic on this machine; print alerts and offers."""
    from streams.dev.run import DevOptions, run_dev

    settings = current_settings()

    scenario = _scenario(customers, days, seed, start, invalid_ratio)
    options = DevOptions(
        seconds, kafka_url, redis_url, scenario, rate or None, settings.partitions, rules_dir
    )
    sys.exit(run_dev(options))


@cli.command(name="simulate")
@click.option("--rate", type=float, default=0.0, show_default=True, help="Events per second (0 = max).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write JSONL files here instead of producing to Kafka.",
)
@_scenario_options
def simulate_command(
    rate: float,
    out_dir: Path | None,
    customers: int,
    days: int,
    seed: int,
    start: datetime | None,
    invalid_ratio: float,
) -> None:
    """Generate realistic bank traffic: to Kafka (SIGNALBANK_KAFKA_URL) or to JSONL files."""
    from streams.kafka.admin import bootstrap_of
    from streams.sim.simulator import generate, ground_truth, produce, write_jsonl

    settings = current_settings()

    scenario = _scenario(customers, days, seed, start, invalid_ratio)
    if out_dir is not None:
        counts = write_jsonl(generate(scenario), out_dir)
        (out_dir / "truth.json").write_text(json.dumps(ground_truth(scenario), default=str, indent=1))
    else:
        counts = produce(generate(scenario), bootstrap_of(settings.kafka_url), rate or None)
    for name, count in sorted(counts.items()):
        click.echo(f"{name}: {count}")
