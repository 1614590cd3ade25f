"""The field catalogue: every profile and event field a rule may read, with its type and meaning.

The rule engine validates conditions against it and docs/rules.md is generated from it, so the
catalogue is the single place a new field is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.profile.delta import MAX_ACCOUNTS
from schemas.profile.shape import WINDOWS

FieldType = Literal["int", "double", "string", "bool", "list"]
NEVER_DAYS = 9999


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    description: str
    #: A double that always holds whole cents (money, 2-decimal scores): the rule engine passes it
    #: to CEL as an int count of cents, which the binding converts several times faster than a float.
    cents: bool = False


_WINDOWED: tuple[tuple[str, FieldType, str, bool], ...] = (
    ("txn_count", "int", "number of transactions", False),
    ("inflow", "double", "money in (salary, deposits, transfers in, interest, investment sales)", True),
    ("outflow", "double", "money out (all other transaction kinds)", True),
    ("outflow_other_bank", "double", "money out to a counterparty at another bank", True),
    ("net_flow", "double", "inflow minus outflow", True),
    ("salary_count", "int", "number of salary credits", False),
    ("salary_amount", "double", "sum of salary credits", True),
    ("login_count", "int", "number of logins (failed attempts do not count: failed_logins_*)", False),
    ("complaint_count", "int", "complaints opened", False),
    ("card_spend", "double", "card payments", True),
    ("interaction_count", "int", "interactions (logins, calls, visits, ...; no failed login)", False),
    ("loan_repayment", "double", "loan repayments (a large one is often an early payoff)", True),
    ("fees", "double", "fees charged", True),
    (
        "balance_avg",
        "double",
        "average of the total relationship balance (balance_last) at each balance a transaction "
        "reported, to the cent (0 when none)",
        True,
    ),
    ("active_days", "int", "distinct days with customer activity (exact to the day, also for 90)", False),
    ("offers_accepted", "int", "offers accepted (offer_accepted interactions)", False),
    ("offers_declined", "int", "offers declined (offer_declined interactions)", False),
)


#: The customer's own behaviour for the risk rules (schemas/profile/behaviour.py).
_BEHAVIOUR_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("devices_count", "int", "devices the customer used (the last 8 by last use)"),
    FieldSpec(
        "countries_count",
        "int",
        "countries the customer acted from (the IP's, else the merchant's when paid in person; last 8)",
    ),
    FieldSpec(
        "channels_count", "int", "channels the customer used (branch, atm, mobile, web, pos, call_centre)"
    ),
    FieldSpec("payees_count", "int", "payees the customer sent transfers to (by payee_id; the last 8)"),
    FieldSpec(
        "tx_count_10m",
        "int",
        "payments out (card, withdrawal, transfer out, loan repayment, investment buy) in the last 10 "
        "minutes, exact up to 32 in the last hour",
    ),
    FieldSpec("tx_sum_10m", "double", "the sum of those payments out in the last 10 minutes", cents=True),
    FieldSpec("tx_count_1h", "int", "payments out in the last hour (exact up to 32, then 32)"),
    FieldSpec(
        "tx_sum_1h", "double", "the sum of the payments out in the last hour (of the newest 32)", cents=True
    ),
    FieldSpec("failed_logins_10m", "int", "failed logins (auth_outcome failed) in the last 10 minutes"),
    FieldSpec("failed_logins_1h", "int", "failed logins in the last hour (exact up to 32)"),
    FieldSpec(
        "hours_since_new_device",
        "int",
        "whole hours since a device the customer had not used before appeared (with devices known before "
        "it), 99999 when never",
    ),
    FieldSpec(
        "hours_since_new_country",
        "int",
        "whole hours since a country the customer had not acted from before appeared, 99999 when never",
    ),
    FieldSpec(
        "risk_open",
        "bool",
        "true for 72 hours after a pattern of the shipped risk rules: impossible travel, 5 failed logins "
        "in an hour, a payment out of 100 or more from a device and a country both new within a day, "
        "one of 1000 or more far from the usual (z >= 4), or to a new payee or with z >= 3 within a day "
        "of a new device or country (the offers pitch nothing meanwhile)",
    ),
    FieldSpec("risk_open_hours", "int", "hours until the open risk case closes, 0 when none is open"),
)


def _profile_fields() -> tuple[FieldSpec, ...]:
    specs = [
        FieldSpec("customer_id", "string", "the customer's id"),
        FieldSpec("segment", "string", "segment from master data: retail, sme, private, student"),
        FieldSpec("marketing_consent", "bool", "true when the customer agreed to sales offers"),
        FieldSpec("kyc_risk", "string", "KYC risk from master data: low, medium, high"),
        FieldSpec("household_id", "string", "household from master data, '' when none"),
        FieldSpec("age_years", "int", "age in whole years at the profile's time, -1 when unknown"),
        FieldSpec("days_to_birthday", "int", "days until the next birthday, 0 on the day, -1 when unknown"),
        FieldSpec("tenure_days", "int", "whole days since the relationship opened, -1 when unknown"),
        FieldSpec(
            "history_days",
            "int",
            "whole days since the customer's first event of any kind (the history this profile holds), "
            "-1 when none",
        ),
        FieldSpec(
            "balance_last",
            "double",
            "the total relationship balance: the sum of each account's latest reported balance (by "
            "event time), in the reporting currency; 0 before any",
            cents=True,
        ),
        FieldSpec(
            "accounts_count",
            "int",
            f"accounts with a reported balance (at most {MAX_ACCOUNTS}: beyond, the one updated "
            "longest ago is forgotten)",
        ),
        FieldSpec(
            "balance_max_account",
            "double",
            "the largest latest balance of a single account, 0 before any",
            cents=True,
        ),
        FieldSpec(
            "balance_min_account",
            "double",
            "the smallest latest balance of a single account (negative: an account overdrawn while the "
            "total may be positive), 0 before any",
            cents=True,
        ),
        FieldSpec(
            "days_since_salary", "int", f"whole days since the last salary credit, {NEVER_DAYS} if never"
        ),
        FieldSpec("days_since_login", "int", f"days since the last good login, {NEVER_DAYS} if never"),
        FieldSpec("days_since_activity", "int", f"whole days since any event, {NEVER_DAYS} if never"),
        FieldSpec(
            "days_since_contact_update",
            "int",
            f"whole days since contact details (phone, e-mail, address) changed, {NEVER_DAYS} if never",
        ),
        FieldSpec("complaints_open", "int", "complaints opened and not resolved"),
        FieldSpec(
            "oldest_open_complaint_hours",
            "int",
            "whole hours the oldest open complaint has been open, 0 if none",
        ),
        FieldSpec(
            "oldest_open_complaint_ref", "string", "reference of the oldest open complaint, '' if none"
        ),
        FieldSpec("last_nps", "int", "latest survey score 0-10, -1 if none"),
        FieldSpec("products", "list", "product codes held, e.g. CURRENT_ACCOUNT, CREDIT_CARD"),
        FieldSpec("product_count", "int", "number of products held"),
        FieldSpec(
            "login_count_prev60d", "int", "logins in the 60 days (up to 66: whole weeks) before the last 30"
        ),
        FieldSpec(
            "active_days",
            "int",
            "distinct days with customer activity (not salary, fees or interest) since the first one",
        ),
        FieldSpec(
            "p_alive",
            "double",
            "BG/NBD probability (0-1) that the customer is still active, judged by their own rhythm; "
            "1 before a second active day",
        ),
        FieldSpec(
            "expected_active_days_30d",
            "double",
            "BG/NBD expected active days in the next 30 days, -1 without a fitted model or history",
        ),
        FieldSpec(
            "days_since_active_day",
            "int",
            "whole days since the last day with customer activity (not salary, fees or interest), "
            f"{NEVER_DAYS} if never",
        ),
        FieldSpec(
            "days_since_first_active_day",
            "int",
            "whole days since the first day with customer activity, -1 if never",
        ),
        FieldSpec(
            "activity_gap_mean_days",
            "double",
            "the customer's mean gap in days between active days over their whole history, -1 before "
            "a second active day",
        ),
        FieldSpec(
            "activity_gap_median_days",
            "double",
            "the customer's typical (median) gap in days between consecutive active days, -1 before a "
            "second active day (from a histogram with buckets about 19% wide; gaps of 1-7 days exact)",
        ),
        FieldSpec(
            "activity_gap_p90_days",
            "double",
            "the customer's long gap: 9 of 10 of their gaps between active days are at most this long, "
            "-1 before a second active day",
        ),
        FieldSpec(
            "activity_overdue_ratio",
            "double",
            "days_since_active_day divided by activity_gap_p90_days: above 1 the customer is quieter "
            "than 9 of 10 of their own gaps; -1 before a second active day",
        ),
        FieldSpec(
            "activity_rate_ratio_30d",
            "double",
            "active days in the last 30 against what the customer's own lifetime rate predicts (1: as "
            "usual, 0.2: a fifth of their usual); -1 with less than 31 days of history",
        ),
        FieldSpec(
            "new_payee_bank_days",
            "int",
            "whole days since the customer started paying the bank of their latest transfer to another "
            "bank, when that bank is a new payee (not paid in the 60 days before, with 60 days of history); "
            f"{NEVER_DAYS} otherwise",
        ),
        FieldSpec(
            "new_payee_bank_transfers",
            "int",
            "transfers to that new payee bank so far (the first included), 0 when it is not new",
        ),
        FieldSpec(
            "card_spend_prev60d",
            "double",
            "card spend in the 60 days (up to 66: whole weeks) before the last 30",
            cents=True,
        ),
        FieldSpec(
            "days_since_offer_accepted",
            "int",
            f"whole days since an offer was accepted, {NEVER_DAYS} if never",
        ),
        FieldSpec(
            "days_since_offer_declined",
            "int",
            f"whole days since an offer was declined, {NEVER_DAYS} if never",
        ),
        FieldSpec(
            "value_score",
            "double",
            "customer value 0-100: contribution + loyalty + potential (see docs/offers.md)",
            cents=True,
        ),
        FieldSpec(
            "value_contribution",
            "double",
            "value from balances and flows, 0-50 (90-day averages)",
            cents=True,
        ),
        FieldSpec(
            "value_loyalty",
            "double",
            "value from tenure, number of products and a domiciled salary, 0-30",
            cents=True,
        ),
        FieldSpec("value_potential", "double", "value from age and salary level, 0-20", cents=True),
        *_BEHAVIOUR_FIELDS,
    ]
    for base, kind, meaning, cents in _WINDOWED:
        for days in WINDOWS:
            specs.append(FieldSpec(f"{base}_{days}d", kind, f"{meaning}, last {days} day(s)", cents))
    return tuple(specs)


PROFILE_FIELDS: tuple[FieldSpec, ...] = _profile_fields()

EVENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "string", "transaction, interaction, customer, or check (a silence check: no event)"),
    FieldSpec("event_id", "string", "the event's id"),
    FieldSpec(
        "kind", "string", "transaction or interaction kind, e.g. salary_credit, login ('' for customer)"
    ),
    FieldSpec("amount", "double", "transaction amount, 0 for other events", cents=True),
    FieldSpec("channel", "string", "branch, atm, mobile, web, pos, call_centre ('' for customer)"),
    FieldSpec("counterparty_bank", "string", "the other bank's code for transfers, '' when none"),
    FieldSpec("to_other_bank", "bool", "true when money leaves for a counterparty at another bank"),
    FieldSpec("merchant_category", "string", "card merchant category code, '' when none"),
    FieldSpec("product", "string", "product code of an interaction, '' when none"),
    FieldSpec("score", "int", "survey score 0-10, -1 when none"),
    FieldSpec("reference", "string", "complaint or offer reference, '' when none"),
    FieldSpec("ip_country", "string", "ISO 3166 alpha-2 country of the event's IP address, '' when unknown"),
    FieldSpec(
        "merchant_country", "string", "ISO 3166 alpha-2 country of the merchant or ATM, '' when unknown"
    ),
    FieldSpec("auth_method", "string", "none, password, otp or biometric; '' when unknown"),
    FieldSpec("auth_failed", "bool", "true for a failed login attempt"),
    FieldSpec("has_device", "bool", "true when the event names the device it came from"),
    FieldSpec(
        "device_new",
        "bool",
        "the event's device is not among the customer's known devices (false while none is known yet)",
    ),
    FieldSpec(
        "country_new", "bool", "the event's country is new for the customer (false while none is known)"
    ),
    FieldSpec(
        "payee_new",
        "bool",
        "a transfer to a payee the customer has not paid before (false while none is known)",
    ),
    FieldSpec("channel_new", "bool", "the first event on this channel (false for the very first event)"),
    FieldSpec(
        "amount_zscore",
        "double",
        "how many spreads the amount is above the customer's mean for this kind BEFORE this event (spread "
        "at least a tenth of the mean and 1.00); 0 with fewer than 5 amounts of the kind",
    ),
    FieldSpec(
        "amount_usual", "double", "the customer's mean amount of this kind before this event, -1 when none"
    ),
    FieldSpec(
        "km_from_last",
        "double",
        "km from the customer's previous location (coordinates, else the country's centroid; 0 in the "
        "same country when either is a centroid), -1 when unknown",
    ),
    FieldSpec("hours_since_last_location", "double", "hours since that previous location, -1 when unknown"),
    FieldSpec(
        "speed_kmh", "double", "km_from_last over the time between (at least a minute), -1 when unknown"
    ),
    FieldSpec("location_exact", "bool", "both locations came from coordinates, not country centroids"),
)
