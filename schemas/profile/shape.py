"""Shape of a profile: the metrics kept per day bucket and the windows rules read from them.

Money is kept in integer cents so sums are exact inside Redis' Lua (doubles are exact to 2**53).
"""

from __future__ import annotations

from enum import IntEnum

#: Windows (days) the rules can read; the longest is also the retention of day buckets.
WINDOWS: tuple[int, ...] = (1, 7, 30, 90)
#: Windows up to this many days are exact to the day. Days further back are kept by week (a third of
#: the memory), so longer windows move by whole weeks: the 90-day window holds every day of the last
#: 90 and at most 6 days more (sinks/redis/profile_state.py).
DAILY_DAYS = 30


class Metric(IntEnum):
    """Position of each metric inside a day bucket (stored as comma-separated integers)."""

    TXN_COUNT = 0
    INFLOW = 1
    OUTFLOW = 2
    OUTFLOW_OTHER_BANK = 3
    SALARY_COUNT = 4
    SALARY_AMOUNT = 5
    LOGIN_COUNT = 6
    COMPLAINT_COUNT = 7
    BALANCE_SUM = 8
    BALANCE_N = 9
    CARD_SPEND = 10
    INTERACTION_COUNT = 11
    LOAN_REPAYMENT = 12
    FEES = 13
    ACTIVE = 14  # customer activity events (not salary, fees, interest): > 0 makes an active day
    OFFERS_ACCEPTED = 15  # offer_accepted interactions (the closed loop of next-best offers)
    OFFERS_DECLINED = 16  # offer_declined interactions


METRIC_COUNT = len(Metric)
#: Metrics that hold cents and are shown to rules as currency units.
MONEY_METRICS = frozenset(
    {
        Metric.INFLOW,
        Metric.OUTFLOW,
        Metric.OUTFLOW_OTHER_BANK,
        Metric.SALARY_AMOUNT,
        Metric.BALANCE_SUM,
        Metric.CARD_SPEND,
        Metric.LOAN_REPAYMENT,
        Metric.FEES,
    }
)
