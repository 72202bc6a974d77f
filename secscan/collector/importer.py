"""``secscan collector import``: files, folders and zips into the store, in committed batches.

Reports are parsed and stored in batches of ``BATCH`` (what is held in memory) and committed
every ``COMMIT_EVERY`` reports (see ``Store.bulk`` for why not every batch). A crash (power cut,
kill -9) loses at most the reports since the last commit, and re-running the same import stores
exactly what is missing: reports already stored come back as duplicates (by report_id and
content digest), none twice. A large import reads and parses in a worker process while this one
stores (``reading``); the worker only ever reads files, and the store is written here alone.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from queue import Empty
from typing import TYPE_CHECKING, Any

from secscan.collector.intake import MAX_REPORT_BYTES, CaptureDecoder, Parsed, Rejected, parse
from secscan.collector.parsing import die_with_parent
from secscan.collector.sources import iter_paths
from secscan.runtime import after_batch, between_batches

if TYPE_CHECKING:  # not at run time: the parse worker imports this module and needs no SQLAlchemy
    from secscan.collector.store import Store

BATCH = 500
# Reports per commit. The write lock is held meanwhile (~0.8 s at 2,000: HTTP pushes to the same
# SQLite file wait that long). 2,000 against 10,000 on SQLite: 2,668-2,683 against 2,428 imports/s
# (mean of 10 interleaved runs), 2,404 against 2,124 into a store of 10,000 reports; on PostgreSQL
# within the noise (1,506 against 1,582, 4 runs). 10,000 dated from when host ids were random and
# each commit rewrote pages all over the host-keyed indexes (see Store.bulk).
COMMIT_EVERY = 2_000
PARALLEL_FROM = 2_000  # files: below this, starting a parse worker (~0.3 s) costs more than it saves
ANALYZE_FROM = 1_000  # reports accepted: from here on, an import refreshes the planner's statistics (Store.analyze)


def worth_a_worker(files: int) -> bool:
    return files >= PARALLEL_FROM and (os.cpu_count() or 1) > 1


@dataclass
class ImportSummary:
    accepted: int = 0
    duplicate: int = 0
    skipped: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    @property
    def seen(self) -> int:
        return self.accepted + self.duplicate + len(self.rejected)


# One entry of a parsed batch: (source name, the report | the reason it was refused | SKIPPED).
SKIPPED = None
Entry = tuple[str, "Parsed | str | None"]


def parsed_batches(paths: list[str], max_bytes: int, decoder: CaptureDecoder | None, size: int,
                   light: bool = False) -> Iterator[list[Entry]]:
    """The files, folders and zips read and parsed, ``size`` report candidates per batch, in order.
    ``light``: reports without their parsed dict, to cross to another process (``Parsed.light``)."""
    batch: list[Entry] = []
    candidates = 0
    for src in iter_paths(paths, max_bytes):
        if src.skipped:
            batch.append((src.name, SKIPPED))
            continue
        if src.error is not None or src.data is None:
            batch.append((src.name, src.error or "unreadable"))
            continue
        try:
            got = parse(src.data, max_bytes=max_bytes, decoder=decoder)
            batch.append((src.name, got.light() if light else got))
        except Rejected as exc:
            batch.append((src.name, exc.reason))
        candidates += 1
        if candidates >= size:
            yield batch
            batch, candidates = [], 0
    if batch:
        yield batch


_DONE = "done"


class ParseWorkerError(RuntimeError):
    """The worker process that reads and parses failed or vanished: the import is rolled back."""


def _produce(out: Any, paths: list[str], max_bytes: int, decoder: CaptureDecoder | None, size: int) -> None:
    """The worker process: read and parse, hand each batch over; a bounded queue holds it back
    while the importer stores."""
    die_with_parent()  # a killed importer must not leave it blocked on a full queue nobody reads
    try:
        for batch in parsed_batches(paths, max_bytes, decoder, size, light=True):
            out.put(("batch", batch))
        out.put((_DONE, None))
    except BaseException as exc:  # any failure is reported to the importer, then ends the worker
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _start_method() -> str:
    """fork where this process has no other thread (the CLI enters ``reading`` before it opens
    the store or draws a progress bar): the worker starts with the parser already imported,
    ~0.3 s sooner than a fresh interpreter (1,999-2,343 imports/s forked, 1,905-2,070 spawned), and
    touches nothing else it inherits. Otherwise spawn: a fork would copy other threads' locks
    without the threads that would release them."""
    return "fork" if sys.platform.startswith("linux") and threading.active_count() == 1 else "spawn"


@contextmanager
def reading(paths: list[str], *, decoder: CaptureDecoder | None = None, max_bytes: int = MAX_REPORT_BYTES,
            size: int = BATCH, parallel: bool = False) -> Iterator[Iterator[list[Entry]]]:
    """``parsed_batches``, here or from a worker process. With ``parallel`` the worker reads and
    parses (~0.3 ms a report) while this process stores (~0.25 ms): two CPUs instead of one. It
    only reads files; the store's connection and any progress bar stay here (``_start_method``).
    Entered before the store is opened, the worker starts while SQLAlchemy loads."""
    if not parallel:
        yield parsed_batches(paths, max_bytes, decoder, size)
        return
    ctx = multiprocessing.get_context(_start_method())
    queue = ctx.Queue(maxsize=1)  # one batch waiting while one is stored and the next is parsed
    worker = ctx.Process(target=_produce, args=(queue, paths, max_bytes, decoder, size), daemon=True,
                         name="secscan-import-parser")
    worker.start()

    def received() -> Iterator[list[Entry]]:
        while True:
            try:
                kind, value = queue.get(timeout=1)
            except Empty:
                if worker.is_alive():
                    continue
                try:  # it may have sent its last message just before it ended
                    kind, value = queue.get(timeout=1)
                except Empty:
                    raise ParseWorkerError(f"the import's parse worker ended unexpectedly "
                                           f"(exit code {worker.exitcode})") from None
            if kind == _DONE:
                return
            if kind == "error":
                raise ParseWorkerError(f"the import's parse worker failed: {value}")
            yield value

    try:
        yield received()
    finally:
        worker.kill()  # done already, or this import failed: nothing it still holds is wanted
        worker.join()
        queue.close()


def run_import(store: Store, paths: list[str], *, decoder: CaptureDecoder | None = None, unit: str | None = None,
               require_signature: bool = False, max_bytes: int = MAX_REPORT_BYTES, batch: int = BATCH,
               commit_every: int = COMMIT_EVERY, progress: Callable[[int], None] | None = None,
               parallel: bool = False, batches: Iterator[list[Entry]] | None = None) -> ImportSummary:
    """``parallel``: read and parse in a worker process while storing here (worth it from a few
    thousand reports: the worker takes ~0.3 s to start; see ``worth_a_worker``). ``batches``:
    from a ``reading`` of the same paths the caller entered already (then ``decoder``,
    ``max_bytes`` and ``parallel`` were given there)."""
    if batches is None:
        with reading(paths, decoder=decoder, max_bytes=max_bytes, size=min(batch, commit_every),
                     parallel=parallel) as own:
            return run_import(store, paths, unit=unit, require_signature=require_signature, batch=batch,
                              commit_every=commit_every, progress=progress, batches=own)
    summary = ImportSummary()
    pending: list[tuple[Parsed, str]] = []
    uncommitted = 0

    def flush() -> None:
        nonlocal uncommitted
        if not pending:
            return
        outcomes = store.ingest(pending, unit=unit, require_signature=require_signature, conn=conn)
        uncommitted += len(pending)
        if uncommitted >= commit_every:
            conn.commit()
            uncommitted = 0
        for (_, source), outcome in zip(pending, outcomes, strict=True):
            if outcome.status == "accepted":
                summary.accepted += 1
            elif outcome.status == "duplicate":
                summary.duplicate += 1
            else:
                summary.rejected.append((source.removeprefix("import:"), outcome.reason or "rejected"))
        if progress:
            progress(len(pending))
        pending.clear()
        after_batch()

    with between_batches(), store.bulk() as conn:
        for entries in batches:
            done = 0
            for name, got in entries:
                if isinstance(got, Parsed):
                    pending.append((got, f"import:{name}"))
                    continue
                if got is SKIPPED:
                    summary.skipped += 1
                else:
                    summary.rejected.append((name, got))
                done += 1
            if progress and done:
                progress(done)
            flush()
    return summary
