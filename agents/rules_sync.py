"""Wire the rules follower into the worker: catch up with published rules before consuming, then follow.

Runs as a ``before_consuming`` hook: after logging is set up and before the app's consumer, group
membership and agents start, so no event is ever processed with a stale ruleset.
"""

from __future__ import annotations

import logging

from streams.admin import bootstrap_of
from streams.app import app, runtime, settings
from streams.rules_follower import RulesFollower

log = logging.getLogger(__name__)


@app.before_consuming
def follow_published_rules() -> None:
    """Latest published ruleset if any, else the rules folder (invalid folder: fail before joining)."""
    follower = RulesFollower(bootstrap_of(settings.kafka_url), runtime)
    if not follower.catch_up():
        log.info("no published ruleset on %s: using the rules folder", follower.topic)
    runtime.ruleset  # noqa: B018  (loads the folder when nothing was published; raises if invalid)
    follower.start()
