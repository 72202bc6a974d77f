"""org.yaml: load and lint the organisation, its unit tree and its security-level decision(s).

Every problem is reported with file, line and field: duplicate ids, units whose parent does not
exist (or several roots), parent cycles, overlapping networks, decisions naming unknown units,
levels outside 1–5, and units for which no level can be derived.
"""

from __future__ import annotations

from datetime import date
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from secscan.model.org import Organisation
from secscan.policy.source import LintError, PolicyError, Source, pydantic_errors, read


def lint_org_file(path: str | Path) -> list[LintError]:
    return check_org_file(path)[1]


def load_org(path: str | Path) -> Organisation:
    org, errors = check_org_file(path)
    if errors or org is None:
        raise PolicyError(errors)
    return org


def check_org_file(path: str | Path) -> tuple[Organisation | None, list[LintError]]:
    src = read(path)
    if src.data is None:
        return None, src.errors
    if not isinstance(src.data, dict):
        src.error((), "org.yaml is a mapping with name, units and decisions")
        return None, src.errors
    _lint_raw(src)
    try:
        org = Organisation.model_validate(src.data)
    except ValidationError as exc:
        pydantic_errors(src, exc)
        return None, src.errors
    _lint_tree(org, src)
    return (None if src.errors else org), src.errors


def _lint_raw(src: Source) -> None:
    """Duplicate ids (units; systems across decisions of the same date would be ambiguous)."""
    units = src.data.get("units")
    if isinstance(units, list):
        _duplicates(src, units, ("units",), "unit")
    decisions = src.data.get("decisions")
    if isinstance(decisions, list):
        for d, decision in enumerate(decisions):
            systems = decision.get("systems") if isinstance(decision, dict) else None
            if isinstance(systems, list):
                _duplicates(src, systems, ("decisions", d, "systems"), "system")


def _duplicates(src: Source, items: list[Any], loc: tuple, what: str) -> None:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        uid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(uid, str):
            continue
        if uid in first:
            line = src.line((*loc, first[uid], "id"))
            src.error((*loc, i, "id"), f"duplicate {what} id {uid!r} (first at line {line})")
        else:
            first[uid] = i


def _lint_tree(org: Organisation, src: Source) -> None:
    index = {u.id: i for i, u in enumerate(org.units)}  # first occurrence
    roots = [i for i, u in enumerate(org.units) if u.parent is None]
    if not roots:
        src.error(("units",), "no root unit: exactly one unit has no parent (the organisation itself)")
    for i in roots[1:]:
        src.error(("units", i, "parent"), f"unit {org.units[i].id!r} has no parent; only the root "
                  f"{org.units[roots[0]].id!r} may have none")
    for i, unit in enumerate(org.units):
        if unit.parent is not None and unit.parent not in index:
            src.error(("units", i, "parent"), f"parent {unit.parent!r} is not a unit id")
    # cycles: follow parents; a chain that comes back to a unit never reaches the root
    reported: set[str] = set()
    for unit in org.units:
        chain = [unit.id]
        current = unit
        while current.parent is not None and current.parent in index:
            if current.parent in chain:
                cycle = chain[chain.index(current.parent):]
                if not reported.intersection(cycle):
                    reported.update(cycle)
                    src.error(("units", index[cycle[0]], "parent"),
                              "parent cycle: " + " → ".join([*cycle, cycle[0]]))
                break
            chain.append(current.parent)
            current = org.units[index[current.parent]]
    # decisions: systems name existing units
    for d, decision in enumerate(org.decisions):
        for s, system in enumerate(decision.systems):
            for u, unit_id in enumerate(system.units):
                if unit_id not in index:
                    src.error(("decisions", d, "systems", s, "units", u),
                              f"unknown unit {unit_id!r} in system {system.id!r} of decision {decision.number}")
    # overlapping networks: allowed only when the narrower one belongs to a descendant unit
    seen: list[tuple[Any, str, int, int]] = []
    for i, unit in enumerate(org.units):
        for n, net in enumerate(unit.networks):
            for other_net, other_id, oi, on in seen:
                if net.version != other_net.version or not net.overlaps(other_net):
                    continue
                if other_id == unit.id:
                    src.error(("units", i, "networks", n), f"{net} overlaps {other_net} of the same unit")
                    continue
                if net.prefixlen > other_net.prefixlen:
                    narrow_unit, wide_unit = unit.id, other_id
                else:
                    narrow_unit, wide_unit = other_id, unit.id
                if net.prefixlen != other_net.prefixlen and wide_unit in org.ancestors(narrow_unit):
                    continue  # a commune's /24 inside the district's /16
                src.error(("units", i, "networks", n), f"{net} overlaps {other_net} of unit {other_id!r} "
                          f"(line {src.line(('units', oi, 'networks', on))}); a network may only contain "
                          "networks of its own sub-units")
            seen.append((net, unit.id, i, n))
    # assessments are records of the past
    today = date.today()
    for i, unit in enumerate(org.units):
        for a, assessment in enumerate(unit.assessments):
            if assessment.date > today:
                src.error(("units", i, "assessments", a, "date"), f"{assessment.date} is in the future")
    # every unit must resolve to a level
    for i, unit in enumerate(org.units):
        if org.level_of(unit.id) is None:
            src.error(("units", i), f"unit {unit.id!r} has no level: list it in a system of a decision, "
                      "set its level, or set default_level")


def place_address(org: Organisation, addresses: list[str]) -> str | None:
    """The unit whose network holds one of ``addresses`` (most specific network first)."""
    parsed = []
    for text in addresses:
        try:
            parsed.append(ip_address(str(text)))
        except ValueError:
            continue
    for net, unit_id in org.networks:
        for address in parsed:
            if address.version == net.version and address in net:
                return unit_id
    return None


__all__ = ["LintError", "PolicyError", "lint_org_file", "load_org", "place_address"]
