"""The capture envelope (``secscan.windows-capture/1``): bytes in, checked sections out.

A capture is one JSON object printed by collect.ps1::

    {"schema": "secscan.windows-capture/1", "capture_id": "...", "started_at": "...",
     "finished_at": "...", "elevated": false, "powershell": {"version": "5.1..."},
     "sections": {"defender": {"status": "ok", "error": null, "ms": 41, "data": {...}}, ...}}

Anything that is not such a document raises CaptureError with one line naming the field and the
reason. A section's own failure (status denied/error/...) is not an error of the capture: it is
carried as that section's status and becomes a probe record.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import from_json

from secscan.agent.windows.values import as_bool, as_int, as_text, parse_date
from secscan.model.capture import CAPTURE_SCHEMA

SCHEMA = CAPTURE_SCHEMA
MAX_BYTES = 64 * 1024 * 1024
STATUSES = ("ok", "error", "denied", "unsupported", "timeout")


class CaptureError(ValueError):
    """The capture as a whole cannot be decoded; the message is one line."""


@dataclass(slots=True)  # not frozen: five times cheaper to make, and a capture has ~27 (nothing changes them)
class Section:
    name: str
    status: str
    error: str | None
    ms: float
    data: Any

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Capture:
    capture_id: str | None
    script_version: int | None
    hostname: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    elevated: bool | None
    powershell: str | None
    sections: dict[str, Section] = field(default_factory=dict)

    def section(self, name: str) -> Section | None:
        return self.sections.get(name)

    def data(self, name: str) -> Any:
        """The section's data when it was collected, else None."""
        sec = self.sections.get(name)
        return sec.data if sec is not None and sec.ok else None


def _text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw.lstrip("\ufeff")
    if len(raw) > MAX_BYTES:
        raise CaptureError(f"capture is larger than {MAX_BYTES // (1024 * 1024)} MB")
    # `collect.ps1 > file` in Windows PowerShell 5.1 writes UTF-16LE with a BOM; -OutFile writes UTF-8.
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
        encoding = "utf-16-le"
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CaptureError(f"not {encoding} text (byte {exc.start}): is this a secscan capture?") from exc


def load(raw: bytes | str) -> Capture:
    text = _text(raw).strip()
    if not text:
        raise CaptureError("capture is empty")
    doc = _parse_json(text)
    if not isinstance(doc, dict):
        raise CaptureError(f"top level must be an object, got {type(doc).__name__}")
    schema = doc.get("schema")
    if schema != SCHEMA:
        raise CaptureError(f"schema: expected {SCHEMA!r}, got {str(schema)[:60]!r}")
    sections_doc = doc.get("sections")
    if not isinstance(sections_doc, dict):
        raise CaptureError("sections: missing or not an object")
    try:
        sections = {name: _section(name, body) for name, body in sections_doc.items()}
        ps = doc.get("powershell")
        return Capture(
            capture_id=as_text(doc.get("capture_id"), "capture_id", 64),
            script_version=_script_version(doc.get("script_version")),
            hostname=as_text(doc.get("hostname"), "hostname", 255),
            started_at=parse_date(doc.get("started_at"), "started_at"),
            finished_at=parse_date(doc.get("finished_at"), "finished_at"),
            duration_ms=as_int(doc.get("duration_ms"), "duration_ms"),
            elevated=as_bool(doc.get("elevated"), "elevated"),
            powershell=as_text(ps.get("version"), "powershell.version", 64) if isinstance(ps, dict) else None,
            sections=sections,
        )
    except ValueError as exc:
        if isinstance(exc, CaptureError):
            raise
        raise CaptureError(str(exc)) from exc


def _parse_json(text: str) -> Any:
    # pydantic_core's parser (jiter) reads a large capture in about two thirds of json's time and
    # gives the same values (NaN, Infinity, big integers, the last of duplicate keys, as json does);
    # it refuses a little more: lone surrogates, nesting deeper than 200. So on any refusal json
    # reads it again, to accept what json accepts and to word the error as before.
    try:
        return from_json(text)
    except (ValueError, TypeError):
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if exc.pos >= len(text) - 1 else ""
        raise CaptureError(f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}") from exc
    except RecursionError as exc:
        raise CaptureError("JSON nested too deeply") from exc


def _script_version(value: Any) -> int | None:
    version = as_int(value, "script_version")
    if version is not None and not 1 <= version <= 10_000:
        raise CaptureError(f"script_version: {version} is not a version of collect.ps1")
    return version


def _section(name: str, body: Any) -> Section:
    where = f"sections.{name}"
    if not isinstance(body, dict):
        raise CaptureError(f"{where}: expected an object, got {type(body).__name__}")
    status = body.get("status")
    if status not in STATUSES:
        raise CaptureError(f"{where}.status: expected one of {', '.join(STATUSES)}, got {str(status)[:40]!r}")
    error = as_text(body.get("error"), f"{where}.error", 2000)
    if status != "ok" and not error:
        error = f"section {status} without a reason"
    ms = as_int(body.get("ms"), f"{where}.ms") or 0
    return Section(name=name, status=status, error=error, ms=max(ms, 0), data=body.get("data"))
