"""Turning received bytes into a validated report, or a one-line reason why not (pure: no I/O).

Every document is hostile until this module has passed it: size, UTF-8, JSON, an object, a
schema this collector knows, then the pydantic contract (which names the first bad field).
The JSON is parsed once (by pydantic-core's parser, about twice as fast as ``json.loads``, and
as strict: no NaN or Infinity); the contract is validated on that dict, and the bytes a signature
covers (``signing.canonical`` of the *received* document, never of a re-serialised model: a
model round-trip could normalise away the very bytes an attacker changed) are computed from the
same dict here, so the store only has to look up the key and compare one HMAC.

The contract is strict for what a machine writes (secscan/model/common.py): the dict validated is
the dict the policies judge, so nothing in it may read one way to the model and another to them
(a "yes" for a boolean, a number for a date, text that is not NFC). A report dated more than
FUTURE_TOLERANCE ahead of this collector's clock is refused here, where the clock is.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from pydantic_core import from_json

from secscan.model.capture import CAPTURE_SCHEMA as WINDOWS_CAPTURE_SCHEMA
from secscan.model.capture import SCRIPT_VERSION
from secscan.model.common import RECEIVED
from secscan.model.host import HOST_REPORT_SCHEMA, HostReport
from secscan.model.limits import FUTURE_TOLERANCE
from secscan.model.scan import SCAN_REPORT_SCHEMA, ScanReport
from secscan.model.signing import (
    ENVELOPE_MAGIC,
    EnvelopeError,
    check,
    open_envelope,
    signature_member,
    signed_body,
    signed_message,
)

MAX_REPORT_BYTES = 4 * 1024 * 1024  # a real HostReport is 5-60 kB; a capture up to ~1 MB

# Injected by the CLI (secscan.agent.windows.decode_capture): the collector must not import the agent.
CaptureDecoder = Callable[[bytes], HostReport]


class Rejected(Exception):
    """A report refused, with the reason a person reads and the HTTP status the API answers."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class HostFiling:
    """What the store files a validated HostReport by (taken from the model, so normalised)."""

    collected_at: datetime
    hostname: str
    machine_id: str | None
    macs: list[str]
    os_name: str | None
    ips: list[str]
    agent: str  # how the PC reports: "script/2" (collect.ps1 version 2), "agent/0.1.0", "capture" (no version)

    @classmethod
    def of(cls, report: HostReport) -> HostFiling:
        return cls(report.collected_at, report.host.hostname, report.host.machine_id,
                   [i.mac for i in report.host.interfaces if i.mac], report.host.os.name,
                   sorted({str(a) for i in report.host.interfaces for a in i.ipv4}), agent_of(report))


def describe_agent(agent: str | None) -> tuple[str, str | None]:
    """(how a host reports, for people; a note when its collect.ps1 is older than this secscan's)."""
    if not agent:
        return "-", None
    kind, _, version = agent.partition("/")
    if kind == "script":
        if not version.isdigit():
            return "PowerShell script (version unknown)", None
        note = None
        if int(version) < SCRIPT_VERSION:
            note = f"collect.ps1 v{version} is older than v{SCRIPT_VERSION}: deploy the new kit"
        return f"PowerShell script v{version}", note
    if kind == "agent":
        return f"Python agent {version}", None
    return agent, None


def agent_of(report: HostReport) -> str:
    agent = report.agent
    if agent.source == "capture":
        return f"script/{agent.script_version}" if agent.script_version else "script"
    return f"{agent.source}/{agent.version}"


@dataclass
class ScanFiling:
    started_at: datetime
    finished_at: datetime


