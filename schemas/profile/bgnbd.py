"""BG/NBD "probability alive": a churn model that learns each customer's own rhythm.

Fixed day counts ("no salary for 35 days") misjudge customers whose normal rhythm is slow or fast.
The BG/NBD model (Fader, Hardie & Lee, "Counting Your Customers the Easy Way", Marketing Science
2005) treats each customer as active at their own Poisson rate until an unobserved dropout, and
gives, from three numbers per customer, the probability they are still active and how many active
days to expect next:

- ``x``: repeat active days (active days after the first one),
- ``t_x``: days from the first to the last active day,
- ``T``: days from the first active day to now.

Four population parameters (r, alpha, a, b) are fitted offline by maximum likelihood
(``signalbank churn fit``) with SciPy: the likelihood is the published closed form (FHL 2005,
equation 6), optimised over log-parameters with L-BFGS-B. We use SciPy rather than the
``lifetimes`` package because that package is unmaintained and pins old pandas; the model is a
dozen lines on top of ``scipy.special``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from schemas.profile.churn_probability import ChurnProbability

#: Memoised estimates kept per parameter set before the memo starts over (bounded memory).
ESTIMATES_KEPT = 200_000


class BgNbdParams(BaseModel):
    """Population parameters: purchase rates ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: float = Field(gt=0)
    alpha: float = Field(gt=0, description="Scale of the activity rate, in days.")
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    customers: int = Field(0, ge=0, description="How many customers the fit saw.")
    log_likelihood: float | None = None
    probability: ChurnProbability | None = Field(
        None,
        description="The fitted churn probability (schemas/profile/churn_probability.py); none: "
        "the churn score is the noisy-OR of the rules' weights.",
    )

    #: (x, t_x, T) -> (p_alive, expected active days in 30): the same whole-day triple recurs for
    #: every event of a customer's day and across customers, and hyp2f1 costs ~5 µs a call.
    _estimates: dict[tuple[int, int, int], tuple[float, float]] = PrivateAttr(default_factory=dict)

    def estimates(self, x: int, t_x: int, big_t: int) -> tuple[float, float]:
        """``p_alive`` (6 decimals) and expected active days in the next 30 days (3 decimals), memoised."""
        key = (x, t_x, big_t)
        private = self.__pydantic_private__  # a slot: skips pydantic's slow __getattr__
        assert private is not None
        memo: dict[tuple[int, int, int], tuple[float, float]] = private["_estimates"]
        found = memo.get(key)
        if found is None:
            if len(memo) >= ESTIMATES_KEPT:
                memo.clear()
            found = (
                round(p_alive(self, x, t_x, big_t), 6),
                round(expected_active_days(self, 30, x, t_x, big_t), 3),
            )
            memo[key] = found
        return found

    @classmethod
    def load(cls, path: Path) -> BgNbdParams:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def p_alive(params: BgNbdParams, x: float, t_x: float, big_t: float) -> float:
    """Probability the customer is still active now (1 for a customer with no repeat activity yet)."""
    if x <= 0:
        return 1.0
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_ratio = (r + x) * math.log((alpha + big_t) / (alpha + t_x))
    odds = a / (b + x - 1) * math.exp(min(log_ratio, 700.0))
    return 1.0 / (1.0 + odds)


def expected_active_days(params: BgNbdParams, t: float, x: float, t_x: float, big_t: float) -> float:
    """Expected active days in the next ``t`` days, given the customer's history (FHL 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if a == 1:
        a = 1.0 + 1e-9  # the closed form has a removable singularity at a = 1
    z = t / (alpha + big_t + t)
    head = (a + b + x - 1) / (a - 1)
    decay: float = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
    tail = 1.0 - decay * float(hyp2f1(r + x, b + x, a + b + x - 1, z))
    return max(0.0, head * tail * p_alive(params, x, t_x, big_t))


def log_likelihood(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> float:
    """Sum over customers of the BG/NBD log-likelihood (FHL 2005, equation 6)."""
    common = gammaln(r + x) - gammaln(r) + r * math.log(alpha)
    first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(common + np.logaddexp(first, second)))


def fit(x: Sequence[float], t_x: Sequence[float], big_t: Sequence[float]) -> BgNbdParams:
    """Maximum-likelihood parameters for the given customers (each a triple x, t_x, T in days)."""
    xs, txs, ts = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    if len(xs) == 0:
        raise ValueError("no customers to fit")
    if np.any(txs > ts) or np.any(xs < 0) or np.any((xs == 0) & (txs != 0)):
        raise ValueError("need 0 <= t_x <= T and t_x = 0 when x = 0")

    def objective(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = log_likelihood(r, alpha, a, b, xs, txs, ts)
        return -value / len(xs) if math.isfinite(value) else 1e12

    start = np.log([1.0, max(1.0, float(np.mean(ts))) / 10, 1.0, 1.0])
    result = minimize(objective, start, method="L-BFGS-B", bounds=[(-9.0, 9.0)] * 4)
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdParams(
        r=r, alpha=alpha, a=a, b=b, customers=len(xs), log_likelihood=-float(result.fun) * len(xs)
    )
