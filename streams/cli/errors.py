"""The one way every ``signalbank`` command reports a mistake or a failure, and its exit code.

* Bad input, exit 2: invalid rule files, invalid ``SIGNALBANK_*`` settings, bad values. Each
  problem is one ``where: message`` line on stderr (``file:line:column: message`` for rules, the
  variable's name for settings), then a count line. Click's own usage errors (an unknown option, a
  value of the wrong type, a bad ``--at`` time) exit 2 as well.
* Failure, exit 1: the input was fine but the work did not succeed (a broker or Redis unreachable,
  no profile for a customer, a failing rule test, stale generated files): ``Error: message``.

Commands raise ``BadInput`` or ``Failure``, or let a ``RulesetError``, an invalid ``Settings`` or a
Kafka or Redis connection error through: ``Command`` turns those into the two above, so no command
prints its own errors or picks its own exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

import click
from kafka.errors import KafkaError
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rules.load.problems import RulesetError
from streams.settings import Settings

#: The user's input is wrong: fix it and run again.
BAD_INPUT = 2
#: The input was fine; the work failed (a server, a missing customer, a failing test, stale files).
FAILURE = 1


class BadInput(click.ClickException):
    """Problems in what the user gave us, printed one a line, then how many were found."""

    exit_code = BAD_INPUT

    def __init__(self, problems: Sequence[object], consequence: str = "") -> None:
        self.problems = [str(p) for p in problems]
        self.consequence = consequence
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        count = f"{len(self.problems)} problem(s) found"
        return [*self.problems, f"{count}; {self.consequence}" if self.consequence else count]

    def show(self, file: IO[Any] | None = None) -> None:
        for line in self.lines():
            click.echo(line, file=file, err=file is None)


class Failure(click.ClickException):
    """The work did not succeed although the input was valid; ``Error: message`` on stderr."""

    exit_code = FAILURE


def settings_problems(exc: ValidationError) -> list[str]:
    """Each invalid setting under the variable that set it (``SIGNALBANK_PARTITIONS: ...``).

    The value itself is left out: a URL may carry a password and these lines end up in CI logs.
    """
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [
        f"{prefix}{str(error['loc'][0]).upper() if error['loc'] else ''}: {error['msg']}"
        for error in exc.errors()
    ]


def bad_input(exc: BaseException, consequence: str = "") -> BadInput:
    """The problems behind ``exc``: a RulesetError's (also when another error wraps it), or its text."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RulesetError):
            return BadInput(cause.problems, consequence)
        if isinstance(cause, ValidationError) and cause.title == Settings.__name__:
            return BadInput(settings_problems(cause), consequence)
        cause = cause.__cause__
    return BadInput([str(exc)], consequence)


def _reported(exc: Exception) -> click.ClickException | None:
    """What ``exc`` means to the user, or None for an error we did not expect (a bug: traceback)."""
    if isinstance(exc, RulesetError) or (isinstance(exc, ValidationError) and exc.title == Settings.__name__):
        return bad_input(exc)
    if isinstance(exc, KafkaError):
        return Failure(f"Kafka: {exc!r} (is the broker in SIGNALBANK_KAFKA_URL up?)")
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return Failure(f"Redis: {exc} (is the Redis server up?)")
    return None


class Command(click.Command):
    """Every signalbank command: the errors it lets through are reported the one way above."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            reported = _reported(exc)
            if reported is None:
                raise
            raise reported from exc


class Group(click.Group):
    """A command group whose commands (and subgroups) are ``Command``s."""

    command_class = Command
    group_class = type
