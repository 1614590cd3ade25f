"""``signalbank web``: logins to the worker's customer pages and its staff page."""

from __future__ import annotations

import click
from faust.cli.base import cli

from streams.cli.errors import Group


@cli.group(name="web", cls=Group)
def web_group() -> None:
    """Logins to the worker's customer pages."""


@web_group.command(name="token")
@click.argument("user")
def web_token(user: str) -> None:
    """Print a new random token for USER and the user:hash entry for SIGNALBANK_WEB_TOKENS."""
    from streams.access import new_token, token_line
    from streams.cli.context import current_settings
    from streams.web import STAFF_PATH

    if ":" in user or "," in user or not user.strip():
        raise click.BadParameter("a user name without ':' or ','", param_hint="USER")
    token = new_token()
    click.echo(f"token (give it to {user}; it is not stored anywhere): {token}")
    click.echo(f"add to SIGNALBANK_WEB_TOKENS (comma-separated): {token_line(user, token)}")
    settings = current_settings()
    click.echo(
        f"staff page: http://{settings.web_bind}:{settings.web_port}{STAFF_PATH} (log in as {user} with "
        "the token; for the API: -H 'Authorization: Bearer <token>' or curl -u USER:TOKEN)"
    )
