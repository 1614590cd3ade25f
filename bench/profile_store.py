"""What the profile costs the worker per event, without Redis: applying updates, encoding the stored
string, decoding it (sinks/redis/profile_state.py).

Run: ``python -m bench.profile_store [--customers N --days N]``. Simulated events of the customers'
whole history, in order; a figure per event (apply, the snapshot the rules get, encode) and per
profile (decode, as for a profile the worker does not hold in memory).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from agents.decode import RawRecord, decode
from schemas.outputs import DeadLetter
from schemas.profile.delta import ProfileUpdate, build_update
from sinks.redis.keys import DEDUPE_CAPACITY
from sinks.redis.profile_state import ProfileState
from sinks.redis.profile_state import decode as decode_profile
from streams.config import pipeline_config
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.scenario import Scenario


def updates_of(scenario: Scenario, settings: Settings) -> list[ProfileUpdate]:
    config = pipeline_config(settings)
    now = datetime.now(UTC) + timedelta(days=1)
    updates: list[ProfileUpdate] = []
    for offset, sim in enumerate(generate(scenario)):
        if not sim.valid:
            continue
        event = decode(RawRecord(sim.topic, 0, offset, sim.key, sim.value), now, config.max_future)
        if not isinstance(event, DeadLetter):
            updates.append(build_update(event, config.home_bank))
    return updates


def measure(updates: Sequence[ProfileUpdate], retention_days: int = 90) -> dict[str, float]:
    """µs per event of apply, snapshot and encode; µs per profile of decode."""
    states: dict[str, ProfileState] = {}
    apply_s = snapshot_s = encode_s = 0.0
    for update in updates:
        state = states.setdefault(update.customer_id, ProfileState())
        a = time.perf_counter()
        state.apply(update, retention_days, DEDUPE_CAPACITY, {})
        b = time.perf_counter()
        state.flat_sums()
        dict(state.fields)
        c = time.perf_counter()
        state.encode(1)
        d = time.perf_counter()
        apply_s, snapshot_s, encode_s = apply_s + b - a, snapshot_s + c - b, encode_s + d - c
    blobs = [state.encode(1) for state in states.values()]
    started = time.perf_counter()
    for blob in blobs:
        decode_profile(blob)
    decode_s = (time.perf_counter() - started) / len(blobs)
    n = len(updates)
    return {
        "apply": apply_s / n * 1e6,
        "snapshot": snapshot_s / n * 1e6,
        "encode": encode_s / n * 1e6,
        "decode": decode_s * 1e6,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    updates = updates_of(Scenario(customers=args.customers, days=args.days, seed=args.seed), Settings())
    figures = measure(updates)
    print(
        f"{len(updates):,} events of {args.customers} customers, {args.days} days: "
        f"apply {figures['apply']:.1f} µs, snapshot {figures['snapshot']:.1f} µs, "
        f"encode {figures['encode']:.1f} µs per event; decode {figures['decode']:.1f} µs per profile"
    )


if __name__ == "__main__":
    main()
