"""Result: one host judged against one control. Findings and summaries are built from these."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from secscan.model.common import Contract, ShortText, Text


class Outcome(StrEnum):
    passed = "pass"
    failed = "fail"
    unknown = "unknown"  # a fact was missing: never counted as pass
    not_applicable = "not_applicable"


class Requirement(StrEnum):
    required = "required"
    recommended = "recommended"
    none = "-"


class Result(Contract):
    report_id: ShortText  # the HostReport judged
    host: ShortText  # hostname, for people; the collector keys hosts by its own stable id
    unit: ShortText | None = None
    baseline: ShortText
    control_id: ShortText
    level: int = Field(ge=1, le=5)  # the host's required level
    requirement: Requirement
    outcome: Outcome
    severity: ShortText
    evidence: dict[str, Any] = Field(default_factory=dict)  # the facts the expression read
    reason: Text | None = None  # why unknown / not applicable


# --- summaries: per unit and for the whole organisation --------------------------------------


class Counts(Contract):
    passed: int = 0
    failed: int = 0
    unknown: int = 0
    not_applicable: int = 0

    @property
    def judged(self) -> int:
        return self.passed + self.failed

    def score(self) -> float | None:
        """passed / (passed + failed); None when nothing was judged. Unknown is never in it."""
        return self.passed / self.judged if self.judged else None


class ControlRate(Contract):
    """One control over one unit's hosts."""

    control_id: ShortText
    requirement: Requirement  # at the unit's level
    severity: ShortText
    counts: Counts
    rate: float | None = None  # passed / (passed + failed)
    failing_hosts: list[ShortText] = Field(default_factory=list)  # hostnames, for the IT officer
    unknown_hosts: list[ShortText] = Field(default_factory=list)


class IndicatorValue(Contract):
    """A headline share: ``count`` of ``judged`` hosts (pass + fail of the control); ``unknown``
    hosts could not be judged and are outside the share."""

    indicator_id: ShortText
    control_id: ShortText
    counts: Literal["pass", "fail"]
    count: int
    judged: int
    unknown: int
    share: float | None = None


class UnitSummary(Contract):
    unit: ShortText | None  # None: the whole organisation / hosts of no known unit
    name: ShortText
    parent: ShortText | None = None
    level: int | None = Field(default=None, ge=1, le=5)
    level_basis: Text | None = None
    hosts: int = 0
    required: Counts = Field(default_factory=Counts)  # host × required control
    recommended: Counts = Field(default_factory=Counts)  # reported apart, never in the score
    score: float | None = None  # required.passed / (required.passed + required.failed)
    hosts_compliant: int = 0  # hosts with every required control passed (no fail, no unknown)
    controls: list[ControlRate] = Field(default_factory=list)
    indicators: list[IndicatorValue] = Field(default_factory=list)
    # periodic assessment (NĐ 85 Điều 20): the last one recorded in org.yaml, when the next is due
    # at the unit's level, and whether it is overdue; None where there is no record or no rule
    last_assessment: date | None = None
    assessment_due: date | None = None
    assessment_overdue: bool | None = None


class UnplacedHost(Contract):
    report_id: ShortText
    host: ShortText
    reason: Text


class OrgSummary(Contract):
    organisation: ShortText
    baseline: ShortText
    baseline_version: ShortText
    generated_at: ShortText  # ISO 8601
    units: list[UnitSummary] = Field(default_factory=list)
    total: UnitSummary  # every judged host of the organisation
    unplaced: list[UnplacedHost] = Field(default_factory=list)  # no unit, or a unit with no level
    # one per unit with sub-units that have hosts: the unit and all its descendants together
    # (a district with its communes); ``level`` is None there, as the levels inside may differ
    subtrees: list[UnitSummary] = Field(default_factory=list)
