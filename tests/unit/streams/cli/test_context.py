"""What a command runs with: the settings of the app on click's root context (the entry point puts it
there, as Faust's command line does), the defaults without one, and the profile store they point at."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
import redis
from click.testing import CliRunner

from schemas.common import Channel
from schemas.inputs import Interaction, InteractionKind
from schemas.profile.delta import build_update
from streams.app import create_app
from streams.cli.context import current_settings, profile_store
from streams.settings import Settings

OURS = Settings(app_id="context-test", partitions=7, rules_dir=Path("/srv/rules"))


def test_outside_our_entry_point_the_settings_are_the_defaults() -> None:
    with click.Context(click.Command("rules")):
        assert current_settings() == Settings()


def test_a_command_reads_the_settings_of_the_app_on_the_root_context() -> None:
    root = click.Context(click.Group("signalbank"))
    # what Faust's command line does with the app it runs for
    root.app = create_app(OURS)  # type: ignore[attr-defined]
    group = click.Context(click.Group("rules"), parent=root)
    with root, group, click.Context(click.Command("check"), parent=group):
        assert current_settings() is OURS


def test_an_app_without_our_settings_gives_the_defaults() -> None:
    root = click.Context(click.Group("signalbank"))
    root.app = SimpleNamespace(settings={"app_id": "not settings"})  # type: ignore[attr-defined]
    with root, click.Context(click.Command("check"), parent=root):
        assert current_settings() == Settings()


def test_a_command_invoked_under_a_root_carrying_the_app_prints_its_settings() -> None:
    @click.group()
    @click.pass_context
    def signalbank(ctx: click.Context) -> None:
        ctx.find_root().app = create_app(OURS)  # type: ignore[attr-defined]

    @signalbank.command()
    def show() -> None:
        settings = current_settings()
        click.echo(f"{settings.app_id} {settings.partitions} {settings.rules_dir}")

    result = CliRunner().invoke(signalbank, ["show"])
    assert result.exit_code == 0, result.output
    assert result.output == "context-test 7 /srv/rules\n"


def test_no_command_running_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        current_settings()


def clients(url: str) -> int:
    """Connections the Redis server has, besides this one."""
    inspector = redis.Redis.from_url(url)
    try:
        return len(inspector.client_list()) - 1
    finally:
        inspector.close()


def test_the_profile_store_is_the_settings_redis_and_is_closed_afterwards(redis_url: str) -> None:
    before = clients(redis_url)
    login = Interaction(
        event_id="l1",
        customer_id="C1",
        occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        kind=InteractionKind.LOGIN,
        channel=Channel.MOBILE,
    )

    async def use() -> tuple[str, int]:
        async with profile_store(Settings(redis_url=redis_url)) as store:
            await store.apply([build_update(login, "SIGNALBANK")])
            read = await store.read("C1")
            return read.state["last_ts"], clients(redis_url)

    last_ts, during = asyncio.run(use())
    assert int(last_ts) == int(login.occurred_at.timestamp() * 1000)
    assert during == before + 1
    deadline = time.monotonic() + 2
    while clients(redis_url) != before:
        assert time.monotonic() < deadline, "the store's connection was left open"
        time.sleep(0.02)
