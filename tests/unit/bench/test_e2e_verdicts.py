"""The benchmark's verdict on each target of issue 5 (pure logic: the figures are made up here)."""

from __future__ import annotations

from bench.e2e import BenchOptions, Latency, Memory, Report, Throughput, verdicts
from bench.worker_profile import WorkerProfile


def test_each_target_gets_a_verdict_and_a_missed_one_its_reason() -> None:
    report = Report(BenchOptions())
    report.runs = [
        Throughput("faust consume-only (defaults)", 5_000, 1.0),
        Throughput("signalbank, 1 worker", 2_500, 1.0),
        Throughput("per-event baseline", 100, 1.0),
    ]
    report.latencies = [Latency(2_000, 2_000, 40_000, 1_000, 50, 80, 90, 120)]
    report.memory = Memory(300, 120, 4_000, 5_000, 6_000, {"days": 2_000, "seen": 1_300, "state": 700})
    categories = (
        ("signalbank pipeline (stages)", 60),
        ("Faust and aiokafka: per message", 30),
        ("other", 10),
    )
    report.worker_profile = WorkerProfile(1.0, 100, 100, categories, ())
    text = "\n".join(verdicts(report))
    assert "end to end >= Faust consume-only: NOT MET (0.50x)" in text
    # GIL held 100% of the time at 2,500 events/s: 400 µs per event, 30% of it Faust's
    assert "~400 µs of Python per event" in text
    assert "Faust and aiokafka's per-message work ~120 µs, our pipeline ~240 µs" in text
    assert ">= 8x the per-event baseline: met (25.0x)" in text
    assert "p99 < 100 ms at 2,000 events/s: met (90 ms)" in text
    assert "< 2 KB of Redis per profile: NOT MET (4,000 B)" in text
    assert "days 2,000 B, seen 1,300 B, state 700 B" in text
