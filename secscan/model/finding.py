"""Finding (``secscan.finding/1``): one problem in one unit, as leadership and the SOC see it.

A finding groups the hosts of one unit that fail (or cannot be checked for) one control, or one
network observation (an exposed service, hosts nobody manages). Its ``id`` is a hash of the unit
and the control, so the same problem keeps its id from one report to the next and ``status``
(new / open / resolved) with ``first_seen`` / ``last_seen`` can be carried across periods.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import Field

from secscan.model.common import AwareDatetime, Contract, ShortText, Text

FINDING_SCHEMA = "secscan.finding/1"
_set = object.__setattr__


class FindingStatus(StrEnum):
    new = "new"  # not in the previous period's findings
    open = "open"  # seen before and still there
    resolved = "resolved"  # in the previous period, gone now


class FindingKind(StrEnum):
    control = "control"  # hosts failing a policy control
    exposure = "exposure"  # a risky service seen open by the LAN scan
    unmanaged = "unmanaged"  # hosts on the LAN that no agent reports for


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


SEVERITY_RANK = {Severity.critical: 4, Severity.high: 3, Severity.medium: 2, Severity.low: 1, Severity.info: 0}


class Reference(Contract):
    """A citation: ``verified`` is False when no retrieved text confirms the threshold or clause."""

    title: ShortText
    url: ShortText | None = None
    verified: bool = False


class AffectedHost(Contract):
    host: ShortText  # hostname, or the IP for a host only the scan saw
    outcome: ShortText  # fail | unknown | open (exposure) | unmanaged
    ips: list[ShortText] = Field(default_factory=list)
    detail: Text | None = None  # the evidence for this host, one line

    @classmethod
    def trusted(cls, host: str, outcome: str, ips: list[str], detail: str | None) -> AffectedHost:
        """``model_construct`` for values taken from validated models, without its per-field
        loop: a province's findings list ~200,000 hosts and that loop was a sixth of the report's
        time. Sets exactly what ``model_construct`` sets (tests compare the two)."""
        obj = cls.__new__(cls)
        _set(obj, "__dict__", {"host": host, "outcome": outcome, "ips": ips, "detail": detail})
        _set(obj, "__pydantic_fields_set__", {"host", "outcome", "ips", "detail"})
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj


class Finding(Contract):
    schema_: str = Field(default=FINDING_SCHEMA, alias="schema")
    id: ShortText
    kind: FindingKind
    unit: ShortText
    control_id: ShortText  # the policy control, or "exposure.<port>/<proto>", or "inventory.unmanaged"
    severity: Severity
    title: ShortText  # in the report's language
    recommendation: Text = ""
    failed: int = Field(default=0, ge=0)  # hosts where the control fails
    unknown: int = Field(default=0, ge=0)  # hosts where it could not be judged (never counted as pass)
    hosts: list[AffectedHost] = Field(default_factory=list)
    evidence: list[Text] = Field(default_factory=list)  # distinct evidence lines, most common first
    references: list[Reference] = Field(default_factory=list)
    confidence: ShortText | None = None  # high | medium | low, where detection is a heuristic
    status: FindingStatus = FindingStatus.new
    first_seen: AwareDatetime
    last_seen: AwareDatetime

    @property
    def affected(self) -> int:
        return len(self.hosts)


def finding_id(unit: str, control_id: str) -> str:
    """Stable across runs and machines: depends only on the unit and the control."""
    digest = hashlib.sha256(f"{unit}\x1f{control_id}".encode()).hexdigest()
    return f"F-{digest[:16]}"
