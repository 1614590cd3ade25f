"""What a command runs with: the settings the entry point read, reached through click's context,
and the profile store those settings point at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import click

from streams.settings import Settings

if TYPE_CHECKING:
    from sinks.redis.profiles import ProfileStore


def current_settings() -> Settings:
    """The settings of the app this command line was started for (``streams.cli.main``)."""
    root = click.get_current_context().find_root()
    app = getattr(root, "app", None)
    settings = getattr(app, "settings", None)
    if not isinstance(settings, Settings):  # a command invoked without our entry point (tests)
        return Settings()
    return settings


@asynccontextmanager
async def profile_store(settings: Settings) -> AsyncIterator[ProfileStore]:
    """The customers' profiles in the settings' Redis, the connection closed afterwards."""
    from streams.config import connect_redis

    redis = connect_redis(settings)
    try:
        yield redis.profiles
    finally:
        await redis.aclose()
