"""Control topics: records that steer the workers rather than describe customers."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RuleSource(BaseModel):
    """One rule file as published: its name (for problem locations) and its YAML text."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1, max_length=300, description="File name, used in problem locations.")
    text: str = Field(max_length=1_000_000, description="The YAML text, byte for byte as edited.")


class RulesetPublication(BaseModel):
    """A whole ruleset published for every worker to switch to (latest record wins; compacted topic).

    Unknown fields are ignored so an older worker can still read a newer publisher's record; the
    worker recomputes ``version`` from ``files`` and never trusts it blindly.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Literal["ruleset_publication"] = "ruleset_publication"
    version: str = Field(min_length=1, max_length=64, description="Content hash computed by the publisher.")
    files: list[RuleSource] = Field(min_length=1, max_length=500)
    published_at: AwareDatetime
    published_by: str = Field("", max_length=200, description="User who published.")
    host: str = Field("", max_length=255, description="Machine the publication came from.")
