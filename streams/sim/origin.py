"""Where and how one simulated customer acts: home, devices, trips, payees, authentication.

The optional input fields of contract 1.3.0 (device, IP country, merchant country, city and
coordinates, payee, authentication method and a login's outcome) for every event the customer
makes. Everything here is drawn from the customer's own ``origin`` random stream, never from the
streams their events come from, so that these fields are added to the events without changing
anything else about them (same ids, times, kinds, amounts): ``Scenario(origins=False)`` gives the
same events without the fields (tests/unit/streams/sim/test_origin.py).

A customer has a phone, often a browser and sometimes a tablet, now and then buys a new phone
(``new_phone_day``); lives in a home city; goes abroad on the story's holiday and sometimes on a
short trip of their own, consistent with travel times (nothing is located while on the way);
pays their rent, own accounts and friends through stable payees; logs in by biometrics or password
on the phone and password on the web; mistypes a password now and then (``typo``: a failed login
a few seconds before the successful one, an extra event). Bank postings (salary, fees, interest,
incoming transfers, loan instalments) carry none of these fields: the bank makes them.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from dataclasses import dataclass
from typing import Final

from schemas.common import Channel
from schemas.inputs import AuthMethod, TransactionKind
from streams.sim.calendar import DAY_SECONDS
from streams.sim.places import (
    DESTINATIONS,
    HOME_CITIES,
    HOME_COUNTRY,
    ONLINE_MERCHANT_COUNTRIES,
    SUBSCRIPTION_COUNTRIES,
    Place,
    travel_seconds,
)

NULL_HEAD: Final = (
    '"device_id":null,"ip_country":null,"city":null,"latitude":null,"longitude":null,"auth_method":null,'
)
"""The origin fields of an event without any, as ``model_dump_json`` writes them (after occurred_at)."""
NULL_TX_TAIL: Final = ',"merchant_country":null,"payee_id":null'
"""A transaction's merchant country and payee when absent (after balance_after)."""
NULL_IX_TAIL: Final = ',"auth_outcome":null'
"""An interaction's login outcome when absent (after note)."""

_MOBILE: Final = Channel.MOBILE.value
_WEB: Final = Channel.WEB.value
_POS: Final = Channel.POS.value
_ATM: Final = Channel.ATM.value
_BRANCH: Final = Channel.BRANCH.value
_CALL: Final = Channel.CALL_CENTRE.value
_POSTED: Final = frozenset(
    k.value
    for k in (
        TransactionKind.SALARY_CREDIT,
        TransactionKind.TRANSFER_IN,
        TransactionKind.FEE,
        TransactionKind.INTEREST,
        TransactionKind.LOAN_REPAYMENT,
    )
)
"""Kinds the bank books on its own: no device, no place, no payee."""
_CARD: Final = TransactionKind.CARD_PAYMENT.value
_WITHDRAWAL: Final = TransactionKind.WITHDRAWAL.value
_DEPOSIT: Final = TransactionKind.DEPOSIT.value
_TRANSFER_OUT: Final = TransactionKind.TRANSFER_OUT.value
_LOGIN: Final = "login"
_CONTACT: Final = "contact_update"
_BIOMETRIC: Final = AuthMethod.BIOMETRIC.value
_PASSWORD: Final = AuthMethod.PASSWORD.value
_OTP: Final = AuthMethod.OTP.value
_NONE: Final = AuthMethod.NONE.value
_CONTACTLESS_CENTS: Final = 50_00
"""Card-present payments up to this amount are contactless (no PIN): ``auth_method`` none."""
_TYPO: Final = 0.03
"""Chance that a password login is preceded by a mistyped attempt."""
_HOME_CUM: Final = tuple(itertools.accumulate(w for _p, w in HOME_CITIES))
_DEST_CUM: Final = tuple(itertools.accumulate(w for _p, w in DESTINATIONS))
_ONLINE_CUM: Final = tuple(itertools.accumulate(w for _c, w in ONLINE_MERCHANT_COUNTRIES))


