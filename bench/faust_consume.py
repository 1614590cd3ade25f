"""Baseline 1, Faust's own ceiling: a Faust worker with Faust's default settings that only consumes
the input topics and decodes each value (Faust's default JSON codec), one event at a time.

Started by ``bench/e2e.py`` as ``python -m bench.faust_consume worker``; nothing to run by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bench.progress import BaselineSettings, Progress, baseline_app
from schemas.catalog import INPUT_TOPICS

settings = BaselineSettings()
app = baseline_app(settings)
progress = Progress(settings.expected, settings.result_path)


@app.agent(app.topic(*INPUT_TOPICS))
async def consume(stream: Any) -> AsyncIterator[None]:
    """Decode (Faust's JSON) and count: the least any Faust consumer of these topics does."""
    async for _value in stream:
        progress.tick()
        yield None


if __name__ == "__main__":
    app.main()
