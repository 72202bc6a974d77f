"""Result: one host judged against one control. Findings and summaries are built from these."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
