"""Baseline (``secscan.baseline/1``): a versioned set of controls, as data (``policies/*.yaml``).

A control judges one *subject* — a HostReport (``host``) or one host of a ScanReport
(``scan_host``) — with two JMESPath expressions over the subject's JSON document:

* ``pass``: the control passes when it gives exactly ``true``;
* ``fail``: the control fails when it gives exactly ``true``. When omitted, the control fails
  when ``pass`` gives exactly ``false``.

Anything else is ``unknown``. Before either runs, every fact path the expressions read from the
document root (and every path in ``requires``) must be non-null, else ``unknown`` with the reason
the probe gave. ``$name`` in an expression is a per-level parameter from ``params``, substituted
as a JSON literal when the baseline is compiled (once, at load).

Every control states its status at *every* level 1–5 (``required``, ``recommended`` or ``-``).
A ``cumulative`` baseline (NĐ 85 / TT 03 Điều 9: level n includes level n-1) is checked by lint
to never relax a control at a higher level; a non-cumulative one (TCVN 14423:2026) is not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from secscan.model.common import Contract, ShortText, Text
from secscan.model.result import Requirement

BASELINE_SCHEMA = "secscan.baseline/1"
LEVELS = (1, 2, 3, 4, 5)

ControlId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")]
Severity = Literal["critical", "high", "medium", "low", "info"]
Subject = Literal["host", "scan_host"]
Scalar = bool | int | float | str
ParamValue = Scalar | list[Scalar]  # a list for contains(): e.g. ports that must not listen


class Localized(Contract):
    """Vietnamese first; English optional (reports fall back to Vietnamese)."""

    vi: Text
    en: Text | None = None

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" else None) or self.vi


class Problem(Contract):
    """What a finding says is wrong, in both languages: "Máy không có phần mềm phòng chống mã độc
    đang hoạt động", where the control's title states the requirement ("Có phần mềm …"). Documents
    list shortcomings under this title, so it must not repeat the requirement."""

    vi: ShortText
    en: ShortText

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Citation(Contract):
    source: ShortText  # "TCVN 11930:2017", "TT 12/2022/TT-BTTTT", "Chỉ thị 14/CT-TTg (2018)"
    ref: ShortText | None = None  # article / clause: "Điều 9", "7.1.5.5"
    text: Text | None = None  # the wording quoted, Vietnamese
    # True only when the wording AND the level it is applied at were read in a retrieved text.
    verified: bool = False
    note: Text | None = None  # what is not verified, e.g. "ngưỡng cấp độ [R]"


class Applicability(Contract):
    subject: Subject = "host"
    os_family: list[Literal["windows", "linux", "macos", "other"]] | None = None  # None: every family
    role: list[Literal["workstation", "server"]] | None = None  # None: every role; unknown role applies


class Param(Contract):
    """A threshold: one value for every level, or one per level (all five)."""

    value: ParamValue | None = None
    levels: dict[int, ParamValue] | None = None
    unit: ShortText | None = None  # "days", "minutes", "characters"
    verified: bool = False  # False: no retrieved text confirms this number
    note: Text | None = None

    def at(self, level: int) -> ParamValue | None:
        if self.levels is not None:
            return self.levels.get(level)
        return self.value


class Control(Contract):
    id: ControlId
    title: Localized  # the requirement, as the regulation states it
    problem: Problem  # the shortcoming, as a finding names it
    rationale: Localized
    remediation: Localized
    severity: Severity
    # status at each level 1..5; every level must be present (lint checks it, naming the line)
    levels: dict[int, Requirement]
    levels_verified: bool = False  # False: the level at which it starts is not confirmed by a text
    applies_to: Applicability = Field(default_factory=Applicability)
    # A fact-based precondition (e.g. "Office is installed"): false → not_applicable; null → unknown.
    applies_when: Text | None = None
    requires: list[ShortText] = Field(default_factory=list)  # extra paths that must be non-null
    pass_: Text = Field(alias="pass")
    fail: Text | None = None
    params: dict[str, Param] = Field(default_factory=dict)
    citations: list[Citation] = Field(default_factory=list)
    tags: list[ShortText] = Field(default_factory=list)

    def requirement(self, level: int) -> Requirement:
        return self.levels.get(level, Requirement.none)

    @model_validator(mode="after")
    def _problem_is_not_the_requirement(self) -> Control:
        same = [lang for lang in ("vi", "en")
                if self.problem.get(lang).casefold() == self.title.get(lang).casefold()]
        if same:
            raise ValueError(f"problem.{same[0]}: repeats the title; say what is wrong "
                             "(e.g. 'Máy không có …' for 'Có …')")
        return self

    @field_validator("levels")
    @classmethod
    def _level_range(cls, value: dict[int, Requirement]) -> dict[int, Requirement]:
        bad = sorted(k for k in value if k not in LEVELS)
        if bad:
            raise ValueError(f"levels must be 1..5, got {bad}")
        return value


class Indicator(Contract):
    """A headline share the province asks for, read off one control's outcomes.

    ``counts: pass`` → share of hosts where the control passed (e.g. "có phần mềm diệt virus");
    ``counts: fail`` → share where it failed (e.g. "phát hiện công cụ bẻ khóa").
    The share is over hosts where the control was judged (pass + fail); unknown is shown apart.
    """

    id: ControlId
    title: Localized
    short: Localized | None = None  # a column header: "Có AV", "Bẻ khóa"
    control: ControlId
    counts: Literal["pass", "fail"] = "pass"


class AssessmentRule(Contract):
    """How often each level's systems must be assessed (months), checked per unit against the
    ``assessments`` recorded in org.yaml."""

    months: dict[int, int]  # level -> maximum months between assessments
    citation: Citation


class Baseline(Contract):
    schema_: Literal["secscan.baseline/1"] = Field(default=BASELINE_SCHEMA, alias="schema")
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{2,63}$")]
    version: ShortText
    title: Localized
    description: Localized | None = None
    regulation: list[ShortText] = Field(min_length=1)  # what it implements
    cumulative: bool  # level n includes everything required at level n-1
    effective_from: date | None = None
    status_note: Localized | None = None  # e.g. "theo bản tóm lược của bên thứ ba"
    controls: list[Control] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    assessment: AssessmentRule | None = None

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)

