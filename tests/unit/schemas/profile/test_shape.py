"""The shape of a day bucket and the windows: the invariants the Lua script and the view rely on."""

from __future__ import annotations

from schemas.inputs import TransactionKind
from schemas.profile.delta import build_update
from schemas.profile.shape import METRIC_COUNT, MONEY_METRICS, WINDOWS, Metric
from tests.support.profile_events import tx


def test_metrics_are_dense_positions_of_a_bucket() -> None:
    assert sorted(m.value for m in Metric) == list(range(METRIC_COUNT))


def test_money_metrics_are_metrics_and_counts_are_not_money() -> None:
    assert set(Metric) >= MONEY_METRICS
    counts = {m for m in Metric if m.name.endswith(("_COUNT", "_N"))} | {
        Metric.ACTIVE,
        Metric.OFFERS_ACCEPTED,
        Metric.OFFERS_DECLINED,
    }
    assert not counts & MONEY_METRICS


def test_every_money_metric_holds_cents() -> None:
    """An amount of 12.34 shows up as 1234 in each money metric a transaction sets."""
    seen: set[Metric] = set()
    for kind in TransactionKind:
        update = build_update(tx(1, 0, kind, "12.34", bank="OTHER", balance="12.34"), "SIGNALBANK")
        for metric in MONEY_METRICS:
            if update.increments[metric]:
                assert update.increments[metric] == 1234, (kind, metric)
                seen.add(metric)
    assert seen == MONEY_METRICS


def test_windows_are_ascending_whole_days_starting_at_one() -> None:
    assert list(WINDOWS) == sorted(set(WINDOWS))
    assert WINDOWS[0] == 1 and all(isinstance(w, int) and w > 0 for w in WINDOWS)
