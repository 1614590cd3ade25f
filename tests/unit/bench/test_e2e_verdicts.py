"""The benchmark's verdict on each target of issue 14 and the figures its sizing takes (pure logic:
the figures are made up here)."""

from __future__ import annotations

import pytest

from bench.e2e import (
    FAUST_CONSUME,
    FAUST_TAKE,
    ON_CLUSTER,
    ONE_WORKER,
    PER_EVENT,
    BenchOptions,
    Latency,
    Memory,
    Offered,
    RedisWork,
    Report,
    ServerWork,
    SharedKeys,
    Throughput,
    _latency,
    measured,
    render,
    verdicts,
)
from bench.worker_profile import WorkerProfile
from schemas.catalog import CHURN_ALERTS, RISK_SIGNALS
from streams.settings import Settings

INSIDE = frozenset({"hset", "hgetall"})


def redis_work(events: int, evalsha_us: int, zadd_us: int = 0) -> RedisWork:
    usec = {"evalsha": evalsha_us, "zadd": zadd_us, "hset": evalsha_us // 2, "hgetall": evalsha_us // 4}
    calls = dict.fromkeys(usec, 1)
    return RedisWork(events, (ServerWork("redis", usec, calls, evalsha_us * 1.5 / 1e6),), INSIDE)


def made_up_report() -> Report:
    report = Report(BenchOptions())
    report.runs = [
        Throughput(FAUST_CONSUME, 5_000, 1.0),
        Throughput(FAUST_TAKE, 4_000, 1.0),
        Throughput(ONE_WORKER, 2_000, 1.0, redis_work(10_000, 1_000_000, 20_000)),
        Throughput(PER_EVENT, 100, 1.0),
    ]
    report.latencies = [
        Latency(2_000, 2_000, 40_000, 1_000, 50, 80, 150, 220, redis=redis_work(40_000, 8_000_000)),
        Latency(
            1_000,
            1_000,
            20_000,
            500,
            30,
            60,
            90,
            120,
            capacity_share=0.5,
            risk=Latency(1_000, 1_000, 20_000, 20, 30, 50, 80, 90),
        ),
    ]
    report.memory = Memory(300, 120, 1_500, 2_000, 2_500, {"p": 1_100, "cooldown": 300, "zz": 100})
    categories = (
        ("signalbank pipeline (stages)", 60),
        ("Faust and aiokafka: per message", 30),
        ("other", 10),
    )
    report.worker_profile = WorkerProfile(1.0, 100, 100, categories, ())
    return report


def test_each_target_gets_a_verdict_and_a_missed_one_its_reason() -> None:
    text = "\n".join(verdicts(made_up_report()))
    assert "end to end >= Faust consume-only: NOT MET (0.40x)" in text
    # GIL held 100% of the time at 2,000 events/s: 500 µs per event, 30% of it Faust's
    assert "~500 µs of Python per event" in text
    assert "Faust and aiokafka's per-message work ~150 µs, our pipeline ~300 µs" in text
    assert "end to end >= 0.6x the Faust take_events floor: NOT MET (0.50x)" in text
    assert "the floor takes 250 µs per event doing nothing with its batches, one worker 500 µs" in text
    assert ">= 8x the per-event baseline: met (20.0x)" in text
    # evalsha and the ZADD sent by the worker count; HSET and HGETALL ran inside the scripts
    assert "Redis work <= 30 µs per event: NOT MET (102.0 µs)" in text
    assert "p99 at 2,000 events/s (reported, as before): 150 ms" in text
    assert (
        "so 2,000 events/s keeps it 100% busy; p50 50 ms; batch window 50 ms, "
        f"fetch wait {Settings().fetch_max_wait_ms} ms; "
        "Redis 200 µs per event here, 102 over the backlog"
    ) in text
    assert "p99 <= 100 ms at 50% of one worker's capacity (1,000 events/s): met (90 ms)" in text
    assert "<= 1,024 B of Redis per profile: NOT MET (1,500 B)" in text
    assert "p 1,100 B, cooldown 300 B, zz 100 B" in text


def test_met_targets_say_so_without_reasons() -> None:
    report = made_up_report()
    report.runs = [
        Throughput(FAUST_CONSUME, 5_000, 1.0),
        Throughput(FAUST_TAKE, 8_000, 1.0),
        Throughput(ONE_WORKER, 5_000, 1.0, redis_work(100_000, 2_000_000)),
    ]
    report.latencies = report.latencies[1:]
    report.memory = Memory(300, 120, 1_000, 1_100, 1_200, {"p": 1_000})
    lines = verdicts(report)
    assert lines == [
        "  targets:",
        "    end to end >= Faust consume-only: met (1.00x)",
        "    end to end >= 0.6x the Faust take_events floor: met (0.62x)",
        "    Redis work <= 30 µs per event: met (20.0 µs)",
        "    p99 <= 100 ms at 50% of one worker's capacity (1,000 events/s): met (90 ms)",
        "    risk signals' p99 <= 100 ms at 50% of one worker's capacity (1,000 events/s): met "
        "(80 ms over 20 risk signals; they go out with the batch's other outputs)",
        "    <= 1,024 B of Redis per profile: met (1,000 B)",
    ]


def test_the_report_prints_memory_by_any_key_suffix_and_redis_time_by_command() -> None:
    text = render(made_up_report())
    assert "signalbank / faust take_events, no work (floor):" in text
    assert "0.50x   (target >= 0.6)" in text
    assert "      p          1,100  the profile in one compact string" in text
    assert "      zz           100  (not described in bench/e2e.py KEY_CONTENTS)" in text
    assert (
        "signalbank, 1 worker, backlog: 102.0 µs per event (server CPU 150 µs): evalsha 100.0, zadd 2.0 "
        "(within the scripts: hset 50.0, hgetall 25.0)"
    ) in text
    assert "at 1,000 events/s offered (= 50% of its measured capacity)" in text


def test_the_cluster_run_is_shown_by_master_or_says_why_it_is_not() -> None:
    report = made_up_report()
    servers = tuple(
        ServerWork(f"master {i}", {"evalsha": us}, {"evalsha": 1}, 0.0)
        for i, us in enumerate((300_000, 400_000, 300_000))
    )
    report.runs.append(Throughput(ON_CLUSTER, 1_000, 1.0, RedisWork(10_000, servers, INSIDE)))
    text = "\n".join(verdicts(report))
    assert (
        "scale-out shown on a 3-master Redis Cluster: one worker 1,000 events/s (0.50x its rate on one "
        "Redis), 100.0 µs of Redis per event in all, by master 30.0, 40.0, 30.0 µs"
    ) in text
    assert "      master 1: 40.0 µs per event" in render(report)
    report.runs.pop()
    report.cluster_error = "TimeoutError: workers read 0 of 100 events and nothing for 90s:\nlog"
    text = "\n".join(verdicts(report))
    assert "scale-out on a Redis Cluster: NOT SHOWN (TimeoutError: workers read 0 of 100 events" in text


def test_sizing_takes_the_profile_with_its_share_of_the_shared_keys() -> None:
    report = made_up_report()
    report.shared = SharedKeys(2_000, {"sb:schedule:{*}": 200_000}, {"sb:schedule:{*}": 64})
    figures = measured(report)
    # 1,500 B of its own keys, 100 B of the schedule
    assert (figures.bytes_per_profile, figures.shared_bytes_per_customer) == (1_500, 100)
    assert (figures.worker_rate, figures.redis_us_per_event) == (2_000, 102.0)
    assert "sb:schedule:{*} (64 keys) 200,000 B, for 2,000 customers: 100 B per customer" in render(report)
    assert "memory: 1,600 B per customer (1,500 B of its keys with 120 days of history" in render(report)


def test_risk_signals_get_a_latency_of_their_own_from_the_outputs_they_triggered() -> None:
    sent = {"e1": 10.0, "e2": 10.5, "e3": 11.0}
    run = Offered(1_000, 0.5, 3, 1_000, sent, redis_work(3, 30))
    outputs = [
        (CHURN_ALERTS, 10_020, {"trigger_event_id": "e1"}),
        (RISK_SIGNALS, 10_700, {"trigger_event_id": "e2"}),  # 200 ms after e2 was sent
        (RISK_SIGNALS, 11_050, {"trigger_event_id": "e3"}),  # 50 ms
        (RISK_SIGNALS, 9_000, {"trigger_event_id": "backlog"}),  # not one of this run's events
    ]
    latency = _latency(outputs, run)
    assert latency.outputs == 3 and latency.max_ms == pytest.approx(200)
    assert latency.risk is not None
    assert latency.risk.outputs == 2
    assert latency.risk.p50_ms == pytest.approx(200) and latency.risk.max_ms == pytest.approx(200)
    report = made_up_report()
    report.latencies[1] = latency
    text = "\n".join(verdicts(report))
    assert "risk signals' p99 <= 100 ms at 50% of one worker's capacity" in text
    assert "NOT MET (200 ms over 2 risk signals" in text
    quiet = _latency(outputs[:1], run)
    assert quiet.risk is None
    report.latencies[1] = quiet
    assert "risk signals' p99 <= 100 ms: NOT SHOWN" in "\n".join(verdicts(report))
