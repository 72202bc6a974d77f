"""The findings history, written by the report stage: one row per (unit, baseline, control) with
its life (first_seen, last_seen, resolved_at) and status new | open | resolved."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from secscan.collector import schema as t
from secscan.collector.db import Database, now, utc


class FindingsHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def findings(self, unit: str | None = None, include_resolved: bool = True) -> list[dict[str, Any]]:
        q = select(t.findings).order_by(t.findings.c.unit_id, t.findings.c.baseline, t.findings.c.control_id)
        if unit:
            q = q.where(t.findings.c.unit_id == unit)
        if not include_resolved:
            q = q.where(t.findings.c.status != "resolved")
        with self.db.engine.connect() as conn:
            out = []
            for r in conn.execute(q).mappings():
                row = dict(r)
                for k in ("first_seen", "last_seen", "resolved_at"):
                    row[k] = utc(row[k])
                out.append(row)
            return out

    def save(self, current: Iterable[dict[str, Any]], at: datetime | None = None,
             units: Iterable[str] | None = None) -> dict[str, int]:
        """Record the findings seen now. ``current``: dicts with unit_id, baseline, control_id and
        optionally severity and data. A finding seen for the first time is ``new``; seen again,
        ``open`` (first_seen kept); one stored as open/new but absent now is ``resolved`` (within
        ``units`` when given, so a run over one unit does not resolve another's); a resolved one
        that reappears is ``new`` again with a fresh first_seen. One transaction."""
        at = at or now()
        f = t.findings
        counts = {"new": 0, "open": 0, "resolved": 0}
        with self.db.write() as conn:
            q = select(f)
            if units is not None:
                q = q.where(f.c.unit_id.in_(sorted(set(units))))
            stored = {_key(r): r for r in conn.execute(q).mappings()}
            seen = set()
            for row in current:
                k = _key(row)
                seen.add(k)
                old = stored.get(k)
                values = {"severity": row.get("severity"), "data": row.get("data"), "last_seen": at,
                          "resolved_at": None}
                if old is None:
                    conn.execute(f.insert().values(unit_id=k[0], baseline=k[1], control_id=k[2],
                                                   status="new", first_seen=at, **values))
                    counts["new"] += 1
                elif old["status"] == "resolved":
                    conn.execute(f.update().where(_where(k)).values(status="new", first_seen=at, **values))
                    counts["new"] += 1
                else:
                    conn.execute(f.update().where(_where(k)).values(status="open", **values))
                    counts["open"] += 1
            for k, old in stored.items():
                if k not in seen and old["status"] != "resolved":
                    conn.execute(f.update().where(_where(k)).values(status="resolved", resolved_at=at))
                    counts["resolved"] += 1
        return counts


def _key(row: Any) -> tuple[str, str, str]:
    return row["unit_id"], row["baseline"], row["control_id"]


def _where(key: tuple[str, str, str]) -> Any:
    f = t.findings
    return and_(f.c.unit_id == key[0], f.c.baseline == key[1], f.c.control_id == key[2])
