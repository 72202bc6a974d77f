"""The store: units, tokens, hosts, reports, results, scans, findings (SQLAlchemy 2 Core).

Ingest works in batches: every report of a batch is parsed and its signature checked first
(no database), then one transaction looks up duplicates and hosts for the whole batch with a few
``IN`` queries and writes everything with ``executemany``. A batch commits whole or not at all;
if it fails on a conflict (another collector stored the same report or created the same host a
moment earlier) it is retried one report per savepoint, so each report is still stored whole or
not at all and a conflict costs only that report a second look.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, union
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from secscan.collector import identity, migrations
from secscan.collector import schema as t
from secscan.collector.intake import HostFiling, Parsed, Rejected, describe_agent
from secscan.model.host import HostReport
from secscan.model.result import Outcome as Judged
from secscan.model.result import Result
from secscan.model.scan import ScanReport
from secscan.model.signing import new_token, parse_token, signing_key, token_hash

_RESULTS = TypeAdapter(list[Result])

# (report document as received, the unit the collector filed it under) -> Results. Set by the CLI
# from the policy stage (secscan.policy.evaluate_host) when org.yaml has been loaded.
Evaluator = Callable[[dict[str, Any], str | None], list[Result]]


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Outcome:
    status: str  # accepted | duplicate | rejected
    id: str | None = None
    kind: str | None = None
    reason: str | None = None
    http_status: int = 200
    host_id: str | None = None


@dataclass
class TokenInfo:
    key_id: str
    unit_id: str
    signing_key: bytes
    revoked: bool


@dataclass
class _Item:
    parsed: Parsed
    unit: str | None
    key_id: str | None
    source: str
    bearer: TokenInfo | None = None
    outcome: Outcome | None = None
    host: identity.HostRow | None = None


def _many(name: str) -> Any:
    return bindparam(name, expanding=True)


class _Ingest:
    """The statements of the ingest path, built once: building a statement with ``in_(list)``
    costs SQLAlchemy about three times what executing a prebuilt one does (330 against 110 µs
    measured), and an HTTP batch of a few pushes runs eight of them."""

    tokens = select(t.tokens).where(t.tokens.c.key_id.in_(_many("ids")))
    # what is stored already, by id or by digest: reports and scans
    stored: ClassVar[dict[str, Any]] = {
        table.name: select(id_col, table.c.digest).where(or_(id_col.in_(_many("ids")),
                                                             table.c.digest.in_(_many("digests"))))
        for table, id_col in ((t.reports, t.reports.c.report_id), (t.scans, t.scans.c.scan_id))
    }
    hosts_by_id = select(t.hosts).where(t.hosts.c.id.in_(_many("ids")))
    macs_of = select(t.host_macs.c.host_id, t.host_macs.c.mac).where(t.host_macs.c.host_id.in_(_many("ids")))
    insert_host = t.hosts.insert()
    update_host = t.hosts.update().where(t.hosts.c.id == bindparam("b_id"))
    insert_macs = t.host_macs.insert()
    insert_reports = t.reports.insert()
    insert_scans = t.scans.insert()
    insert_captures = t.captures.insert()
    _candidates: ClassVar[dict[tuple[bool, bool, bool], Any]] = {}

    @classmethod
    def candidates(cls, no_unit: bool, mids: bool, macs: bool) -> Any:
        """The ids of stored hosts a batch's reports could belong to: a name within its unit, a
        machine id, a shared MAC. One statement per shape, each way of matching its own indexed
        SELECT, joined by UNION; the rows are read by id after (``hosts_by_id``), and not at all
        for a batch of new PCs. As one SELECT of hosts with a WHERE of ORs, PostgreSQL scanned
        every host for each batch (13 ms a batch at 10,000 hosts; a MAC subquery cannot be part
        of an index OR). The name goes with its unit so that ix_hosts_unit_hostname serves it."""
        key = (no_unit, mids, macs)
        if key not in cls._candidates:
            h, hm = t.hosts, t.host_macs
            ways = [select(h.c.id).where(h.c.unit_id.in_(_many("units")), h.c.hostname_key.in_(_many("names")))]
            if no_unit:
                ways.append(select(h.c.id).where(h.c.unit_id.is_(None), h.c.hostname_key.in_(_many("orphan_names"))))
            if mids:
                ways.append(select(h.c.id).where(h.c.machine_id.in_(_many("mids"))))
            if macs:
                ways.append(select(hm.c.host_id).where(hm.c.mac.in_(_many("macs"))))
            cls._candidates[key] = union(*ways) if len(ways) > 1 else ways[0]
        return cls._candidates[key]


class Store:
    def __init__(self, engine: Engine, evaluator: Evaluator | None = None) -> None:
        self.engine = engine
        self.evaluator = evaluator
        self._sqlite_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    # --- setup ----------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        return migrations.migrate(self.engine)

    def check(self) -> None:
        migrations.check(self.engine)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite). On SQLite the threads of one process
        also queue on a lock: SQLite has one writer anyway, and its busy handler sleeps in
        growing steps, so fifty HTTP threads polling the file lock would mostly sleep."""
        if self._sqlite_lock is None:
            with self.engine.execution_options(write=True).begin() as conn:
                yield conn
            return
        with self._sqlite_lock, self.engine.execution_options(write=True).begin() as conn:
            yield conn

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            if conn.execute(select(t.meta.c.key).where(t.meta.c.key == key)).first():
                conn.execute(t.meta.update().where(t.meta.c.key == key).values(value=value))
            else:
                conn.execute(t.meta.insert().values(key=key, value=value))

    # --- units ----------------------------------------------------------------------------

    def upsert_units(self, rows: Iterable[dict[str, Any]]) -> int:
        """Create or update units: dicts with id, name and optionally parent_id, kind, level, data.
        Parents are written before children whatever the order given."""
        rows = list(rows)
        order = _parents_first(rows)
        with self._write() as conn:
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

    def units(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            counts = dict(conn.execute(select(t.hosts.c.unit_id, func.count()).group_by(t.hosts.c.unit_id)).all())
            rows = conn.execute(select(t.units).order_by(t.units.c.id)).mappings().all()
        return [{"id": r["id"], "parent_id": r["parent_id"], "name": r["name"], "kind": r["kind"],
                 "level": r["level"], "hosts": counts.get(r["id"], 0)} for r in rows]

    def unit(self, unit_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.units).where(t.units.c.id == unit_id)).mappings().first()
        return dict(row) if row else None

    def unit_summary(self, unit_id: str, stale_days: float = 30) -> dict[str, Any] | None:
        unit = self.unit(unit_id)
        if unit is None:
            return None
        cutoff = now() - timedelta(days=stale_days)
        with self.engine.connect() as conn:
            hosts = conn.execute(select(t.hosts.c.last_seen, t.hosts.c.clone_suspect)
                                 .where(t.hosts.c.unit_id == unit_id)).all()
            reports = conn.execute(select(func.count(), func.max(t.reports.c.collected_at))
                                   .where(t.reports.c.unit_id == unit_id)).one()
            scans = conn.execute(select(func.count()).select_from(t.scans).where(t.scans.c.unit_id == unit_id)).scalar()
            r = t.results
            counts = conn.execute(self._latest_results_query(unit_id).with_only_columns(
                func.coalesce(func.sum(r.c.passed), 0), func.coalesce(func.sum(r.c.failed), 0),
                func.coalesce(func.sum(r.c.unknown), 0), func.coalesce(func.sum(r.c.not_applicable), 0))).one()
        last = _utc(reports[1])
        return {
            "unit": {k: unit[k] for k in ("id", "parent_id", "name", "kind", "level")},
            "hosts": len(hosts),
            "stale_hosts": sum(1 for h in hosts if _utc(h.last_seen) < cutoff),
            "clone_suspects": sum(1 for h in hosts if h.clone_suspect),
            "reports": reports[0],
            "last_report_at": last.isoformat() if last else None,
            "scans": scans,
            "results": dict(zip(("pass", "fail", "unknown", "not_applicable"), map(int, counts), strict=True)),
        }

    # --- tokens ---------------------------------------------------------------------------

    def create_token(self, unit_id: str, label: str | None = None) -> tuple[str, str]:
        """Return (key_id, token). The token is shown once; only its hash and signing key are kept."""
        if self.unit(unit_id) is None:
            raise KeyError(f"unit {unit_id!r} is not in the store")
        key_id, token = new_token()
        with self._write() as conn:
            conn.execute(t.tokens.insert().values(key_id=key_id, unit_id=unit_id, token_hash=token_hash(token),
                                                  signing_key=signing_key(token), label=label, created_at=now()))
        return key_id, token

    def tokens(self, unit_id: str | None = None) -> list[dict[str, Any]]:
        q = select(t.tokens.c.key_id, t.tokens.c.unit_id, t.tokens.c.label, t.tokens.c.created_at,
                   t.tokens.c.revoked_at).order_by(t.tokens.c.unit_id, t.tokens.c.created_at)
        if unit_id:
            q = q.where(t.tokens.c.unit_id == unit_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def revoke_token(self, key_id: str) -> bool:
        with self._write() as conn:
            res = conn.execute(t.tokens.update().where(and_(t.tokens.c.key_id == key_id,
                                                            t.tokens.c.revoked_at.is_(None)))
                               .values(revoked_at=now()))
            return res.rowcount == 1

    def token_by_bearer(self, token: str) -> TokenInfo | None:
        try:
            parse_token(token)
        except ValueError:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(t.tokens).where(t.tokens.c.token_hash == token_hash(token))).first()
        return _token_info(row) if row else None

    def _token_table(self, conn: Connection, key_ids: set[str]) -> dict[str, TokenInfo]:
        if not key_ids:
            return {}
        rows = conn.execute(_Ingest.tokens, {"ids": sorted(key_ids)})
        return {r.key_id: _token_info(r) for r in rows}

    # --- ingest ---------------------------------------------------------------------------

    def ingest(self, parsed: Sequence[tuple[Parsed, str]], *, bearer: TokenInfo | None = None,
               bearers: Sequence[TokenInfo | None] | None = None, unit: str | None = None,
               require_signature: bool = False, conn: Connection | None = None) -> list[Outcome]:
        """Store validated reports; ``parsed`` pairs each with its source ("http", "import:FILE").
        Returns one Outcome per input, in order. ``bearer`` (or ``bearers``, one per report when
        several HTTP pushes share a transaction): the pushing token, whose unit binds the report;
        ``unit``: the unit given on the command line for reports that name none. ``conn``: a
        connection from ``bulk()`` whose transaction the caller commits; by default the batch is
        one transaction of its own."""
        per_item = list(bearers) if bearers is not None else [bearer] * len(parsed)

        def fresh() -> list[_Item]:
            return [_Item(p, None, None, src, b) for (p, src), b in zip(parsed, per_item, strict=True)]

        items = fresh()
        if conn is not None:
            self._ingest(conn, items, unit, require_signature)
        else:
            try:  # one transaction: the token checks and the writes; no savepoint while nothing conflicts
                with self._write() as conn:
                    self._ingest(conn, items, unit, require_signature, savepoint=False)
            except Exception as exc:  # all rolled back: again, with the batch in a savepoint to fall back from
                if not _one_reports_fault(exc):
                    raise
                items = fresh()
                with self._write() as conn:
                    self._ingest(conn, items, unit, require_signature)
        return [i.outcome or Outcome("rejected", reason="internal: no outcome", http_status=500) for i in items]

    @contextmanager
    def bulk(self) -> Iterator[Connection]:
        """A write connection for a long import: batch after batch is ingested on it (each in a
        savepoint) and the caller commits every few thousand reports (importer.COMMIT_EVERY).
        Fewer, larger transactions matter because reports add keys at random places in several
        indexes (report id, digest, MACs): a commit writes each index page the transaction
        dirtied, and with commits of 500 that was nearly every page of every index, a cost
        growing with the store (85 → 135 ms per 500 reports over a 10,000-report import, when
        host ids were random too)."""
        with self._sqlite_lock or nullcontext(), self.engine.execution_options(write=True).connect() as conn:
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _ingest(self, conn: Connection, items: list[_Item], unit: str | None, require_signature: bool,
                savepoint: bool = True) -> None:
        """``savepoint=False``: the batch's own transaction, which the caller runs again with
        savepoints if this raises IntegrityError. Two round trips fewer a batch on PostgreSQL,
        and no sub-journal file on SQLite, in the usual case where nothing conflicts."""
        self._authorise_all(conn, items, unit, require_signature)
        todo = [i for i in items if i.outcome is None]
        if not todo:
            return
        if not savepoint:
            self._store_batch(conn, todo)
            return
        try:
            with conn.begin_nested():
                self._store_batch(conn, todo)
        except Exception as exc:
            if not _one_reports_fault(exc):
                raise
            for item in todo:  # the batch is rolled back to its savepoint: retry each alone
                self._store_one(conn, item)

    def _authorise_all(self, conn: Connection, items: list[_Item], unit: str | None, require_signature: bool) -> None:
        # One query for every token involved, pushing or signing, in the write transaction: a
        # token revoked a moment ago is refused even if the caller looked it up before. The units
        # table is read only when some report's unit does not come from a token (whose unit
        # exists by foreign key).
        wanted = {i.parsed.key_id for i in items if i.parsed.key_id} | {i.bearer.key_id for i in items if i.bearer}
        keys = self._token_table(conn, wanted)
        known_units: set[str] = set()
        if any(i.bearer is None for i in items):
            known_units = {r[0] for r in conn.execute(select(t.units.c.id))}
        for item in items:
            if item.bearer is not None:
                item.bearer = keys.get(item.bearer.key_id, item.bearer)
            try:
                self._authorise(item, keys, known_units, unit, require_signature)
            except Rejected as exc:
                item.outcome = Outcome("rejected", item.parsed.id, item.parsed.kind, exc.reason, exc.status)

    def _store_one(self, conn: Connection, item: _Item) -> None:
        # Twice: on PostgreSQL another collector may have created the same new host meanwhile;
        # the second attempt sees its row (read committed) and files the report under it.
        for attempt in range(2):
            item.outcome, item.host = None, None
            try:
                with conn.begin_nested():
                    self._store_batch(conn, [item])
                return
            except IntegrityError as exc:
                if attempt:
                    item.outcome = Outcome("rejected", item.parsed.id, item.parsed.kind,
                                           f"conflict while storing: {exc.orig}", 409)
            except Exception as exc:
                if not _one_reports_fault(exc):
                    raise
                # This report alone cannot be stored (a value the contract let through that the
                # store cannot take): refused for good, the rest of its batch stored.
                item.outcome = Outcome("rejected", item.parsed.id, item.parsed.kind,
                                       f"cannot be stored: {type(exc).__name__}: {str(exc)[:200]}", 422)
                return

    def _authorise(self, item: _Item, keys: dict[str, TokenInfo], known_units: set[str], unit: str | None,
                   require_signature: bool) -> None:
        p, bearer = item.parsed, item.bearer
        token_unit = None
        if bearer is not None:
            if bearer.revoked:
                raise Rejected(f"token {bearer.key_id} has been revoked", 401)
            token_unit = bearer.unit_id
        if p.key_id is not None and p.signed:
            info = keys.get(p.key_id)
            if info is None:
                raise Rejected(f"signature.key_id: {p.key_id} is not a token of this collector", 401)
            if info.revoked:
                raise Rejected(f"signature.key_id: token {p.key_id} has been revoked", 401)
            if not p.signature_valid(info.signing_key):  # over the received JSON (see intake.parse)
                raise Rejected("signature: does not match the document (altered after signing, or another key)", 401)
            if token_unit is not None and info.unit_id != token_unit:
                raise Rejected(f"signature.key_id: token {p.key_id} belongs to unit {info.unit_id}, "
                               f"the pushing token to {token_unit}", 403)
            token_unit = info.unit_id
            item.key_id = p.key_id
        elif require_signature or bearer is not None:
            raise Rejected("signature: the report is not signed (run the agent with --token)", 401)
        claimed = p.unit
        if token_unit is not None:
            if claimed is not None and claimed != token_unit:
                raise Rejected(f"unit: the report says {claimed!r} but its token belongs to {token_unit!r}", 403)
            if unit is not None and unit != token_unit:
                raise Rejected(f"unit: --unit {unit} but the report's token belongs to {token_unit!r}", 403)
            item.unit = token_unit
            return
        if claimed is not None and unit is not None and claimed != unit:
            raise Rejected(f"unit: the report says {claimed!r}, not {unit!r}")
        item.unit = claimed or unit
        if item.unit is not None and item.unit not in known_units:
            raise Rejected(f"unit: {item.unit!r} is not a unit of this collector (load org.yaml first)")

    def _store_batch(self, conn: Connection, items: list[_Item]) -> None:
        stamp = now()
        hosts_items = [i for i in items if i.parsed.kind == "host"]
        scan_items = [i for i in items if i.parsed.kind == "scan"]
        self._mark_duplicates(conn, hosts_items, t.reports, t.reports.c.report_id)
        self._mark_duplicates(conn, scan_items, t.scans, t.scans.c.scan_id)
        hosts_items = [i for i in hosts_items if i.outcome is None]
        scan_items = [i for i in scan_items if i.outcome is None]
        if hosts_items:
            self._store_host_reports(conn, hosts_items, stamp)
        if scan_items:
            conn.execute(_Ingest.insert_scans, [{
                "scan_id": i.parsed.id, "digest": i.parsed.digest, "unit_id": i.unit, "key_id": i.key_id,
                "started_at": i.parsed.filing.started_at, "finished_at": i.parsed.filing.finished_at,  # type: ignore[union-attr]
                "received_at": stamp, "source": i.source, "document": i.parsed.text} for i in scan_items])
            for i in scan_items:
                i.outcome = Outcome("accepted", i.parsed.id, "scan")

    def _mark_duplicates(self, conn: Connection, items: list[_Item], table: Any, id_col: Any) -> None:
        """Same bytes, or the same report_id with equal JSON (reformatted): duplicate. The same
        report_id with other content: refused, the stored one is kept."""
        if not items:
            return
        ids = sorted({i.parsed.id for i in items})
        digests = sorted({i.parsed.digest for i in items})
        stored = conn.execute(_Ingest.stored[table.name], {"ids": ids, "digests": digests})
        by_id: dict[str, str] = {}
        by_digest: dict[str, str] = {}
        for row_id, digest in stored:
            by_id[row_id], by_digest[digest] = digest, row_id
        in_batch: dict[str, Parsed] = {}
        for i in items:
            p = i.parsed
            known = by_id.get(p.id)
            if p.digest in by_digest or known == p.digest:
                i.outcome = Outcome("duplicate", by_digest.get(p.digest, p.id), p.kind)
            elif known is not None:
                earlier = in_batch.get(p.id)
                if earlier is not None:
                    first = earlier.document
                else:
                    text = conn.execute(select(table.c.document).where(id_col == p.id)).scalar_one()
                    first = json.loads(text)
                if first == p.document:
                    i.outcome = Outcome("duplicate", p.id, p.kind)
                else:
                    i.outcome = Outcome("rejected", p.id, p.kind, f"report_id {p.id} was already stored with "
                                        "different content (a replayed or forged id)", 409)
            else:  # later copies in this same batch see this one
                by_id[p.id], by_digest[p.digest] = p.digest, p.id
                in_batch[p.id] = p  # its document is parsed only if a later copy needs comparing

    def _store_host_reports(self, conn: Connection, items: list[_Item], stamp: datetime) -> None:
        facts = [identity.facts_of(i.parsed.filing, i.unit) for i in items]  # type: ignore[arg-type]
        index, states, stored_macs = self._load_index(conn, facts)
        flags_before = {h.id: (h.clone_suspect, h.machine_id) for h in index.rows.values()}
        touched: set[str] = set()
        for item, f in zip(items, facts, strict=True):
            host = identity.resolve(index, f)
            item.host = host
            touched.add(host.id)
            report: HostFiling = item.parsed.filing  # type: ignore[assignment]
            at = report.collected_at.astimezone(UTC)
            state = states.setdefault(host.id, {"first_seen": at, "last_seen": at})
            state["first_seen"] = min(state["first_seen"], at)
            if at >= state["last_seen"] or "hostname" not in state:  # a late older report does not roll back
                state.update(hostname=report.hostname, hostname_key=f.hostname_key, unit_id=item.unit,
                             os_name=report.os_name, last_seen=at, last_report_id=item.parsed.id, ips=report.ips,
                             agent=report.agent)
            item.outcome = Outcome("accepted", item.parsed.id, "host", host_id=host.id)
        # hosts this batch flagged as clones (or gave a machine id) without reporting for them
        touched |= {h for h, before in flags_before.items()
                    if (index.rows[h].clone_suspect, index.rows[h].machine_id) != before}
        inserts, changes, macs = [], [], []
        for host_id in sorted(touched):
            row = index.rows[host_id]
            values = {**states[host_id], "machine_id": row.machine_id, "identity_key": row.identity_key,
                      "clone_of": row.clone_of, "clone_suspect": row.clone_suspect, "moved_from": row.moved_from}
            if row.new:
                inserts.append({"id": host_id, **values})
            else:
                changes.append({"b_id": host_id, **values})
            macs += [{"host_id": host_id, "mac": m} for m in sorted(row.macs - stored_macs.get(host_id, set()))]
        if inserts:
            conn.execute(_Ingest.insert_host, inserts)
        if changes:
            conn.execute(_Ingest.update_host, changes)
        if macs:
            conn.execute(_Ingest.insert_macs, macs)
        conn.execute(_Ingest.insert_reports, [{
            "report_id": i.parsed.id, "digest": i.parsed.digest, "host_id": i.host.id, "unit_id": i.unit,  # type: ignore[union-attr]
            "key_id": i.key_id, "collected_at": i.parsed.filing.collected_at,  # type: ignore[union-attr]
            "received_at": stamp, "source": i.source, "document": i.parsed.text} for i in items])
        captured = [i for i in items if i.parsed.capture is not None]
        if captured:
            conn.execute(_Ingest.insert_captures, [{
                "report_id": i.parsed.id, "host_id": i.host.id, "unit_id": i.unit,  # type: ignore[union-attr]
                "collected_at": i.parsed.filing.collected_at, "received_at": stamp,  # type: ignore[union-attr]
                "script_version": _script_version(i.parsed.filing.agent),  # type: ignore[union-attr]
                "compressed": i.parsed.capture,
                "decoded_at": stamp} for i in captured])
        if self.evaluator is not None:
            # Results are kept for each host's latest report only: they are a judgement,
            # recomputable from the raw reports (`secscan collector evaluate`).
            latest = [(i.parsed.id, i.host.id, i.unit, i.parsed.document) for i in items  # type: ignore[union-attr]
                      if states[i.host.id]["last_report_id"] == i.parsed.id]  # type: ignore[union-attr]
            self._evaluate_into(conn, latest, stamp)

    def _load_index(self, conn: Connection, facts: list[identity.Facts]
                    ) -> tuple[identity.Index, dict[str, dict[str, Any]], dict[str, set[str]]]:
        """Every stored host any of these reports could belong to (same machine id, a shared MAC,
        or the same hostname), with its MACs: one query for the whole batch when none is stored
        yet (a batch of new PCs), three otherwise."""
        found: set[str] = set()
        for part in _by_parameters(facts):
            named = [f for f in part if f.unit is not None]
            orphans = [f for f in part if f.unit is None]
            params = {"units": sorted({f.unit for f in named}), "names": sorted({f.hostname_key for f in named}),
                      "orphan_names": sorted({f.hostname_key for f in orphans}),
                      "mids": sorted({f.machine_id for f in part if f.machine_id}),
                      "macs": sorted({m for f in part for m in f.macs})}
            query = _Ingest.candidates(bool(orphans), bool(params["mids"]), bool(params["macs"]))
            found.update(conn.execute(query, params).scalars())
        ids = sorted(found)
        rows = [r for chunk in _chunked(ids) for r in conn.execute(_Ingest.hosts_by_id, {"ids": chunk}).mappings()]
        stored_macs: dict[str, set[str]] = {}
        for chunk in _chunked([r["id"] for r in rows]):
            for host_id, mac in conn.execute(_Ingest.macs_of, {"ids": chunk}):
                stored_macs.setdefault(host_id, set()).add(mac)
        index = identity.Index()
        states: dict[str, dict[str, Any]] = {}
        for r in rows:
            index.add(identity.row_from_db(r, stored_macs.get(r["id"], set())))
            states[r["id"]] = {k: r[k] for k in ("hostname", "hostname_key", "unit_id", "os_name", "ips",
                                                 "last_report_id", "agent")}
            states[r["id"]].update(first_seen=_utc(r["first_seen"]), last_seen=_utc(r["last_seen"]))
        return index, states, stored_macs

    # --- results --------------------------------------------------------------------------

    def _evaluate_into(self, conn: Connection, rows: list[tuple[str, str, str | None, dict[str, Any]]],
                       stamp: datetime) -> int:
        """Judge (report_id, host_id, unit, document) rows and replace their hosts' results."""
        assert self.evaluator is not None
        judged = [(report_id, host_id, unit_id, self.evaluator(doc, unit_id))
                  for report_id, host_id, unit_id, doc in rows]
        return self.write_results(conn, judged, stamp)

    def write_results(self, conn: Connection, rows: list[tuple[str, str, str | None, list[Result]]],
                      stamp: datetime) -> int:
        """Replace the results of the hosts of (report_id, host_id, unit, Results) rows."""
        values, n = [], 0
        for report_id, host_id, unit_id, judged in rows:
            n += len(judged)
            tally = Counter(r.outcome for r in judged)
            values.append({"report_id": report_id, "host_id": host_id, "unit_id": unit_id,
                           "passed": tally[Judged.passed], "failed": tally[Judged.failed],
                           "unknown": tally[Judged.unknown], "not_applicable": tally[Judged.not_applicable],
                           "results": _RESULTS.dump_json(judged).decode(), "evaluated_at": stamp})
        if rows:
            conn.execute(t.results.delete().where(t.results.c.host_id.in_(sorted({r[1] for r in rows}))))
        if values:
            conn.execute(t.results.insert(), values)
        return n

    def reevaluate(self, unit: str | None = None, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
        """Re-judge each host's latest report with the current evaluator (after org.yaml or a
        policy changed). Returns (reports, results); each chunk is one transaction."""
        if self.evaluator is None:
            raise RuntimeError("no evaluator configured")
        q = (select(t.reports.c.report_id, t.reports.c.host_id, t.reports.c.unit_id, t.reports.c.document)
             .join(t.hosts, t.hosts.c.last_report_id == t.reports.c.report_id))
        if unit:
            q = q.where(t.reports.c.unit_id == unit)
        with self.engine.connect() as conn:
            targets = conn.execute(q.with_only_columns(t.reports.c.report_id)
                                   .order_by(t.reports.c.report_id)).scalars().all()
        n_reports = n_results = 0
        for start in range(0, len(targets), 200):
            chunk = targets[start:start + 200]
            with self._write() as conn:
                rows = conn.execute(q.where(t.reports.c.report_id.in_(chunk))).all()
                n_results += self._evaluate_into(conn, [(r[0], r[1], r[2], json.loads(r[3])) for r in rows], now())
            n_reports += len(rows)
            if progress:
                progress(len(rows))
        return n_reports, n_results

    def _latest_results_query(self, unit: str | None) -> Any:
        q = (select(t.results.c.results).select_from(t.results)
             .join(t.hosts, and_(t.hosts.c.id == t.results.c.host_id,
                                 t.hosts.c.last_report_id == t.results.c.report_id)))
        if unit:
            q = q.where(t.results.c.unit_id == unit)
        return q

    def latest_results(self, unit: str | None = None) -> list[Result]:
        """The Results of each host's most recent report (for the report stage), by unit (none
        first), then host name, then in the baseline's control order: the CSV's and the feed's
        order. It comes from SQL: a sort of a province's 315,000 Results in Python took 0.7 s."""
        order = (t.results.c.unit_id.asc().nulls_first(), t.hosts.c.hostname_key, t.hosts.c.id)
        with self.engine.connect() as conn:
            texts = conn.execute(self._latest_results_query(unit).order_by(*order)).scalars().all()
        return [res for text in texts for res in _RESULTS.validate_json(text)]

    # --- findings history (written by the report stage) -----------------------------------

    def findings(self, unit: str | None = None, include_resolved: bool = True) -> list[dict[str, Any]]:
        q = select(t.findings).order_by(t.findings.c.unit_id, t.findings.c.baseline, t.findings.c.control_id)
        if unit:
            q = q.where(t.findings.c.unit_id == unit)
        if not include_resolved:
            q = q.where(t.findings.c.status != "resolved")
        with self.engine.connect() as conn:
            out = []
            for r in conn.execute(q).mappings():
                row = dict(r)
                for k in ("first_seen", "last_seen", "resolved_at"):
                    row[k] = _utc(row[k])
                out.append(row)
            return out

    def save_findings(self, current: Iterable[dict[str, Any]], at: datetime | None = None,
                      units: Iterable[str] | None = None) -> dict[str, int]:
        """Record the findings seen now. ``current``: dicts with unit_id, baseline, control_id and
        optionally severity and data. A finding seen for the first time is ``new``; seen again,
        ``open`` (first_seen kept); one stored as open/new but absent now is ``resolved`` (within
        ``units`` when given, so a run over one unit does not resolve another's); a resolved one
        that reappears is ``new`` again with a fresh first_seen. One transaction."""
        at = at or now()
        current = list(current)
        key = lambda r: (r["unit_id"], r["baseline"], r["control_id"])  # noqa: E731
        counts = {"new": 0, "open": 0, "resolved": 0}
        with self._write() as conn:
            q = select(t.findings)
            if units is not None:
                q = q.where(t.findings.c.unit_id.in_(sorted(set(units))))
            stored = {key(r): r for r in conn.execute(q).mappings()}
            seen = set()
            for f in current:
                k = key(f)
                seen.add(k)
                old = stored.get(k)
                values = {"severity": f.get("severity"), "data": f.get("data"), "last_seen": at, "resolved_at": None}
                where = and_(t.findings.c.unit_id == k[0], t.findings.c.baseline == k[1],
                             t.findings.c.control_id == k[2])
                if old is None:
                    conn.execute(t.findings.insert().values(unit_id=k[0], baseline=k[1], control_id=k[2],
                                                            status="new", first_seen=at, **values))
                    counts["new"] += 1
                elif old["status"] == "resolved":
                    conn.execute(t.findings.update().where(where).values(status="new", first_seen=at, **values))
                    counts["new"] += 1
                else:
                    conn.execute(t.findings.update().where(where).values(status="open", **values))
                    counts["open"] += 1
            for k, old in stored.items():
                if k not in seen and old["status"] != "resolved":
                    conn.execute(t.findings.update()
                                 .where(and_(t.findings.c.unit_id == k[0], t.findings.c.baseline == k[1],
                                             t.findings.c.control_id == k[2]))
                                 .values(status="resolved", resolved_at=at))
                    counts["resolved"] += 1
        return counts

    # --- inventory and reads --------------------------------------------------------------

    def hosts(self, unit: str | None = None, stale_days: float | None = None) -> list[dict[str, Any]]:
        """The inventory; with ``stale_days``, only hosts not heard from for that long."""
        q = select(t.hosts).order_by(t.hosts.c.unit_id, t.hosts.c.hostname_key)
        if unit:
            q = q.where(t.hosts.c.unit_id == unit)
        if stale_days is not None:
            q = q.where(t.hosts.c.last_seen < now() - timedelta(days=stale_days))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
            macs: dict[str, list[str]] = {}
            if rows:
                for host_id, mac in conn.execute(select(t.host_macs.c.host_id, t.host_macs.c.mac)
                                                 .where(t.host_macs.c.host_id.in_([r["id"] for r in rows]))
                                                 .order_by(t.host_macs.c.mac)):
                    macs.setdefault(host_id, []).append(mac)
        for r in rows:
            r["macs"] = macs.get(r["id"], [])
            r["first_seen"], r["last_seen"] = _utc(r["first_seen"]), _utc(r["last_seen"])
            r["agent_label"], r["agent_note"] = describe_agent(r["agent"])
            if r["moved_from"]:
                r["agent_note"] = "; ".join(filter(None, [
                    f"claims the identity of host {r['moved_from'][:8]} of another unit: a move pending "
                    f"`secscan collector approve-move {r['id']}`", r["agent_note"]]))
        return rows

    def approve_move(self, host_id: str, approve: bool = True) -> dict[str, Any]:
        """Settle a move conflict (a host whose identity another unit's host holds, ``moved_from``).
        Approved: the PC moved; the two rows become one, in the new unit, with the history of both
        (reports keep the unit they were filed under). Refused: two different PCs; the flag goes.
        Raises KeyError (one line) when ``host_id`` has no pending move."""
        h = t.hosts
        with self._write() as conn:
            new = conn.execute(select(h).where(h.c.id == host_id)).mappings().first()
            if new is None or new["moved_from"] is None:
                raise KeyError(f"host {host_id}: no move pending approval")
            old = conn.execute(select(h).where(h.c.id == new["moved_from"])).mappings().first()
            if not approve or old is None:
                conn.execute(h.update().where(h.c.id == host_id).values(moved_from=None))
                return {"host": host_id, "merged_into": None}
            newer = new if _utc(new["last_seen"]) >= _utc(old["last_seen"]) else old
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
                unit_id=new["unit_id"], first_seen=min(_utc(new["first_seen"]), _utc(old["first_seen"])),
                **{k: newer[k] for k in ("hostname", "hostname_key", "os_name", "ips", "agent", "last_seen",
                                         "last_report_id")}))
            return {"host": host_id, "merged_into": kept, "from_unit": old["unit_id"], "to_unit": new["unit_id"]}

    def report_document(self, report_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
            return _readable(HostReport, conn.execute(q).all(), unreadable)

    def scans(self, unit: str | None = None, unreadable: list[tuple[str, str]] | None = None) -> list[ScanReport]:
        q = select(t.scans.c.scan_id, t.scans.c.document).order_by(t.scans.c.started_at)
        if unit:
            q = q.where(t.scans.c.unit_id == unit)
        with self.engine.connect() as conn:
            return _readable(ScanReport, conn.execute(q).all(), unreadable)

    def analyze(self) -> bool:
        """Refresh PostgreSQL's planner statistics after a bulk load; True if it ran. A store that
        grew from empty keeps looking tiny to the planner until autovacuum gets to it (a minute or
        more), and meanwhile each HTTP batch's host lookup scanned every host: 9.8-11.3 ms against
        3.1-3.5 ms a batch with statistics, at 10,000 hosts (measured). SQLite plans without them."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {', '.join(tb.name for tb in (t.hosts, t.host_macs, t.reports, t.results))}")
        return True

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for name, table in (("units", t.units), ("tokens", t.tokens), ("hosts", t.hosts),
                                        ("reports", t.reports), ("results", t.results), ("scans", t.scans),
                                        ("findings", t.findings))}


# Values bound in one statement at most: PostgreSQL's protocol counts parameters in 16 bits
# (65,535), and a batch of reports with many interfaces each can name more MACs than that.
MAX_PARAMETERS = 30_000


def _chunked(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), MAX_PARAMETERS):
        yield values[start:start + MAX_PARAMETERS]


def _by_parameters(facts: list[identity.Facts]) -> Iterator[list[identity.Facts]]:
    """The batch's facts in parts whose host lookup binds at most MAX_PARAMETERS values (one part
    for any ordinary batch)."""
    part: list[identity.Facts] = []
    size = 0
    for f in facts:
        cost = len(f.macs) + 4  # its MACs, machine id, name, unit (an upper bound: duplicates count once)
        if part and size + cost > MAX_PARAMETERS:
            yield part
            part, size = [], 0
        part.append(f)
        size += cost
    if part:
        yield part


def _one_reports_fault(exc: BaseException) -> bool:
    """Whether a failure while storing a batch may come from one of its reports (a conflict, a
    value that overflows or that the database refuses), so that storing them one by one isolates
    it; a database that is down or locked fails every report alike, and the batch is refused
    whole (HTTP 503, retried)."""
    return isinstance(exc, IntegrityError | DataError) or not isinstance(exc, DBAPIError)


def _script_version(agent: str) -> int | None:
    """3 for "script/3"; None for other agents or a capture that named no version."""
    kind, _, version = agent.partition("/")
    return int(version) if kind == "script" and version.isdigit() else None


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


def _token_info(row: Any) -> TokenInfo:
    return TokenInfo(row.key_id, row.unit_id, bytes(row.signing_key), row.revoked_at is not None)


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
