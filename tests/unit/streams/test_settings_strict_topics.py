"""``SIGNALBANK_STRICT_TOPICS``: a comma-separated list of input topics, checked, down to the pipeline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.catalog import CUSTOMERS, SIGNALS, TRANSACTIONS
from streams.config import pipeline_config
from streams.settings import Settings


def test_strict_topics_come_from_a_comma_separated_variable_down_to_the_pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNALBANK_STRICT_TOPICS", f"{TRANSACTIONS}, {CUSTOMERS}")
    settings = Settings()
    assert settings.strict_topics == (TRANSACTIONS, CUSTOMERS)
    assert pipeline_config(settings).strict_topics == frozenset({TRANSACTIONS, CUSTOMERS})


def test_no_topic_is_strict_by_default() -> None:
    assert pipeline_config(Settings()).strict_topics == frozenset()


@pytest.mark.parametrize("value", ["bank.transaction.v1", SIGNALS])
def test_a_name_that_is_not_an_input_topic_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SIGNALBANK_STRICT_TOPICS", value)
    with pytest.raises(ValidationError, match="not input topics"):
        Settings()
