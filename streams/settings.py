"""One frozen settings object, read once from ``SIGNALBANK_*`` variables and passed down.

Nothing below the entry points reads the environment: components receive this object
(or the plain values they need) so tests can build their own without touching globals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.catalog import INPUT_TOPICS
from schemas.money import DEFAULT_REPORTING_CURRENCY
from schemas.profile.shape import WINDOWS
from sinks.redis.keys import DEDUPE_CAPACITY

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_CHURN_MODEL = DEFAULT_RULES_DIR / "churn_model.json"


class Settings(BaseSettings):
    """Runtime configuration of a signalbank worker and its tools."""

    model_config = SettingsConfigDict(env_prefix="SIGNALBANK_", frozen=True, extra="ignore")

    app_id: str = Field("signalbank", description="Faust app id: also the Kafka consumer group.")
    kafka_url: str = Field("kafka://127.0.0.1:9092", description="Broker URL(s), Faust style.")
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description=(
            "Redis holding the profiles: redis://host:port/db (rediss:// for TLS) for one server, "
            "redis+cluster://host:port (rediss+cluster:// for TLS) for a Redis Cluster reached "
            "through any of its nodes (database 0 only; docs/operations.md, 'Redis Cluster')."
        ),
    )
    web_bind: str = Field("127.0.0.1", description="Address of the worker's web server (metrics).")
    web_port: int = Field(6066, ge=0, le=65535)
    web_tokens: str = Field(
        "",
        description="Logins to the customer pages: comma-separated user:sha256hex pairs (hashes of tokens "
        "sent as Authorization: Bearer; make one with `signalbank web token USER`).",
    )
    web_trusted_header: str = Field(
        "",
        description="Header naming the user a reverse proxy logged in (e.g. X-Forwarded-User); empty: off. "
        "Only safe when the port is reachable through that proxy alone, and it sets the header.",
    )
    audit_log: Path | None = Field(
        None, description="File the audit lines of customer reads are appended to (also logged always)."
    )
    partitions: int = Field(4, ge=1, description="Partitions created for our topics.")
    replication_factor: int = Field(1, ge=1)
    session_timeout_s: float = Field(10.0, gt=0, description="Consumer-group session timeout.")
    batch_size: int = Field(500, ge=1, description="Events taken from the stream per batch.")
    fetch_max_wait_ms: int = Field(
        20,
        ge=1,
        le=30_000,
        description="Longest wait of a fetch for new events (Faust fixes 1500). The embedded Tansu "
        "answers a fetch that found nothing only after half of it (then a quarter, ...), so events "
        "arriving meanwhile wait up to half this; Apache Kafka answers as soon as data arrives.",
    )
    batch_within_s: float = Field(
        0.05,
        gt=0,
        description="Longest wait to fill a batch once the worker is free and has an event for it.",
    )
    batch_quiet_s: float = Field(
        0.002,
        gt=0,
        description="A batch that is not full goes once no event arrived for this long (fetched events "
        "arrive in bursts: a gap means the burst is over).",
    )
    apply_chunk: int = Field(
        100,
        ge=1,
        description="Profile updates per Redis call within a batch: Redis applies the next chunk while "
        "the worker evaluates rules for the previous one.",
    )
    rules_dir: Path = Field(DEFAULT_RULES_DIR, description="Folder of YAML rule files.")
    churn_model: Path | None = Field(
        DEFAULT_CHURN_MODEL,
        description="The churn model (from `signalbank churn fit`): BG/NBD behind profile.p_alive and the "
        "churn probability; empty: none (p_alive 1, churn score the rules' noisy-OR).",
    )
    home_bank: str = Field("SIGNALBANK", description="Our own bank code in counterparty_bank.")
    dedupe_capacity: int = Field(
        DEDUPE_CAPACITY,
        ge=16,
        le=16_000,
        description="A repeat of any of a customer's last this many events is skipped (producers that send "
        "an event twice); events Kafka redelivers are recognised whatever this is.",
    )
    profile_cache: int = Field(
        20_000,
        ge=0,
        description="Profiles a worker keeps in memory between batches (about 27 KB of Python memory each: "
        "20,000 take about 540 MB); a customer not kept is read from Redis on its next event.",
    )
    committed_poll_s: float = Field(
        1.0,
        gt=0,
        description="How often the consumer group's committed offsets are read from the broker: each "
        "profile's dedupe ring forgets the events before them (Kafka does not deliver those again).",
    )
    retention_days: int = Field(
        max(WINDOWS),
        ge=max(WINDOWS),
        description="Days of day buckets kept; older ones are trimmed. At least the longest window (90): "
        "the profile script subtracts a bucket from the window sums when it leaves them, so a bucket "
        "deleted sooner would stay counted.",
    )
    max_future_skew_s: float = Field(86_400.0, description="Events further in the future are dead-lettered.")
    strict_topics: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Input topics (comma-separated) whose events are dead-lettered when they carry a field "
        "the contract does not know; on the others such fields are ignored and counted "
        "(signalbank_unknown_fields_total).",
    )
    reporting_currency: str = Field(
        DEFAULT_REPORTING_CURRENCY,
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the currency profiles, rules and offers count money in: every "
        "transaction's amount and balance is converted into it (docs/topics.md, 'Currencies').",
    )
    fx_rates_file: Path | None = Field(
        None,
        description="YAML file of exchange rates, currency code -> units of the reporting currency per "
        "unit (e.g. USD: '0.92'); read once at start. A transaction in a currency it does not list "
        "(with no file: any but the reporting currency) is dead-lettered (reason invalid, kind "
        "unknown_currency).",
    )
    data_dir: Path = Field(Path(".signalbank"), description="Faust data dir and embedded server files.")
    timeline_events: int = Field(
        20,
        ge=0,
        le=500,
        description="Events each customer's timeline keeps in Redis (the newest; the profile page and "
        "`signalbank profile` show them); 0 keeps none.",
    )
    timeline_outputs: int = Field(
        20,
        ge=0,
        le=500,
        description="Outputs about each customer (alerts, offers, signals, tier changes, service alerts) "
        "their timeline keeps in Redis (the newest); 0 keeps none.",
    )
    # Silence checks: customers who stop transacting send no events, so a timer re-evaluates them.
    check_after_s: float = Field(
        86_400.0,
        ge=86_400.0,
        description="Quiet time after a customer's latest event before the rules re-run without one, "
        "and the period of re-checks while the customer stays quiet (a day or more: check ids are per day).",
    )
    check_grace_s: float = Field(
        3_600.0,
        ge=0,
        description="A customer's first check comes no sooner than this after one of its events was "
        "processed, so a backlog being caught up is not judged as silence half-way through.",
    )
    check_quiet_cap_days: int = Field(
        400,
        ge=1,
        description="Customers quiet for longer leave the check schedule (a year of birthdays and "
        "anniversaries, plus margin); their next event schedules them again.",
    )
    check_interval_s: float = Field(
        5.0,
        gt=0,
        le=60.0,
        description="Period of the silence-check timer (wall clock); complaint deadline checks (SLA alerts) "
        "come at most this late, so at most a minute.",
    )
    check_batch: int = Field(500, ge=1, description="Customers taken per round of silence checks.")
    check_lease_s: float = Field(
        60.0,
        gt=0,
        description="Taken customers are hidden from other workers this long; a failed check retries then.",
    )

    @field_validator("web_tokens")
    @classmethod
    def _token_pairs(cls, value: str) -> str:
        """Malformed entries fail at start-up rather than lock their user out."""
        from streams.access import parse_tokens

        parse_tokens(value)
        return value

    @field_validator("strict_topics", mode="before")
    @classmethod
    def _input_topics(cls, value: object) -> object:
        """``a,b`` from the environment; every name must be an input topic (a typo would go unnoticed)."""
        names = tuple(n.strip() for n in value.split(",") if n.strip()) if isinstance(value, str) else value
        if isinstance(names, tuple | list):
            unknown = sorted(set(names) - set(INPUT_TOPICS))
            if unknown:
                known = ", ".join(INPUT_TOPICS)
                raise ValueError(f"not input topics: {', '.join(unknown)} (input topics: {known})")
        return names
