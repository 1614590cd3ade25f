"""Redis key names: every key of a customer shares one hash tag (one Redis Cluster slot)."""

from __future__ import annotations

from sinks.redis.keys import customer_keys


def test_keys_share_one_hash_tag_per_customer() -> None:
    keys = customer_keys("C42")
    assert all(key.startswith("sb:{C42}:") for key in keys)
    assert len(set(keys)) == 3
