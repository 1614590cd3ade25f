"""Next-best offers against a real Redis: every contact-policy rule, the closed loop, champion/challenger.

A small ruleset keeps each rule visible: offers triggered by logins (or withdrawals), with caps and
cool-offs set per test. Time is event time, so "30 days later" is just a later event.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from rules.evaluate.arbitration import strategy_for
from rules.load.ruleset import Ruleset, load_sources
from schemas.catalog import CUSTOMERS, INTERACTIONS, OFFERS, TRANSACTIONS
from schemas.outputs import NextBestOffer
from schemas.profile.view import build_profile
from sinks.redis.keys import offer_log_key
from tests.support.redis_state import make_pipeline, make_state
from tests.support.story import BASE

POLICY = """\
contact_policy:
  max_offers_per_event: 1
  caps: {caps}
  decline_cooloff: 60d
  fatigue: {{negatives: 2, within: 30d, cooloff: 60d}}
{strategies}
rules:
  - id: churn.withdrawal
    kind: churn
    description: A withdrawal (stands for any strong churn sign)
    when: event.kind == "withdrawal"
    weight: 0.7
    reason: withdrawal
offers:
  - id: offer.card
    product: CARD
    description: A card
    triggers: [login, withdrawal]
    eligible: '!("CARD" in profile.products)'
    propensity: "0.5"
    value: 100
    channels: {card_channels}
    cooldown: {cooldown}
    valid_for: {valid_for}
    reason: card
  - id: offer.loan
    product: LOAN
    description: A loan
    triggers: [login, withdrawal]
    eligible: '!("LOAN" in profile.products)'
    propensity: "0.5"
    value: 50
    channels: [mobile]
    cooldown: {cooldown}
    valid_for: {valid_for}
    reason: loan
  - id: offer.keep
    product: KEEP
    category: retention
    description: A retention offer
    eligible: "true"
    suitable: event.kind == "withdrawal"
    propensity: "0.5"
    value: 10
    channels: [call_centre]
    cooldown: 1d
    reason: keep
