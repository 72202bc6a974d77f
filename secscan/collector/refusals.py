"""What storing a report comes to: an Outcome, and for a refused report the kind of refusal.

The store says *why* in domain terms (unauthorised, forbidden, conflict, ...); the HTTP API maps
each kind to a status code (secscan.collector.api), the importer prints the reason. Nothing here
knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Refusal(StrEnum):
    invalid = "invalid"  # the document breaks the contract, or names a unit this collector lacks
    too_large = "too_large"  # over the size limit
    unauthorised = "unauthorised"  # unknown or revoked token, bad or missing signature
    forbidden = "forbidden"  # the token or signature belongs to another unit
    conflict = "conflict"  # the id was stored with other content, or lost a race twice
    unstorable = "unstorable"  # the database refused this one report
    internal = "internal"  # a bug: no outcome was decided


class Refused(Exception):
    """A report refused by the store, with the reason a person reads."""

    refusal: Refusal = Refusal.invalid

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthorised(Refused):
    refusal = Refusal.unauthorised


class Forbidden(Refused):
    refusal = Refusal.forbidden


@dataclass
class Outcome:
    status: str  # accepted | duplicate | rejected
    id: str | None = None
    kind: str | None = None
    reason: str | None = None
    refusal: Refusal | None = None  # set when rejected
    host_id: str | None = None

    @classmethod
    def rejected(cls, refusal: Refusal, reason: str, id: str | None = None, kind: str | None = None) -> Outcome:
        return cls("rejected", id, kind, reason, refusal)
