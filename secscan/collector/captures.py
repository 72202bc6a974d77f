"""The raw Windows captures the store keeps: re-decoding them with the current decoder, and pruning.

A capture is the evidence a HostReport was decoded from. Keeping it means a decoder fix corrects
history without touching a PC: ``redecode`` runs the decoder the CLI hands in over stored captures,
rewrites the reports whose decoding changed and re-judges each host's latest report, counting per
control the results whose outcome changed. ``prune`` applies the retention rule: a capture goes
when it is older than ``keep_days`` *and* not among its PC's ``keep_last`` newest; the decoded
report stays.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import and_, bindparam, func, select

from secscan.collector import schema as t
from secscan.collector.intake import CaptureDecoder, HostFiling
from secscan.collector.store import now
from secscan.runtime import after_batch, between_batches

if TYPE_CHECKING:
    from secscan.collector.store import Store

CHUNK = 500  # captures per transaction and per task handed to a worker process
PARALLEL_FROM = 2_000  # below this, starting worker processes costs more than it saves


@dataclass
class RedecodeSummary:
    captures: int = 0
    reports_changed: int = 0  # decoded documents that differ from the stored ones
    rejudged: int = 0  # hosts' latest reports judged again
    results_changed: Counter[str] = field(default_factory=Counter)  # control id -> outcomes that changed
    failed: list[tuple[str, str]] = field(default_factory=list)  # (report_id, why the decoder refused it)


@dataclass
class Decoded:
    report_id: str
    text: str | None  # the decoded HostReport as JSON, None when the decoder refused the capture
    filing: HostFiling | None
    error: str | None = None


def decode_chunk(decoder: CaptureDecoder, blobs: list[tuple[str, bytes]]) -> list[Decoded]:
    with between_batches():
        decoded = _decode_chunk(decoder, blobs)
        after_batch()
    return decoded


def _decode_chunk(decoder: CaptureDecoder, blobs: list[tuple[str, bytes]]) -> list[Decoded]:
    """Decode (report_id, compressed capture) pairs; pure, so it runs in a worker process too. The
    stored report_id is kept: a capture without a capture_id decodes to an id drawn from its bytes,
    the same bytes as stored, so this is a guard, not a change."""
    out = []
    for report_id, blob in blobs:
        try:
            report = decoder(zlib.decompress(blob))
        except Exception as exc:  # any refusal by the decoder: the stored report is kept as it is
            out.append(Decoded(report_id, None, None, f"{type(exc).__name__}: {str(exc)[:300]}"))
            continue
        doc = report.to_document()
        doc["report_id"] = report_id
        out.append(Decoded(report_id, json.dumps(doc, ensure_ascii=False), HostFiling.of(report)))
    return out


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def redecode(store: Store, decoder: CaptureDecoder, *, since: datetime | None = None, unit: str | None = None,
             progress: Callable[[int], None] | None = None, workers: int | None = None) -> RedecodeSummary:
    """Decode stored captures again (``since``: collected on or after; ``unit``: only its PCs).
    Each chunk is one transaction: an interrupted run leaves every report decoded by either the
    old decoder or the new one, never half. ``workers``: decoding processes (default: one per CPU
    for a large run, none for a small one)."""
    c = t.captures
    q = select(c.c.report_id).order_by(c.c.report_id)
    if since is not None:
        q = q.where(c.c.collected_at >= since)
    if unit is not None:
        q = q.where(c.c.unit_id == unit)
    with store.engine.connect() as conn:
        ids = list(conn.execute(q).scalars())
    summary = RedecodeSummary()
    if workers is None:
        workers = (os.cpu_count() or 1) if len(ids) >= PARALLEL_FROM else 0
    blobs = (_read_blobs(store, chunk) for chunk in _chunks(ids))
    # spawned, not forked: the CLI's progress bar runs a thread, and a fork copies its locks
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
    try:
        decoded_chunks = (decode_chunk(decoder, b) for b in blobs) if pool is None else \
            _ahead(pool, decoder, blobs, 2 * workers)
        for decoded in decoded_chunks:
            _apply(store, decoded, summary)
            if progress:
                progress(len(decoded))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return summary


def _ahead(pool: ProcessPoolExecutor, decoder: CaptureDecoder, blobs: Iterable[list[tuple[str, bytes]]],
           window: int) -> Iterator[list[Decoded]]:
    """The workers decode up to ``window`` chunks ahead while the caller stores one; in order,
    and never more than the window in memory (``pool.map`` would read every capture first)."""
    pending: deque[Future[list[Decoded]]] = deque()
    for chunk in blobs:
        pending.append(pool.submit(decode_chunk, decoder, chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _read_blobs(store: Store, ids: list[str]) -> list[tuple[str, bytes]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.captures.c.report_id, t.captures.c.compressed)
                            .where(t.captures.c.report_id.in_(ids)).order_by(t.captures.c.report_id)).all()
    return [(r[0], bytes(r[1])) for r in rows]


def _apply(store: Store, decoded: list[Decoded], summary: RedecodeSummary) -> None:
    """One chunk, one transaction: documents that changed rewritten, each host's latest re-judged."""
    r, h, c = t.reports, t.hosts, t.captures
    ids = [d.report_id for d in decoded]
    stamp = now()
    with store.write() as conn:
        stored = {row.report_id: row for row in conn.execute(
            select(r.c.report_id, r.c.document, r.c.host_id, r.c.unit_id, h.c.last_report_id)
            .join(h, h.c.id == r.c.host_id).where(r.c.report_id.in_(ids)))}
        old_results = dict(conn.execute(select(t.results.c.report_id, t.results.c.results)
                                        .where(t.results.c.report_id.in_(ids))).all())
        documents, hosts, judged = [], [], []
        for d in decoded:
            summary.captures += 1
            row = stored.get(d.report_id)
            if d.text is None or d.filing is None or row is None:
                summary.failed.append((d.report_id, d.error or "its report is no longer stored"))
                continue
            if d.text != row.document:
                summary.reports_changed += 1
                documents.append({"b_id": d.report_id, "document": d.text})
            if row.last_report_id != d.report_id:
                continue  # an older report: its facts are history, and only the latest is judged
            hosts.append({"b_id": row.host_id, "os_name": d.filing.os_name, "ips": d.filing.ips,
                          "agent": d.filing.agent})
            if store.evaluator is not None:
                results = store.evaluator(orjson.loads(d.text), row.unit_id)
                judged.append((d.report_id, row.host_id, row.unit_id, results))
                old = _outcomes(old_results.get(d.report_id))
                new = {res.control_id: res.outcome.value for res in results}
                for control in old.keys() | new.keys():
                    if old.get(control) != new.get(control):
                        summary.results_changed[control] += 1
        if documents:
            conn.execute(r.update().where(r.c.report_id == bindparam("b_id")), documents)
        if hosts:
            conn.execute(h.update().where(h.c.id == bindparam("b_id")), hosts)
        conn.execute(c.update().where(c.c.report_id.in_(ids)).values(decoded_at=stamp))
        if judged:
            store.write_results(conn, judged, stamp)
            summary.rejudged += len(judged)


