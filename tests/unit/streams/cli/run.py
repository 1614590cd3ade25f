"""The command line as users call it: a real ``signalbank`` process, its exit code and its output."""

from __future__ import annotations

import os
import subprocess
import sys

from streams.dev.embedded import free_port

#: Rule file text with one problem: ``bad.yaml:5:19: rules.0.when: unknown field profile.nope``.
BAD_RULE = (
    "rules:\n  - id: churn.x\n    kind: churn\n    description: d\n    when: profile.nope > 1.0\n"
    "    weight: 0.2\n    reason: r\n"
)


def nowhere() -> dict[str, str]:
    """Settings pointing Kafka and Redis at closed loopback ports: any contact with them fails fast."""
    return {
        "SIGNALBANK_KAFKA_URL": f"kafka://127.0.0.1:{free_port()}",
        "SIGNALBANK_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }


def signalbank(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``signalbank ARGS`` (``python -m streams``) with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
