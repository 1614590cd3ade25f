"""The churn probability: rule evidence and the customer's own rhythm in one calibrated number.

``P(lost within horizon_days) = 1 / (1 + exp(-z))`` with ``z`` = intercept + the weighted rhythm
features of the profile (``FEATURES``) + the weight of every churn rule that holds. The weights
are a logistic regression fitted by ``signalbank churn fit`` on the bank's own history
(streams/backtest/churn_fit.py): each row is a customer as of a past day, labelled by what they did
in the ``horizon_days`` after it. A rule the history did not show often enough to weigh keeps its
analyst weight ``w`` from the YAML, as ``-ln(1 - w)`` on the log-odds (the amount a noisy-OR of
weights would add for it), so a new rule counts from its first day.

Pure arithmetic over the flat profile (about 2 µs an evaluation): the worker applies it for every
event and silence check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from schemas.profile.fields import NEVER_DAYS

_LONGEST = 1000.0  # days: recency and age beyond this say nothing more


def _log_days(value: Any) -> float:
    days = float(value)
    return math.log1p(min(_LONGEST, days if 0 <= days < NEVER_DAYS else _LONGEST))


def _logit(p: Any) -> float:
    clipped = min(1 - 1e-4, max(1e-4, float(p)))
    return math.log(clipped / (1 - clipped))


def _log_ratio(value: Any) -> float:
    ratio = float(value)
    return math.log(ratio + 0.1) if ratio >= 0 else 0.0


def _log_count(value: Any) -> float:
    return math.log1p(float(value))


def _unknown(value: Any) -> float:
    return 1.0 if float(value) < 0 else 0.0


#: The rhythm features, each computed from one profile field: (name, field, transform).
FEATURES: tuple[tuple[str, str, Callable[[Any], float]], ...] = (
    ("log_days_since_active_day", "days_since_active_day", _log_days),
    ("logit_p_alive", "p_alive", _logit),
    ("log_overdue_ratio", "activity_overdue_ratio", lambda v: math.log1p(max(0.0, float(v)))),
    ("no_rhythm_yet", "activity_overdue_ratio", _unknown),
    ("log_rate_ratio_30d", "activity_rate_ratio_30d", _log_ratio),
    ("no_rate_yet", "activity_rate_ratio_30d", _unknown),
    ("log_active_days_7d", "active_days_7d", _log_count),
    ("log_active_days_30d", "active_days_30d", _log_count),
    ("log_active_days_90d", "active_days_90d", _log_count),
    ("log_active_days", "active_days", _log_count),
    ("log_days_since_first_active_day", "days_since_first_active_day", _log_days),
)
FEATURE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in FEATURES)


def feature_values(profile: Mapping[str, Any]) -> list[float]:
    """The rhythm features of one profile, in the order of ``FEATURE_NAMES``."""
    return [transform(profile[field]) for _, field, transform in FEATURES]


def analyst_weight(weight: float) -> float:
    """The log-odds a rule with YAML weight ``weight`` adds when the fit could not weigh it."""
    return -math.log(max(1e-6, 1.0 - weight))


class FitQuality(BaseModel):
    """How the fitted model ranked customers on a split it was not fitted on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    split_day: str = Field(description="The later split (ISO date) the figures are from.")
    customers: int = Field(ge=0)
    lost: int = Field(ge=0)
    auroc: float | None = None
    average_precision: float | None = None
    brier: float | None = None


class ChurnProbability(BaseModel):
    """Fitted weights of the churn probability (the ``probability`` part of the churn model file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_days: int = Field(90, ge=1, description="The probability is of being lost within this many days.")
    lost_share: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Lost means active on fewer than this share of the days their own rate predicts.",
    )
    min_history_days: int = Field(
        30,
        ge=0,
        description="No churn level before this many days of history (profile.history_days): at "
        "go-live, or for a new customer, there is no rhythm to judge yet (the probability is still "
        "computed).",
    )
    intercept: float
    features: dict[str, float] = Field(description="Weight of each rhythm feature (FEATURE_NAMES).")
    feature_means: dict[str, float] = Field(
        default_factory=dict, description="Mean of each feature in the fit: the reasons' baseline."
    )
    rules: dict[str, float] = Field(
        default_factory=dict, description="Fitted weight (log-odds) of each churn rule that was weighed."
    )
    quality: FitQuality | None = None

    def probability(self, profile: Mapping[str, Any], holding: Sequence[tuple[str, float]]) -> Scored:
        """P(lost within the horizon) for ``profile``; ``holding``: (rule id, YAML weight) of every
        churn rule whose condition holds."""
        values = feature_values(profile)
        rhythm = 0.0
        baseline = 0.0
        for name, value in zip(FEATURE_NAMES, values, strict=True):
            weight = self.features.get(name, 0.0)
            rhythm += weight * value
            baseline += weight * self.feature_means.get(name, value)
        weighed = [(rule, self.rule_weight(rule, yaml_weight)) for rule, yaml_weight in holding]
        z = self.intercept + rhythm + sum(w for _, w in weighed)
        p = 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))
        return Scored(round(p, 6), rhythm - baseline, tuple(weighed))

    def rule_weight(self, rule_id: str, yaml_weight: float) -> float:
        fitted = self.rules.get(rule_id)
        return analyst_weight(yaml_weight) if fitted is None else fitted


class Scored(NamedTuple):
    """A probability with what made it: the rhythm's log-odds against the fit's average customer and
    each holding rule's log-odds."""

    probability: float
    rhythm: float
    rules: tuple[tuple[str, float], ...]
