"""Claims packed for claim.lua, on a real Redis: the script reads every field where ``pack`` wrote it.

Each claim kind is packed with distinctive values, and what the script stored or answered must
reflect every one of them: a field read from the wrong position would show as a wrong stored value,
a wrong reply, or a limit that does not bite.
"""

from __future__ import annotations

from sinks.redis.claims import (
    AnyClaim,
    Claim,
    ClaimReply,
    CompareAndSet,
    OfferClaim,
    OfferLimits,
    ResponseClaim,
    pack,
)
from sinks.redis.keys import TIER_FIELD, cooldown_key, offer_log_key
from sinks.redis.state import RedisState
from tests.support.redis_state import with_state

DAY = 86_400_000
HOUR = 3_600_000
T0 = 20_000 * DAY  # event time of the first claim (ms)


async def one(state: RedisState, claim: AnyClaim) -> ClaimReply:
    (reply,) = await state.claims.claim([claim])
    return reply


def test_every_kind_packs_the_argument_count_the_script_header_lists() -> None:
    limits = OfferLimits(((1, 2, "web"),), 3, (4, 5, 6), 7)
    offer = OfferClaim("C", "o", "oe", 1, 2, ("web",), 3, "s", "p", limits, "g", 1)
    fields = {
        "cooldown": pack(Claim("C", "f", "id", 1, 2))[1].split("\t"),
        "cas": pack(CompareAndSet("C", "tier", "v", 1, "old"))[1].split("\t"),
        "offer": pack(offer)[1].split("\t"),
        "resp": pack(ResponseClaim("C", "ref", "ev", 1, "accepted", "p"))[1].split("\t"),
    }
    assert {kind: len(f) for kind, f in fields.items()} == {
        "cooldown": 10,
        "cas": 10,
        "offer": 17,
        "resp": 11,
    }
    assert [f[8] for f in fields.values()] == ["", "cas", "offer", "resp"]  # a[9]: the mode
    assert pack(Claim("C", "f", "id", 1, 2))[0] == cooldown_key("C")
    assert pack(CompareAndSet("C", TIER_FIELD, "v", 1, "old"))[0] == cooldown_key("C")
    assert pack(offer)[0] == pack(ResponseClaim("C", "r", "e", 1, "declined", ""))[0] == offer_log_key("C")


