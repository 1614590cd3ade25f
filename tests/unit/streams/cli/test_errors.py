"""The one error path: what is printed for bad input, and that every command of ours takes it."""

from __future__ import annotations

import click
import pytest
from faust.cli.base import cli
from pydantic import ValidationError

from rules.load.problems import RuleProblem, RulesetError
from streams.cli.errors import BAD_INPUT, FAILURE, BadInput, Command, Failure, Group, bad_input
from streams.settings import Settings

PROBLEM = RuleProblem("churn.yaml", 12, 5, "rules.3.weight: Input should be less than or equal to 1")


def test_bad_input_prints_each_problem_then_the_count(capsys: pytest.CaptureFixture[str]) -> None:
    error = BadInput([PROBLEM, "b.yaml:1:1: x"], "nothing published")
    error.show()
    assert capsys.readouterr().err.splitlines() == [
        "churn.yaml:12:5: rules.3.weight: Input should be less than or equal to 1",
        "b.yaml:1:1: x",
        "2 problem(s) found; nothing published",
    ]
    assert error.exit_code == BAD_INPUT == 2
    assert Failure("no profile").exit_code == FAILURE == 1


def test_a_wrapped_ruleset_error_is_reported_as_its_problems() -> None:
    try:
        try:
            raise RulesetError([PROBLEM])
        except RulesetError as exc:
            raise ValueError(f"invalid ruleset in rules/:\n{exc}") from exc
    except ValueError as wrapped:
        assert bad_input(wrapped).lines() == [str(PROBLEM), "1 problem(s) found"]
    assert bad_input(ValueError("not empty")).lines() == ["not empty", "1 problem(s) found"]


def test_settings_problems_name_the_variable() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(partitions=0, web_port="x")
    assert bad_input(info.value).problems == [
        "SIGNALBANK_WEB_PORT: Input should be a valid integer, unable to parse string as an integer",
        "SIGNALBANK_PARTITIONS: Input should be greater than or equal to 1",
    ]


def test_every_command_of_ours_reports_through_the_error_path() -> None:
    import streams.cli.backtest
    import streams.cli.dev
    import streams.cli.profile
    import streams.cli.rules
    import streams.cli.schemas
    import streams.cli.simulate
    import streams.cli.topics

    assert streams.cli.backtest and streams.cli.dev and streams.cli.profile and streams.cli.rules
    assert streams.cli.schemas and streams.cli.simulate and streams.cli.topics

    def leaves(command: click.Command) -> list[click.Command]:
        if isinstance(command, click.Group):
            assert isinstance(command, Group), command.name
            return [leaf for sub in command.commands.values() for leaf in leaves(sub)]
        return [command]

    ours = {
        name: command
        for name, command in cli.commands.items()
        if command.callback is not None and command.callback.__module__.startswith("streams.cli.")
    }
    assert set(ours) == {"schemas", "rules", "topics", "profile", "dev", "simulate", "churn", "replay"}
    for command in ours.values():
        for leaf in leaves(command):
            assert isinstance(leaf, Command), leaf.name
