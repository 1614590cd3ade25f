"""The ``signalbank`` entry point: read the settings once, build the worker, run Faust's command line.

Our commands join Faust's own (``signalbank worker`` beside ``signalbank dev``); each reads the
settings read here through ``streams.cli.context``.
"""

from __future__ import annotations

from typing import NoReturn

from streams.settings import Settings


def main() -> NoReturn:
    """Console entry point: registers our commands with Faust's CLI, then runs it for the worker app."""
    import streams.cli.backtest
    import streams.cli.commands
    from streams.worker import build_worker

    registered = (streams.cli.commands, streams.cli.backtest)  # importing registers
    assert all(registered)
    build_worker(Settings()).main()