def _outcomes(results_json: str | None) -> dict[str, str]:
    if not results_json:
        return {}
    return {res["control_id"]: res["outcome"] for res in orjson.loads(results_json)}


@dataclass
class CaptureStats:
    captures: int
    hosts: int
    stored_bytes: int  # compressed, as held in the store
    oldest: datetime | None
    newest: datetime | None


def stats(store: Store, unit: str | None = None) -> CaptureStats:
    c = t.captures
    q = select(func.count(), func.count(func.distinct(c.c.host_id)),
               func.coalesce(func.sum(func.length(c.c.compressed)), 0),
               func.min(c.c.collected_at), func.max(c.c.collected_at))
    if unit is not None:
        q = q.where(c.c.unit_id == unit)
    with store.engine.connect() as conn:
        n, hosts, size, oldest, newest = conn.execute(q).one()
    return CaptureStats(int(n), int(hosts), int(size), oldest, newest)


def prune(store: Store, *, keep_last: int, keep_days: float, now: datetime) -> int:
    """Delete the captures older than ``keep_days`` that are not among their PC's ``keep_last``
    newest; returns how many. The reports decoded from them stay."""
    c = t.captures
    ranked = select(c.c.report_id, c.c.collected_at,
                    func.row_number().over(partition_by=c.c.host_id, order_by=c.c.collected_at.desc())
                    .label("rank")).subquery()
    victims = select(ranked.c.report_id).where(and_(ranked.c.rank > keep_last,
                                                    ranked.c.collected_at < now - timedelta(days=keep_days)))
    with store.write() as conn:
        return conn.execute(c.delete().where(c.c.report_id.in_(victims))).rowcount or 0
