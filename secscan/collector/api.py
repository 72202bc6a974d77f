"""HTTP ingest (FastAPI): the agent's ``--push`` target and a small read API.

The contract the agent relies on (secscan/agent/delivery.py): 200 means "stored, or already had
it" (idempotent by report_id, so a retry after a lost answer is harmless); any other 4xx except
408/429 is a permanent refusal and the agent moves the report aside; 5xx and network errors
keep it spooled. The body is read raw, capped at the size limit, and the signature is checked
on exactly the JSON received.

Reads need a unit token too; a token sees its own unit and the units under it (a district's
token sees its communes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from secscan import __version__
from secscan.collector import migrations
from secscan.collector.intake import MAX_REPORT_BYTES, CaptureDecoder, Parsed
from secscan.collector.parsing import Parse, ParseProcess, parse_all
from secscan.collector.refusals import Outcome, Refusal
from secscan.collector.store import Store
from secscan.collector.tokens import TokenInfo
from secscan.model.signing import token_hash

_BATCH_BYTES = 16 * 1024 * 1024  # a batch's bodies are copied once more on their way to the parser

# The status each refusal of the store answers (the agent's contract: any 4xx but 408/429 is final).
STATUS_OF: dict[Refusal, int] = {
    Refusal.invalid: 422,
    Refusal.too_large: 413,
    Refusal.unauthorised: 401,
    Refusal.forbidden: 403,
    Refusal.conflict: 409,
    Refusal.unstorable: 422,
    Refusal.internal: 500,
}
# intake.Rejected (the parse of a body) says 413 for a body over the limit, 422 for the rest
_PARSE_REFUSAL = {413: Refusal.too_large}


def status_of(outcome: Outcome) -> int:
    return STATUS_OF[outcome.refusal or Refusal.invalid] if outcome.status == "rejected" else 200


class GroupCommit:
    """Pushes parsed and stored in batches: whatever has arrived while the previous batch was
    being handled (up to ``max_batch``) is parsed together, then stored in one transaction, and
    each request is answered only after its commit. Under load a commit serves many requests;
    alone, a request waits for no one. Two threads form a pipeline: one parses batch N+1 (in
    ``parser``, a process of its own under ``serve``) while the other stores batch N, so the
    request threads and the event loop never do this work. Each report is still judged alone."""

    def __init__(self, store: Store, max_bytes: int, decoder: CaptureDecoder | None, max_batch: int = 200,
                 parser: Callable[[list[bytes]], list[Parse]] | None = None) -> None:
        self.store = store
        self.max_batch = max_batch
        self.parser = parser or (lambda bodies: parse_all(bodies, max_bytes, decoder))
        self.queue: queue.Queue[_Job] = queue.Queue()
        # Parsed batches wait here while one is stored, and the store thread takes all of them
        # at once: fewer, larger commits (a commit's cost is mostly per page, and pages are
        # shared within a batch), measured 881-939 -> 1,032-1,041 pushes/s. At most four wait.
        self.parsed: queue.Queue[list[tuple[_Job, Parse | BaseException]]] = queue.Queue(maxsize=4)
        threading.Thread(target=self._parse_loop, name="secscan-push-parse", daemon=True).start()
        threading.Thread(target=self._store_loop, name="secscan-group-commit", daemon=True).start()

    def submit(self, body: bytes, token: TokenInfo) -> asyncio.Future[Outcome]:
        """Queue a push; the returned future (of the calling event loop) gets its Outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self.queue.put((body, token, loop, future))
        return future

    def _parse_loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            size = len(batch[0][0])
            while len(batch) < self.max_batch and size < _BATCH_BYTES:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
                size += len(batch[-1][0])
            try:
                got: list[Parse | BaseException] = list(self.parser([job[0] for job in batch]))
            except Exception as exc:  # the parse process is gone: these pushes get a 503 and are retried
                got = [exc] * len(batch)
            self.parsed.put(list(zip(batch, got, strict=True)))

    def _store_loop(self) -> None:
        while True:
            batch = self.parsed.get()
            while len(batch) < self.max_batch:  # the batches parsed meanwhile: one commit for all
                try:
                    batch += self.parsed.get_nowait()
                except queue.Empty:
                    break
            answers: list[tuple[_Job, Outcome | BaseException]] = []
            reports: list[tuple[Parsed, _Job]] = []
            for job, got in batch:
                if isinstance(got, Parsed):
                    reports.append((got, job))
                elif isinstance(got, BaseException):
                    answers.append((job, got))
                else:
                    answers.append((job, Outcome.rejected(_PARSE_REFUSAL.get(got[1], Refusal.invalid), got[0])))
            if reports:
                try:
                    outcomes = self.store.ingest([(p, "http") for p, _ in reports],
                                                 bearers=[j[1] for _, j in reports])
                except Exception as exc:  # the store is down or locked: every waiting request gets a 503
                    answers += [(job, exc) for _, job in reports]
                else:
                    for (p, job), outcome in zip(reports, outcomes, strict=True):
                        outcome.kind = outcome.kind or p.kind
                        answers.append((job, outcome))
            _answer(answers)


