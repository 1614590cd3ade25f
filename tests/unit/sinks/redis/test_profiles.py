"""The Redis profile store against a real Redis: windows, late events, duplicates, trimming, the ring."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import cast

import msgpack
import redis

from agents.decode import RawRecord
from agents.decode import decode as decode_event
from schemas.catalog import INTERACTIONS, TRANSACTIONS
from schemas.common import Channel
from schemas.inputs import InputEvent, Interaction, InteractionKind, Transaction, TransactionKind
from schemas.money import RateTable
from schemas.outputs import DeadLetter
from schemas.profile.delta import build_update
from schemas.profile.shape import METRIC_COUNT, WINDOWS, Metric
from schemas.profile.view import build_profile
from sinks.redis.keys import cooldown_key, customer_keys, profile_key
from sinks.redis.profile_state import ProfileState, decode
from sinks.redis.profiles import StoredProfile
from tests.support.profile_events import DAY0, apply, apply_read_at, login, ring_of, sha1_prefix, tx
from tests.support.redis_state import make_state


def profile_after(url: str, events: list[InputEvent]) -> dict[str, object]:
    results = asyncio.run(apply(make_state(url), events))
    last = results[-1]
    return build_profile("C1", last.state, last.sums, int(last.state["last_ts"]))


def stored_state(url: str, customer: str = "C1") -> ProfileState:
    client = redis.Redis.from_url(url)
    try:
        return decode(cast(bytes, client.get(profile_key(customer))))[1]
    finally:
        client.close()


def test_windows_sum_by_event_time_day(redis_url: str) -> None:
    profile = profile_after(
        redis_url,
        [
            tx(1, 0, TransactionKind.SALARY_CREDIT, "3000.00", balance="3000.00"),
            tx(2, 40, TransactionKind.SALARY_CREDIT, "3000.00", balance="5000.00"),
            tx(3, 65, TransactionKind.TRANSFER_OUT, "1000.00", bank="REVOLUT", balance="4000.00"),
            tx(4, 70, TransactionKind.CARD_PAYMENT, "20.50", balance="3979.50"),
            tx(5, 70.2, TransactionKind.TRANSFER_OUT, "100.00", bank="SIGNALBANK", balance="3879.50"),
        ],
    )
    assert profile["txn_count_1d"] == 2.0
    assert profile["txn_count_7d"] == 3.0  # days 64..70
    assert profile["txn_count_30d"] == 3.0  # day 40 is 30 days before day 70: outside (ages 0..29)
    assert profile["txn_count_90d"] == 5.0
    assert profile["inflow_90d"] == 6000.0
    assert profile["outflow_30d"] == 1120.5
    assert profile["outflow_other_bank_30d"] == 1000.0  # the internal transfer is not "other bank"
    assert profile["salary_count_90d"] == 2.0
    assert profile["days_since_salary"] == 30  # whole days: 30.2 days ago
    assert profile["balance_last"] == 3879.5
    assert profile["card_spend_7d"] == 20.5
    assert profile["net_flow_90d"] == 6000.0 - 1120.5


def test_late_event_lands_in_its_own_day_and_keeps_newest_balance(redis_url: str) -> None:
    profile = profile_after(
        redis_url,
        [
            tx(1, 10, TransactionKind.DEPOSIT, "50.00", balance="150.00"),
            tx(2, 2, TransactionKind.DEPOSIT, "70.00", balance="70.00"),  # arrives late
        ],
    )
    assert profile["inflow_1d"] == 50.0  # the late deposit is not "today"
    assert profile["inflow_30d"] == 120.0
    assert profile["balance_last"] == 150.0  # newest by event time, not by arrival


def test_duplicate_event_changes_nothing(redis_url: str) -> None:
    events: list[InputEvent] = [tx(1, 0, TransactionKind.DEPOSIT, "10.00"), login(1, 0)]
    first = asyncio.run(apply(make_state(redis_url), events))
    again = asyncio.run(apply(make_state(redis_url), events))
    assert [r.duplicate for r in first] == [False, False]
    assert [r.duplicate for r in again] == [True, True]
    assert again[-1].state == first[-1].state
    assert again[-1].sums == first[-1].sums


def test_buckets_older_than_retention_are_trimmed(redis_url: str) -> None:
    asyncio.run(
        apply(
            make_state(redis_url),
            [tx(1, 0, TransactionKind.DEPOSIT, "10.00"), tx(2, 100, TransactionKind.DEPOSIT, "20.00")],
        )
    )
    stored = stored_state(redis_url)
    assert list(stored.days) == [int((DAY0 + timedelta(days=100)).timestamp() // 86400)]
    assert stored.weeks == {}


def test_dedupe_ring_keeps_a_6_byte_hash_per_id_up_to_its_capacity(redis_url: str) -> None:
    """Events not read from Kafka: each one's entry is pending only until the next event comes."""
    store = make_state(redis_url, dedupe_capacity=16)
    for count, kept in ((1, 0), (10, 9), (40, 16)):
        asyncio.run(apply(store, [tx(n, n / 100, TransactionKind.DEPOSIT, "1.00") for n in range(count)]))
        stored = stored_state(redis_url)
        assert (len(stored.kept), len(stored.pending)) == (kept, 1)
        assert all(len(digest) == 6 for digest in stored.kept)