def test_a_cooldown_claim_stores_until_id_and_rank_and_honours_now_group_and_reemit(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        field = "rule:service.sla:CMP-7"
        first = Claim("C9", field, "sig-1", T0, T0 + DAY, rank=2)
        assert await one(state, first) == ClaimReply(True)
        assert await state.client.hget(cooldown_key("C9"), field) == f"{T0 + DAY}|sig-1|2"
        # now_ms and until_ms: another output inside the cooldown at the same rank is refused ...
        assert not (await one(state, Claim("C9", field, "sig-2", T0 + 1, T0 + DAY, rank=2))).granted
        # ... a higher rank takes the slot (churn level rising) ...
        assert (await one(state, Claim("C9", field, "sig-3", T0 + 2, T0 + 3 * DAY, rank=3))).granted
        assert await state.client.hget(cooldown_key("C9"), field) == f"{T0 + 3 * DAY}|sig-3|3"
        # ... and after until_ms anyone may take it
        assert (await one(state, Claim("C9", field, "sig-4", T0 + 3 * DAY, T0 + 4 * DAY))).granted
        # reemit_only: only the output already holding the slot, never a new one
        assert not (
            await one(state, Claim("C9", field, "sig-5", T0 + 5 * DAY, T0 + 6 * DAY, reemit_only=True))
        ).granted
        assert (
            await one(state, Claim("C9", field, "sig-4", T0 + 5 * DAY, T0 + 6 * DAY, reemit_only=True))
        ).granted
        # group and capacity: once `capacity` claims of a group are granted, the rest are refused
        grouped = [
            Claim("C9", f"rule:g{n}", f"g-{n}", T0, T0 + DAY, group="grp", capacity=2) for n in range(3)
        ]
        assert [r.granted for r in await state.claims.claim(grouped)] == [True, True, False]

    with_state(redis_url, body)


def test_a_compare_and_set_writes_its_value_only_over_the_expected_one(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        state_key = cooldown_key("C9")  # the tier lives next to the cooldown slots
        assert await one(state, CompareAndSet("C9", TIER_FIELD, "gold|2|0|chg-1|mass", T0, "")) == ClaimReply(
            True
        )
        assert await state.client.hget(state_key, TIER_FIELD) == "gold|2|0|chg-1|mass"
        assert not (await one(state, CompareAndSet("C9", TIER_FIELD, "mass|1|0|chg-2|gold", T0, ""))).granted
        assert (
            await one(
                state, CompareAndSet("C9", TIER_FIELD, "mass|1|0|chg-2|gold", T0, "gold|2|0|chg-1|mass")
            )
        ).granted
        assert await state.client.hget(state_key, TIER_FIELD) == "mass|1|0|chg-2|gold"

    with_state(redis_url, body)


def test_an_offer_claim_stores_every_field_and_each_limit_bites(redis_url: str) -> None:
    limits = OfferLimits(
        caps=((1, HOUR, "web"), (2, 10 * DAY, "")),  # one web offer an hour, two offers in 10 days
        decline_cooloff_ms=2 * DAY,
        fatigue=(1, 30 * DAY, 20 * DAY),  # after one negative answer, no offer for 20 days
        keep_ms=50 * DAY,
    )

    def offer(
        offer_id: str,
        event_id: str,
        now: int,
        group: str,
        capacity: int = 1,
        reemit_only: bool = False,
        keep: OfferLimits = limits,
    ) -> OfferClaim:
        return OfferClaim(
            "C9",
            offer_id,
            event_id,
            now,
            DAY,  # cool-off: until_ms = now + 1 day
            ("web", "mobile"),
            now + 14 * DAY,
            "challenger-b",
            "CARD" if offer_id == "offer.card" else "LOAN",
            keep,
            group,
            capacity,
            reemit_only,
        )

    async def body(state: RedisState) -> None:
        log = offer_log_key("C9")
        # group and capacity (within one call): the event's second offer is over its maximum
        both = [offer("offer.card", "oe-1", T0, "offers:e1"), offer("offer.loan", "oe-2", T0, "offers:e1")]
        assert await state.claims.claim(both) == [
            ClaimReply(True, "web", True),
            ClaimReply(False, "max_per_event", False),
        ]
        entry = f"{T0}|offer.card|CARD|web|{T0 + 14 * DAY}|challenger-b||0|"
        assert await state.client.hget(log, "oe-1") == entry
        # the channel cap (1 an hour on web) moves the next offer to the second channel
        assert await one(state, offer("offer.loan", "oe-3", T0 + 1000, "offers:e2")) == ClaimReply(
            True, "mobile", True
        )
        # the global cap (2 in 10 days): a third offer is refused
        assert await one(state, offer("offer.save", "oe-4", T0 + 2000, "offers:e3")) == ClaimReply(
            False, "cap", False
        )
        # reemit_only: a granted offer is re-emitted on its channel, a new one refused
        again = await one(state, offer("offer.card", "oe-1", T0 + 3000, "offers:e1b", reemit_only=True))
        assert again == ClaimReply(True, "web", False)
        assert (
            await one(state, offer("offer.card", "oe-5", T0, "offers:e5", reemit_only=True))
        ).detail == "duplicate"
        # the offer's cool-off (until_ms - now_ms = 1 day)
        assert (
            await one(state, offer("offer.card", "oe-6", T0 + DAY // 2, "offers:e6"))
        ).detail == "cooldown"
        # declined on day 2: the decline cool-off (2 days), then fatigue (20 days after one negative)
        declined = ResponseClaim("C9", "oe-1", "resp-9", T0 + 2 * DAY, "declined", "CARD")
        assert await one(state, declined) == ClaimReply(True, "offer.card", True, "challenger-b")
        late = T0 + 11 * DAY  # the 10-day cap no longer counts the first two offers
        assert (await one(state, offer("offer.card", "oe-7", T0 + 3 * DAY, "offers:e7"))).detail == "declined"
        assert (await one(state, offer("offer.card", "oe-8", late, "offers:e8"))).detail == "fatigue"
        # past the fatigue: granted, and keep_ms (10 days here) forgets the entries nobody looks back to
        short = OfferLimits(limits.caps, limits.decline_cooloff_ms, limits.fatigue, 10 * DAY)
        past = T0 + 23 * DAY
        assert (await one(state, offer("offer.card", "oe-9", past, "offers:e9", keep=short))).granted
        assert sorted(await state.client.hkeys(log)) == ["oe-9"]

    with_state(redis_url, body)


def test_a_response_claim_records_status_time_and_event_and_is_recognised_again(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        limits = OfferLimits((), 0, (9, 1, 1), 100 * DAY)
        made = OfferClaim(
            "C9", "offer.loan", "oe-1", T0, DAY, ("mobile",), T0 + DAY, "champion", "LOAN", limits, "g", 1
        )
        assert (await one(state, made)).granted
        accepted = ResponseClaim("C9", "oe-1", "resp-3", T0 + 5 * HOUR, "accepted", "LOAN")
        assert await one(state, accepted) == ClaimReply(True, "offer.loan", True, "champion")
        stored = await state.client.hget(offer_log_key("C9"), "oe-1")
        assert stored == f"{T0}|offer.loan|LOAN|mobile|{T0 + DAY}|champion|accepted|{T0 + 5 * HOUR}|resp-3"
        assert await one(state, accepted) == ClaimReply(True, "offer.loan", False, "champion")  # re-delivered
        other = ResponseClaim("C9", "oe-1", "resp-4", T0 + 6 * HOUR, "declined", "")
        assert await one(state, other) == ClaimReply(
            True, "offer.loan", False, "champion"
        )  # already answered
        # matched by product when the reference is empty: the latest unanswered offer of that product
        second = OfferClaim(
            "C9",
            "offer.loan2",
            "oe-2",
            T0 + 2 * DAY,
            DAY,
            ("mobile",),
            T0 + 3 * DAY,
            "x",
            "LOAN",
            limits,
            "g",
            1,
        )
        assert (await one(state, second)).granted
        by_product = ResponseClaim("C9", "", "resp-6", T0 + 2 * DAY + HOUR, "declined", "LOAN")
        assert await one(state, by_product) == ClaimReply(True, "offer.loan2", True, "x")
        unknown = ResponseClaim("C9", "oe-x", "resp-5", T0, "declined", "NOPE")
        assert await one(state, unknown) == ClaimReply(False)

    with_state(redis_url, body)


def test_the_tier_field_cannot_be_a_cooldown_slot() -> None:
    # cooldown slots are "alert" and "rule:<rule id>[:<subject>]" (agents/claims.py)
    assert TIER_FIELD != "alert" and not TIER_FIELD.startswith("rule:")


def test_a_batch_of_many_customers_is_one_call_with_replies_in_claim_order(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        await state.claims.claim([Claim("C2", "alert", "held", T0, T0 + DAY)])
        before = await evalsha_calls(state)
        claims: list[AnyClaim] = []
        for n in range(30):  # customers interleaved: C0 C1 C2 C0 C1 C2 ...
            claims.append(Claim(f"C{n % 3}", f"rule:r.{n}", f"out-{n}", T0, T0 + DAY))
        claims.append(Claim("C2", "alert", "other", T0, T0 + DAY))
        claims.append(CompareAndSet("C1", TIER_FIELD, "gold", T0, ""))
        replies = await state.claims.claim(claims)
        assert [r.granted for r in replies] == [True] * 30 + [False, True]
        assert await evalsha_calls(state) == before + 1  # one server: ONE call for the batch
        assert await state.claims.claim([]) == []
        assert await evalsha_calls(state) == before + 1

    with_state(redis_url, body)


def test_a_group_is_per_customer_even_with_the_same_name(redis_url: str) -> None:
    """Silence checks of one day share the event id ``check:<date>``, so the offer groups of different
    customers checked in one round have the same name: each customer gets their own capacity."""

    async def body(state: RedisState) -> None:
        group = "offers:check:2026-12-02"
        claims = [
            Claim(customer, f"rule:g{n}", f"{customer}-{n}", T0, T0 + DAY, group=group, capacity=1)
            for customer in ("A", "B")
            for n in range(2)
        ]
        assert [r.granted for r in await state.claims.claim(claims)] == [True, False, True, False]

    with_state(redis_url, body)


async def evalsha_calls(state: RedisState) -> int:
    stats = await state.client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
