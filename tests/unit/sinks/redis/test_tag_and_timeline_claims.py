"""Tag-set and timeline claims on a real Redis: what claim.lua stores and answers for each.

Tags: a tag is gained when it starts holding and lost when it stops, each change answered once; the
same trigger again gets its own changes back (same ids), a duplicate never makes new ones, a tag
not judged stays. Timeline: newest first, bounded, an id already there is not added again, and an
output's entry only when the claim it needs was granted.
"""

from __future__ import annotations

import hashlib

from sinks.redis.claims import (
    AnyClaim,
    Claim,
    ClaimReply,
    TagChange,
    TagClaim,
    TimelineWrite,
    decode_tag_set,
    pack,
)
from sinks.redis.history import read_history
from sinks.redis.keys import TAGS_FIELD, cooldown_key, timeline_key
from sinks.redis.state import RedisState
from sinks.redis.timeline import TagChangesNote, TimelineEvent, TimelineNote, TimelineOutput
from tests.support.redis_state import with_state

DAY = 86_400_000
T0 = 20_000 * DAY


def tag_id(customer: str, tag: str, change: str, trigger: str, version: str = "v1") -> str:
    """The id claim.lua gives a tag change (its header): sha1 of the parts, 32 hex digits."""
    return hashlib.sha1(f"tag|{customer}|{tag}|{change}|{trigger}|{version}".encode()).hexdigest()[:32]


def tags(trigger: str, at: int, *holding: str, unjudged: tuple[str, ...] = (), dup: bool = False) -> TagClaim:
    return TagClaim("C9", trigger, at, tuple(sorted(holding)), unjudged, "v1", dup)


async def stored_tags(state: RedisState) -> dict[str, int]:
    raw = await state.client.hget(cooldown_key("C9"), TAGS_FIELD)
    return decode_tag_set(str(raw) if raw is not None else None)


async def one(state: RedisState, claim: TagClaim | TimelineWrite | Claim) -> ClaimReply:
    (reply,) = await state.claims.claim([claim])
    return reply


def test_tag_and_timeline_claims_pack_where_the_script_reads_them() -> None:
    fields = pack(tags("E1", 5, "b", "a", unjudged=("c",)))[1].split("\t")
    assert pack(tags("E1", 5))[0] == cooldown_key("C9")
    assert (fields[0], fields[1], fields[2], fields[6], fields[8]) == (TAGS_FIELD, "E1", "5", "0", "tags")
    assert fields[9:] == ["a,b", "c", "C9", "v1"]
    event = TimelineEvent(5, "transaction", "E1", "card_payment 1.00 EUR")
    note = TimelineNote(2, TimelineOutput(5, "signal", "S1", "care x"))
    write = TimelineWrite("C9", 5, 3, 4, event, (note, TagChangesNote(1, 5)))
    key, argument = pack(write)
    fields = argument.split("\t")
    assert key == timeline_key("C9")
    assert fields[8:] == ["tl", "3", "4", event.encode(), "2|5|signal|S1|care x", "1|T|5"]


