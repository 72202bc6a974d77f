"""Organisation (``secscan.org/1``, the org.yaml file): units, networks and the security-level
decision(s) that say which level each unit's machines must meet.

The unit tree is a list with parent ids, never fixed tiers: a 2023 province → district →
department/commune tree and a post-01/7/2025 province → commune/ward tree are both just units with
parents. ``kind`` is free text (``district``, ``department``, ``commune``, ``ward``, ``town`` ...).

A host's required level (``Organisation.level_of``):

1. the unit's own ``level`` when set (an override, with ``level_reason``);
2. else the highest level among the systems that list the unit, taking each system from the
   latest decision that classifies it (a re-classification is a new decision, NĐ 85 Điều 18);
3. else the organisation's ``default_level``;
4. else ``None`` (lint reports it as an error).

Cross-references (parents, cycles, decision units, overlapping networks) are checked by
``secscan.policy.org`` so that an error can name the YAML line; this module only holds the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, IPvAnyNetwork

from secscan.model.common import Contract, ShortText, Text

ORG_SCHEMA = "secscan.org/1"

# Stable ASCII ids so they can travel in agent config, URLs and file names.
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Level = Annotated[int, Field(ge=1, le=5)]


class Contact(Contract):
    name: ShortText
    role: ShortText | None = None  # "Công chức Văn phòng - Thống kê", "Chuyên viên CNTT"
    phone: ShortText | None = None
    email: ShortText | None = None


class Assessment(Contract):
    """A periodic security inspection/assessment of the unit's systems (NĐ 85/2016 Điều 20.2.c)."""

    date: date
    by: ShortText | None = None  # who assessed: the dedicated unit, a licensed organisation ...
    document: ShortText | None = None  # the report's number, e.g. "25/BC-UBND"
    scope: Text | None = None


class Unit(Contract):
    id: Id
    name: ShortText  # Vietnamese, with diacritics: "UBND xã Văn Lang"
    name_en: ShortText | None = None
    kind: ShortText  # free text: province, district, department, commune, ward, town, ...
    parent: str | None = None  # None only for the root
    networks: list[IPvAnyNetwork] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    level: Level | None = None  # override: wins over the decision's systems
    level_reason: Text | None = None  # why the override (shown in reports)
    assessments: list[Assessment] = Field(default_factory=list)
    address: Text | None = None


class ClassifiedSystem(Contract):
    """One information system the decision classified (NĐ 85 Điều 5–11)."""

    id: Id
    name: ShortText  # "Mạng nội bộ (LAN) UBND huyện"
    name_en: ShortText | None = None
    level: Level
    units: list[str] = Field(default_factory=list)  # units whose machines belong to this system
    # internal | citizen | infrastructure | industrial | other (NĐ 85 Điều 6), free text
    category: ShortText | None = None
    criterion: ShortText | None = None  # "NĐ 85 Điều 8 khoản 3"
    owner: ShortText | None = None  # chủ quản


class Decision(Contract):
    """A security-level decision (quyết định phê duyệt cấp độ)."""

    number: ShortText  # "1531/QĐ-UBND"
    date: date
    signer: ShortText  # "Nguyễn Văn A"
    signer_title: ShortText | None = None  # "Phó Chủ tịch UBND huyện"
    issuer: ShortText | None = None  # "UBND huyện Hạ Hòa"
    regulation: ShortText  # the basis: "TT 03/2017/TT-BTTTT", "TT 12/2022/TT-BTTTT", "NĐ 331/2026/NĐ-CP"
    title: Text | None = None  # trích yếu
    systems: list[ClassifiedSystem] = Field(default_factory=list)


class Organisation(Contract):
    schema_: Literal["secscan.org/1"] = Field(default=ORG_SCHEMA, alias="schema")
    name: ShortText  # "UBND huyện Hạ Hòa"
    name_en: ShortText | None = None
    province: ShortText | None = None
    # The bodies the units' periodic reports go to, the addressee first. Since 01/7/2025 there is
    # no district between a commune and the province: commune reports go to the provincial Sở Khoa
    # học và Công nghệ and the provincial SOC, which the parent (the province) does not say.
    reports_to: list[ShortText] = Field(default_factory=list)
    baseline: ShortText | None = None  # baseline id to judge against (default: vn-endpoint-nd85-tt12)
    default_level: Level | None = None
    units: list[Unit] = Field(min_length=1)
    decisions: list[Decision] = Field(default_factory=list)

    # --- derived views (computed once; Organisation is treated as immutable after load) -------

    _DERIVED: ClassVar[tuple[str, ...]] = ("unit_index", "systems", "levels", "networks")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Organisation:
        """A copy whose derived views are recomputed (cached_property values would be copied stale)."""
        copy = super().model_copy(update=update, deep=deep)
        for name in self._DERIVED:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def unit_index(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def systems(self) -> dict[str, tuple[ClassifiedSystem, Decision]]:
        """system id -> (system, the latest decision classifying it)."""
        current: dict[str, tuple[ClassifiedSystem, Decision]] = {}
        for decision in sorted(self.decisions, key=lambda d: d.date):
            for system in decision.systems:
                current[system.id] = (system, decision)
        return current

    def systems_of(self, unit_id: str) -> list[tuple[ClassifiedSystem, Decision]]:
        return [pair for pair in self.systems.values() if unit_id in pair[0].units]

    @cached_property
    def levels(self) -> dict[str, int | None]:
        """unit id -> required level (see the module docstring), computed once."""
        return {u.id: self._level_of(u.id) for u in self.units}

    def level_of(self, unit_id: str) -> int | None:
        return self.levels.get(unit_id)

    def _level_of(self, unit_id: str) -> int | None:
        unit = self.unit_index.get(unit_id)
        if unit is None:
            return None
        if unit.level is not None:
            return unit.level
        levels = [system.level for system, _ in self.systems_of(unit_id)]
        if levels:
            return max(levels)
        return self.default_level

    def level_basis(self, unit_id: str) -> str:
        """Where the level came from, for people: override, decision number(s), or default."""
        unit = self.unit_index.get(unit_id)
        if unit is None:
            return "unknown unit"
        if unit.level is not None:
            return f"override: {unit.level_reason or 'set in org.yaml'}"
        pairs = self.systems_of(unit_id)
        if pairs:
            top = max(system.level for system, _ in pairs)
            return "; ".join(f"{s.name} (cấp độ {s.level}, QĐ {d.number})" for s, d in pairs if s.level == top)
        if self.default_level is not None:
            return "default_level"
        return "undetermined"

    def children(self, unit_id: str) -> list[Unit]:
        return [u for u in self.units if u.parent == unit_id]

    def ancestors(self, unit_id: str) -> list[str]:
        """Parent chain, nearest first (stops on cycles; lint reports those)."""
        chain: list[str] = []
        unit = self.unit_index.get(unit_id)
        while unit is not None and unit.parent is not None and unit.parent not in chain and unit.parent != unit_id:
            chain.append(unit.parent)
            unit = self.unit_index.get(unit.parent)
        return chain

    @cached_property
    def networks(self) -> list[tuple[IPv4Network | IPv6Network, str]]:
        """(network, unit id), most specific first: the lookup order for address → unit."""
        pairs = [(net, unit.id) for unit in self.units for net in unit.networks]
        return sorted(pairs, key=lambda p: (-p[0].prefixlen, p[0].version))
