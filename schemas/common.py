"""Field types shared by the input and output contracts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

#: Identifiers are plain tokens: no braces, so they cannot break Redis hash tags, no spaces.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
LongText = Annotated[str, StringConstraints(max_length=500)]
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), max_digits=14, decimal_places=2)]
SignedMoney = Annotated[
    Decimal, Field(ge=Decimal("-1000000000"), le=Decimal("1000000000"), max_digits=14, decimal_places=2)
]

#: Event times before this are treated as absurd (a broken clock or a default value).
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)


class Channel(StrEnum):
    """Where the customer acted."""

    BRANCH = "branch"
    ATM = "atm"
    MOBILE = "mobile"
    WEB = "web"
    POS = "pos"
    CALL_CENTRE = "call_centre"


class StrictInput(BaseModel):
    """Base of input events; each input model says how unknown fields are treated (schemas/inputs.py:
    accepted and counted, or rejected on strict topics; docs/topics.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    event_id: Identifier
    customer_id: Identifier
    occurred_at: AwareDatetime

    @field_validator("occurred_at")
    @classmethod
    def _not_ancient(cls, value: datetime) -> datetime:
        """Reject clock-default timestamps; the future bound depends on settings and is checked at ingest."""
        if value < EARLIEST_EVENT_TIME:
            raise ValueError(f"occurred_at before {EARLIEST_EVENT_TIME.date()} is not plausible")
        return value


class OutputModel(BaseModel):
    """Base of output events: frozen; consumers must ignore fields they do not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)
