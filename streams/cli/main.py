"""The ``signalbank`` entry point: read the settings once, build the worker, run Faust's command line.

Our commands join Faust's own (``signalbank worker`` beside ``signalbank dev``), one module per
command group; each reads the settings read here through ``streams.cli.context`` and reports its
errors through ``streams.cli.errors``.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from pydantic import ValidationError

from streams.settings import Settings


def _settings() -> Settings:
    """The ``SIGNALBANK_*`` settings; invalid ones are reported like any bad input (exit 2)."""
    from streams.cli.errors import bad_input

    try:
        return Settings()
    except ValidationError as exc:
        error = bad_input(exc)
        error.show()
        sys.exit(error.exit_code)


def main() -> NoReturn:
    """Console entry point: registers our commands with Faust's CLI, then runs it for the worker app."""
    import streams.cli.agents
    import streams.cli.backtest
    import streams.cli.dev
    import streams.cli.profile
    import streams.cli.rules
    import streams.cli.schemas
    import streams.cli.simulate
    import streams.cli.topics
    import streams.cli.web
    from streams.worker import build_worker

    registered = (  # importing registers
        streams.cli.agents,
        streams.cli.backtest,
        streams.cli.dev,
        streams.cli.profile,
        streams.cli.rules,
        streams.cli.schemas,
        streams.cli.simulate,
        streams.cli.topics,
        streams.cli.web,
    )
    assert all(registered)
    build_worker(_settings()).main()
