"""Who may read customer data on the worker's web server, and the audit line of every such read.

Pure apart from ``Auditor.write``: tokens are stored only as SHA-256 hashes (``user:hex`` pairs in
``SIGNALBANK_WEB_TOKENS``) and compared in constant time. A token comes as ``Authorization: Bearer
<token>``, or with its user as ``Authorization: Basic base64(user:token)`` (the staff page's login
form: the token must be that user's); a trusted header names the user when a reverse proxy in front
has logged them in. With neither configured, customer data is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

#: The logger every customer read is written to, one JSON line each.
AUDIT_LOGGER = "signalbank.audit"
ANONYMOUS = "anonymous"
_HEX = frozenset("0123456789abcdef")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in the settings instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_line(user: str, token: str) -> str:
    """The ``user:hash`` entry for ``SIGNALBANK_WEB_TOKENS``."""
    return f"{user}:{hash_token(token)}"


def parse_tokens(text: str) -> tuple[tuple[str, str], ...]:
    """``user:sha256hex`` pairs, comma-separated, as (user, hash); a malformed entry is an error
    (a typo would lock its user out unnoticed). The hash is never echoed back."""
    pairs: list[tuple[str, str]] = []
    for number, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        user, sep, digest = entry.rpartition(":")
        digest = digest.lower()
        if not sep or not user.strip() or len(digest) != 64 or not set(digest) <= _HEX:
            raise ValueError(
                f"entry {number} is not user:sha256hex (make one with `signalbank web token USER`)"
            )
        pairs.append((user.strip(), digest))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class Access:
    """The configured logins: token hashes per user, and the trusted header ("" for none)."""

    tokens: tuple[tuple[str, str], ...] = ()
    trusted_header: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.tokens or self.trusted_header)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Who is asking (``ANONYMOUS`` when refused), the status to answer and why."""

    user: str
    status: int  # 200 allowed, 401 no or wrong login, 403 no login configured
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200


def user_of_token(token: str, tokens: tuple[tuple[str, str], ...]) -> str | None:
    """The user whose hash matches ``token``, or None; every entry is compared (constant time each)."""
    digest = hash_token(token)
    found = None
    for user, stored in tokens:
        if hmac.compare_digest(digest, stored):
            found = found or user
    return found


def _basic(credentials: str) -> tuple[str, str] | None:
    """(user, token) of a Basic credential, or None when it is not base64 of ``user:token``."""
    try:
        text = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, token = text.partition(":")
    return (user, token) if sep and user and token else None


def user_of_basic(credentials: str, tokens: tuple[tuple[str, str], ...]) -> str | None:
    """The user named by a Basic credential when the token is theirs, else None (every entry is
    compared, so the time does not say which users exist)."""
    pair = _basic(credentials)
    if pair is None:
        return None
    user, token = pair
    digest = hash_token(token)
    found = None
    for name, stored in tokens:
        if hmac.compare_digest(digest, stored) and hmac.compare_digest(name.encode(), user.encode()):
            found = found or name
    return found


def authenticate(headers: Mapping[str, str], access: Access) -> Verdict:
    """Decide a request from its headers (``Mapping`` lookups as case-insensitive as the caller's)."""
    if not access.configured:
        return Verdict(
            ANONYMOUS,
            403,
            "customer data needs a login and none is configured: set SIGNALBANK_WEB_TOKENS or "
            "SIGNALBANK_WEB_TRUSTED_HEADER (docs/operations.md, 'Access to customer data')",
        )
    authorization = headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if access.tokens and scheme.lower() == "bearer" and token.strip():
        user = user_of_token(token.strip(), access.tokens)
        if user is None:
            return Verdict(ANONYMOUS, 401, "invalid token")
        return Verdict(user, 200)
    if access.tokens and scheme.lower() == "basic" and token.strip():
        user = user_of_basic(token, access.tokens)
        if user is None:
            return Verdict(ANONYMOUS, 401, "unknown user or wrong token")
        return Verdict(user, 200)
    if access.trusted_header:
        user = headers.get(access.trusted_header, "").strip()
        if user:
            return Verdict(user, 200)
    return Verdict(ANONYMOUS, 401, "a login is required: send Authorization: Bearer <token>")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One read of a customer: who, which, where, with what outcome; never what was shown."""

    time: str
    user: str
    customer_id: str
    endpoint: str
    outcome: int

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def audit_record(
    user: str, customer_id: str, endpoint: str, outcome: int, now: datetime | None = None
) -> AuditRecord:
    moment = now or datetime.now(UTC)
    return AuditRecord(moment.isoformat(timespec="milliseconds"), user, customer_id, endpoint, outcome)


class Auditor:
    """Writes audit records to the ``signalbank.audit`` logger and, when configured, appends them to a
    file of their own (opened per line, so rotating it needs no signal)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._log = logging.getLogger(AUDIT_LOGGER)

    def write(self, record: AuditRecord) -> None:
        line = record.line()
        self._log.info(line)
        if self._path is not None:
            with self._path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