"""


def ruleset(
    caps: str = "[]",
    cooldown: str = "1d",
    valid_for: str = "14d",
    card_channels: str = "[mobile]",
    strategies: str = "",
) -> Ruleset:
    text = POLICY.format(
        caps=caps, cooldown=cooldown, valid_for=valid_for, card_channels=card_channels, strategies=strategies
    )
    return load_sources([("offers.yaml", text)])


def master(customer: str, consent: bool = True) -> RawRecord:
    body = {
        "event_id": f"{customer}-m-{consent}",
        "customer_id": customer,
        "occurred_at": BASE.isoformat(),
        "marketing_consent": consent,
    }
    return RawRecord(CUSTOMERS, 0, 0, customer.encode(), json.dumps(body).encode())


def interaction(
    customer: str, day: float, kind: str = "login", channel: str = "mobile", **extra: Any
) -> RawRecord:
    body = {
        "event_id": f"{customer}-{kind}-{day}",
        "customer_id": customer,
        "occurred_at": (BASE + timedelta(days=day, hours=1)).isoformat(),
        "kind": kind,
        "channel": channel,
        **extra,
    }
    return RawRecord(INTERACTIONS, 0, int(day * 10), customer.encode(), json.dumps(body).encode())


def withdrawal(customer: str, day: float) -> RawRecord:
    body = {
        "event_id": f"{customer}-w-{day}",
        "customer_id": customer,
        "occurred_at": (BASE + timedelta(days=day, hours=1)).isoformat(),
        "account_id": f"{customer}-A",
        "kind": "withdrawal",
        "amount": "100.00",
        "currency": "EUR",
        "channel": "atm",
    }
    return RawRecord(TRANSACTIONS, 0, int(day * 10), customer.encode(), json.dumps(body).encode())


class Worker:
    """Drives a fresh pipeline per call (a Redis client belongs to one event loop)."""

    def __init__(self, url: str, rules: Ruleset, metrics: Metrics | None = None) -> None:
        self.url, self.rules, self.metrics = url, rules, metrics or Metrics()

    def run(self, *batches: list[RawRecord]) -> list[NextBestOffer]:
        async def go() -> list[OutputRecord]:
            pipeline = make_pipeline(self.url, self.rules, self.metrics)
            outputs: list[OutputRecord] = []
            for batch in batches:
                outputs.extend(await pipeline.process(batch))
            return outputs

        found = asyncio.run(go())
        return [o.value for o in found if o.topic == OFFERS and isinstance(o.value, NextBestOffer)]


def read_profile(url: str, customer: str, day: int) -> dict[str, Any]:
    stored = asyncio.run(make_state(url).profiles.read(customer))
    return build_profile(
        customer, stored.state, stored.sums, int((BASE + timedelta(days=day)).timestamp() * 1000)
    )


def offer_log(url: str, customer: str) -> dict[str, str]:
    async def go() -> dict[str, str]:
        found = await make_state(url).client.hgetall(offer_log_key(customer))
        return {str(k): str(v) for k, v in found.items()}

    return asyncio.run(go())


def made(offers: list[NextBestOffer]) -> list[tuple[str, str, str]]:
    """(trigger event, offer id, channel) of each offer made."""
    return [(o.trigger_event_id, o.offer_id, o.channel) for o in offers]


def suppressed(metrics: Metrics, reason: str) -> float:
    value = metrics.registry.get_sample_value("signalbank_offers_suppressed_total", {"reason": reason})
    return value or 0.0


def test_at_most_n_offers_per_period(redis_url: str) -> None:
    metrics = Metrics()
    # offers stay valid for 60 days, so none expires unanswered (that would be fatigue)
    worker = Worker(redis_url, ruleset(caps="[{count: 2, period: 30d}]", valid_for="60d"), metrics)
    logins = [interaction("A", day) for day in (0, 2, 4, 10, 29, 31, 33)]
    offers = worker.run([master("A")], *[[r] for r in logins])
    # days 0 and 2 use up the cap; day 31 is 31 days after day 0 (a slot is free again), day 33
    # is 31 days after day 2
    assert [o.trigger_event_id for o in offers] == ["A-login-0", "A-login-2", "A-login-31", "A-login-33"]
    assert suppressed(metrics, "cap") == 3 * 2  # both candidates of days 4, 10 and 29


def test_a_batch_cannot_exceed_the_cap_and_redelivery_re_emits_the_same_offers(redis_url: str) -> None:
    rules = ruleset(caps="[{count: 1, period: 30d}]")
    metrics = Metrics()
    logins = [interaction("A", day) for day in (0, 1, 2)]
    first = Worker(redis_url, rules, metrics).run([master("A"), *logins])
    assert made(first) == [("A-login-0", "offer.card", "mobile")]
    # the same batch again (a crash before the commit): the same offer, same id, nothing new
    again = Worker(redis_url, rules, metrics).run([master("A"), *logins])
    assert [o.offer_event_id for o in again] == [o.offer_event_id for o in first]
    presented = metrics.registry.get_sample_value(
        "signalbank_offers_total", {"offer_id": "offer.card", "strategy": "champion"}
    )
    assert presented == 1  # a re-emit is not presented twice


def test_per_channel_cap_moves_the_offer_to_the_next_channel_then_stops_it(redis_url: str) -> None:
    caps = "[{count: 1, period: 7d, channel: call_centre}, {count: 1, period: 7d, channel: push}]"
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(caps=caps, card_channels="[call_centre, push]"), metrics)
    logins = [interaction("A", day, channel="branch") for day in (0, 1, 2, 8)]
    offers = worker.run([master("A")], *[[r] for r in logins])
    assert made(offers)[:2] == [
        ("A-login-0", "offer.card", "call_centre"),
        ("A-login-1", "offer.card", "push"),
    ]
    # day 2: both card channels used this week; the loan (mobile, uncapped) takes the slot
    assert made(offers)[2] == ("A-login-2", "offer.loan", "mobile")
    assert suppressed(metrics, "channel_cap") == 1
    assert made(offers)[3] == ("A-login-8", "offer.card", "call_centre")  # a week later


def test_the_event_channel_is_preferred_when_the_offer_allows_it(redis_url: str) -> None:
    worker = Worker(redis_url, ruleset(card_channels="[call_centre, web]"))
    offers = worker.run([master("A"), interaction("A", 0, channel="web")])
    assert made(offers) == [("A-login-0", "offer.card", "web")]


def test_a_declined_offer_is_not_made_again_for_60_days(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(), metrics)
    first = worker.run([master("A"), interaction("A", 0)])
    assert made(first) == [("A-login-0", "offer.card", "mobile")]
    decline = interaction("A", 1, "offer_declined", reference=first[0].offer_event_id, product="CARD")
    worker.run([decline])
    # the profile knows the history: rules can lower propensities after declines
    profile = read_profile(redis_url, "A", day=1)
    assert profile["offers_declined_30d"] == 1 and profile["days_since_offer_declined"] == 0
    later = worker.run(*[[interaction("A", day)] for day in (5, 30, 60, 62)])
    cards = [o.trigger_event_id for o in later if o.offer_id == "offer.card"]
    assert cards == ["A-login-62"]  # the decline was on day 1: not again before day 61
    assert suppressed(metrics, "declined") >= 3
    declined = metrics.registry.get_sample_value(
        "signalbank_offer_responses_total",
        {"offer_id": "offer.card", "strategy": "champion", "response": "declined"},
    )
    assert declined == 1


def test_ignored_twice_in_30_days_pauses_the_offer_for_60_days(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(cooldown="2d", valid_for="1d"), metrics)
    days = (0, 3, 6, 20, 66)
    offers = worker.run([master("A")], *[[interaction("A", day)] for day in days])
    cards = [o.trigger_event_id for o in offers if o.offer_id == "offer.card"]
    # made on days 0 and 3, both expired unanswered (days 1 and 4): paused until day 64
    assert cards == ["A-login-0", "A-login-3", "A-login-66"]
    assert suppressed(metrics, "fatigue") == 2


def test_no_offer_without_consent_or_with_an_open_complaint(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(), metrics)
    assert worker.run([master("N", consent=False), interaction("N", 0)]) == []
    assert suppressed(metrics, "no_consent") == 2
    complaint = interaction("C", 0, "complaint_opened", reference="CMP-1")
    assert worker.run([master("C"), complaint, interaction("C", 1)]) == []
    assert suppressed(metrics, "complaint_open") == 2
    resolved = interaction("C", 2, "complaint_resolved", reference="CMP-1")
    assert made(worker.run([resolved, interaction("C", 3)])) == [("C-login-3", "offer.card", "mobile")]


def test_at_high_churn_level_the_retention_offer_takes_the_slot(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(), metrics)
    offers = worker.run([master("A"), withdrawal("A", 0)])
    assert made(offers) == [("A-w-0", "offer.keep", "call_centre")]
    assert offers[0].category == "retention"
    assert suppressed(metrics, "churn_risk") == 2  # the card and the loan


CHALLENGER = """\
strategies:
  salt: test
  challengers:
    - name: loans_first
      share: 0.5
      levers: {offer.loan: 10}
