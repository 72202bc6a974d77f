"""The collector's HTTP connections: uvicorn's httptools protocol with the deadlines a LAN
deployment needs when no reverse proxy stands in front of it.

uvicorn closes a keep-alive connection that stays idle between requests, and nothing else: a
client that connects and sends nothing, sends its headers a byte at a time, or trickles its
body, holds a connection (and a file descriptor) for as long as it likes, and after an early
answer (401, 413) uvicorn goes on reading and discarding the body. ``DeadlineProtocol`` adds,
per connection:

* a **header deadline**: the request line and headers complete within ``header_timeout``
  seconds of the connection's start (of the first byte, for the next request on a kept-alive
  connection), and in at most ``MAX_HEADER_BYTES``; otherwise the connection is closed (431 for
  too many header bytes). Over TLS the handshake has ``header_timeout`` too (``new_event_loop``),
  and the header deadline starts when it is done;
* a **body deadline**: the whole body within ``body_timeout`` seconds of the headers; otherwise
  408 and the connection is closed (the agent keeps the report and retries: 408 is not a
  refusal);
* the **idle timeout** between requests is uvicorn's ``timeout_keep_alive``;
* a **connection limit**: above ``max_connections`` open connections (per process), a new one
  is answered 503 and closed at once, before it costs a request;
* **no reading after an early answer**: an answer given before the request's body has arrived
  (an unknown token, a body over the limit) goes with ``Connection: close`` and the connection
  stops reading. If the client still has bytes on their way, the socket is half-closed and
  dropped ``LINGER`` seconds later (reading nothing meanwhile), so the client can read its 401
  or 413 before the reset that closing over unread bytes causes; the bytes it can push in the
  meantime are bounded by the two sockets' buffers.

Settings travel to the worker processes in the environment (``Limits.env``), as SECSCAN_DB
does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024  # request line and headers; an agent sends about 300 bytes
LINGER = 2.0  # seconds a refused connection is kept half-closed, reading nothing, before it is dropped
RESERVED_FILES = 256  # descriptors kept for the store, the parse process, logs, beside the connections

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    idle_timeout: float = 15.0
    max_connections: int = 10_000

    def env(self) -> dict[str, str]:
        return {f"SECSCAN_{f.name.upper()}": str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_env(cls) -> Limits:
        given: dict[str, Any] = {}
        for f in fields(cls):
            value = os.environ.get(f"SECSCAN_{f.name.upper()}")
            if value:
                given[f.name] = int(value) if f.type == "int" else float(value)
        return cls(**given)


@cache
def limits() -> Limits:
    return Limits.from_env()


def open_files_for(connections: int) -> tuple[int, str | None]:
    """Raise this process's soft RLIMIT_NOFILE (towards the hard limit) so that ``connections``
    sockets fit beside the store's own files. Returns the number of connections that fit and a
    note to print when the limit was changed or is too low. Worker processes inherit it."""
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return connections, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = connections + RESERVED_FILES
    if soft == resource.RLIM_INFINITY or soft >= need:
        return connections, None
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        target = soft
    note = f"open-file limit (RLIMIT_NOFILE) raised from {soft} to {target}" if target > soft else \
        f"open-file limit (RLIMIT_NOFILE) is {soft}"
    if target >= need:
        return connections, f"{note} for --max-connections {connections}"
    fits = max(target - RESERVED_FILES, 64)
    return fits, (f"{note} (hard limit {hard}): --max-connections {connections} lowered to {fits}; raise the hard "
                  f"limit (LimitNOFILE= in the systemd unit, or ulimit -Hn) to allow more")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's event loop (uvloop where installed), whose TLS servers give a client
    ``header_timeout`` seconds to finish its handshake instead of asyncio's and uvloop's 60.
    Until its handshake is done a TLS connection is not yet an HTTP connection: the header
    deadline and --max-connections apply from then on. Pass it as ``uvicorn.run(loop=...)``."""
    from uvicorn.loops.auto import auto_loop_factory

    loop = auto_loop_factory(use_subprocess=False)()
    create_server = loop.create_server

    async def create_server_with_deadline(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", limits().header_timeout)
        return await create_server(*args, **kwargs)

    loop.create_server = create_server_with_deadline  # type: ignore[method-assign]
    return loop


class _Tally:
    """Connections closed by a deadline or refused by the limit, logged at most once a minute
    (a slow-client attack closes thousands; one line each would flood the log)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.since = time.monotonic()

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        now = time.monotonic()
        if now - self.since >= 60:
            said = ", ".join(f"{n} {w}" for w, n in sorted(self.counts.items()))
            logger.warning("connections closed in the last %.0f s: %s", now - self.since, said)
            self.counts.clear()
            self.since = now


tally = _Tally()


def _answer(status: bytes, detail: bytes) -> bytes:
    body = b'{"status":"rejected","detail":"' + detail + b'"}'
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


_OVER_LIMIT = _answer(b"503 Service Unavailable", b"too many connections; retry later")
_HEADER_TOO_LARGE = _answer(b"431 Request Header Fields Too Large",
                            b"request line and headers over " + str(MAX_HEADER_BYTES).encode() + b" bytes")


def _unread(transport: asyncio.Transport) -> int:
    """Bytes the kernel holds for this socket that nobody has read (0 when it cannot tell)."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return 0
    try:
        import fcntl
        import termios

        return int.from_bytes(fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")
    except (ImportError, OSError, ValueError):
        return 0


class _Transport:
    """The connection's transport as uvicorn's request cycles see it: the same, except that
    ``close`` after an early answer stops reading and drops the socket LINGER seconds later."""

    __slots__ = ("_closing", "_protocol", "_t", "get_extra_info", "write")

    def __init__(self, transport: asyncio.Transport, protocol: DeadlineProtocol) -> None:
        self._t = transport
        self._protocol = protocol
        self._closing = False
        self.write = transport.write
        self.get_extra_info = transport.get_extra_info

    def is_closing(self) -> bool:
        return self._closing or self._t.is_closing()

    def close(self) -> None:
        t = self._t
        if self._closing or t.is_closing():
            t.close()
            return
        self._closing = True
        if not self._protocol.body_pending() and _unread(t) == 0:
            t.close()
            return
        # Bytes are still coming: read none of them, but give the client time to read the
        # answer before the reset that closing a socket over unread bytes sends.
        self._protocol.flow.pause_reading()
        if t.can_write_eof():
            t.write_eof()  # the client reads the answer, then end of stream
        self._protocol.loop.call_later(LINGER, t.close)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the header and body deadlines, the connection limit and
    no reading after an early answer (module docstring). Pass it as ``uvicorn.run(http=...)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits()
        self.until: float | None = None  # the current phase's deadline (loop time), None while the app works
        self.phase = "header"
        self.timer: asyncio.TimerHandle | None = None  # at most one per connection, moved lazily
        self.timer_at = 0.0
        self.in_head = False  # a request's line and headers have begun and not ended
        self.head_bytes = 0

    # The phases: the head (header deadline), the body (body deadline), then none while the app
    # works on the request, then uvicorn's idle timer until the next request's first byte.
    #
    # Setting a deadline only writes ``until``; the one timer fires at the earliest deadline it
    # was set for and, if the deadline has moved on since, sets itself again for the new one.
    # A busy kept-alive connection thus pays a float per phase, not a timer (a call_later and a
    # cancel cost 2.5 us, three phases a push: about 2 % of its CPU).

    def _deadline(self, seconds: float, phase: str) -> None:
        self.until = until = self.loop.time() + seconds
        self.phase = phase
        if self.timer is None or self.timer_at > until:
            if self.timer is not None:
                self.timer.cancel()
            self.timer_at = until
            self.timer = self.loop.call_at(until, self._check)

    def _check(self) -> None:
        self.timer = None
        until = self.until
        if until is None or self.transport.is_closing():
            return
        if until > self.loop.time() + 0.001:  # moved on since the timer was set (libuv counts whole ms)
            self.timer_at = until
            self.timer = self.loop.call_at(until, self._check)
            return
        self.until = None
        self._expired(self.phase)

    def body_pending(self) -> bool:
        """The current request's body has not all arrived (an answer now is an early one)."""
        cycle = self.cycle
        return cycle is not None and cycle.more_body and not self.pipeline

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _Transport(transport, self)  # type: ignore[assignment]
        if len(self.connections) > self.limits.max_connections:
            tally.add("over --max-connections (503)")
            self.transport.write(_OVER_LIMIT)
            self.transport.close()
            return
        self._deadline(self.limits.header_timeout, "header")

    def connection_lost(self, exc: Exception | None) -> None:
        self.until = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.until is None and (self.cycle is None or self.cycle.response_complete):
            # bytes after an answer on a kept-alive connection (uvicorn's idle timer stops
            # here, even for bare CRLFs that begin no request): the next head has header_timeout
            self._deadline(self.limits.header_timeout, "header")
        super().data_received(data)
        if self.in_head:  # these bytes did not complete the head: they count towards its size
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                tally.add("header too large (431)")
                self.until = None
                self.transport.write(_HEADER_TOO_LARGE)
                self.transport.close()

    def on_message_begin(self) -> None:
        self.in_head = True
        self.head_bytes = 0
        if self.until is None:  # a request pipelined behind one the app is working on
            self._deadline(self.limits.header_timeout, "header")
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.in_head = False
        previous = self.cycle
        if previous is None or previous.response_complete:
            self._deadline(self.limits.body_timeout, "body")
        else:  # pipelined: reading pauses until its turn; its body deadline starts then
            self.until = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.until = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self.body_pending() and not self.transport.is_closing():
            # the app answered before the body arrived, without saying Connection: close
            self.transport.close()
        super().on_response_complete()
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_complete and not self.transport.is_closing():
            self._deadline(self.limits.body_timeout, "body")  # a pipelined request has started

    def _expired(self, phase: str) -> None:
        cycle = self.cycle
        if phase == "body" and cycle is not None and not cycle.response_started:
            tally.add("body deadline (408)")
            detail = f"the body did not arrive within {self.limits.body_timeout:g} s"
            self.transport.write(_answer(b"408 Request Timeout", detail.encode()))
            cycle.disconnected = True  # the app waiting for the body gets http.disconnect and answers nothing
            cycle.message_event.set()
            self.transport.close()
        else:
            tally.add(f"{phase} deadline")
            self.transport._t.close()  # type: ignore[attr-defined]
