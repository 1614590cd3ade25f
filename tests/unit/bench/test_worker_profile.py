"""Classifying py-spy samples of a worker (pure logic: the folded lines are written here)."""

from __future__ import annotations

from bench.worker_profile import summarize

PIPELINE = "run (faust/app/base.py:1);ingest (agents/ingest.py:80);Pipeline.process (agents/pipeline.py:190)"
FETCHER = "run (faust/app/base.py:1);Consumer._drain_messages (faust/transport/consumer.py:1220)"


def test_samples_are_counted_once_in_the_first_matching_category_and_pipeline_stage() -> None:
    folded = [
        f"{PIPELINE};evaluate (rules/evaluate/engine.py:125);_results (rules/evaluate/engine.py:54) 30",
        f"{PIPELINE};build_profile (schemas/profile/view.py:132) 20",
        f"{PIPELINE};ProfileStore.apply (sinks/redis/profiles.py:60) 10",
        f"{PIPELINE} 5",
        f"{FETCHER};Service.wait_first (mode/services.py:777) 25",
        "run (faust/app/base.py:1);ingest (agents/ingest.py:80);send (faust/topics.py:1) 4",
        "<module> (streams/__main__.py:5);_find_and_load (<frozen importlib._bootstrap>:1176) 6",
        "not a sample line",
    ]
    profile = summarize(folded, seconds=2.0, rate_hz=100)
    assert profile.samples == 100
    assert profile.gil_share == 0.5
    categories = {name.split(" (")[0].split(":")[0]: n for name, n in profile.categories}
    assert categories == {
        "start-up": 6,
        "signalbank pipeline": 65,
        "worker loop around it": 4,
        "Faust and aiokafka": 25,
    }
    stages = {label.split(":")[0]: n for label, n in profile.stages}
    assert stages == {"rules": 30, "profile from the stored profile": 20, "profile update": 10, "other": 5}


def test_samples_in_any_module_of_the_pipeline_count_as_the_pipeline() -> None:
    """The timer's checks reach the pipeline through agents/checks.py; a sample waiting there (taking
    due customers) is the pipeline's work, as it was when the round lived in agents/pipeline.py."""
    timer = "run (faust/app/base.py:1);silence_timer (streams/worker.py:77);check_due (agents/timer.py:50)"
    folded = [
        f"{timer};SilenceChecks.round (agents/checks.py:80);SilenceChecks.take_due (agents/checks.py:63) 7",
        f"{timer};SilenceChecks.round (agents/checks.py:84);granted_outputs (agents/claims.py:290) 3",
    ]
    profile = summarize(folded, seconds=1.0, rate_hz=100)
    categories = {name.split(" (")[0]: n for name, n in profile.categories}
    assert categories == {"signalbank pipeline": 10}
