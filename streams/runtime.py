"""Long-lived objects of one worker process, built lazily from the settings.

Lazy so that importing the app for a command-line tool (``rules check``, ``schemas export``)
does not connect to Redis or load rules.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path

from agents.checks import SilenceChecks
from agents.metrics import Metrics
from agents.pipeline import Pipeline
from rules.load.ruleset import Ruleset, load_ruleset
from schemas.profile.bgnbd import BgNbdParams
from sinks.redis.state import RedisState
from streams.config import connect_redis, pipeline_config
from streams.kafka.admin import bootstrap_of
from streams.kafka.committed import CommittedOffsets
from streams.settings import Settings

log = logging.getLogger(__name__)


class Runtime:
    """The worker's Redis state, pipeline, silence checks and active ruleset.

    The active ruleset is one attribute, replaced whole by ``use_ruleset`` (from the rules follower
    thread) and read once per batch by the pipeline: a batch runs entirely on one ruleset, and a
    swap lands between two batches.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._active: Ruleset | None = None
        self._swap_lock = threading.Lock()  # serialises swaps and the first load, never the readers

    @cached_property
    def redis(self) -> RedisState:
        return connect_redis(self.settings)

    @property
    def ruleset(self) -> Ruleset:
        """The active ruleset: the last one applied, else the rules folder's (loaded on first use)."""
        active = self._active
        if active is not None:
            return active
        with self._swap_lock:
            if self._active is None:
                self._activate(load_ruleset([self.settings.rules_dir]), f"folder {self.settings.rules_dir}")
            assert self._active is not None
            return self._active

    @property
    def has_ruleset(self) -> bool:
        """Whether a ruleset is active yet (without loading the folder's)."""
        return self._active is not None

    def use_ruleset(self, ruleset: Ruleset, origin: str) -> bool:
        """Make ``ruleset`` the active one; False (and nothing changes) if its version already is."""
        with self._swap_lock:
            previous = self._active
            if previous is not None and previous.version == ruleset.version:
                return False
            self._activate(ruleset, origin)
            self.metrics.ruleset_updates.inc()
            return True

    def _activate(self, ruleset: Ruleset, origin: str) -> None:
        previous = self._active
        self._active = ruleset  # the swap: one assignment, readers see the old or the new ruleset
        self.metrics.ruleset.labels(ruleset.version).set(1)
        if previous is not None and previous.version != ruleset.version:
            self.metrics.ruleset.remove(previous.version)
        log.info(
            "ruleset %s active (was %s), from %s: %d churn rules, %d signal rules, %d offers",
            ruleset.version,
            previous.version if previous else "none",
            origin,
            len(ruleset.churn_rules),
            len(ruleset.signal_rules),
            len(ruleset.offers),
        )

    @cached_property
    def churn_model(self) -> BgNbdParams | None:
        """The fitted BG/NBD parameters, or None (then ``p_alive`` is 1) when none are configured."""
        return load_churn_model(self.settings.churn_model)

    @cached_property
    def committed(self) -> CommittedOffsets:
        """The consumer group's committed offsets (started by the ingest agent's start-up hook)."""
        settings = self.settings
        return CommittedOffsets(bootstrap_of(settings.kafka_url), settings.app_id, settings.committed_poll_s)

    @cached_property
    def pipeline(self) -> Pipeline:
        config = pipeline_config(self.settings, self.churn_model)
        return Pipeline(
            self.redis, lambda: self.ruleset, self.metrics, config, committed=self.committed.packed
        )

    @cached_property
    def checks(self) -> SilenceChecks:
        """Rounds of silence checks for the timer, on the pipeline and the same Redis state."""
        return SilenceChecks(self.pipeline, self.redis.schedule, self.metrics)


def load_churn_model(path: Path | None) -> BgNbdParams | None:
    """The fitted BG/NBD parameters at ``path``, or None (then ``p_alive`` is 1) when there are none."""
    if path is None or not path.is_file():
        log.warning("no churn model at %s: profile.p_alive stays 1", path)
        return None
    model = BgNbdParams.load(path)
    log.info("churn model %s: fitted on %d customers", path, model.customers)
    return model