@dataclass
class Parsed:
    """A validated report. The model is not kept: the store needs only ``filing``, and a batch of
    500 models is memory held for nothing."""

    kind: Literal["host", "scan"]
    id: str  # report_id or scan_id
    digest: str
    doc: dict[str, Any] | None  # the parsed ``text``; None once dropped (see ``light``)
    text: str  # what the store keeps
    filing: HostFiling | ScanFiling
    unit: str | None
    key_id: str | None  # signature.key_id, None when unsigned
    signed: bool
    message: tuple[bytes, str] | None = None  # (the bytes signed, the signature value)
    # A Windows capture: its exact bytes, zlib-compressed (kept beside the decoded report, so that
    # a newer decoder can re-read it), and its signature is over those bytes, not a canonical form.
    capture: bytes | None = None

    @property
    def document(self) -> dict[str, Any]:
        """As received (for a capture: the decoded HostReport); policies judge it. The strict
        contract read exactly this (tests/hostile checks that the verdicts agree)."""
        if self.doc is None:
            self.doc = from_json(self.text)  # the same text parsed and validated before
        return self.doc

    def light(self) -> Parsed:
        """Without the parsed dict, to hand to another process: pickling a report's dict costs
        about what parsing it again does, and storing it does not need it (only judging does)."""
        self.doc = None
        return self

    def signature_valid(self, key: bytes) -> bool:
        """The HMAC over ``message``; when that fails, over ``signing.signed_message``'s bytes,
        the definition, in case orjson wrote a number differently from the agent's json.dumps
        (0.00001 for 1e-05). A forged report pays for both; a genuine one, nearly always, for one."""
        if self.message is None:
            return False
        if check(self.message, key):
            return True
        if self.capture is not None:  # signed over its exact bytes: there is no other form to try
            return False
        try:
            exact = signed_message(self.document)
        except ValueError:  # inf (from a number like 1e400) in a free-form member: not signable JSON
            raise Rejected("invalid JSON: a number is out of range") from None
        return exact is not None and exact[0] != self.message[0] and check(exact, key)


def digest_of(raw: bytes) -> str:
    """sha256 of the bytes received. A copy that differs only in whitespace or key order has
    another digest but the same report_id and equal JSON: the store compares the documents then
    (rare, so the common path pays for one hash, not a second canonical serialisation)."""
    return hashlib.sha256(raw).hexdigest()


def _signed_message(doc: dict[str, Any]) -> tuple[bytes, str] | None:
    """``signing.signed_message`` written by orjson, about 6× faster (0.1 ms a report): the
    same bytes except for some floats (see ``Parsed.signature_valid``). An integer beyond 64
    bits, which orjson cannot write, takes the definition's path."""
    member = signature_member(doc)
    if member is None:
        return None
    try:
        return orjson.dumps(signed_body(doc, member[0]), option=orjson.OPT_SORT_KEYS), member[1]
    except TypeError:
        return signed_message(doc)


def _loc_part(part: str | int) -> str:
    """A path member as it may be printed: a member name comes from the document (an unknown
    member is named too), so one that is not plain printable text is shown escaped and cut short:
    a rejection is one line, and a terminal shows it as text, never as control sequences."""
    text = str(part)
    if len(text) <= 64 and text.isprintable() and "." not in text:
        return text
    shown = ascii(text[:64])
    return shown + "…" if len(text) > 64 else shown


def one_line(text: str, limit: int = 300) -> str:
    """A reason as one printable line (an exception's text may hold newlines or a document's bytes)."""
    text = " ".join(text.split())
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _field_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(_loc_part(p) for p in err["loc"]) or "(document)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return one_line(f"{loc}: {err['msg']}{more}")


