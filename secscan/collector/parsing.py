"""Parsing pushed reports in batches, here or in a process of their own.

The HTTP server holds one interpreter lock for its event loop and its writer; parsing a push
(validating the whole contract, the signed bytes: ~0.2 ms; decoding a Windows capture: a few ms)
is the one piece of work that needs neither the store nor the connection, so ``serve`` hands it
to processes beside it (``ParseProcess``) and the server keeps its lock for HTTP and storing. What crosses is the
bodies going out and the light reports coming back (``Parsed.light``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from typing import Any

from secscan.collector.intake import CaptureDecoder, Parsed, Rejected, parse
from secscan.runtime import after_batch, between_batches

# A body parsed: the report, or (the reason it was refused, the HTTP status to answer).
Parse = Parsed | tuple[str, int]


def parse_all(bodies: list[bytes], max_bytes: int, decoder: CaptureDecoder | None, light: bool = False) -> list[Parse]:
    """Each body parsed, in order; ``light``: without the parsed dicts, to cross to another process."""
    out: list[Parse] = []
    for body in bodies:
        try:
            got = parse(body, max_bytes=max_bytes, decoder=decoder)
            out.append(got.light() if light else got)
        except Rejected as exc:
            out.append((exc.reason, exc.status))
        except Exception as exc:  # a bug, not a refusal: a 500 for this push (its agent retries), not the batch
            out.append((f"internal error while parsing: {type(exc).__name__}: {str(exc)[:200]}", 500))
    return out


def die_with_parent() -> None:
    """In a worker process: a parent killed with kill -9 takes this process with it instead of
    leaving it blocked on a pipe nobody reads (Linux: prctl PR_SET_PDEATHSIG = 1). Ctrl-C is the
    parent's to handle; it ends its workers."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ParserGone(RuntimeError):
    """The parse process ended while parsing a batch (killed, out of memory): that batch's
    pushes get a 503 and are retried by their agents; the next batch starts a new process."""


class _Worker:
    """One spawned process running ``_serve``; ``send`` then ``receive`` one batch at a time."""

    def __init__(self, max_bytes: int, decoder: CaptureDecoder | None) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the server's threads
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, max_bytes, decoder), daemon=True,
                                name="secscan-push-parser")
        self.proc.start()
        child.close()

    def stop(self) -> int | None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()
        return self.proc.exitcode


class ParseProcess:
    """``parse_all`` in spawned processes, one batch at a time (the caller is one thread). A batch
    of many bytes (Windows captures, ~100 kB each, whose decoding is the costly part) is split
    between up to ``processes`` workers; an ordinary batch of HostReports goes to the first alone,
    since splitting it would cost more in messages than it saves. The second worker starts with
    the first such batch."""

    SPLIT_FROM = 512 * 1024  # bytes in a batch

    def __init__(self, max_bytes: int, decoder: CaptureDecoder | None, processes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.decoder = decoder
        self.processes = processes or min(2, os.cpu_count() or 1)
        self._workers: list[_Worker | None] = [None] * self.processes
        self._closed = False
        self._worker(0)  # now, so that its interpreter starts while the server does

    def _worker(self, i: int) -> _Worker:
        worker = self._workers[i]
        if worker is None:
            worker = self._workers[i] = _Worker(self.max_bytes, self.decoder)
        return worker

    def __call__(self, bodies: list[bytes]) -> list[Parse]:
        if self._closed:
            raise ParserGone("the server is shutting down")
        parts = [bodies]
        if self.processes > 1 and len(bodies) > 1 and sum(map(len, bodies)) >= self.SPLIT_FROM:
            parts = _split(bodies, self.processes)
        workers = [self._worker(i) for i in range(len(parts))]
        try:
            for worker, part in zip(workers, parts, strict=True):
                worker.conn.send(part)
            return [got for worker in workers for got in worker.conn.recv()]
        except (EOFError, OSError) as exc:
            # one worker gone: every worker of this batch is restarted (the others' answers
            # would otherwise arrive as the next batch's)
            codes = [self._stop(i) for i in range(len(parts))]
            raise ParserGone(f"the parse process ended (exit code {next((c for c in codes if c), None)}): "
                             f"{type(exc).__name__}") from None

    def close(self) -> None:
        """For good: a batch still on its way gets ParserGone (503) instead of a new process."""
        self._closed = True
        for i in range(self.processes):
            self._stop(i)

    def _stop(self, i: int) -> int | None:
        worker, self._workers[i] = self._workers[i], None
        return worker.stop() if worker is not None else None

    @property
    def _proc(self) -> Any:  # the first worker's process (tests kill it)
        worker = self._workers[0]
        return worker.proc if worker is not None else None


def _split(bodies: list[bytes], n: int) -> list[list[bytes]]:
    """``bodies`` in at most ``n`` consecutive parts of about the same number of bytes."""
    total = sum(map(len, bodies))
    parts: list[list[bytes]] = [[]]
    size = 0
    for body in bodies:
        if parts[-1] and size >= total * len(parts) / n and len(parts) < n:
            parts.append([])
        parts[-1].append(body)
        size += len(body)
    return parts


def _serve(conn: Any, max_bytes: int, decoder: CaptureDecoder | None) -> None:
    die_with_parent()
    with between_batches():
        while True:
            try:
                bodies = conn.recv()
            except EOFError:  # the server closed its end
                return
            conn.send(parse_all(bodies, max_bytes, decoder, light=True))
            after_batch()
