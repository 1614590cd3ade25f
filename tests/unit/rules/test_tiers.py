"""Value tiers with hysteresis: up at once, down only after the hold, never flapping at a threshold."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from agents.decode import RawRecord
from agents.outputs import OutputRecord
from rules.evaluate.engine import evaluate
from rules.evaluate.tiers import TierState, decide
from rules.load.ruleset import Ruleset
from schemas.catalog import TIER_CHANGES, TRANSACTIONS
from schemas.outputs import TierChange
from schemas.profile.delta import MS_PER_DAY
from tests.support.pipeline_story import process
from tests.support.story import BASE
from tests.unit.rules.test_engine import context


def decision_for(ruleset: Ruleset, current: TierState | None, now_day: int, **profile: Any) -> Any:
    ctx = context(**profile)
    evaluation = evaluate(ruleset, ctx["profile"], ctx["event"])
    return decide(ruleset, evaluation, current, now_day * MS_PER_DAY, f"change-{now_day}")


def test_first_tier_is_announced_only_above_the_default(ruleset: Ruleset) -> None:
    rich = decision_for(ruleset, None, 0, balance_avg_90d=80000.0)
    assert rich.state.tier == "affluent" and rich.changed_to.tier == "affluent" and rich.previous is None
    ordinary = decision_for(ruleset, None, 0, balance_avg_90d=800.0)
    assert ordinary.state.tier == "mass" and ordinary.changed_to is None


def test_down_only_after_the_hold_and_hovering_never_flaps(ruleset: Ruleset) -> None:
    affluent = TierState("affluent", 2, 0, "c0", "mass")
    # between the stay line (40,000) and the entry line (50,000): nothing changes
    assert decision_for(ruleset, affluent, 1, balance_avg_90d=45000.0).state is None
    below = decision_for(ruleset, affluent, 10, balance_avg_90d=30000.0)
    assert below.state == TierState("affluent", 2, 10 * MS_PER_DAY, "c0", "mass") and below.changed_to is None
    marked = below.state
    assert decision_for(ruleset, marked, 23, balance_avg_90d=30000.0).state is None  # 13 days: hold on
    back = decision_for(ruleset, marked, 20, balance_avg_90d=41000.0)  # stay holds again: mark cleared
    assert back.state == affluent
    down = decision_for(ruleset, marked, 24, balance_avg_90d=30000.0)  # 14 days below
    assert down.state.tier == "mass" and down.changed_to.tier == "mass" and down.previous == "affluent"
    up = decision_for(ruleset, TierState("mass", 1, 0, "", ""), 30, balance_avg_90d=300000.0)
    assert up.changed_to.tier == "private" and up.state.below_since_ms == 0


def deposit(day: int, balance: int) -> RawRecord:
    body = {
        "event_id": f"T-{day}",
        "customer_id": "T",
        "occurred_at": (BASE + timedelta(days=day, hours=9)).isoformat(),
        "account_id": "T-A",
        "kind": "deposit",
        "amount": "10.00",
        "currency": "EUR",
        "channel": "branch",
        "balance_after": f"{balance}.00",
    }
    return RawRecord(TRANSACTIONS, 0, day, b"T", json.dumps(body).encode())


def changes(outputs: list[OutputRecord]) -> list[tuple[str | None, str, str, str]]:
    found = [o.value for o in outputs if o.topic == TIER_CHANGES]
    assert all(isinstance(c, TierChange) for c in found)
    return [
        (c.old_tier, c.new_tier, c.direction, c.trigger_event_id) for c in found if isinstance(c, TierChange)
    ]


def test_balance_falling_through_the_threshold_changes_the_tier_once_each_way(
    redis_url: str, ruleset: Ruleset
) -> None:
    # 10 days at 60,000, then 30,000 a day: the 90-day average passes 50,000, hovers between the
    # lines for weeks (no change), falls under the stay line of 40,000 on day 30 and after 14 more
    # days below it the customer goes down.
    records = [deposit(day, 60000 if day < 10 else 30000) for day in range(60)]
    outputs = process(redis_url, ruleset, [records[i : i + 7] for i in range(0, len(records), 7)])
    assert changes(outputs) == [(None, "affluent", "up", "T-0"), ("affluent", "mass", "down", "T-44")]
    down = [o.value for o in outputs if isinstance(o.value, TierChange)][1]
    # a downgrade is explained by the old tier's stay condition that failed, with its values
    assert set(down.evidence) == {
        "profile.balance_avg_90d",
        "profile.salary_amount_90d",
        "profile.value_score",
    }
    assert float(str(down.evidence["profile.value_score"])) < 60  # the value-score path stays shut too
    assert float(str(down.evidence["profile.balance_avg_90d"])) < 40000
    assert down.message.startswith("Below the affluent tier's stay condition for 14 days")
    # the same events again (a redelivery) change nothing and announce nothing new
    again = process(redis_url, ruleset, [records])
    assert {c[3] for c in changes(again)} <= {"T-0", "T-44"}


def test_the_tier_keeps_when_it_was_entered_through_marks_and_changes(ruleset: Ruleset) -> None:
    first = decision_for(ruleset, None, 3, balance_avg_90d=80000.0).state
    assert first.since_ms == 3 * MS_PER_DAY
    marked = decision_for(ruleset, first, 10, balance_avg_90d=30000.0).state  # below since day 10
    assert (marked.below_since_ms, marked.since_ms) == (10 * MS_PER_DAY, 3 * MS_PER_DAY)
    down = decision_for(ruleset, marked, 30, balance_avg_90d=30000.0).state
    assert (down.tier, down.since_ms) == ("mass", 30 * MS_PER_DAY)


def test_a_stored_tier_without_its_time_of_entry_is_still_read_and_keeps_it_unknown(ruleset: Ruleset) -> None:
    legacy = TierState.decode("affluent|2|0|c0|mass")
    assert legacy == TierState("affluent", 2, 0, "c0", "mass", 0)
    assert TierState.decode(TierState("gold", 3, 5, "c1", "mass", 77).encode()) == TierState(
        "gold", 3, 5, "c1", "mass", 77
    )
    assert TierState.decode("gold|3") is None
    marked = decision_for(ruleset, legacy, 10, balance_avg_90d=30000.0).state
    assert marked.since_ms == 0 and marked.encode().endswith("|0")
