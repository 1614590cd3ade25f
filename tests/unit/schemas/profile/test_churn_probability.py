"""The churn probability's arithmetic: a logistic of rhythm features and rule weights, reasons from it."""

from __future__ import annotations

import math
from typing import Any

from schemas.profile.churn_probability import FEATURE_NAMES, ChurnProbability, analyst_weight, feature_values


def _profile(**changes: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "days_since_active_day": 3,
        "p_alive": 0.9,
        "activity_overdue_ratio": 0.5,
        "activity_rate_ratio_30d": 1.0,
        "active_days_7d": 2,
        "active_days_30d": 10,
        "active_days_90d": 30,
        "active_days": 60,
        "days_since_first_active_day": 200,
    }
    profile.update(changes)
    return profile


def _model(**weights: float) -> ChurnProbability:
    return ChurnProbability(intercept=-2.0, features=weights, rules={"churn.fitted": 1.5})


def test_with_no_feature_weights_the_probability_is_the_logistic_of_intercept_and_rules() -> None:
    model = _model()
    assert model.probability(_profile(), []).probability == round(1 / (1 + math.exp(2.0)), 6)
    scored = model.probability(_profile(), [("churn.fitted", 0.1), ("churn.new", 0.4)])
    z = -2.0 + 1.5 + analyst_weight(0.4)
    assert scored.probability == round(1 / (1 + math.exp(-z)), 6)
    assert dict(scored.rules) == {"churn.fitted": 1.5, "churn.new": analyst_weight(0.4)}


def test_a_rule_the_fit_could_not_weigh_adds_what_its_noisy_or_weight_would() -> None:
    assert analyst_weight(0.5) == math.log(2)
    assert math.isclose(1 - math.exp(-analyst_weight(0.3)), 0.3)


def test_the_rhythm_counts_against_the_fit_average_customer() -> None:
    average = _profile()
    names = list(FEATURE_NAMES)
    means = dict(zip(names, feature_values(average), strict=True))
    model = ChurnProbability(
        intercept=-2.0, features={"log_days_since_active_day": 1.0}, feature_means=means, rules={}
    )
    assert model.probability(average, []).rhythm == 0.0
    quiet = model.probability(_profile(days_since_active_day=60), [])
    assert quiet.rhythm == math.log1p(60) - math.log1p(3)
    assert quiet.probability > model.probability(average, []).probability


def test_never_active_and_unknown_rhythms_have_defined_features() -> None:
    values = dict(
        zip(
            FEATURE_NAMES,
            feature_values(_profile(days_since_active_day=9999, activity_overdue_ratio=-1.0, p_alive=1.0)),
            strict=True,
        )
    )
    assert values["log_days_since_active_day"] == math.log1p(1000)
    assert values["no_rhythm_yet"] == 1.0 and values["log_overdue_ratio"] == 0.0
    assert math.isfinite(values["logit_p_alive"])