def test_a_tag_is_gained_when_it_starts_holding_and_lost_when_it_stops(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        gained = await one(state, tags("E1", T0, "salary_payer", "digital_first"))
        assert gained == ClaimReply(
            True,
            tags=(
                TagChange("digital_first", True, tag_id("C9", "digital_first", "gained", "E1")),
                TagChange("salary_payer", True, tag_id("C9", "salary_payer", "gained", "E1")),
            ),
        )
        # held: never announced again, however often it holds
        for n in range(2, 5):
            assert await one(state, tags(f"E{n}", T0 + n, "salary_payer", "digital_first")) == ClaimReply(
                False, new=False
            )
        lost = await one(state, tags("E5", T0 + DAY, "salary_payer"))
        assert lost.tags == (TagChange("digital_first", False, tag_id("C9", "digital_first", "lost", "E5")),)
        assert await stored_tags(state) == {"salary_payer": T0}  # since it was gained

    with_state(redis_url, body)


def test_the_same_trigger_gets_its_own_changes_back_and_a_duplicate_makes_none(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        first = await one(state, tags("E1", T0, "investor"))
        assert first.new and first.granted
        again = await one(state, tags("E1", T0, "investor"))  # a retried batch: re-emitted, same id
        assert (again.granted, again.new, again.tags) == (True, False, first.tags)
        assert (await one(state, tags("E1", T0, "investor", dup=True))).tags == first.tags
        # a re-delivered event that changed nothing changes nothing, even where the tags now differ
        assert await one(state, tags("E0", T0, dup=True)) == ClaimReply(False, new=False)
        assert await stored_tags(state) == {"investor": T0}

    with_state(redis_url, body)


def test_a_tag_not_judged_is_kept_and_a_tag_no_rule_defines_is_lost(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        await one(state, tags("E1", T0, "a", "b"))
        # b's rule failed to evaluate: b is neither lost nor gained
        assert (await one(state, tags("E2", T0 + 1, "a", unjudged=("b",)))).tags == ()
        assert (await one(state, tags("E3", T0 + 2, "a"))).tags == (
            TagChange("b", False, tag_id("C9", "b", "lost", "E3")),
        )

    with_state(redis_url, body)


def test_the_timeline_is_newest_first_bounded_and_adds_an_id_once(redis_url: str) -> None:
    def event(n: int) -> TimelineEvent:
        return TimelineEvent(T0 + n * DAY, "interaction", f"E{n}", "login web")

    async def body(state: RedisState) -> None:
        for n in (1, 2, 4, 3, 5, 6):  # E3 arrives late
            await one(state, TimelineWrite("C9", T0, 4, 4, event(n), ()))
        await one(state, TimelineWrite("C9", T0, 4, 4, event(5), ()))  # re-delivered
        await one(state, TimelineWrite("C9", T0, 4, 4, event(1), ()))  # too old for a full list
        history = await read_history(state.client, "C9")
        assert [e.event_id for e in history.events] == ["E6", "E5", "E4", "E3"]
        assert history.events[0] == event(6)

    with_state(redis_url, body)


def test_an_id_found_inside_another_entry_is_still_added_and_a_list_of_one_stays_one(redis_url: str) -> None:
    """claim.lua adds the usual newest entry without splitting the list; whenever the id appears
    anywhere in it (a prefix of another id, a kind), or the entry is not the newest, it compares
    entry by entry as before."""

    def event(n: int, event_id: str, kind: str = "interaction") -> TimelineEvent:
        return TimelineEvent(T0 + n * DAY, kind, event_id, "login web")

    async def body(state: RedisState) -> None:
        for n, event_id in ((1, "E12"), (2, "E1"), (3, "interaction"), (4, "E")):
            await one(state, TimelineWrite("C9", T0, 3, 4, event(n, event_id), ()))
        await one(state, TimelineWrite("C9", T0, 3, 4, event(5, "E1"), ()))  # known: not again
        history = await read_history(state.client, "C9")
        assert [e.event_id for e in history.events] == ["E", "interaction", "E1"]
        await one(state, TimelineWrite("C9", T0, 1, 4, event(6, "E6"), ()))
        assert [e.event_id for e in (await read_history(state.client, "C9")).events] == ["E6"]

    with_state(redis_url, body)


def test_an_output_enters_the_timeline_only_when_its_claim_was_granted(redis_url: str) -> None:
    def output(name: str) -> TimelineOutput:
        return TimelineOutput(T0, "signal", name, f"care {name}")

    async def body(state: RedisState) -> None:
        await state.client.hset(cooldown_key("C9"), "rule:held", f"{T0 + DAY}|other|0")
        claims: list[AnyClaim] = [
            Claim("C9", "rule:free", "free", T0, T0 + DAY),
            Claim("C9", "rule:held", "held", T0, T0 + DAY),  # in cooldown: refused
            tags("E1", T0, "investor"),
            TimelineWrite(
                "C9",
                T0,
                5,
                5,
                None,
                (
                    TimelineNote(3, output("free")),  # the claim 3 places before this one
                    TimelineNote(2, output("held")),
                    TimelineNote(9, output("nowhere")),  # no such claim in the call: not granted
                    TimelineNote(0, output("always")),
                    TagChangesNote(1, T0),
                ),
            ),
        ]
        replies = await state.claims.claim(claims)
        assert [r.granted for r in replies] == [True, False, True, True]
        history = await read_history(state.client, "C9")
        assert history.events == ()
        ids = [o.output_id for o in history.outputs]
        investor = tag_id("C9", "investor", "gained", "E1")
        assert sorted(ids) == sorted(["free", "always", investor])
        assert next(o for o in history.outputs if o.output_id == investor).summary == "tag gained investor"
        assert history.tags == {"investor": T0}

    with_state(redis_url, body)


def test_on_a_cluster_each_customers_notes_read_their_own_claims(redis_cluster_url: str) -> None:
    """One batch of many customers over every master: the calls are split by slot, and each
    timeline note still points at its own customer's claim (the offsets hold within a slot's call)."""
    customers = [f"K{n}" for n in range(30)]

    def plan(customer: str, n: int) -> list[AnyClaim]:
        held = TimelineOutput(T0, "signal", f"{customer}-care", "care x")
        return [
            Claim(customer, "rule:care", f"{customer}-care", T0, T0 + DAY),
            TagClaim(customer, f"{customer}-E", T0, ("investor",) if n % 2 else (), (), "v1"),
            TimelineWrite(
                customer,
                T0,
                5,
                5,
                TimelineEvent(T0, "interaction", f"{customer}-E", "login web"),
                (TimelineNote(2, held), TagChangesNote(1, T0)),
            ),
        ]

    async def body(state: RedisState) -> None:
        await state.claims.claim([claim for n, c in enumerate(customers) for claim in plan(c, n)])
        for n, customer in enumerate(customers):
            history = await read_history(state.client, customer)
            expected = {f"{customer}-care"} | (
                {tag_id(customer, "investor", "gained", f"{customer}-E")} if n % 2 else set()
            )
            assert {o.output_id for o in history.outputs} == expected, customer
            assert [e.event_id for e in history.events] == [f"{customer}-E"]

    with_state(redis_cluster_url, body)


def test_the_timeline_is_one_string_events_then_outputs_each_topic_named_by_its_kind(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        alert = TimelineOutput(T0, "churn_alert", "A1", "high 0.80")
        await one(state, TimelineWrite("C9", T0, 5, 5, None, (TimelineNote(0, alert),)))
        assert await state.client.get(timeline_key("C9")) == f"\n\n{T0}|churn_alert|A1|high 0.80"
        event = TimelineEvent(T0, "transaction", "E1", "deposit 10.00 EUR")
        await one(state, TimelineWrite("C9", T0, 5, 5, event, ()))
        history = await read_history(state.client, "C9")
        assert (history.events, history.outputs) == ((event,), (alert,))
        assert [o.topic for o in history.outputs] == ["signalbank.churn-alerts.v1"]
        assert TimelineOutput(T0, "mystery", "X", "").topic == ""

    with_state(redis_url, body)
