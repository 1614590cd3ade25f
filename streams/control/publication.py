"""Rulesets on the control topic: build, publish and validate the record every worker switches to.

One compacted single-partition topic, one constant key: the latest record is the ruleset in force,
and a worker that starts later reads it back. Shared by ``rules publish``, ``dev``'s folder watcher
and the workers' follower so all three agree on the format and on what "valid" means.
"""

from __future__ import annotations

import getpass
import logging
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath

from kafka import KafkaProducer
from pydantic import ValidationError

from rules.load.problems import RulesetError
from rules.load.ruleset import Ruleset, load_sources, read_sources
from schemas.catalog import RULES_CONTROL
from schemas.control import RulesetPublication, RuleSource
from streams.kafka.admin import create_topics

log = logging.getLogger(__name__)

#: Every publication uses this key, so compaction keeps exactly the latest one.
RULESET_KEY = b"ruleset"


def load_paths(paths: Sequence[Path]) -> tuple[Ruleset, list[tuple[str, str]]]:
    """Read and validate rule files or folders; raise RulesetError listing every problem (as paths)."""
    sources = read_sources(paths)
    return load_sources(sources), sources


def published_names(sources: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sources renamed to their file names (when unique): where a file lived on the publisher's
    machine means nothing to a worker, and problems then read ``churn.yaml:12:5``."""
    names = [PurePath(name).name for name, _ in sources]
    if len(set(names)) != len(names):
        return list(sources)
    return [(short, text) for short, (_, text) in zip(names, sources, strict=True)]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no USER variable
        return ""


def publication_of(ruleset: Ruleset, sources: Sequence[tuple[str, str]]) -> RulesetPublication:
    """The record for a validated ruleset: its version, its files, when, by whom and from where."""
    return RulesetPublication(
        version=ruleset.version,
        files=[RuleSource(name=name, text=text) for name, text in published_names(sources)],
        published_at=datetime.now(UTC),
        published_by=_user(),
        host=socket.gethostname(),
    )


def encode(publication: RulesetPublication) -> bytes:
    return publication.model_dump_json().encode()


def publish(
    bootstrap: str,
    publication: RulesetPublication,
    topic: str = RULES_CONTROL,
    replication: int = 1,
    timeout: float = 30.0,
) -> int:
    """Send the publication and wait for the broker's acknowledgement; return its offset.

    Creates the control topic first if it is missing, so it never comes to exist by auto-creation
    with the wrong partition count or cleanup policy.
    """
    create_topics(bootstrap, partitions=1, replication=replication, timeout=timeout, names=[topic])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, retries=5)
    try:
        future = producer.send(topic, key=RULESET_KEY, value=encode(publication), partition=0)
        metadata = future.get(timeout=timeout)
        return int(metadata.offset)
    finally:
        producer.close(timeout=timeout)


class RejectedPublication(Exception):
    """A control record that must not be applied, with the reasons (rule problems or format errors).

    The workers' form of an invalid ruleset: they log it and keep running. The command line never sees
    one; it validates with ``load_paths`` and reports a ``RulesetError`` (``streams.cli.errors``).
    """

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


def decode(key: bytes | None, value: bytes | None) -> RulesetPublication:
    """The publication in a control record; RejectedPublication if it is not one."""
    if key != RULESET_KEY:
        raise RejectedPublication([f"unexpected key {key!r} (want {RULESET_KEY!r})"])
    if value is None:
        raise RejectedPublication(["tombstone (no value): nothing to apply"])
    try:
        return RulesetPublication.model_validate_json(value)
    except ValidationError as exc:
        reasons = [f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()[:10]]
        raise RejectedPublication(reasons) from None


def validate(publication: RulesetPublication) -> Ruleset:
    """Compile the published files; RejectedPublication listing every problem as file:line:column."""
    try:
        ruleset = load_sources([(f.name, f.text) for f in publication.files])
    except RulesetError as exc:
        raise RejectedPublication([str(p) for p in exc.problems]) from exc
    if ruleset.version != publication.version:
        # Same files, another hash: publisher and worker run different rule models. The worker's
        # own hash is what its outputs carry, so it wins; say so rather than hide it.
        log.warning(
            "published ruleset %s compiles to version %s on this worker (different software versions?)",
            publication.version,
            ruleset.version,
        )
    return ruleset
