"""What the store answers about units, hosts (the inventory), reports and scans."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select

from secscan.collector import schema as t
from secscan.collector.db import Database, now, utc
from secscan.collector.intake import describe_agent
from secscan.collector.results import latest_results_query
from secscan.model.host import HostReport
from secscan.model.scan import ScanReport

_COUNTED = (("units", t.units), ("tokens", t.tokens), ("hosts", t.hosts), ("reports", t.reports),
            ("results", t.results), ("scans", t.scans), ("findings", t.findings))


class Reads:
    def __init__(self, db: Database) -> None:
        self.db = db

    def units(self) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            counts = dict(conn.execute(select(t.hosts.c.unit_id, func.count()).group_by(t.hosts.c.unit_id)).all())
            rows = conn.execute(select(t.units).order_by(t.units.c.id)).mappings().all()
        return [{"id": r["id"], "parent_id": r["parent_id"], "name": r["name"], "kind": r["kind"],
                 "level": r["level"], "hosts": counts.get(r["id"], 0)} for r in rows]

    def unit(self, unit_id: str) -> dict[str, Any] | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.units).where(t.units.c.id == unit_id)).mappings().first()
        return dict(row) if row else None

    def unit_summary(self, unit_id: str, stale_days: float = 30) -> dict[str, Any] | None:
        unit = self.unit(unit_id)
        if unit is None:
            return None
        cutoff = now() - timedelta(days=stale_days)
        r = t.results
        with self.db.engine.connect() as conn:
            hosts = conn.execute(select(t.hosts.c.last_seen, t.hosts.c.clone_suspect)
                                 .where(t.hosts.c.unit_id == unit_id)).all()
            reports = conn.execute(select(func.count(), func.max(t.reports.c.collected_at))
                                   .where(t.reports.c.unit_id == unit_id)).one()
            scans = conn.execute(select(func.count()).select_from(t.scans).where(t.scans.c.unit_id == unit_id)).scalar()
            counts = conn.execute(latest_results_query(unit_id).with_only_columns(
                func.coalesce(func.sum(r.c.passed), 0), func.coalesce(func.sum(r.c.failed), 0),
                func.coalesce(func.sum(r.c.unknown), 0), func.coalesce(func.sum(r.c.not_applicable), 0))).one()
        last = utc(reports[1])
        return {
            "unit": {k: unit[k] for k in ("id", "parent_id", "name", "kind", "level")},
            "hosts": len(hosts),
            "stale_hosts": sum(1 for h in hosts if utc(h.last_seen) < cutoff),
            "clone_suspects": sum(1 for h in hosts if h.clone_suspect),
            "reports": reports[0],
            "last_report_at": last.isoformat() if last else None,
            "scans": scans,
            "results": dict(zip(("pass", "fail", "unknown", "not_applicable"), map(int, counts), strict=True)),
        }

    def hosts(self, unit: str | None = None, stale_days: float | None = None) -> list[dict[str, Any]]:
        """The inventory; with ``stale_days``, only hosts not heard from for that long."""
        q = select(t.hosts).order_by(t.hosts.c.unit_id, t.hosts.c.hostname_key)
        if unit:
            q = q.where(t.hosts.c.unit_id == unit)
        if stale_days is not None:
            q = q.where(t.hosts.c.last_seen < now() - timedelta(days=stale_days))
        with self.db.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
            macs: dict[str, list[str]] = {}
            if rows:
                for host_id, mac in conn.execute(select(t.host_macs.c.host_id, t.host_macs.c.mac)
                                                 .where(t.host_macs.c.host_id.in_([r["id"] for r in rows]))
                                                 .order_by(t.host_macs.c.mac)):
                    macs.setdefault(host_id, []).append(mac)
        for r in rows:
            r["macs"] = macs.get(r["id"], [])
            r["first_seen"], r["last_seen"] = utc(r["first_seen"]), utc(r["last_seen"])
            r["agent_label"], r["agent_note"] = describe_agent(r["agent"])
            if r["moved_from"]:
                r["agent_note"] = "; ".join(filter(None, [
                    f"claims the identity of host {r['moved_from'][:8]} of another unit: a move pending "
                    f"`secscan collector approve-move {r['id']}`", r["agent_note"]]))
        return rows

    def latest_report_count(self, unit: str | None = None) -> int:
        """How many hosts have a latest report (of ``unit`` when given): what `evaluate` re-judges."""
        q = select(func.count()).select_from(t.reports).join(
            t.hosts, t.hosts.c.last_report_id == t.reports.c.report_id)
        if unit:
            q = q.where(t.reports.c.unit_id == unit)
        with self.db.engine.connect() as conn:
            return conn.execute(q).scalar_one()

    def report_document(self, report_id: str) -> dict[str, Any] | None:
        with self.db.engine.connect() as conn:
            text = conn.execute(select(t.reports.c.document).where(t.reports.c.report_id == report_id)).scalar()
        return json.loads(text) if text is not None else None

    def latest_reports(self, unit: str | None = None,
                       unreadable: list[tuple[str, str]] | None = None) -> list[HostReport]:
        """Each host's most recent HostReport, parsed. A stored document that the contract no
        longer accepts (stored by a secscan before the contract became strict, e.g. "yes" for a
        boolean) is left out rather than guessed at, and listed in ``unreadable`` as (report id,
        the reason) for the caller to say so."""
        q = select(t.reports.c.report_id, t.reports.c.document).join(
            t.hosts, t.hosts.c.last_report_id == t.reports.c.report_id)
        if unit:
            q = q.where(t.reports.c.unit_id == unit)
        with self.db.engine.connect() as conn:
            return _readable(HostReport, conn.execute(q).all(), unreadable)

    def scans(self, unit: str | None = None, unreadable: list[tuple[str, str]] | None = None) -> list[ScanReport]:
        q = select(t.scans.c.scan_id, t.scans.c.document).order_by(t.scans.c.started_at)
        if unit:
            q = q.where(t.scans.c.unit_id == unit)
        with self.db.engine.connect() as conn:
            return _readable(ScanReport, conn.execute(q).all(), unreadable)

    def counts(self) -> dict[str, int]:
        with self.db.engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for name, table in _COUNTED}


def _readable(model: Any, rows: Sequence[Any], unreadable: list[tuple[str, str]] | None) -> list[Any]:
    out = []
    for doc_id, text in rows:
        try:
            out.append(model.model_validate_json(text))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"]) or "(document)"
            if unreadable is not None:
                unreadable.append((doc_id, f"{where}: {err['msg']}"))
    return out
