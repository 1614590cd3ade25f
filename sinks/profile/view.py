"""Turn what the Redis script returns into the flat profile the rules read.

All numbers are floats: CEL is strict about int versus double, so one numeric type avoids surprises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from schemas.inputs import Customer, InputEvent, Transaction
from sinks.profile.delta import MS_PER_DAY
from sinks.profile.fields import NEVER_DAYS
from sinks.profile.layout import METRIC_COUNT, MONEY_METRICS, WINDOWS, Metric

MS_PER_HOUR = 3_600_000

Profile = dict[str, Any]


def _newest(raw: str) -> str:
    """Value part of a "ts|value" field written by the "sn" operation."""
    return raw.split("|", 1)[1] if "|" in raw else raw


def _days_since(now_ms: int, raw: str | None) -> float:
    if not raw:
        return NEVER_DAYS
    return max(0.0, (now_ms - int(raw)) / MS_PER_DAY)


def _age_years(birth: str, now_ms: int) -> float:
    if not birth:
        return -1.0
    born = date.fromisoformat(birth)
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    return float(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def build_profile(customer_id: str, state: Mapping[str, str], sums: Sequence[int], now_ms: int) -> Profile:
    """Return the rule-facing profile for ``customer_id`` as of ``now_ms`` (event time)."""
    profile: Profile = {"customer_id": customer_id}
    master = {k[2:]: _newest(v) for k, v in state.items() if k.startswith("m:")}
    profile["segment"] = master.get("segment", "retail")
    profile["marketing_consent"] = master.get("marketing_consent") == "1"
    profile["kyc_risk"] = master.get("kyc_risk", "low")
    profile["household_id"] = master.get("household_id", "")
    profile["age_years"] = _age_years(master.get("birth_date", ""), now_ms)
    opened = master.get("opened_ms", "")
    profile["tenure_days"] = (now_ms - int(opened)) / MS_PER_DAY if opened else -1.0
    profile["balance_last"] = int(_newest(state["balance"])) / 100 if "balance" in state else 0.0
    profile["days_since_salary"] = _days_since(now_ms, state.get("salary_ts"))
    profile["days_since_login"] = _days_since(now_ms, state.get("login_ts"))
    profile["days_since_activity"] = _days_since(now_ms, state.get("activity_ts"))
    open_since = [
        int(value[5:])
        for key, raw in state.items()
        if key.startswith("c:")
        for value in (_newest(raw),)
        if value.startswith("open:")
    ]
    profile["complaints_open"] = float(len(open_since))
    profile["oldest_open_complaint_hours"] = (
        max(0.0, (now_ms - min(open_since)) / MS_PER_HOUR) if open_since else 0.0
    )
    profile["last_nps"] = float(_newest(state["nps"])) if "nps" in state else -1.0
    products = sorted(k[2:] for k, v in state.items() if k.startswith("p:") and _newest(v) == "1")
    profile["products"] = products
    profile["product_count"] = float(len(products))
    _windows(profile, sums)
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
}


def _windows(profile: Profile, sums: Sequence[int]) -> None:
    for w, days in enumerate(WINDOWS):
        row = sums[w * METRIC_COUNT : (w + 1) * METRIC_COUNT]
        for metric, name in _WINDOW_NAMES.items():
            value = float(row[metric])
            profile[f"{name}_{days}d"] = value / 100 if metric in MONEY_METRICS else value
        inflow, outflow = row[Metric.INFLOW], row[Metric.OUTFLOW]
        profile[f"net_flow_{days}d"] = (inflow - outflow) / 100
        n = row[Metric.BALANCE_N]
        profile[f"balance_avg_{days}d"] = row[Metric.BALANCE_SUM] / n / 100 if n else 0.0
    longest = WINDOWS[-1]
    profile["login_count_prev60d"] = profile[f"login_count_{longest}d"] - profile["login_count_30d"]
    profile["card_spend_prev60d"] = profile[f"card_spend_{longest}d"] - profile["card_spend_30d"]


def build_event_context(event: InputEvent, home_bank: str) -> dict[str, Any]:
    """Flat, fully populated event map for rules (absent fields get neutral defaults)."""
    context: dict[str, Any] = {
        "type": event.type,
        "event_id": event.event_id,
        "kind": "",
        "amount": 0.0,
        "channel": "",
        "counterparty_bank": "",
        "to_other_bank": False,
        "merchant_category": "",
        "product": "",
        "score": -1.0,
        "reference": "",
    }
    if isinstance(event, Customer):
        return context
    context["kind"] = event.kind.value
    context["channel"] = event.channel.value
    if isinstance(event, Transaction):
        context["amount"] = float(event.amount)
        bank = event.counterparty_bank or ""
        context["counterparty_bank"] = bank
        context["to_other_bank"] = bool(bank) and bank != home_bank and event.kind.value == "transfer_out"
        context["merchant_category"] = event.merchant_category or ""
    else:
        context["product"] = event.product or ""
        context["score"] = float(event.score) if event.score is not None else -1.0
        context["reference"] = event.reference or ""
    return context