def device_token(rng: random.Random, kind: str) -> str:
    """A device id as a channel would report it: kind and a random installation token."""
    return f"{kind}-{rng.getrandbits(48):012x}"


def _str(value: str | None) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _coordinate(value: float) -> str:
    return repr(round(value, 4))


def head_json(
    device: str | None,
    ip_country: str | None,
    place: Place | None,
    auth: str | None,
    *,
    coordinates: bool,
    jitter: tuple[float, float] = (0.0, 0.0),
) -> str:
    """The origin fields in ``model_dump_json`` order, with the trailing comma."""
    if place is None:
        city = lat = lon = "null"
    else:
        city = _str(place.city)
        if coordinates:
            lat = _coordinate(place.latitude + jitter[0])
            lon = _coordinate(place.longitude + jitter[1])
        else:
            lat = lon = "null"
    return (
        f'"device_id":{_str(device)},"ip_country":{_str(ip_country)},"city":{city},'
        f'"latitude":{lat},"longitude":{lon},"auth_method":{_str(auth)},'
    )


def tx_tail_json(merchant_country: str | None, payee: str | None) -> str:
    return f',"merchant_country":{_str(merchant_country)},"payee_id":{_str(payee)}'


def ix_tail_json(outcome: str | None) -> str:
    return f',"auth_outcome":{_str(outcome)}'


@dataclass(frozen=True, slots=True)
class Trip:
    """Away from home: on the way from ``leave`` to ``arrive``, there until ``depart``, home at ``back``."""

    place: Place
    leave: int
    arrive: int
    depart: int
    back: int
    holiday: bool
    """The story's holiday (``Plan.holiday``), not a short trip of the origin stream's own."""


@dataclass(frozen=True, slots=True)
class Located:
    """The fields an event gets besides its kind: where and how."""

    head: str
    tail: str
    typo: bool = False
    """A login preceded by a mistyped attempt (the caller adds the failed one)."""


