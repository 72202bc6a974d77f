"""Batch ingest: authorise, dedupe and store validated reports.

Every report of a batch is parsed and its signature checked first (no database), then one
transaction looks up duplicates and hosts for the whole batch with a few ``IN`` queries and
writes everything with ``executemany``. A batch commits whole or not at all; if it fails on a
conflict (another collector stored the same report or created the same host a moment earlier)
it is retried one report per savepoint, so each report is still stored whole or not at all and a
conflict costs only that report a second look.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from secscan.collector import schema as t
from secscan.collector import tokens
from secscan.collector.db import Database, now
from secscan.collector.ingest_hosts import Pending, Statements, store_host_reports
from secscan.collector.intake import Parsed
from secscan.collector.refusals import Outcome, Refusal, Refused
from secscan.collector.results import Evaluator, judge_into
from secscan.collector.tokens import TokenInfo


def one_reports_fault(exc: BaseException) -> bool:
    """Whether a failure while storing a batch may come from one of its reports (a conflict, a
    value that overflows or that the database refuses), so that storing them one by one isolates
    it; a database that is down or locked fails every report alike, and the batch is refused
    whole (the HTTP API answers 503 and the agent retries)."""
    return isinstance(exc, IntegrityError | DataError) or not isinstance(exc, DBAPIError)


class Ingest:
    def __init__(self, db: Database) -> None:
        self.db = db

    def ingest(self, parsed: Sequence[tuple[Parsed, str]], evaluator: Evaluator | None, *,
               bearers: Sequence[TokenInfo | None], unit: str | None, require_signature: bool,
               conn: Connection | None) -> list[Outcome]:
        """See Store.ingest; ``bearers``: one per report."""
        def fresh() -> list[Pending]:
            return [Pending(p, None, None, src, b) for (p, src), b in zip(parsed, bearers, strict=True)]

        batch = Batch(evaluator, unit, require_signature)
        items = fresh()
        if conn is not None:
            batch.run(conn, items)
        else:
            try:  # one transaction: the token checks and the writes; no savepoint while nothing conflicts
                with self.db.write() as conn:
                    batch.run(conn, items, savepoint=False)
            except Exception as exc:  # all rolled back: again, with the batch in a savepoint to fall back from
                if not one_reports_fault(exc):
                    raise
                items = fresh()
                with self.db.write() as conn:
                    batch.run(conn, items)
        return [i.outcome or Outcome.rejected(Refusal.internal, "internal: no outcome") for i in items]

    @contextmanager
    def bulk(self) -> Iterator[Connection]:
        """A write connection for a long import: batch after batch is ingested on it (each in a
        savepoint) and the caller commits every few thousand reports (importer.COMMIT_EVERY).
        Fewer, larger transactions matter because reports add keys at random places in several
        indexes (report id, digest, MACs): a commit writes each index page the transaction
        dirtied, and with commits of 500 that was nearly every page of every index, a cost
        growing with the store (85 → 135 ms per 500 reports over a 10,000-report import, when
        host ids were random too)."""
        with self.db.bulk() as conn:
            yield conn


class Batch:
    """One batch's rules: who judges it, the command line's unit, whether a signature is required."""

    def __init__(self, evaluator: Evaluator | None, unit: str | None, require_signature: bool) -> None:
        self.evaluator = evaluator
        self.unit = unit
        self.require_signature = require_signature

    def run(self, conn: Connection, items: list[Pending], savepoint: bool = True) -> None:
        """``savepoint=False``: the batch's own transaction, which the caller runs again with
        savepoints if this raises IntegrityError. Two round trips fewer a batch on PostgreSQL,
        and no sub-journal file on SQLite, in the usual case where nothing conflicts."""
        self._authorise_all(conn, items)
        todo = [i for i in items if i.outcome is None]
        if not todo:
            return
        if not savepoint:
            self._store(conn, todo)
            return
        try:
            with conn.begin_nested():
                self._store(conn, todo)
        except Exception as exc:
            if not one_reports_fault(exc):
                raise
            for item in todo:  # the batch is rolled back to its savepoint: retry each alone
                self._store_one(conn, item)

    def _authorise_all(self, conn: Connection, items: list[Pending]) -> None:
        # One query for every token involved, pushing or signing, in the write transaction. The
        # units table is read only when some report's unit does not come from a token (whose
        # unit exists by foreign key).
        wanted = {i.parsed.key_id for i in items if i.parsed.key_id} | {i.bearer.key_id for i in items if i.bearer}
        keys = tokens.by_key_ids(conn, wanted)
        known_units: set[str] = set()
        if any(i.bearer is None for i in items):
            known_units = {r[0] for r in conn.execute(select(t.units.c.id))}
        for item in items:
            if item.bearer is not None:
                item.bearer = keys.get(item.bearer.key_id, item.bearer)
            try:
                filing = tokens.authorise(item.parsed, item.bearer, keys, known_units, self.unit,
                                          self.require_signature)
            except Refused as exc:
                item.outcome = Outcome.rejected(exc.refusal, exc.reason, item.parsed.id, item.parsed.kind)
            else:
                item.unit, item.key_id = filing.unit, filing.key_id

    def _store_one(self, conn: Connection, item: Pending) -> None:
        # Twice: on PostgreSQL another collector may have created the same new host meanwhile;
        # the second attempt sees its row (read committed) and files the report under it.
        for attempt in range(2):
            item.outcome, item.host = None, None
            try:
                with conn.begin_nested():
                    self._store(conn, [item])
                return
            except IntegrityError as exc:
                if attempt:
                    item.outcome = Outcome.rejected(Refusal.conflict, f"conflict while storing: {exc.orig}",
                                                    item.parsed.id, item.parsed.kind)
            except Exception as exc:
                if not one_reports_fault(exc):
                    raise
                # This report alone cannot be stored (a value the contract let through that the
                # store cannot take): refused for good, the rest of its batch stored.
                item.outcome = Outcome.rejected(Refusal.unstorable,
                                                f"cannot be stored: {type(exc).__name__}: {str(exc)[:200]}",
                                                item.parsed.id, item.parsed.kind)
                return

    def _store(self, conn: Connection, items: list[Pending]) -> None:
        stamp = now()
        host_items = [i for i in items if i.parsed.kind == "host"]
        scan_items = [i for i in items if i.parsed.kind == "scan"]
        mark_duplicates(conn, host_items, t.reports, t.reports.c.report_id)
        mark_duplicates(conn, scan_items, t.scans, t.scans.c.scan_id)
        host_items = [i for i in host_items if i.outcome is None]
        scan_items = [i for i in scan_items if i.outcome is None]
        if host_items:
            latest = store_host_reports(conn, host_items, stamp)
            if self.evaluator is not None:
                # Results are kept for each host's latest report only: they are a judgement,
                # recomputable from the raw reports (`secscan collector evaluate`).
                judge_into(conn, self.evaluator, [(i.parsed.id, i.host.id, i.unit, i.parsed.document)  # type: ignore[union-attr]
                                                  for i in latest], stamp)
        if scan_items:
            conn.execute(Statements.insert_scans, [{
                "scan_id": i.parsed.id, "digest": i.parsed.digest, "unit_id": i.unit, "key_id": i.key_id,
                "started_at": i.parsed.filing.started_at, "finished_at": i.parsed.filing.finished_at,  # type: ignore[union-attr]
                "received_at": stamp, "source": i.source, "document": i.parsed.text} for i in scan_items])
            for i in scan_items:
                i.outcome = Outcome("accepted", i.parsed.id, "scan")


def mark_duplicates(conn: Connection, items: list[Pending], table: Any, id_col: Any) -> None:
    """Same bytes, or the same report_id with equal JSON (reformatted): duplicate. The same
    report_id with other content: refused, the stored one is kept."""
    if not items:
        return
    ids = sorted({i.parsed.id for i in items})
    digests = sorted({i.parsed.digest for i in items})
    stored = conn.execute(Statements.stored[table.name], {"ids": ids, "digests": digests})
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
                first = json.loads(conn.execute(select(table.c.document).where(id_col == p.id)).scalar_one())
            if first == p.document:
                i.outcome = Outcome("duplicate", p.id, p.kind)
            else:
                i.outcome = Outcome.rejected(Refusal.conflict, f"report_id {p.id} was already stored with "
                                             "different content (a replayed or forged id)", p.id, p.kind)
        else:  # later copies in this same batch see this one
            by_id[p.id], by_digest[p.digest] = p.digest, p.id
            in_batch[p.id] = p  # its document is parsed only if a later copy needs comparing
