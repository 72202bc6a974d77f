"""Parsing pushed reports in batches, here or in a process of their own.

The HTTP server holds one interpreter lock for its event loop and its writer; parsing a push
(validating the whole contract, the signed bytes: ~0.2 ms) is the one piece of work that needs
neither the store nor the connection, so ``serve`` hands it to a process beside it
(``ParseProcess``) and the server keeps its lock for HTTP and storing. What crosses is the
bodies going out and the light reports coming back (``Parsed.light``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from typing import Any

from secscan.collector.intake import CaptureDecoder, Parsed, Rejected, parse

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


class ParseProcess:
    """``parse_all`` in a spawned process, one batch at a time (the caller is one thread)."""

    def __init__(self, max_bytes: int, decoder: CaptureDecoder | None) -> None:
        self.max_bytes = max_bytes
        self.decoder = decoder
        self._proc: Any = None
        self._conn: Any = None
        self._closed = False
        self._start()  # now, so that its interpreter starts while the server does

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the server's threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.max_bytes, self.decoder), daemon=True,
                                 name="secscan-push-parser")
        self._proc.start()
        child.close()

    def __call__(self, bodies: list[bytes]) -> list[Parse]:
        if self._closed:
            raise ParserGone("the server is shutting down")
        if self._proc is None:
            self._start()
        try:
            self._conn.send(bodies)
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            proc = self._proc
            self._stop()
            code = proc.exitcode if proc is not None else None
            raise ParserGone(f"the parse process ended (exit code {code}): {type(exc).__name__}") from None

    def close(self) -> None:
        """For good: a batch still on its way gets ParserGone (503) instead of a new process."""
        self._closed = True
        self._stop()

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
        self._proc = self._conn = None


def _serve(conn: Any, max_bytes: int, decoder: CaptureDecoder | None) -> None:
    die_with_parent()
    while True:
        try:
            bodies = conn.recv()
        except EOFError:  # the server closed its end
            return
        conn.send(parse_all(bodies, max_bytes, decoder, light=True))
