"""Long-lived objects of one worker process, built lazily from the settings.

Lazy so that importing the app for a command-line tool (``rules check``, ``schemas export``)
does not connect to Redis or load rules.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cached_property

from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.ruleset import Ruleset, load_ruleset
from sinks.profile.store import ProfileStore, connect
from streams.settings import Settings

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()

    @cached_property
    def store(self) -> ProfileStore:
        return ProfileStore(
            connect(self.settings.redis_url), self.settings.retention_days, self.settings.dedupe_capacity
        )

    @cached_property
    def ruleset(self) -> Ruleset:
        ruleset = load_ruleset([self.settings.rules_dir])
        self.metrics.ruleset.labels(ruleset.version).set(1)
        log.info(
            "ruleset %s loaded: %d churn rules, %d offers",
            ruleset.version,
            len(ruleset.churn_rules),
            len(ruleset.offers),
        )
        return ruleset

    def active_ruleset(self) -> Ruleset:
        return self.ruleset

    @cached_property
    def pipeline(self) -> Pipeline:
        config = PipelineConfig(
            home_bank=self.settings.home_bank,
            max_future=timedelta(seconds=self.settings.max_future_skew_s),
        )
        return Pipeline(self.store, self.active_ruleset, self.metrics, config)