# (body, pushing token, the request's event loop, the future it awaits)
_Job = tuple[bytes, TokenInfo, asyncio.AbstractEventLoop, "asyncio.Future[Outcome]"]


def _answer(answers: list[tuple[_Job, Outcome | BaseException]]) -> None:
    """Hand a batch's outcomes to the event loop(s) in one wake-up per loop, not one per request."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Outcome | BaseException]]] = {}
    for (_, _, loop, future), result in answers:
        by_loop.setdefault(loop, []).append((future, result))
    for loop, results in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, results)


def _settle(results: list[tuple[asyncio.Future[Outcome], Outcome | BaseException]]) -> None:
    for future, result in results:
        if future.done():  # the client went away and the request was cancelled
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


class IngestAnswer(BaseModel):
    status: str  # accepted | duplicate
    id: str
    kind: str  # host | scan


class Problem(BaseModel):
    status: str = "rejected"
    detail: str


class UnitOut(BaseModel):
    id: str
    parent_id: str | None
    name: str
    kind: str | None
    level: int | None
    hosts: int


class UnitSummary(BaseModel):
    unit: dict[str, Any]
    hosts: int
    stale_hosts: int
    clone_suspects: int
    reports: int
    last_report_at: str | None
    scans: int
    results: dict[str, int]


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text} for code, text in {
        401: "missing, unknown or revoked token; bad or missing signature",
        403: "the report or its signature belongs to another unit than the token",
        409: "the report_id was already stored with different content",
        413: "body over the size limit",
        422: "not a valid report; the detail names the field",
        503: "the store is unavailable; retry later",
    }.items()
}

REPORT_BODY = {
    # The endpoint reads the header and the body itself (see post_report); documented here.
    "parameters": [{"name": "authorization", "in": "header", "required": False,
                    "schema": {"type": "string"}, "description": "Bearer <unit token>"}],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "description": "a HostReport (secscan.host-report/1) signed with the unit token "
                           "(see `secscan schema host-report`), or a ScanReport (secscan.scan-report/1)",
            "required": ["schema"],
        }}},
    }
}


Ingest = Callable[[str | None, str | None, AsyncIterator[bytes]], Awaitable[tuple[int, dict[str, Any]]]]


def create_app(store: Store, *, max_bytes: int = MAX_REPORT_BYTES, decoder: CaptureDecoder | None = None,
               parse_process: bool = False) -> FastPush:
    """``parse_process``: parse pushes in a process beside this one (``serve`` on a machine with
    more than one CPU; see secscan.collector.parsing)."""
    # No OpenTelemetry hooks: nothing here exports traces, and the check costs every request.
    parser = ParseProcess(max_bytes, decoder) if parse_process else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if parser is not None:
            parser.close()

    app = FastAPI(title="secscan collector", version=__version__,
                  description="Accepts signed HostReports and ScanReports from the units' agents.",
                  telemetry={"tracing": False, "metrics": False, "logs": False}, lifespan=lifespan)
    app.exception_handler(HTTPException)(_http_error)  # every refusal answers {"status": "rejected", "detail"}
    bearers = _Bearers(store)
    add_health_routes(app, store)
    ingest = _ingest(GroupCommit(store, max_bytes, decoder, parser=parser), bearers, max_bytes)
    add_ingest_routes(app, ingest)
    add_read_routes(app, store, bearers)
    return FastPush(app, ingest)


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"status": "rejected", "detail": exc.detail}, status_code=exc.status_code,
                        headers=exc.headers)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _presented(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; 401 without one."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("Authorization: Bearer <unit token> is required")
    return token.strip()


class _Bearers:
    """The unit tokens requests present: looked up in the store (401 when unknown or revoked) and
    remembered by hash for pushes (revocation is re-read at ingest)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[str, TokenInfo] = {}  # token hash -> token

    def lookup(self, token: str) -> TokenInfo:
        info = self.store.token_by_bearer(token)
        if info is None:
            raise _unauthorised("unknown token")
        if info.revoked:
            raise _unauthorised(f"token {info.key_id} has been revoked")
        if len(self.known) < 100_000:
            self.known[token_hash(token)] = info
        return info

    def bearer(self, authorization: str | None) -> TokenInfo:
        return self.lookup(_presented(authorization))


def add_health_routes(app: FastAPI, store: Store) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with store.engine.connect() as conn:
            version = migrations.current_version(conn)
        if version != migrations.LATEST:
            raise HTTPException(503, f"store schema version {version}, expected {migrations.LATEST}")
        return {"status": "ok", "version": __version__, "schema_version": version}