def _not_in_future(field: str, value: datetime, now: datetime | None) -> None:
    """A report dated ahead of this collector's clock would stay its PC's latest for ever (and the
    PC would never show as stale): more than FUTURE_TOLERANCE ahead is refused. Within it, a PC
    whose clock runs a little fast is still accepted."""
    now = now or datetime.now(UTC)
    if value - now > FUTURE_TOLERANCE:
        hours = int(FUTURE_TOLERANCE.total_seconds() // 3600)
        raise Rejected(f"{field}: {value.isoformat()} is in the future (more than {hours} h ahead of this "
                       f"collector's clock, {now.astimezone(UTC).isoformat(timespec='seconds')})")


def _strict_json(text: str) -> Any:
    """The document, or Rejected. pydantic-core's parser refuses NaN/Infinity (``allow_inf_nan``)
    and lone surrogates; on any refusal, ``json.loads`` is asked too, only for its clearer
    message (line and column in the words the tests and the docs use)."""
    try:
        return from_json(text, allow_inf_nan=False)
    except ValueError as fast_error:
        def no_constants(name: str) -> Any:
            raise ValueError(f"{name} is not valid JSON")

        try:
            json.loads(text, parse_constant=no_constants)
        except json.JSONDecodeError as exc:
            raise Rejected(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except (ValueError, RecursionError) as exc:
            raise Rejected(f"invalid JSON: {exc}") from None
        raise Rejected(f"invalid JSON: {fast_error}") from None


def parse(raw: bytes, *, max_bytes: int = MAX_REPORT_BYTES, decoder: CaptureDecoder | None = None,
          now: datetime | None = None) -> Parsed:
    """Validate ``raw`` as a HostReport, ScanReport or Windows capture; raise Rejected otherwise.
    ``now``: this collector's clock (the current time when omitted), which a report may not be
    dated more than FUTURE_TOLERANCE ahead of."""
    if len(raw) > max_bytes:
        raise Rejected(f"document is {len(raw)} bytes, over the limit of {max_bytes}", 413)
    if raw.startswith(ENVELOPE_MAGIC):
        return _envelope(raw, decoder, now)
    if raw.startswith(b"\xef\xbb\xbf"):  # PowerShell 5 writes a BOM with Out-File -Encoding utf8
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 text (byte {exc.start})") from None
    doc = _strict_json(text)
    if not isinstance(doc, dict):
        raise Rejected(f"not a secscan report: the document is a JSON {type(doc).__name__}, not an object")
    schema = doc.get("schema")
    if schema == HOST_REPORT_SCHEMA:
        try:
            model = HostReport.model_validate(doc, context=RECEIVED)
        except ValidationError as exc:
            raise Rejected(_field_error(exc)) from None
        _not_in_future("collected_at", model.collected_at, now)
        message = None
        if model.signature is not None:
            try:
                message = _signed_message(doc)
            except ValueError:  # a number too large for a float (1e400) cannot be signed JSON
                raise Rejected("invalid JSON: a number is out of range") from None
        return Parsed("host", str(model.report_id), digest_of(raw), doc, text, HostFiling.of(model), model.unit,
                      model.signature.key_id if model.signature else None, model.signature is not None, message)
    if schema == SCAN_REPORT_SCHEMA:
        try:
            scan = ScanReport.model_validate(doc, context=RECEIVED)
        except ValidationError as exc:
            raise Rejected(_field_error(exc)) from None
        _not_in_future("started_at", scan.started_at, now)
        _not_in_future("finished_at", scan.finished_at, now)
        sig = doc.get("signature")
        if sig is not None:
            # ScanReport has no signature member in the contract; extra=forbid already refused it.
            raise Rejected("signature: not allowed on a scan report")
        return Parsed("scan", str(scan.scan_id), digest_of(raw), doc, text,
                      ScanFiling(scan.started_at, scan.finished_at), scan.unit, None, False)
    if schema == WINDOWS_CAPTURE_SCHEMA:
        return _capture(raw, decoder, now=now)
    if isinstance(schema, str) and schema.startswith(("secscan.host-report/", "secscan.scan-report/",
                                                      "secscan.windows-capture/")):
        raise Rejected(f"schema: version {schema!r} is not supported by this collector "
                       f"(supported: {HOST_REPORT_SCHEMA}, {SCAN_REPORT_SCHEMA}, {WINDOWS_CAPTURE_SCHEMA})")
    if schema is None:
        raise Rejected("not a secscan report: no \"schema\" member")
    raise Rejected(f"not a secscan report: schema {str(schema)[:80]!r}")


def _envelope(raw: bytes, decoder: CaptureDecoder | None, now: datetime | None) -> Parsed:
    """A signed envelope (signing.seal): only a Windows capture travels in one (the decoder says
    so, naming the schema, when the body is anything else)."""
    try:
        key_id, value, body = open_envelope(raw)
    except EnvelopeError as exc:
        raise Rejected(str(exc)) from None
    return _capture(body, decoder, (key_id, value), now)


def _capture(raw: bytes, decoder: CaptureDecoder | None, signature: tuple[str, str] | None = None,
             now: datetime | None = None) -> Parsed:
    """``signature``: (key_id, hex) from the envelope the capture came in; checked by the store."""
    if decoder is None:
        raise Rejected(f"{WINDOWS_CAPTURE_SCHEMA}: no capture decoder available here")
    try:
        report = decoder(raw)
    except ValidationError as exc:  # the decoded facts break the contract: name the field, on one line
        raise Rejected(f"windows capture: {_field_error(exc)}") from None
    except Exception as exc:  # the decoder's own error type is the agent's; any failure is a rejection
        raise Rejected(f"windows capture: {one_line(str(exc))}") from None
    _not_in_future("collected_at", report.collected_at, now)
    doc = report.to_document()
    # The capture is the evidence; the hash of its bytes (without the envelope) identifies it, so
    # the same capture from the HTTPS push, the share and a USB stick is one report, not three.
    # zlib level 1: a typical 90 kB capture in 0.2 ms to 10 kB; level 6 takes 0.6 ms for 9 kB.
    return Parsed("host", str(report.report_id), digest_of(raw), doc, json.dumps(doc, ensure_ascii=False),
                  HostFiling.of(report), report.unit, signature[0] if signature else None, signature is not None,
                  (raw, signature[1]) if signature else None, zlib.compress(raw, 1))
