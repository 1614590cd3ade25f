"""What a command runs with: the settings the entry point read, reached through click's context."""

from __future__ import annotations

import click

from streams.settings import Settings


def current_settings() -> Settings:
    """The settings of the app this command line was started for (``streams.cli.main``)."""
    root = click.get_current_context().find_root()
    app = getattr(root, "app", None)
    settings = getattr(app, "settings", None)
    if not isinstance(settings, Settings):  # a command invoked without our entry point (tests)
        return Settings()
    return settings
