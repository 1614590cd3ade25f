"""Send a batch's outputs and wait until the broker has them all, counting what it refused.

A failed send fails the delivery (the batch is then not acknowledged, so not committed); before
that, every failure is counted by topic in ``signalbank_output_send_errors_total``, which is what
operators alert on: the log says why, the counter says that outputs are not getting out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from agents.metrics import Metrics
from agents.outputs import OutputRecord


async def send_all(topics: Mapping[str, Any], outputs: Sequence[OutputRecord], metrics: Metrics) -> None:
    """Send every output to its Faust topic, then wait for all the broker's acknowledgements."""
    pending: list[tuple[str, Awaitable[Any]]] = []
    for output in outputs:
        try:
            pending.append(
                (output.topic, await topics[output.topic].send(key=output.key, value=output.encoded()))
            )
        except Exception:
            metrics.send_errors.labels(output.topic).inc()
            raise
    if not pending:
        return
    results = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
    failures = [
        (topic, result)
        for (topic, _), result in zip(pending, results, strict=True)
        if isinstance(result, BaseException)
    ]
    for topic, _ in failures:
        metrics.send_errors.labels(topic).inc()
    if failures:
        raise failures[0][1]
