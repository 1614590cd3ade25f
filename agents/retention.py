"""The retention campaign list (``signalbank churn list``): customers by churn probability as of a day.

Read from the live profiles, every customer included (the silent ones most of all), and judged as a
silence check at that moment would judge them: the same profile, rules and churn probability.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.evaluate.engine import RHYTHM_REASON, Evaluation, evaluate, level_rank
from rules.load.ruleset import Ruleset
from schemas.outputs import ChurnLevel
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import MS_PER_DAY
from schemas.profile.view import build_profile, neutral_event
from sinks.redis.profiles import ProfileStore

#: Profiles read per round trip.
CHUNK = 500
#: Reasons listed per customer, the largest contribution first.
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class Listed:
    customer_id: str
    probability: float
    level: ChurnLevel | None
    p_alive: float
    reasons: tuple[str, ...]

    def csv(self) -> str:
        level = self.level.value if self.level is not None else ""
        return (
            f"{self.customer_id},{self.probability:.6f},{level},{self.p_alive:.6f},{';'.join(self.reasons)}"
        )


def top_reasons(evaluation: Evaluation, count: int = TOP_REASONS) -> tuple[str, ...]:
    """The rules (and the rhythm) that contributed most to the churn score, largest first."""
    weights = evaluation.rule_weights or tuple(f.rule.weight for f in evaluation.fired)  # type: ignore[union-attr]
    pairs = [(w, f.rule.id) for f, w in zip(evaluation.fired, weights, strict=True)]
    if evaluation.rhythm > 0:
        pairs.append((evaluation.rhythm, RHYTHM_REASON))
    pairs.sort(key=lambda pair: (-pair[0], pair[1]))
    return tuple(rule_id for _, rule_id in pairs[:count])


async def retention_list(
    store: ProfileStore,
    ruleset: Ruleset,
    model: BgNbdParams | None,
    as_of_ms: int,
    min_level: ChurnLevel,
) -> list[Listed]:
    """Customers at ``min_level`` or above as of ``as_of_ms``, the likeliest to leave first."""
    churn = model.probability if model is not None else None
    listed: list[Listed] = []
    chunk: list[str] = []

    async def judge(ids: list[str]) -> None:
        stored = await store.read_many(ids, as_of_ms)
        for customer_id, result in zip(ids, stored, strict=True):
            if "last_ts" not in result.state:
                continue
            now_ms = max(as_of_ms, int(result.state["last_ts"]))
            profile = build_profile(
                customer_id, result.state, result.sums, now_ms, model, result.active_days, result.active_bits
            )
            check = neutral_event("check", f"list:{as_of_ms // MS_PER_DAY}")
            evaluation = evaluate(ruleset, profile, check, None, churn)
            if level_rank(evaluation.level) >= level_rank(min_level):
                listed.append(
                    Listed(
                        customer_id,
                        evaluation.score,
                        evaluation.level,
                        float(profile["p_alive"]),
                        top_reasons(evaluation),
                    )
                )

    async for customer_id in store.customer_ids():
        chunk.append(customer_id)
        if len(chunk) >= CHUNK:
            await judge(chunk)
            chunk = []
    if chunk:
        await judge(chunk)
    listed.sort(key=lambda row: (-row.probability, row.customer_id))
    return listed
