"""Silence is a signal: customers who stop transacting are re-evaluated without an event (real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.decode import RawRecord
from agents.outputs import OutputRecord, stable_id
from agents.silence import check_id, first_checks, following_check
from rules.load.ruleset import Ruleset
from schemas.catalog import OFFERS
from schemas.outputs import ChurnAlert, CustomerSignal, NextBestOffer
from sinks.redis.state import RedisState
from tests.support.quiet_customer import DAY, DAY_MS, LAST, LAST_MS, make, salary_records
from tests.support.redis_state import make_checks, with_state
from tests.support.story import BASE, encoded, master


def alerts(outputs: list[OutputRecord]) -> list[ChurnAlert]:
    return [o.value for o in outputs if isinstance(o.value, ChurnAlert)]


def test_processing_schedules_a_check_one_period_after_the_latest_activity(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        records = salary_records()
        await make(state, ruleset, LAST - timedelta(days=15)).process(records[:-1])
        assert await state.schedule.next_check("QUIET") == LAST_MS - 15 * DAY_MS + DAY_MS
        await make(state, ruleset).process(records[-1:])
        assert await state.schedule.next_check("QUIET") == LAST_MS + DAY_MS
        # a late event (older than the latest) and a re-delivery do not move the check earlier
        await make(state, ruleset).process(records[:2])
        assert await state.schedule.next_check("QUIET") == LAST_MS + DAY_MS

    with_state(redis_url, body)


def test_a_backlog_is_not_judged_silent_before_the_grace(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        processed_at = LAST + timedelta(days=40)  # the history arrives 40 days late, all at once
        await make(state, ruleset, processed_at, grace=timedelta(hours=1)).process(salary_records())
        assert await state.schedule.next_check("QUIET") == LAST_MS + (40 * 24 + 1) * 3_600_000

    with_state(redis_url, body)


def test_quiet_customer_gets_salary_stopped_then_dormant_alerts_from_checks_alone(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        assert not alerts(await pipeline.process(salary_records()))

        now = LAST + timedelta(days=40)
        first = await pipeline.check(["QUIET"], now)
        [alert] = alerts(first.outputs)
        assert [r.rule_id for r in alert.reasons] == ["churn.salary_stopped"]
        assert alert.level.value == "elevated"
        assert alert.reasons[0].message == "No salary for 40 days after 4 salaries in 90 days"
        assert (
            alert.trigger_event_id
            == "check:2026-04-15"
            == check_id(LAST_MS, int(now.timestamp() * 1000), DAY)
        )
        assert alert.alert_id == stable_id("alert", "QUIET", alert.trigger_event_id, ruleset.version)
        assert alert.occurred_at == now
        assert first.next_checks == {"QUIET": LAST_MS + 41 * DAY_MS}

        # the same check again (a retry after a crash) re-emits at most the same alert, never a new one
        again = await pipeline.check(["QUIET"], now + timedelta(minutes=3))
        assert {a.alert_id for a in alerts(again.outputs)} <= {alert.alert_id}
        # the next day's check is still inside the 14-day cooldown at the same level
        assert not alerts((await pipeline.check(["QUIET"], now + DAY)).outputs)

        # 61 days without activity: dormant joins, the level rises, a new alert goes out
        later = LAST + timedelta(days=61)
        [dormant] = alerts((await pipeline.check(["QUIET"], later)).outputs)
        assert [r.rule_id for r in dormant.reasons] == ["churn.salary_stopped", "churn.dormant"]
        assert dormant.level.value == "high"
        assert dormant.trigger_event_id == f"check:{later.date()}"

    with_state(redis_url, body)


def test_a_check_can_send_a_retention_offer_with_no_trigger_event(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        topic, consent = master("QUIET", consent=True)
        consenting = RawRecord(topic, 0, 99, b"QUIET", encoded((topic, consent)))
        await pipeline.process([consenting, *salary_records()])
        now = LAST + timedelta(days=40)
        [offer] = [o.value for o in (await pipeline.check(["QUIET"], now)).outputs if o.topic == OFFERS]
        assert isinstance(offer, NextBestOffer)
        assert (offer.offer_id, offer.channel) == ("offer.retention_fee_waiver", "call_centre")
        assert offer.trigger_event_id == "check:2026-04-15" and offer.expires_at == now + timedelta(days=30)

    with_state(redis_url, body)


def test_due_customers_are_taken_checked_and_rescheduled(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        checks = make_checks(pipeline, state)
        await pipeline.process(salary_records())
        now = LAST + timedelta(days=40)
        due = await checks.take_due(now, 10, timedelta(seconds=60))
        assert due.customer_ids == ("QUIET",)
        result = await pipeline.check(due.customer_ids, now)
        assert len(alerts(result.outputs)) == 1
        await checks.settle(result, due.leased_until_ms)
        assert await state.schedule.next_check("QUIET") == LAST_MS + 41 * DAY_MS
        assert not (await checks.take_due(now + timedelta(hours=1), 10, timedelta(seconds=60))).customer_ids

    with_state(redis_url, body)


def test_customers_without_profile_or_quiet_past_the_cap_leave_the_schedule(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        checks = make_checks(pipeline, state)
        await pipeline.process(salary_records())
        await state.schedule.schedule({"GONE": 1})
        near_cap = LAST + timedelta(days=399, hours=1)
        due = await checks.take_due(near_cap, 10, timedelta(seconds=60))
        assert sorted(due.customer_ids) == ["GONE", "QUIET"]
        result = await pipeline.check(due.customer_ids, near_cap)
        assert result.next_checks == {"GONE": None, "QUIET": LAST_MS + 400 * DAY_MS}
        await checks.settle(result, due.leased_until_ms)
        assert await state.schedule.next_check("GONE") is None

        at_cap = LAST + timedelta(days=400)
        due = await checks.take_due(at_cap, 10, timedelta(seconds=60))
        result = await pipeline.check(due.customer_ids, at_cap)
        assert result.next_checks == {"QUIET": None}
        await checks.settle(result, due.leased_until_ms)
        assert await state.schedule.next_check("QUIET") is None

    with_state(redis_url, body)


def test_read_many_reads_every_profile_as_of_a_time(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        await make(state, ruleset).process(salary_records("P1") + salary_records("P2")[:2])
        as_of = LAST_MS + 10 * DAY_MS
        p1, missing, p2 = await state.profiles.read_many(["P1", "NOBODY", "P2"], as_of)
        assert p1.state["last_ts"] == str(LAST_MS) and not missing.state
        assert p2.state["last_ts"] == str(int((BASE + timedelta(days=15, hours=1)).timestamp() * 1000))
        assert (await state.profiles.read("P1", as_of)).sums == p1.sums

    with_state(redis_url, body)


def test_check_ids_are_per_period_since_the_latest_activity() -> None:
    last = int(datetime(2026, 3, 6, 23, 30, tzinfo=UTC).timestamp() * 1000)
    assert check_id(last, last + 40 * DAY_MS, DAY) == "check:2026-04-15"
    assert check_id(last, last + 40 * DAY_MS + DAY_MS - 1, DAY) == "check:2026-04-15"  # retried past midnight
    assert check_id(last, last - 1, DAY) == "check:2026-03-06"


def test_first_checks_wait_a_period_and_the_grace_and_leave_out_customers_quiet_past_the_cap() -> None:
    now = LAST_MS + 3_600_000
    latest = {"RECENT": now - 60_000, "BACKLOG": now - 30 * DAY_MS, "ANCIENT": now - 500 * DAY_MS}
    due = first_checks(latest, now, DAY, timedelta(hours=2), timedelta(days=400))
    assert due == {"RECENT": now - 60_000 + DAY_MS, "BACKLOG": now + 2 * 3_600_000}


def test_following_check_is_the_next_whole_period_until_the_cap() -> None:
    cap = timedelta(days=400)
    assert following_check(LAST_MS, LAST_MS + 40 * DAY_MS + 5, DAY, cap) == LAST_MS + 41 * DAY_MS
    assert following_check(LAST_MS, LAST_MS + 399 * DAY_MS, DAY, cap) == LAST_MS + 400 * DAY_MS
    assert following_check(LAST_MS, LAST_MS + 400 * DAY_MS, DAY, cap) is None


def test_silence_checks_judge_tags_too_a_quiet_payer_loses_salary_payer_and_turns_dormant(
    redis_url: str, ruleset: Ruleset
) -> None:
    def tags(outputs: list[OutputRecord]) -> list[tuple[str | None, str | None, str]]:
        found = [o.value for o in outputs if isinstance(o.value, CustomerSignal) and o.value.kind == "tag"]
        return [(s.tag, s.tag_change, s.trigger_event_id) for s in found]

    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        assert ("salary_payer", "gained") in [t[:2] for t in tags(await pipeline.process(salary_records()))]
        now = LAST + timedelta(days=40)  # no salary for 40 days: the condition stopped holding
        first = await pipeline.check(["QUIET"], now)
        assert tags(first.outputs) == [("salary_payer", "lost", "check:2026-04-15")]
        assert tags((await pipeline.check(["QUIET"], now + timedelta(minutes=3))).outputs) == tags(
            first.outputs
        )
        assert (
            tags((await pipeline.check(["QUIET"], now + DAY)).outputs) == []
        )  # lost stays lost, unannounced
        later = await pipeline.check(["QUIET"], LAST + timedelta(days=91))
        assert [t[:2] for t in tags(later.outputs)] == [("dormant", "gained")]

    with_state(redis_url, body)
