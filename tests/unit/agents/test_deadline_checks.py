"""Complaint SLA alerts on time: an open complaint puts deadline checks in the schedule, and a round
of checks sends the warning and the breach stamped at their deadlines, with no event (real Redis)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from agents.deadlines import MS_PER_HOUR, deadline_check_id
from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.pipeline import Pipeline, PipelineConfig
from agents.times import epoch_ms
from rules.load.ruleset import Ruleset
from schemas.catalog import SERVICE_ALERTS
from schemas.outputs import CustomerSignal
from sinks.redis.keys import schedule_key
from sinks.redis.state import RedisState
from tests.support.quiet_customer import make
from tests.support.redis_state import make_checks, with_state
from tests.support.story import BASE, encoded, interaction

OPENED = BASE + timedelta(days=1, hours=2)  # the story's interactions happen at hour 2
OPENED_MS = epoch_ms(OPENED)
LEASE = timedelta(seconds=60)


def complaint(customer: str, n: str, day: int, kind: str, reference: str) -> RawRecord:
    message = interaction(customer, n, day, kind, reference=reference)
    return RawRecord(message[0], 0, day, customer.encode(), encoded(message))


def service_alerts(outputs: list[OutputRecord]) -> list[CustomerSignal]:
    return [o.value for o in outputs if o.topic == SERVICE_ALERTS and isinstance(o.value, CustomerSignal)]


async def members(state: RedisState, customer: str) -> dict[str, int]:
    client = state.client
    found: dict[str, int] = {}
    for hours in (0, 36, 48, 121):
        member = customer if hours == 0 else f"{customer}@{OPENED_MS + hours * MS_PER_HOUR}"
        score = await client.zscore(schedule_key(member), member)
        if score is not None:
            found[member] = int(score)
    return found


def test_an_open_complaint_schedules_a_check_at_each_age_a_rule_compares(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        await make(state, ruleset, OPENED + timedelta(minutes=1)).process(
            [complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1")]
        )
        due = await members(state, "GRUMPY")
        assert due == {
            "GRUMPY": OPENED_MS + 24 * MS_PER_HOUR,  # the daily silence check, as before
            f"GRUMPY@{OPENED_MS + 36 * MS_PER_HOUR}": OPENED_MS + 36 * MS_PER_HOUR,  # the warning
            f"GRUMPY@{OPENED_MS + 48 * MS_PER_HOUR}": OPENED_MS + 48 * MS_PER_HOUR,  # the SLA
            f"GRUMPY@{OPENED_MS + 121 * MS_PER_HOUR}": OPENED_MS + 121 * MS_PER_HOUR,  # churn: > 120 h
        }

    with_state(redis_url, body)


def test_warning_and_breach_are_stamped_at_their_deadlines_though_checked_late(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset, OPENED + timedelta(minutes=1))
        checks = make_checks(pipeline, state)
        await pipeline.process([complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1")])
        sent: list[OutputRecord] = []

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            sent.extend(outputs)

        # just before the warning: nothing due but the daily check at 24 h
        await checks.round(OPENED + timedelta(hours=36) - timedelta(seconds=1), 100, LEASE, deliver)
        assert not service_alerts(sent)
        # a round 3 s after the warning point, then one much later (a replay's watermark jumps)
        await checks.round(OPENED + timedelta(hours=36, seconds=3), 100, LEASE, deliver)
        [warning] = service_alerts(sent)
        assert warning.rule_id == "service.complaint_sla_warning"
        assert warning.occurred_at == OPENED + timedelta(hours=36)
        assert warning.trigger_event_id == deadline_check_id(OPENED_MS + 36 * MS_PER_HOUR)
        await checks.round(OPENED + timedelta(hours=70), 100, LEASE, deliver)
        [_, breach] = service_alerts(sent)
        assert breach.rule_id == "service.complaint_sla_breached"
        assert breach.occurred_at == OPENED + timedelta(hours=48)
        assert breach.message == "Complaint CMP-1 open for 48 hours (SLA 48 hours)"
        # each deadline is checked once; the churn rule's (121 h) is still ahead
        assert set(await members(state, "GRUMPY")) == {"GRUMPY", f"GRUMPY@{OPENED_MS + 121 * MS_PER_HOUR}"}
        # a retried round (the same deadlines again, after a crash) re-emits nothing new
        again = await pipeline.check([f"GRUMPY@{OPENED_MS + 48 * MS_PER_HOUR}"], OPENED + timedelta(hours=71))
        assert {a.signal_id for a in service_alerts(again.outputs)} <= {breach.signal_id}

    with_state(redis_url, body)


def test_deadlines_passed_between_two_events_of_one_batch_are_stamped_at_their_deadlines(
    redis_url: str, ruleset: Ruleset
) -> None:
    """A replay's batch holds the complaint and the customer's next event 3 days later: no check
    was ever scheduled for the 36 h and 48 h points, yet both alerts go out stamped at them (not at
    the later event), once; a redelivered batch sends no new ones. The worker's pipeline (batches
    of live traffic) leaves the later event to judge, as a backlog's grace does."""
    clock = OPENED + timedelta(days=3, minutes=1)

    async def body(state: RedisState) -> None:
        config = PipelineConfig("SIGNALBANK", timedelta(days=1), check_grace=timedelta(0))
        pipeline = Pipeline(state, lambda: ruleset, Metrics(), config, lambda: clock, event_time=True)
        batch = [
            complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1"),
            complaint("GRUMPY", "c2", 4, "login", "none"),  # 72 hours later
        ]
        alerts = service_alerts(await pipeline.process(batch))
        assert [(a.rule_id, a.occurred_at) for a in alerts] == [
            ("service.complaint_sla_warning", OPENED + timedelta(hours=36)),
            ("service.complaint_sla_breached", OPENED + timedelta(hours=48)),
        ]
        assert [a.trigger_event_id for a in alerts] == [
            deadline_check_id(OPENED_MS + hours * MS_PER_HOUR) for hours in (36, 48)
        ]
        # only the deadline still ahead of the latest event is scheduled
        assert set(await members(state, "GRUMPY")) == {"GRUMPY", f"GRUMPY@{OPENED_MS + 121 * MS_PER_HOUR}"}
        again = service_alerts(await pipeline.process(batch))
        assert {a.signal_id for a in again} <= {a.signal_id for a in alerts}

    async def worker(state: RedisState) -> None:
        batch = [
            complaint("SULKY", "c1", 1, "complaint_opened", "CMP-2"),
            complaint("SULKY", "c2", 4, "login", "none"),
        ]
        alerts = service_alerts(await make(state, ruleset, clock).process(batch))
        assert alerts and {a.occurred_at for a in alerts} == {OPENED + timedelta(hours=72)}

    with_state(redis_url, body)
    with_state(redis_url, worker)