"""


def test_challenger_runs_for_its_share_by_a_stable_hash_and_names_itself(redis_url: str) -> None:
    rules = ruleset(strategies=CHALLENGER)
    metrics = Metrics()
    customers = [f"K{i}" for i in range(24)]
    batch = [r for c in customers for r in (master(c), interaction(c, 0))]
    offers = Worker(redis_url, rules, metrics).run(batch)
    assert len(offers) == len(customers)
    for offer in offers:
        expected = strategy_for(rules.strategies, offer.customer_id).name
        assert offer.strategy == expected
        # the challenger's lever makes the loan (50 x 10) beat the card (100)
        assert offer.offer_id == ("offer.loan" if expected == "loans_first" else "offer.card")
    by_strategy = {o.strategy for o in offers}
    assert by_strategy == {"champion", "loans_first"}
    for strategy, offer_id in (("champion", "offer.card"), ("loans_first", "offer.loan")):
        count = metrics.registry.get_sample_value(
            "signalbank_offers_total", {"offer_id": offer_id, "strategy": strategy}
        )
        assert count == sum(1 for o in offers if o.strategy == strategy)


def test_accepting_an_offer_adds_the_product_and_counts_the_conversion_once(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(), metrics)
    offer = worker.run([master("A"), interaction("A", 0)])[0]
    accept = interaction("A", 1, "offer_accepted", reference=offer.offer_event_id, product="CARD")
    worker.run([accept])
    worker.run([accept])  # re-delivered: recorded once
    accepted = metrics.registry.get_sample_value(
        "signalbank_offer_responses_total",
        {"offer_id": "offer.card", "strategy": "champion", "response": "accepted"},
    )
    assert accepted == 1
    profile = read_profile(redis_url, "A", day=1)
    assert "CARD" in profile["products"] and profile["offers_accepted_30d"] == 1
    log = offer_log(redis_url, "A")
    assert log[offer.offer_event_id].split("|")[6] == "accepted"
    # holding the card now, the customer is offered the loan instead
    assert made(worker.run([interaction("A", 3)])) == [("A-login-3", "offer.loan", "mobile")]


def test_a_response_by_offer_id_or_product_finds_the_latest_offer(redis_url: str) -> None:
    metrics = Metrics()
    worker = Worker(redis_url, ruleset(), metrics)
    worker.run([master("A"), interaction("A", 0)])
    worker.run([interaction("A", 1, "offer_declined", product="CARD")])
    worker.run([interaction("A", 2, "offer_declined", reference="no-such-offer")])
    declined = metrics.registry.get_sample_value(
        "signalbank_offer_responses_total",
        {"offer_id": "offer.card", "strategy": "champion", "response": "declined"},
    )
    unknown = metrics.registry.get_sample_value(
        "signalbank_offer_responses_total",
        {"offer_id": "unknown", "strategy": "unknown", "response": "declined"},
    )
    assert declined == 1 and unknown == 1
