"""Turn what the Redis script returns into the flat profile the rules read.

Types follow the field catalogue: counts, whole days and hours are ints, money is a float. CEL
compares ints with doubles freely but does not mix them in arithmetic, and the catalogue says
which is which (ints also cross into CEL five times faster than floats).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any

from schemas.inputs import Customer, InputEvent, Transaction
from schemas.profile.behaviour import NEUTRAL_FACTS, Facts, add_behaviour
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import ACCOUNT_PREFIX, MS_PER_DAY, NEW_PAYEE_GAP_DAYS
from schemas.profile.fields import NEVER_DAYS
from schemas.profile.rhythm import add_rhythm
from schemas.profile.shape import METRIC_COUNT, MONEY_METRICS, WINDOWS, Metric
from schemas.profile.value import add_value_score

MS_PER_HOUR = 3_600_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Profile = dict[str, Any]


def _newest(raw: str) -> str:
    """Value part of a "ts|value" field written by the "sn" operation."""
    return raw.split("|", 1)[1] if "|" in raw else raw


def _days_since(now_ms: int, raw: str | None) -> int:
    """Whole days elapsed (a salary 35.9 days ago is 35 days ago), NEVER_DAYS when never."""
    if not raw:
        return NEVER_DAYS
    return max(0, (now_ms - int(raw)) // MS_PER_DAY)


@lru_cache(maxsize=65_536)
def _birthday_figures(birth_date: str, day: int) -> tuple[int, int]:
    """(age in years, days to the next birthday) on epoch day ``day``; (-1, -1) without a birth date.

    Cached: a birth date and a day recur for every event of that customer on that day.
    """
    born = date.fromisoformat(birth_date) if birth_date else None
    today = date.fromordinal(_EPOCH_ORDINAL + day)
    return _age_years(born, today), _days_to_birthday(born, today)


def _age_years(born: date | None, today: date) -> int:
    if born is None:
        return -1
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _days_to_birthday(born: date | None, today: date) -> int:
    """Days until the next birthday (0 on the day itself; 29 February counts as 1 March)."""
    if born is None:
        return -1
    for year in (today.year, today.year + 1):
        try:
            birthday = born.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1)
        if birthday >= today:
            return (birthday - today).days
    return -1


def _activity(
    profile: Profile, state: Mapping[str, str], active_days: int, now_ms: int, model: BgNbdParams | None
) -> None:
    """Active days and the BG/NBD estimates: O(1) from the first and last active day and the count."""
    if "act_first" not in state:
        profile["active_days"] = 0
        profile["p_alive"] = 1.0
        profile["expected_active_days_30d"] = -1.0
        return
    first, last = int(state["act_first"]), int(state["act_last"])
    repeat = max(0, active_days - 1)
    age = max(now_ms // MS_PER_DAY, last) - first
    profile["active_days"] = repeat + 1
    if model is None:
        profile["p_alive"] = 1.0
        profile["expected_active_days_30d"] = -1.0
        return
    profile["p_alive"], profile["expected_active_days_30d"] = model.estimates(repeat, last - first, age)


def _new_payee_bank(profile: Profile, state: Mapping[str, str], now_ms: int) -> None:
    """How long the customer has been paying the bank of their latest transfer out, if it is new.

    New means not paid in the NEW_PAYEE_GAP_DAYS before, with at least that much history seen
    before the first transfer (otherwise every payee looks new when a profile starts).
    """
    profile["new_payee_bank_days"] = NEVER_DAYS
    profile["new_payee_bank_transfers"] = 0
    bank = _newest(state.get("payee_bank", ""))
    run = state.get(f"ob:{bank}") if bank else None
    if run is None or "act_first" not in state:
        return
    start, _last, count = (int(part) for part in run.split(","))
    if start - int(state["act_first"]) < NEW_PAYEE_GAP_DAYS:
        return
    profile["new_payee_bank_days"] = max(0, now_ms // MS_PER_DAY - start)
    profile["new_payee_bank_transfers"] = count


def _scan(
    state: Mapping[str, str],
) -> tuple[dict[str, str], list[tuple[int, str]], list[str], list[int]]:
    """One pass over the state hash: master data ("m:"), open complaints ("c:", oldest first),
    products held ("p:", sorted) and each account's latest balance in cents ("a:")."""
    master: dict[str, str] = {}
    open_since: list[tuple[int, str]] = []
    products: list[str] = []
    balances: list[int] = []
    for key, raw in state.items():
        prefix = key[:2]
        if prefix == ACCOUNT_PREFIX:
            balances.append(int(_newest(raw)))
        elif prefix == "m:":
            master[key[2:]] = _newest(raw)
        elif prefix == "c:":
            value = _newest(raw)
            if value.startswith("open:"):
                open_since.append((int(value[5:]), key[2:]))
        elif prefix == "p:" and _newest(raw) == "1":
            products.append(key[2:])
    open_since.sort()
    products.sort()
    return master, open_since, products, balances


