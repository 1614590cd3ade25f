"""The end-to-end story of tests/integration/test_end_to_end.py with the worker on a real local
3-master Redis Cluster (``redis+cluster://``): the same exact outputs, the same as ``signalbank
replay`` on one Redis server, the same metrics, /healthz and /readyz. The story's three customers
hash to two masters (slots 15898, 8193 and 6107), so the worker's calls go to more than one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rules.load.ruleset import Ruleset
from sinks.redis.keys import profile_key
from streams.access import token_line
from streams.dev.cluster import EmbeddedRedisCluster
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from tests.integration import test_end_to_end as on_one_server
from tests.support.cluster import assert_scan_sees_every_key, cluster_client
from tests.support.story import story
from tests.support.workers import running_worker


@pytest.fixture
def broker() -> Iterator[EmbeddedKafka]:
    """A broker of its own: the story's assertions count every output on the topics since the start."""
    with EmbeddedKafka() as server:
        yield server


rules_only_churn = on_one_server.rules_only_churn  # the story's churn model (see there)


@pytest.fixture
def worker(broker: EmbeddedKafka, redis_cluster_url: str, rules_only_churn: Path) -> Iterator[WorkerProcess]:
    with running_worker(
        broker.url,
        broker.bootstrap,
        redis_cluster_url,
        name="e2e-cluster",
        partitions=4,
        web_tokens=token_line("e2e", on_one_server.WEB_TOKEN),  # the page test logs in as e2e
        flush=False,  # the cluster fixture hands out an emptied cluster
    ) as process:
        yield process


def test_story_on_a_cluster_gives_exact_outputs_and_the_same_as_replay(
    broker: EmbeddedKafka,
    worker: WorkerProcess,
    ruleset: Ruleset,
    tmp_path: Path,
    redis_server: EmbeddedRedis,
    redis_cluster: EmbeddedRedisCluster,
) -> None:
    on_one_server.test_story_through_kafka_gives_exact_outputs_and_the_same_as_replay(
        broker, worker, ruleset, tmp_path, redis_server
    )
    customers = {body["customer_id"] for _, body in story()}
    assert len({redis_cluster.node_for_key(profile_key(c)) for c in customers}) > 1
    with cluster_client(redis_cluster) as client:
        assert all(client.exists(profile_key(c)) for c in customers)
        assert_scan_sees_every_key(client, redis_cluster)
    on_one_server.test_worker_answers_health_and_profile_pages(worker)  # /readyz pings every master
