"""The administrator's writes: facts about the store (meta), the organisation's units, settling a
PC's move between units, and the planner's statistics after a bulk load."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, select

from secscan.collector import schema as t
from secscan.collector.db import Database, now, utc


class Admin:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_meta(self, key: str) -> str | None:
        with self.db.engine.connect() as conn:
            return conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            if conn.execute(select(t.meta.c.key).where(t.meta.c.key == key)).first():
                conn.execute(t.meta.update().where(t.meta.c.key == key).values(value=value))
            else:
                conn.execute(t.meta.insert().values(key=key, value=value))

    def upsert_units(self, rows: Iterable[dict[str, Any]]) -> int:
        """Create or update units: dicts with id, name and optionally parent_id, kind, level, data.
        Parents are written before children whatever the order given."""
        order = parents_first(list(rows))
        with self.db.write() as conn:
            existing = {r.id for r in conn.execute(select(t.units.c.id))}
            stamp = now()
            for row in order:
                values = {"parent_id": row.get("parent_id"), "name": row["name"], "kind": row.get("kind"),
                          "level": row.get("level"), "data": row.get("data"), "updated_at": stamp}
                if row["id"] in existing:
                    conn.execute(t.units.update().where(t.units.c.id == row["id"]).values(**values))
                else:
                    conn.execute(t.units.insert().values(id=row["id"], **values))
        return len(order)

    def approve_move(self, host_id: str, approve: bool = True) -> dict[str, Any]:
        """Settle a move conflict (a host whose identity another unit's host holds, ``moved_from``).
        Approved: the PC moved; the two rows become one, in the new unit, with the history of both
        (reports keep the unit they were filed under). Refused: two different PCs; the flag goes.
        Raises KeyError (one line) when ``host_id`` has no pending move."""
        h = t.hosts
        with self.db.write() as conn:
            new = conn.execute(select(h).where(h.c.id == host_id)).mappings().first()
            if new is None or new["moved_from"] is None:
                raise KeyError(f"host {host_id}: no move pending approval")
            old = conn.execute(select(h).where(h.c.id == new["moved_from"])).mappings().first()
            if not approve or old is None:
                conn.execute(h.update().where(h.c.id == host_id).values(moved_from=None))
                return {"host": host_id, "merged_into": None}
            newer = new if utc(new["last_seen"]) >= utc(old["last_seen"]) else old
            kept = old["id"]
            for table in (t.reports, t.captures, t.results):
                conn.execute(table.update().where(table.c.host_id == host_id).values(host_id=kept))
            have = set(conn.execute(select(t.host_macs.c.mac).where(t.host_macs.c.host_id == kept)).scalars())
            moved = set(conn.execute(select(t.host_macs.c.mac).where(t.host_macs.c.host_id == host_id)).scalars())
            conn.execute(t.host_macs.delete().where(t.host_macs.c.host_id == host_id))
            if moved - have:
                conn.execute(t.host_macs.insert(), [{"host_id": kept, "mac": m} for m in sorted(moved - have)])
            if newer is new:  # the old unit's last judgement is not the PC's any more
                conn.execute(t.results.delete().where(and_(t.results.c.host_id == kept,
                                                           t.results.c.report_id != new["last_report_id"])))
            conn.execute(h.delete().where(h.c.id == host_id))
            conn.execute(h.update().where(h.c.id == kept).values(
                unit_id=new["unit_id"], first_seen=min(utc(new["first_seen"]), utc(old["first_seen"])),
                **{k: newer[k] for k in ("hostname", "hostname_key", "os_name", "ips", "agent", "last_seen",
                                         "last_report_id")}))
            return {"host": host_id, "merged_into": kept, "from_unit": old["unit_id"], "to_unit": new["unit_id"]}

    def analyze(self) -> bool:
        """Refresh PostgreSQL's planner statistics after a bulk load; True if it ran. A store that
        grew from empty keeps looking tiny to the planner until autovacuum gets to it (a minute or
        more), and meanwhile each HTTP batch's host lookup scanned every host: 9.8-11.3 ms against
        3.1-3.5 ms a batch with statistics, at 10,000 hosts (measured). SQLite plans without them."""
        if self.db.engine.dialect.name != "postgresql":
            return False
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {', '.join(tb.name for tb in (t.hosts, t.host_macs, t.reports, t.results))}")
        return True


def parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {r["id"]: r for r in rows}
    out: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(r: dict[str, Any], path: tuple[str, ...]) -> None:
        if r["id"] in done:
            return
        if r["id"] in path:
            raise ValueError(f"units: parent cycle through {' → '.join((*path, r['id']))}")
        parent = r.get("parent_id")
        if parent in by_id:
            visit(by_id[parent], (*path, r["id"]))
        done.add(r["id"])
        out.append(r)

    for r in rows:
        visit(r, ())
    return out