def test_dedupe_ring_keeps_pending_what_the_group_has_not_committed(redis_url: str) -> None:
    """Redelivered events are recognised however many there are; committed ones keep only a hash."""
    client = redis.Redis.from_url(redis_url)
    events: list[InputEvent] = [tx(n, n / 100, TransactionKind.DEPOSIT, "1.00") for n in range(40)]
    big = 2**40 + 7  # offsets past 32 bits are kept whole
    store = make_state(redis_url, dedupe_capacity=16)
    # 30 events, none committed: more than the capacity stay pending (a redelivery after a crash)
    asyncio.run(apply_read_at(store, events[:30], [big + o for o in range(30)], ""))
    assert ring_of(client) == ([], [(0, 3, big + o) for o in range(30)])
    again = asyncio.run(apply_read_at(make_state(redis_url, dedupe_capacity=16), [events[0]], [big], ""))
    assert again[0].duplicate
    # committed up to (not including) offset 28 of this partition; partition 2 and topic 1 say nothing
    committed = f"0:3:{big + 28},0:2:{big + 100},1:3:{big + 100}"
    store = make_state(redis_url, dedupe_capacity=16)
    asyncio.run(apply_read_at(store, [events[30]], [big + 30], committed))
    kept, pending = ring_of(client)
    assert kept == [sha1_prefix(f"t{n}") for n in range(12, 28)]  # the last 16 of the 28 committed
    assert pending == [(0, 3, big + o) for o in (28, 29, 30)]
    # an entry of another topic at the front waits for its own commit, and holds the ones behind it
    store = make_state(redis_url, dedupe_capacity=16)
    asyncio.run(apply_read_at(store, [login(1, 0.4)], [5], committed, INTERACTIONS))
    store = make_state(redis_url, dedupe_capacity=16)
    asyncio.run(apply_read_at(store, [events[31]], [big + 31], f"0:3:{big + 31}"))
    assert ring_of(client)[1] == [(1, 3, 5), (0, 3, big + 31)]
    store = make_state(redis_url, dedupe_capacity=16)
    asyncio.run(apply_read_at(store, [events[32]], [big + 32], f"0:3:{big + 32}"))
    assert ring_of(client)[1] == [(1, 3, 5), (0, 3, big + 31), (0, 3, big + 32)]
    store = make_state(redis_url, dedupe_capacity=16)
    asyncio.run(apply_read_at(store, [login(2, 0.5)], [6], f"0:3:{big + 32},1:3:6", INTERACTIONS))
    kept, pending = ring_of(client)
    assert pending == [(0, 3, big + 32), (1, 3, 6)]
    assert kept[-2:] == [sha1_prefix("l1"), sha1_prefix("t31")]
    client.close()


