"""The shipped churn model without its fitted probability, for tests of the rules themselves.

Tests that check what the rules conclude (their weights, levels and cooldowns: the Kafka story, the
silence timer, replay parity) score churn by the rules' noisy-OR; the fitted probability has tests
of its own (tests/unit/agents/test_outputs.py, tests/unit/streams/backtest/test_churn_fit.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.profile.bgnbd import BgNbdParams
from streams.settings import DEFAULT_CHURN_MODEL


def rules_only() -> BgNbdParams:
    """The shipped BG/NBD parameters (p_alive), no fitted probability."""
    return BgNbdParams.load(DEFAULT_CHURN_MODEL).model_copy(update={"probability": None})


def use_rules_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write ``rules_only()`` into ``folder`` and make it the churn model of this process's settings
    and of the workers it starts (they copy the environment)."""
    path = folder / "churn_model.json"
    rules_only().save(path)
    monkeypatch.setenv("SIGNALBANK_CHURN_MODEL", str(path))
    return path
