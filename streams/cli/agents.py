"""``signalbank agents``: Faust's listing of the agents, which crashed on our multi-topic agent.

Faust's own command asks each agent's channel for its one topic name, and a topic over several
names (the ingest agent reads every input topic) raises ``Topic with multiple topic names cannot be
identified``. Defining a command class of the same name replaces Faust's in the command line.
"""

from __future__ import annotations

from typing import Any

from faust.cli import agents as faust_agents
from faust.types import AgentT


class agents(faust_agents.agents):  # the class name is the command's name
    """List the agents and the topics each consumes."""

    def _maybe_topic(self, agent: AgentT[Any]) -> str | None:
        names = getattr(agent.channel, "topics", None)
        if names:
            return ", ".join(str(name) for name in names)
        return None  # a local channel: no topic