class Origins:
    """One customer's devices, places, trips and payees, and the origin fields of their events.

    Drawn at construction from the ``origin`` stream (what the truth reads: the new phone, the
    trips); the per-event draws (tablet or phone, jitter, typos, new payees) come from the same
    stream while playing, in event order.
    """

    def __init__(
        self,
        rng: random.Random,
        number: int,
        start_ts: int,
        days: int,
        holiday: tuple[int, int] | None,
    ) -> None:
        self.rng = rng
        self.number = number
        self.home = HOME_CITIES[bisect.bisect_right(_HOME_CUM, rng.random() * _HOME_CUM[-1])][0]
        self.phone = device_token(rng, "app")
        self.tablet = device_token(rng, "app") if rng.random() < 0.2 else None
        self.browser = device_token(rng, "web") if rng.random() < 0.75 else None
        self.biometric = rng.random() < 0.75
        self.shares_location = rng.random() < 0.7
        self.new_phone_day: int | None = None
        """The day the customer starts using a new phone (a look-alike of a takeover's new device)."""
        self.new_phone_ts = 0
        self.new_phone = ""
        if rng.random() < min(0.5, days / 730):
            self.new_phone_day = rng.randrange(days)
            self.new_phone_ts = start_ts + self.new_phone_day * DAY_SECONDS + int(rng.uniform(8, 20) * 3600)
            self.new_phone = device_token(rng, "app")
        self.trips = self._trips(rng, start_ts, days, holiday)
        self.rent_payee = self._payee_token()
        self.payees: dict[str, list[str]] = {}
        self.big_payees: dict[int, str] = {}

    def _payee_token(self) -> str:
        return f"PY-{self.rng.getrandbits(40):010x}"

    def _trips(
        self, rng: random.Random, start_ts: int, days: int, holiday: tuple[int, int] | None
    ) -> tuple[Trip, ...]:
        """The story's holiday (abroad for most) and short trips abroad (a weekend away)."""
        spans: list[tuple[int, int, bool]] = []
        if holiday is not None and rng.random() < 0.8:
            spans.append((holiday[0], holiday[1], True))
        for _ in range(rng.randint(0, max(0, days // 90))):
            if rng.random() < 0.5:
                begin = rng.randrange(days)
                end = begin + rng.randint(2, 4)
                if all(end + 2 < b or begin > e + 2 for b, e, _h in spans):
                    spans.append((begin, end, False))
        trips = []
        for begin, end, on_holiday in sorted(spans):
            place = DESTINATIONS[bisect.bisect_right(_DEST_CUM, rng.random() * _DEST_CUM[-1])][0]
            way = travel_seconds(self.home, place)
            leave = start_ts + begin * DAY_SECONDS + int(rng.uniform(5, 14) * 3600)
            depart = start_ts + end * DAY_SECONDS + int(rng.uniform(8, 16) * 3600)
            trips.append(Trip(place, leave, leave + way, depart, depart + way, on_holiday))
        return tuple(trips)

    # ------------------------------------------------------------------ where and with what

    def where(self, ts: int) -> Place | None:
        """Where the customer is at ``ts``; None on the way (nothing is located then)."""
        for trip in self.trips:
            if ts < trip.leave:
                break
            if ts < trip.arrive or trip.depart <= ts < trip.back:
                return None
            if ts < trip.depart:
                return trip.place
        return self.home

    def card_place(self, ts: int) -> tuple[Place, bool]:
        """Where a card is used at ``ts``: on the way, at the airport or roadside left (a third of the
        way, two hours at most) or arrived at (an hour), else on board (False: not located)."""
        for trip in self.trips:
            if ts < trip.leave:
                break
            for leave, arrive, left, reached in (
                (trip.leave, trip.arrive, self.home, trip.place),
                (trip.depart, trip.back, trip.place, self.home),
            ):
                if leave <= ts < arrive:
                    way = arrive - leave
                    if ts < leave + min(7200, way // 3):
                        return left, True
                    if ts >= arrive - min(3600, way // 6):
                        return reached, True
                    return left, False
        place = self.where(ts)
        return (self.home if place is None else place), True

    def device(self, ts: int, channel: str) -> str | None:
        """The device of an online event: the phone (or tablet) in the app, the browser on the web."""
        if channel == _MOBILE:
            if self.tablet is not None and self.rng.random() < 0.25:
                return self.tablet
            return (
                self.new_phone if self.new_phone_day is not None and ts >= self.new_phone_ts else self.phone
            )
        if channel == _WEB:
            return self.browser or self.device(ts, _MOBILE)  # no computer: the phone's browser
        return None

    def _login_auth(self, ts: int, channel: str) -> str:
        if channel == _MOBILE:
            if self.new_phone_day is not None and 0 <= ts - self.new_phone_ts < 600:
                return _OTP  # a new phone is enrolled with a one-time code
            return _BIOMETRIC if self.biometric else _PASSWORD
        return _PASSWORD

    def _online(self, ts: int, channel: str, auth: str, *, coordinates: bool) -> str:
        place = self.where(ts)
        country = None if place is None else place.country
        jitter = (self.rng.uniform(-0.04, 0.04), self.rng.uniform(-0.06, 0.06)) if coordinates else (0.0, 0.0)
        return head_json(
            self.device(ts, channel),
            country,
            place,
            auth,
            coordinates=coordinates and place is not None,
            jitter=jitter,
        )

    # ------------------------------------------------------------------ per event

    def interaction(self, ts: int, kind: str, channel: str) -> Located:
        """Origin fields of an interaction; a login may come after a typo."""
        if channel in (_MOBILE, _WEB):
            if kind == _LOGIN:
                auth = self._login_auth(ts, channel)
                typo = auth == _PASSWORD and self.rng.random() < _TYPO
                located = channel == _MOBILE and self.shares_location
                return Located(
                    self._online(ts, channel, auth, coordinates=located), ix_tail_json("success"), typo
                )
            auth = _OTP if kind == _CONTACT else self._login_auth(ts, channel)
            return Located(self._online(ts, channel, auth, coordinates=False), NULL_IX_TAIL)
        if channel == _BRANCH:  # the home branch; a visit the trip leaves no room for is not located
            branch = self.home if self.where(ts) is self.home else None
            return Located(head_json(None, None, branch, _NONE, coordinates=True), NULL_IX_TAIL)
        if channel == _CALL:
            return Located(head_json(None, None, None, _PASSWORD, coordinates=False), NULL_IX_TAIL)
        return Located(NULL_HEAD, NULL_IX_TAIL)

    def transaction(
        self,
        ts: int,
        kind: str,
        channel: str,
        cents: int,
        mcc: str | None,
        counterparty: str | None,
        purpose: str,
        own_account: str | None,
    ) -> Located:
        """Origin fields of a booked transaction (``purpose``: why a transfer out is made)."""
        if kind in _POSTED:
            return Located(NULL_HEAD, NULL_TX_TAIL)
        if kind == _CARD:
            if purpose == "standing":  # a subscription the merchant charges
                return Located(
                    NULL_HEAD, tx_tail_json(SUBSCRIPTION_COUNTRIES.get(mcc or "", HOME_COUNTRY), None)
                )
            if channel == _POS:
                place, located = self.card_place(ts)
                if not located:  # on board: the country left, no city
                    head = head_json(None, None, None, _PASSWORD, coordinates=False)
                    return Located(head, tx_tail_json(place.country, None))
                jitter = (self.rng.uniform(-0.04, 0.04), self.rng.uniform(-0.06, 0.06))
                auth = _NONE if cents <= _CONTACTLESS_CENTS else _PASSWORD
                head = head_json(None, None, place, auth, coordinates=True, jitter=jitter)
                return Located(head, tx_tail_json(place.country, None))
            u = self.rng.random() * _ONLINE_CUM[-1]
            merchant = ONLINE_MERCHANT_COUNTRIES[bisect.bisect_right(_ONLINE_CUM, u)][0]
            auth = _OTP if cents > 30_00 else _NONE
            return Located(self._online(ts, _WEB, auth, coordinates=False), tx_tail_json(merchant, None))
        if kind in (_WITHDRAWAL, _DEPOSIT):
            place, located = self.card_place(ts)
            if kind == _DEPOSIT and place is not self.home:
                located = False  # cash is paid in at the bank's own machines and branches: not told
            head = head_json(None, None, place if located else None, _PASSWORD, coordinates=True)
            return Located(head, tx_tail_json(place.country if located else None, None))
        if kind == _TRANSFER_OUT:
            payee = self.payee(counterparty, purpose, own_account, ts)
            if purpose in ("standing", "own_standing"):  # a standing order the bank executes
                return Located(NULL_HEAD, tx_tail_json(None, payee))
            auth = _BIOMETRIC if channel == _MOBILE and self.biometric else _OTP
            return Located(self._online(ts, channel, auth, coordinates=False), tx_tail_json(None, payee))
        if channel in (_MOBILE, _WEB):  # trades, ad hoc
            return Located(self._online(ts, channel, _OTP, coordinates=False), NULL_TX_TAIL)
        return Located(NULL_HEAD, NULL_TX_TAIL)

    def payee(self, bank: str | None, purpose: str, own_account: str | None, ts: int) -> str:
        """A stable payee: the landlord, an own account, one of a few people at a bank; sometimes new."""
        if own_account is not None:
            return own_account
        if purpose == "standing":
            return self.rent_payee
        known = self.payees.setdefault(bank or "", [])
        if purpose == "exit":  # the customer's own account at the new bank
            if not known:
                known.append(self._payee_token())
            return known[0]
        if purpose == "big":  # the seller, the notary or the car dealer: paid once
            day = ts // DAY_SECONDS
            if day not in self.big_payees:
                self.big_payees[day] = self._payee_token()
            return self.big_payees[day]
        if not known or (len(known) < 6 and self.rng.random() < 0.12):
            known.append(self._payee_token())
            return known[-1]
        return known[min(len(known) - 1, int(self.rng.expovariate(1.2)))]