def test_deadlines_passed_between_two_batches_of_a_replay_are_stamped_at_their_deadlines(
    redis_url: str, ruleset: Ruleset
) -> None:
    """A replay's next batch starts 3 days after the complaint's: the checks after the first batch
    ran to its watermark (nothing due), so the 36 h and 48 h points are evaluated before the
    customer's next event, on the state before it, and leave the schedule: the checks after the
    second batch send nothing more."""
    watermark = [OPENED]

    async def body(state: RedisState) -> None:
        config = PipelineConfig("SIGNALBANK", timedelta(days=1))
        pipeline = Pipeline(state, lambda: ruleset, Metrics(), config, lambda: watermark[0], event_time=True)
        checks = make_checks(pipeline, state)
        sent: list[OutputRecord] = []

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            sent.extend(outputs)

        sent.extend(await pipeline.process([complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1")]))
        await checks.round(watermark[0], 100, LEASE, deliver)
        pipeline.checked(watermark[0])
        assert not service_alerts(sent)
        watermark[0] = OPENED + timedelta(hours=72)
        sent.extend(await pipeline.process([complaint("GRUMPY", "c2", 4, "login", "none")]))
        assert [(a.rule_id, a.occurred_at) for a in service_alerts(sent)] == [
            ("service.complaint_sla_warning", OPENED + timedelta(hours=36)),
            ("service.complaint_sla_breached", OPENED + timedelta(hours=48)),
        ]
        assert set(await members(state, "GRUMPY")) == {"GRUMPY", f"GRUMPY@{OPENED_MS + 121 * MS_PER_HOUR}"}
        while (await checks.round(watermark[0], 100, LEASE, deliver)).taken:
            pass
        assert len(service_alerts(sent)) == 2

    with_state(redis_url, body)


def test_a_resolved_complaint_sends_nothing_at_its_deadline(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset, OPENED + timedelta(hours=30))
        await pipeline.process(
            [
                complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1"),
                complaint("GRUMPY", "c2", 2, "complaint_resolved", "CMP-1"),  # a day later
            ]
        )
        # the resolving event came after the complaint's 24 h point: its later deadlines stay scheduled
        member = f"GRUMPY@{OPENED_MS + 48 * MS_PER_HOUR}"
        result = await pipeline.check([member], OPENED + timedelta(hours=49))
        assert not service_alerts(result.outputs)
        assert result.next_checks == {member: None}

    with_state(redis_url, body)


def test_deadline_checks_on_a_redis_cluster(redis_cluster_url: str, ruleset: Ruleset) -> None:
    """A deadline member lives in the shard of its own name, on another master than its customer's."""

    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset, OPENED + timedelta(minutes=1))
        await pipeline.process([complaint("GRUMPY", "c1", 1, "complaint_opened", "CMP-1")])
        sent: list[OutputRecord] = []

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            sent.extend(outputs)

        done = await make_checks(pipeline, state).round(OPENED + timedelta(hours=49), 100, LEASE, deliver)
        assert done.taken == 3  # the daily check and the 36 h and 48 h deadlines
        stamped = {a.rule_id: a.occurred_at - OPENED for a in service_alerts(sent)}
        assert stamped == {
            "service.complaint_sla_warning": timedelta(hours=36),
            "service.complaint_sla_breached": timedelta(hours=48),
        }
        assert set(await members(state, "GRUMPY")) == {"GRUMPY", f"GRUMPY@{OPENED_MS + 121 * MS_PER_HOUR}"}

    with_state(redis_cluster_url, body)