def _ingest(writer: GroupCommit, bearers: _Bearers, max_bytes: int) -> Ingest:
    async def ingest(authorization: str | None, length: str | None,
                     chunks: AsyncIterator[bytes]) -> tuple[int, dict[str, Any]]:
        """One push: (HTTP status, JSON answer). Size, token, then the body to the writer thread,
        which validates it against the contract and checks its signature."""
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return 413, {"status": "rejected", "detail": f"body is {length} bytes, over the limit of {max_bytes}"}
        try:
            raw_token = _presented(authorization)
            token = bearers.known.get(token_hash(raw_token)) or await run_in_threadpool(bearers.lookup, raw_token)
        except HTTPException as exc:
            return exc.status_code, {"status": "rejected", "detail": exc.detail}
        parts, size = [], 0
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                return 413, {"status": "rejected", "detail": f"body is over the limit of {max_bytes} bytes"}
            parts.append(chunk)
        try:
            outcome = await writer.submit(b"".join(parts), token)
        except Exception as exc:
            # 503: the agent keeps the report spooled and retries later
            return 503, {"status": "rejected", "detail": f"store unavailable: {type(exc).__name__}: {str(exc)[:200]}"}
        if outcome.status == "rejected":
            return status_of(outcome), {"status": "rejected", "detail": outcome.reason or "rejected"}
        return 200, {"status": outcome.status, "id": outcome.id or "", "kind": outcome.kind or "host"}

    return ingest


def add_ingest_routes(app: FastAPI, ingest: Ingest) -> None:
    @app.post("/api/v1/reports", response_model=IngestAnswer, responses=_ERRORS, openapi_extra=REPORT_BODY)
    async def post_report(request: Request) -> Response:
        # Normally served by FastPush below, before FastAPI; this route documents the endpoint
        # in the OpenAPI document and serves it when mounted under another app.
        status, answer = await ingest(request.headers.get("authorization"), request.headers.get("content-length"),
                                      request.stream())
        return Response(json.dumps(answer).encode(), status, _answer_headers(status), "application/json")


def _visible(store: Store, token: TokenInfo) -> set[str]:
    """The token's unit and every unit under it."""
    children: dict[str | None, list[str]] = {}
    for u in store.units():
        children.setdefault(u["parent_id"], []).append(u["id"])
    seen, todo = set(), [token.unit_id]
    while todo:
        unit = todo.pop()
        if unit not in seen:
            seen.add(unit)
            todo += children.get(unit, [])
    return seen


def add_read_routes(app: FastAPI, store: Store, bearers: _Bearers) -> None:
    @app.get("/api/v1/units", response_model=list[UnitOut], responses={401: _ERRORS[401]})
    def list_units(authorization: Annotated[str | None, Header()] = None) -> Any:
        ids = _visible(store, bearers.bearer(authorization))
        return [u for u in store.units() if u["id"] in ids]

    @app.get("/api/v1/units/{unit_id}/summary", response_model=UnitSummary,
             responses={401: _ERRORS[401], 403: _ERRORS[403], 404: {"model": Problem}})
    def unit_summary(unit_id: str, authorization: Annotated[str | None, Header()] = None) -> Any:
        token = bearers.bearer(authorization)
        if unit_id not in _visible(store, token):  # before the lookup: a token cannot probe which units exist
            raise HTTPException(403, f"token {token.key_id} of unit {token.unit_id} may not read unit {unit_id}")
        summary = store.unit_summary(unit_id)
        if summary is None:
            raise HTTPException(404, f"no unit {unit_id!r}")
        return summary


def _answer_headers(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


class _ClientGone(Exception):
    pass


class FastPush:
    """ASGI in front of the FastAPI app: ``POST /api/v1/reports`` goes straight to ``ingest``,
    everything else to FastAPI. The push is the one hot path (thousands per minute from a
    province); FastAPI's middleware stack, routing and request objects cost about as much CPU
    as storing the report, and the endpoint needs none of them: it reads two headers and the
    raw body, and answers with a few bytes of JSON. Behaviour is the route's (same function)."""

    PATH = "/api/v1/reports"

    def __init__(self, app: FastAPI, ingest: Callable[..., Awaitable[tuple[int, dict[str, Any]]]]) -> None:
        self.app = app
        self.ingest = ingest

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.PATH:
            await self.app(scope, receive, send)
            return
        authorization = length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")

        read = False

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal read
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    read = True
                    return

        try:
            status, answer = await self.ingest(authorization, length, chunks())
        except _ClientGone:
            return  # nothing stored (the body was incomplete), nobody to answer
        body = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        if not read:
            # An early refusal (401, 413): the rest of the body is not read, the connection ends
            # with this answer (secscan.collector.server stops reading it).
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