def test_dedupe_ring_bounds_pending_entries_when_commits_stall(redis_url: str) -> None:
    """Past 4 x capacity the oldest pending entries keep only their hash: still recognised."""
    client = redis.Redis.from_url(redis_url)
    events: list[InputEvent] = [tx(n, n / 1000, TransactionKind.DEPOSIT, "1.00") for n in range(70)]
    asyncio.run(apply_read_at(make_state(redis_url, dedupe_capacity=16), events, list(range(70)), ""))
    kept, pending = ring_of(client)
    assert kept == [sha1_prefix(f"t{n}") for n in range(6)]
    assert pending == [(0, 3, o) for o in range(6, 70)]
    again = asyncio.run(apply_read_at(make_state(redis_url, dedupe_capacity=16), events[:1], [0], ""))
    assert again[0].duplicate
    client.close()


def test_dedupe_converts_a_ring_of_6_byte_slots_left_by_an_earlier_version(redis_url: str) -> None:
    """The previous ring: 4 slots full (t0..t5 written, so t2..t5 kept), cursor at t2's slot."""
    state_key, _, seen_key = customer_keys("C1")
    client = redis.Redis.from_url(redis_url)
    client.set(seen_key, b"".join(sha1_prefix(f"t{n}") for n in (4, 5, 2, 3)))
    client.hset(state_key, mapping={"ids_w": "6", "ids_at": "2"})
    events: list[InputEvent] = [tx(n, n / 100, TransactionKind.DEPOSIT, "1.00") for n in (3, 6, 5, 1)]
    store = make_state(redis_url, dedupe_capacity=16)
    results = asyncio.run(apply_read_at(store, events, [30, 31, 32, 33], ""))
    assert [r.duplicate for r in results] == [True, False, True, False]
    assert ring_of(client) == ([sha1_prefix(f"t{n}") for n in (2, 3, 4, 5)], [(0, 3, 31), (0, 3, 33)])
    assert client.exists(*customer_keys("C1")) == 0  # converted: the earlier keys are gone
    client.close()


def test_dedupe_converts_a_ring_of_8_byte_slots_left_by_an_earlier_version(redis_url: str) -> None:
    """The earlier ring: 16 slots allocated whole, 3 used (t0..t2), cursor in the state hash."""
    state_key, _, seen_key = customer_keys("C1")
    client = redis.Redis.from_url(redis_url)
    used = b"".join(sha1_prefix(f"t{n}", 8) for n in range(3))
    client.set(seen_key, used + b"\0" * (16 * 8 - len(used)))
    client.hset(state_key, "ids_at", "3")
    store = make_state(redis_url, dedupe_capacity=16)
    results = asyncio.run(
        apply(store, [tx(n, n / 100, TransactionKind.DEPOSIT, "1.00") for n in (1, 5, 2, 5)])
    )
    assert [r.duplicate for r in results] == [True, False, True, True]
    kept, pending = ring_of(client)
    assert kept == [sha1_prefix(f"t{n}") for n in range(3)] and len(pending) == 1
    assert client.exists(*customer_keys("C1")) == 0
    client.close()


def test_dedupe_ring_remembers_the_last_ids_and_forgets_older_ones(redis_url: str) -> None:
    store = make_state(redis_url, dedupe_capacity=16)
    first: list[InputEvent] = [tx(n, n / 100, TransactionKind.DEPOSIT, "1.00") for n in range(40)]
    asyncio.run(apply(store, first))
    again = asyncio.run(apply(store, [first[39], first[23], first[22]]))
    # repeats of the last 17 ids: 16 kept hashes (23..38) and the latest, pending; 22 was forgotten
    assert [r.duplicate for r in again] == [True, True, False]
    assert again[-1].sums[0] == 41  # txn_count_1d: 40 + the forgotten one