def _balances(profile: Profile, state: Mapping[str, str], balances: list[int]) -> None:
    """The total relationship balance (the sum of each account's latest) and the per-account figures.

    A profile stored before balances were kept per account has one balance of whichever account
    reported last: it stands for the total until the customer's next balance replaces it.
    """
    if not balances and "balance" in state:
        balances = [int(_newest(state["balance"]))]
    profile["balance_last"] = sum(balances) / 100
    profile["accounts_count"] = len(balances)
    profile["balance_max_account"] = max(balances) / 100 if balances else 0.0
    profile["balance_min_account"] = min(balances) / 100 if balances else 0.0


def build_profile(
    customer_id: str,
    state: Mapping[str, str],
    sums: Sequence[int],
    now_ms: int,
    model: BgNbdParams | None = None,
    active_days: int = 0,
    active_bits: int = 0,
) -> Profile:
    """Return the rule-facing profile for ``customer_id`` as of ``now_ms`` (event time).

    ``model``: fitted BG/NBD parameters; without them ``p_alive`` is 1 and the expectation -1.
    ``active_days``: days with customer activity so far (the store counts them); ``active_bits``:
    the store's activity bitmap (bit k: the latest event day minus k), for the rhythm fields.
    """
    profile: Profile = {"customer_id": customer_id}
    master, open_since, products, balances = _scan(state)
    profile["segment"] = master.get("segment", "retail")
    profile["marketing_consent"] = master.get("marketing_consent") == "1"
    profile["kyc_risk"] = master.get("kyc_risk", "low")
    profile["household_id"] = master.get("household_id", "")
    profile["age_years"], profile["days_to_birthday"] = _birthday_figures(
        master.get("birth_date", ""), now_ms // MS_PER_DAY
    )
    first = state.get("first_ts")
    profile["history_days"] = max(0, (now_ms - int(first)) // MS_PER_DAY) if first else -1
    opened = master.get("opened_ms", "")
    profile["tenure_days"] = max(0, (now_ms - int(opened)) // MS_PER_DAY) if opened else -1
    _balances(profile, state, balances)
    profile["days_since_salary"] = _days_since(now_ms, state.get("salary_ts"))
    profile["days_since_login"] = _days_since(now_ms, state.get("login_ts"))
    profile["days_since_activity"] = _days_since(now_ms, state.get("activity_ts"))
    profile["days_since_contact_update"] = _days_since(now_ms, state.get("contact_ts"))
    profile["days_since_offer_accepted"] = _days_since(now_ms, state.get("offer_accept_ts"))
    profile["days_since_offer_declined"] = _days_since(now_ms, state.get("offer_decline_ts"))
    profile["complaints_open"] = len(open_since)
    profile["oldest_open_complaint_hours"] = (
        max(0, (now_ms - open_since[0][0]) // MS_PER_HOUR) if open_since else 0
    )
    profile["oldest_open_complaint_ref"] = open_since[0][1] if open_since else ""
    profile["last_nps"] = int(_newest(state["nps"])) if "nps" in state else -1
    profile["products"] = products
    profile["product_count"] = len(products)
    _activity(profile, state, active_days, now_ms, model)
    add_rhythm(profile, state, active_bits, now_ms // MS_PER_DAY)
    _new_payee_bank(profile, state, now_ms)
    add_behaviour(profile, state, now_ms)
    _windows(profile, sums)
    add_value_score(profile)
    return profile


_WINDOW_NAMES: dict[Metric, str] = {
    Metric.TXN_COUNT: "txn_count",
    Metric.INFLOW: "inflow",
    Metric.OUTFLOW: "outflow",
    Metric.OUTFLOW_OTHER_BANK: "outflow_other_bank",
    Metric.SALARY_COUNT: "salary_count",
    Metric.SALARY_AMOUNT: "salary_amount",
    Metric.LOGIN_COUNT: "login_count",
    Metric.COMPLAINT_COUNT: "complaint_count",
    Metric.CARD_SPEND: "card_spend",
    Metric.INTERACTION_COUNT: "interaction_count",
    Metric.LOAN_REPAYMENT: "loan_repayment",
    Metric.FEES: "fees",
    Metric.OFFERS_ACCEPTED: "offers_accepted",
    Metric.OFFERS_DECLINED: "offers_declined",
}


#: (position in the sums, profile field, divisor): money in cents becomes currency units.
_WINDOW_FIELDS: tuple[tuple[int, str, int], ...] = tuple(
    (w * METRIC_COUNT + metric, f"{name}_{days}d", 100 if metric in MONEY_METRICS else 1)
    for w, days in enumerate(WINDOWS)
    for metric, name in _WINDOW_NAMES.items()
)


#: Counts copied as they are, and money converted from cents, each read with one C-level getter.
_COUNT_NAMES = tuple(name for _, name, divisor in _WINDOW_FIELDS if divisor == 1)
_COUNTS = itemgetter(*(index for index, _, divisor in _WINDOW_FIELDS if divisor == 1))
_MONEY_NAMES = tuple(name for _, name, divisor in _WINDOW_FIELDS if divisor == 100)
_MONEY = itemgetter(*(index for index, _, divisor in _WINDOW_FIELDS if divisor == 100))
_THIRTY = WINDOWS.index(30) * METRIC_COUNT
_LONGEST = (len(WINDOWS) - 1) * METRIC_COUNT
#: Per window: where its sums start, and the names of its derived fields.
_PER_WINDOW = tuple((w * METRIC_COUNT, f"net_flow_{d}d", f"balance_avg_{d}d") for w, d in enumerate(WINDOWS))


def _windows(profile: Profile, sums: Sequence[int]) -> None:
    profile.update(zip(_COUNT_NAMES, _COUNTS(sums), strict=True))
    profile.update(zip(_MONEY_NAMES, [cents / 100 for cents in _MONEY(sums)], strict=True))
    for base, net_flow, balance_avg in _PER_WINDOW:
        profile[net_flow] = (sums[base + Metric.INFLOW] - sums[base + Metric.OUTFLOW]) / 100
        n = sums[base + Metric.BALANCE_N]
        # to the cent (half up), so it is whole cents like all money (see FieldSpec.cents)
        total = sums[base + Metric.BALANCE_SUM]
        profile[balance_avg] = (2 * total + n) // (2 * n) / 100 if n else 0.0
    logins = sums[_LONGEST + Metric.LOGIN_COUNT] - sums[_THIRTY + Metric.LOGIN_COUNT]
    profile["login_count_prev60d"] = logins
    # From the cents, so the difference is whole cents too (see FieldSpec.cents).
    card_spend = sums[_LONGEST + Metric.CARD_SPEND] - sums[_THIRTY + Metric.CARD_SPEND]
    profile["card_spend_prev60d"] = card_spend / 100


def build_event_context(event: InputEvent, home_bank: str, facts: Facts | None = None) -> dict[str, Any]:
    """Flat, fully populated event map for rules (absent fields get neutral defaults).

    ``facts``: the event relative to the customer's behaviour before it, as applying it found
    (schemas/profile/behaviour.py; ``StoredProfile.facts``); None leaves them neutral.
    """
    context = neutral_event(event.type, event.event_id)
    if isinstance(event, Customer):
        return context
    context["kind"] = event.kind.value
    context["channel"] = event.channel.value
    context["ip_country"] = event.ip_country or ""
    context["auth_method"] = event.auth_method.value if event.auth_method is not None else ""
    context["has_device"] = event.device_id is not None
    if facts is not None:
        context.update(facts.context())
    if isinstance(event, Transaction):
        context["amount"] = float(event.amount)
        bank = event.counterparty_bank or ""
        context["counterparty_bank"] = bank
        context["to_other_bank"] = bool(bank) and bank != home_bank and event.kind.value == "transfer_out"
        context["merchant_category"] = event.merchant_category or ""
        context["merchant_country"] = event.merchant_country or ""
    else:
        context["auth_failed"] = event.auth_outcome == "failed"
        context["product"] = event.product or ""
        context["score"] = event.score if event.score is not None else -1
        context["reference"] = event.reference or ""
    return context


def neutral_event(event_type: str, event_id: str) -> dict[str, Any]:
    """An event map with every field at its neutral value; a silence check uses it as it is."""
    return {
        "type": event_type,
        "event_id": event_id,
        "kind": "",
        "amount": 0.0,
        "channel": "",
        "counterparty_bank": "",
        "to_other_bank": False,
        "merchant_category": "",
        "product": "",
        "score": -1,
        "reference": "",
        "ip_country": "",
        "merchant_country": "",
        "auth_method": "",
        "auth_failed": False,
        "has_device": False,
        **NEUTRAL_FACTS,
    }
