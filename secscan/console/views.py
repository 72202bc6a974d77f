"""What each page shows, from the store and from the report stage's Summary, for one account's scope.

The figures come from ``secscan.report.summary.summarise``, the code the PDF prints from: the
console only picks the rows of the units in scope and merges them as the report merges every unit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from secscan.collector.store import Store
from secscan.model.result import Outcome, Result
from secscan.report.summary import Indicators, Summary, UnitRow

INDICATOR_KEYS = ("av_present", "av_current", "windows_licensed", "office_licensed", "activators", "unsupported_os")
MARKS = {"pass": "✓", "fail": "✗", "unknown": "?", "not_applicable": "–"}
FACT_SECTIONS_SKIPPED = ("schema", "report_id", "signature", "probes")
VALUE_CHARS = 300  # a fact's value is cut here on the page: the whole one is in the stored report


def visible(scope: set[str] | None, unit_id: str | None) -> bool:
    """Whether an account of ``scope`` (None: every unit) may see ``unit_id``."""
    return scope is None or (unit_id is not None and unit_id in scope)


def rows_in_scope(summary: Summary, scope: set[str] | None) -> list[UnitRow]:
    return [row for row in summary.units if visible(scope, row.unit.id)]


def merged(rows: list[UnitRow]) -> Indicators:
    """The headline figures of these units together, merged as the report merges every unit."""
    total = Indicators()
    for row in rows:
        total.merge(row.ind)
    return total


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


@dataclass
class HostLine:
    id: str
    hostname: str
    os_name: str | None
    last_seen: str
    failed: int
    outcomes: dict[str, str]


def unit_hosts(store: Store, unit_id: str) -> tuple[list[HostLine], list[str]]:
    """The unit's PCs with each control's outcome, and the control ids that appear."""
    by_report: dict[str, list[Result]] = defaultdict(list)
    for r in store.latest_results(unit_id):
        by_report[r.report_id].append(r)
    lines, controls = [], set()
    for h in store.hosts(unit_id):
        results = by_report.get(h["last_report_id"] or "", [])
        outcomes = {r.control_id: r.outcome.value for r in results}
        controls.update(outcomes)
        lines.append(HostLine(h["id"], h["hostname"], h["os_name"], f"{h['last_seen']:%Y-%m-%d %H:%M}",
                              sum(1 for r in results if r.outcome is Outcome.failed), outcomes))
    return lines, sorted(controls)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested document as (dotted path, value) lines: lists and dicts opened, leaves shown."""
    if isinstance(value, dict) and value:
        return [line for k, v in value.items() for line in flatten(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        return [line for i, v in enumerate(value) for line in flatten(v, f"{prefix}[{i}]")]
    return [(prefix, _short(value))]


def pc_page(store: Store, host: dict[str, Any], summary: Summary, lang: str) -> dict[str, Any]:
    """Identity, judged results with their evidence, probes and every fact of the PC's latest report."""
    doc = store.report_document(host["last_report_id"]) if host["last_report_id"] else None
    identity = [("hostname", host["hostname"]), ("id", host["id"]), ("os", host["os_name"] or ""),
                ("ips", ", ".join(host["ips"] or [])), ("macs", ", ".join(host["macs"])),
                ("first_seen", f"{host['first_seen']:%Y-%m-%d %H:%M}"),
                ("last_seen", f"{host['last_seen']:%Y-%m-%d %H:%M}"), ("agent", host["agent_label"] or "")]
    if doc is None:
        return {"identity": identity, "report": None, "results": [], "probes": [], "facts": []}
    titles = {c.id: c.title.get(lang) for c in summary.inp.controls}
    order = {"fail": 0, "unknown": 1, "pass": 2, "not_applicable": 3}
    results = sorted((r for r in store.latest_results(host["unit_id"]) if r.report_id == host["last_report_id"]),
                     key=lambda r: (order[r.outcome.value], r.control_id))
    return {
        "identity": identity,
        "report": doc,
        "results": [{"control_id": r.control_id, "title": titles.get(r.control_id, ""), "outcome": r.outcome.value,
                     "reason": r.reason, "severity": r.severity, "requirement": r.requirement.value,
                     "evidence": [(k, _short(v)) for k, v in r.evidence.items()]} for r in results],
        "probes": [{"name": p.get("name"), "status": p.get("status"), "error": p.get("error")}
                   for p in doc.get("probes") or [] if isinstance(p, dict)],
        "facts": [line for key, value in doc.items() if key not in FACT_SECTIONS_SKIPPED
                  for line in flatten(value, key)],
    }


SEARCH_LIMIT = 200  # hosts a search lists; it says when there are more


def search_hosts(store: Store, query: str, units: dict[str, str]) -> list[dict[str, Any]]:
    """PCs of ``units`` whose hostname, an IP or a MAC contains ``query`` (case-insensitive)."""
    needle = query.casefold()
    found = []
    for unit_id in units:
        for h in store.hosts(unit_id):
            haystack = [h["hostname"], *(h["ips"] or []), *h["macs"]]
            if any(needle in str(value).casefold() for value in haystack):
                found.append(h)
                if len(found) > SEARCH_LIMIT:
                    return found
    return found