def test_dedupe_replaces_a_sorted_set_left_by_an_earlier_version(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.zadd(customer_keys("C1")[2], {"t0": 1})
    client.close()
    store = make_state(redis_url)
    results = asyncio.run(apply(store, [tx(0, 0, TransactionKind.DEPOSIT, "1.00")] * 2))
    assert [r.duplicate for r in results] == [False, True]


def test_batch_keeps_per_customer_order_and_isolation(redis_url: str) -> None:
    results = asyncio.run(
        apply(
            make_state(redis_url),
            [
                login(1, 0, customer="A"),
                login(2, 0.1, customer="B"),
                login(3, 0.2, customer="A"),
            ],
        )
    )
    counts = [build_profile("x", r.state, r.sums, int(r.state["last_ts"]))["login_count_1d"] for r in results]
    assert counts == [1.0, 1.0, 2.0]


def test_complaints_open_and_resolve_by_reference_even_out_of_order(redis_url: str) -> None:
    def interaction(n: int, day: float, kind: InteractionKind) -> Interaction:
        return Interaction(
            event_id=f"c{n}",
            customer_id="C1",
            occurred_at=DAY0 + timedelta(days=day),
            kind=kind,
            channel=Channel.CALL_CENTRE,
            reference="CMP-1",
        )

    opened = profile_after(redis_url, [interaction(1, 0, InteractionKind.COMPLAINT_OPENED), login(9, 3)])
    assert opened["complaints_open"] == 1.0
    assert opened["oldest_open_complaint_hours"] == 72.0
    resolved_first = profile_after(redis_url, [interaction(2, 4, InteractionKind.COMPLAINT_RESOLVED)])
    assert resolved_first["complaints_open"] == 0.0


def test_new_payee_bank_counts_from_the_first_transfer_after_a_long_pause(redis_url: str) -> None:
    out = TransactionKind.TRANSFER_OUT
    history = [login(1, 0)]
    fresh = profile_after(
        redis_url,
        [*history, tx(1, 70, out, "50", "REVOLUT", "5000"), tx(2, 75, out, "3000", "REVOLUT", "1950")],
    )
    assert fresh["new_payee_bank_days"] == 5
    assert fresh["new_payee_bank_transfers"] == 2
    # last paid 65 days ago: new again after more than 60 days without a transfer
    again = profile_after(redis_url, [tx(3, 140, out, "40", "REVOLUT", "1900")])
    assert again["new_payee_bank_days"] == 0
    assert again["new_payee_bank_transfers"] == 1


def test_payee_paid_early_in_the_history_is_not_new(redis_url: str) -> None:
    out = TransactionKind.TRANSFER_OUT
    profile = profile_after(
        redis_url,
        [login(1, 0), tx(1, 10, out, "800", "SPARKASSE", "2000"), tx(2, 40, out, "800", "SPARKASSE", "1200")],
    )
    assert profile["new_payee_bank_days"] == 9999
    assert profile["new_payee_bank_transfers"] == 0


def test_new_payee_bank_late_event_and_duplicate(redis_url: str) -> None:
    out = TransactionKind.TRANSFER_OUT
    late = tx(2, 72, out, "60", "N26", "4000")
    profile = profile_after(redis_url, [login(1, 0), tx(1, 80, out, "2500", "N26", "1500"), late, late])
    assert profile["new_payee_bank_transfers"] == 2  # the duplicate does not count
    assert profile["new_payee_bank_days"] == 8  # the run starts at the late, earlier transfer


def test_transfer_within_our_bank_is_not_a_payee_bank(redis_url: str) -> None:
    out = TransactionKind.TRANSFER_OUT
    profile = profile_after(redis_url, [login(1, 0), tx(1, 70, out, "900", "SIGNALBANK", "100")])
    assert profile["new_payee_bank_days"] == 9999


def test_day_buckets_are_stored_sparse_and_read_back_whole(redis_url: str) -> None:
    """A deposit day with no balance: 3 of the 17 metrics are not zero (count, inflow, activity).
    Activity and the balance count follow from the count and are stored as differences (0, and 1:
    one transaction without a balance), so the days are stored as [latest day, which days are
    present (bit 0: the latest), then the bucket: bitmap, count (bit 0), balance sum (bit 1,
    always; here 0), inflow (bit 7), balance count difference (bit 12)]; a login the same day adds
    to it."""
    store = make_state(redis_url)
    (result,) = asyncio.run(apply(store, [tx(0, 0, TransactionKind.DEPOSIT, "12.50")]))
    assert len(result.sums) == METRIC_COUNT * len(WINDOWS)
    assert result.sums[Metric.INFLOW] == 1250 and result.sums[Metric.OFFERS_DECLINED] == 0
    client = redis.Redis.from_url(redis_url)
    blob = cast(bytes, client.get(profile_key("C1")))
    client.close()
    day = int(DAY0.timestamp() // 86400)
    assert msgpack.unpackb(blob[5:])[1] == [day, 1, 1 | 1 << 1 | 1 << 7 | 1 << 12, 1, 0, 1250, 1]
    (result,) = asyncio.run(apply(make_state(redis_url), [login(1, 0.1)]))
    assert result.sums[Metric.TXN_COUNT] == 1 and result.sums[Metric.INFLOW] == 1250
    assert result.sums[Metric.LOGIN_COUNT] == 1 and result.sums[Metric.ACTIVE] == 2


def test_a_profile_of_the_earlier_three_key_layout_is_converted_on_first_use(redis_url: str) -> None:
    """[1 transaction, 10.00 inflow] in a dense bucket, a sparse one 40 days before (merged into its
    week), the tier in the state hash: all carried into the one string, the old keys deleted."""
    day = int(DAY0.timestamp() // 86400)
    state_key, days_key, _ = customer_keys("C1")
    client = redis.Redis.from_url(redis_url)
    last_ms = str(day * 86_400_000)
    client.hset(state_key, mapping={"ref_day": str(day), "last_ts": last_ms, "ids_w": "tiers", "tier": "t|x"})
    client.hset(days_key, str(day), bytes([0x92, 0x01, 0xCD, 0x03, 0xE8]))
    client.hset(days_key, str(day - 40), msgpack.packb([-(1 << Metric.LOGIN_COUNT) - 1, 3]))
    (before,) = asyncio.run(make_state(redis_url).profiles.read_many(["C1"]))
    assert before.state["tier"] == "t|x" and client.exists(state_key) == 1  # a read converts nothing
    (result,) = asyncio.run(apply(make_state(redis_url), [tx(0, 0, TransactionKind.DEPOSIT, "12.50")]))
    assert result.sums[Metric.TXN_COUNT] == 2 and result.sums[Metric.INFLOW] == 2250
    assert result.sums[3 * METRIC_COUNT + Metric.LOGIN_COUNT] == 3  # in the 90-day window
    assert result.state["tier"] == "t|x"
    assert client.exists(*customer_keys("C1")) == 0
    assert client.hget(cooldown_key("C1"), "tier") == b"t|x"
    client.close()


def test_a_writer_that_lost_the_customer_is_fenced_out_and_counts_nothing_twice(redis_url: str) -> None:
    """Worker A holds C1 in memory; worker B (the partition's new owner) applies newer events and
    the same ones again. A's next write finds another version: it reads again and re-applies, so
    every event counts once and A's results are computed on B's profile, not on its stale copy."""
    deposit = TransactionKind.DEPOSIT
    first = [tx(n, n / 10, deposit, "1.00") for n in range(3)]
    by_b = [tx(n, n / 10, deposit, "1.00") for n in range(3, 6)]
    by_a_later = [by_b[0], tx(6, 0.6, deposit, "1.00")]  # A still gets one B applied, and a new one

    async def go() -> tuple[list[StoredProfile], StoredProfile, int]:
        a, b = make_state(redis_url), make_state(redis_url)
        try:
            await a.profiles.apply([build_update(e, "SIGNALBANK") for e in first])  # A caches C1
            await b.profiles.apply([build_update(e, "SIGNALBANK") for e in first + by_b])
            # a read by A finds B's version, not the one A holds in memory
            assert (await a.profiles.read("C1")).sums == (await b.profiles.read("C1")).sums
            results = await a.profiles.apply([build_update(e, "SIGNALBANK") for e in by_a_later])
            return results, await b.profiles.read("C1"), a.profiles.conflicts
        finally:
            await a.aclose()
            await b.aclose()

    results, final, conflicts = asyncio.run(go())
    assert conflicts == 1
    assert [r.duplicate for r in results] == [True, False]
    week = METRIC_COUNT  # the 7-day window
    assert results[-1].sums[week + Metric.TXN_COUNT] == 7 == final.sums[week + Metric.TXN_COUNT]
    assert final.sums[week + Metric.INFLOW] == 700


def test_a_read_of_a_profile_held_in_memory_skips_reading_it_again_while_unchanged(redis_url: str) -> None:
    """The worker's own profiles (silence checks read them every day) are not fetched and decoded
    again while Redis still holds the version in memory: only a 4-byte compare goes to Redis."""
    events = [tx(n, n / 10, TransactionKind.DEPOSIT, "1.00") for n in range(3)]

    async def go() -> tuple[StoredProfile, StoredProfile, int]:
        state = make_state(redis_url)
        try:
            await state.profiles.apply([build_update(e, "SIGNALBANK") for e in events])
            client = redis.asyncio.Redis.from_url(redis_url)
            await client.config_resetstat()
            held = await state.profiles.read("C1")
            gets = int((await client.info("commandstats")).get("cmdstat_get", {}).get("calls", 0))
            await client.aclose()
            return held, await make_state(redis_url).profiles.read("C1"), gets
        finally:
            await state.aclose()

    held, fresh, gets = asyncio.run(go())
    assert gets == 0  # only GETRANGE and HGET inside the script
    assert (held.state, held.sums) == (fresh.state, fresh.sums)


def decoded(events: list[Transaction], rates: RateTable) -> list[InputEvent]:
    """``events`` as the worker gets them: JSON bytes decoded, amounts in the reporting currency."""
    out: list[InputEvent] = []
    for offset, event in enumerate(events):
        raw = RawRecord(TRANSACTIONS, 0, offset, b"C1", event.model_dump_json().encode())
        result = decode_event(raw, DAY0 + timedelta(days=400), timedelta(days=1), rates=rates)
        assert not isinstance(result, DeadLetter)
        out.append(result)
    return out


def test_accounts_in_two_currencies_sum_to_one_total_late_and_again_changing_nothing(redis_url: str) -> None:
    """A current account in euros and savings in dollars: the total is the sum of each one's newest
    balance, a late report of one account keeps its newer balance, and redelivery changes nothing."""
    rates = RateTable("EUR", {"USD": Decimal("0.90")})
    current = [
        tx(1, 1, TransactionKind.SALARY_CREDIT, "3000.00", balance="2683.00", account="CUR"),
        tx(2, 3, TransactionKind.CARD_PAYMENT, "83.00", balance="2600.00", account="CUR"),
    ]
    savings = [
        tx(3, 2, TransactionKind.DEPOSIT, "1000.00", balance="12087.00", account="SAV", currency="USD")
    ]
    late = [tx(4, 0.5, TransactionKind.DEPOSIT, "10.00", balance="100.00", account="SAV", currency="USD")]
    first = asyncio.run(apply(make_state(redis_url), decoded([current[0], *savings, current[1]], rates)))
    view = build_profile("C1", first[-1].state, first[-1].sums, int(first[-1].state["last_ts"]))
    assert view["balance_last"] == 2600.00 + 10878.30  # 12,087 dollars at 0.90
    assert (view["accounts_count"], view["balance_max_account"], view["balance_min_account"]) == (
        2,
        10878.3,
        2600.0,
    )
    assert view["inflow_90d"] == 3000.00 + 900.00
    # each report counted the total at its moment: 2,683; 2,683 + 10,878.30; 2,600 + 10,878.30
    assert view["balance_avg_90d"] == round((2683.00 + 13561.30 + 13478.30) / 3, 2)

    after_late = asyncio.run(apply(make_state(redis_url), decoded(late, rates)))[-1]
    late_view = build_profile("C1", after_late.state, after_late.sums, int(after_late.state["last_ts"]))
    assert late_view["balance_last"] == view["balance_last"]  # the newer savings balance stays
    assert late_view["accounts_count"] == 2

    stored = stored_state(redis_url)
    again = asyncio.run(apply(make_state(redis_url), decoded([*current, *savings, *late], rates)))
    assert all(result.duplicate for result in again)
    assert again[-1].state == after_late.state
    assert again[-1].sums == after_late.sums
    assert stored_state(redis_url).fields == stored.fields
