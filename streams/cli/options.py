"""Options shared by several commands, so each is spelled, checked and explained the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

LEVELS = ("watch", "elevated", "high", "critical")


class IsoTime(click.ParamType):
    """An ISO 8601 time (naive means UTC) as epoch milliseconds; a bad one is a usage error."""

    name = "ISO time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from rules.tools.explain import parse_at

        if isinstance(value, int):
            return value
        try:
            return parse_at(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def at_option(command: F) -> F:
    """``--at ISO``: read a customer as of this time instead of now (epoch ms, or None for now)."""
    return click.option(
        "--at",
        "at",
        type=IsoTime(),
        default=None,
        help="As of this ISO time (default: now), e.g. 2026-03-01T09:00Z.",
    )(command)


def rules_option(command: F) -> F:
    """``--rules DIR``: a rules folder other than the settings' one."""
    return click.option(
        "--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="Rules folder."
    )(command)


def min_level_option(help_text: str) -> Callable[[F], F]:
    """``--min-level``: the lowest churn level that counts (default high, the flagging level)."""
    return click.option(
        "--min-level", type=click.Choice(LEVELS), default="high", show_default=True, help=help_text
    )


def horizon_option(low: int, help_text: str) -> Callable[[F], F]:
    """``--horizon DAYS`` (default 90, at most two years), as ``horizon_days``."""
    return click.option(
        "--horizon",
        "horizon_days",
        type=click.IntRange(low, 730),
        default=90,
        show_default=True,
        help=help_text,
    )
