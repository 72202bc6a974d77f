"""Run probes in isolation and assemble a HostReport.

A probe is a function ``collect() -> dict[path, value]`` that fills one or more HostReport
sections (paths such as ``"hardening.firewall"``). Each runs in its own thread with its own time
limit; whatever it raises becomes a ProbeRecord with a status and a reason, never an exception out
of ``agent run``. A probe that overruns is abandoned (its subprocesses carry their own timeouts).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from secscan import __version__
from secscan.agent.errors import ProbeFailure
from secscan.model.common import ProbeRecord, ProbeStatus
from secscan.model.host import HostReport

Facts = dict[str, Any]


@dataclass(frozen=True)
class Probe:
    name: str
    sections: tuple[str, ...]
    collect: Callable[[], Facts]
    timeout: float = 5.0


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500] if not isinstance(exc, ProbeFailure) else text[:500]


def run_probes(probes: list[Probe]) -> tuple[Facts, list[ProbeRecord]]:
    """Run every probe in its own daemon thread and wait for each up to its time limit. Daemon
    threads, not a pool: a probe stuck in a read must not keep the process from exiting."""
    start = time.perf_counter()
    outcome: dict[str, tuple[Facts | None, Exception | None, float]] = {}
    done = {p.name: threading.Event() for p in probes}

    def target(probe: Probe) -> None:
        value: Facts | None = None
        error: Exception | None = None
        try:
            value = probe.collect()
        except Exception as exc:  # reported below as the probe's status
            error = exc
        outcome[probe.name] = (value, error, time.perf_counter())
        done[probe.name].set()

    for probe in probes:
        threading.Thread(target=target, args=(probe,), name=f"probe-{probe.name}", daemon=True).start()

    facts: Facts = {}
    records: list[ProbeRecord] = []
    for probe in probes:
        remaining = probe.timeout - (time.perf_counter() - start)
        status, error = ProbeStatus.ok, None
        value: Facts | None = None
        finished = time.perf_counter()
        if not done[probe.name].wait(max(remaining, 0.01)):
            status, error = ProbeStatus.timeout, f"no answer within {probe.timeout:g} s"
        else:
            value, exc, finished = outcome[probe.name]
            if isinstance(exc, ProbeFailure):
                status, error = ProbeStatus(exc.status), _reason(exc)
            elif exc is not None:  # a probe bug or garbage input must not sink the report
                status, error = ProbeStatus.error, _reason(exc)
        if value is not None:
            unknown = set(value) - set(probe.sections)
            if unknown:
                status, error, value = ProbeStatus.error, f"filled undeclared sections {sorted(unknown)}", None
            else:
                facts.update(value)
        records.append(
            ProbeRecord(name=probe.name, status=status, duration_ms=round((finished - start) * 1000, 1),
                        error=error, sections=list(probe.sections))
        )
    return facts, records


def _nest(facts: Facts) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    # Shallow paths first, so a probe filling "a.b.c" adds to the dict another probe put at "a.b".
    for path, value in sorted(facts.items(), key=lambda kv: kv[0].count(".")):
        node = doc
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return doc


def assemble(
    facts: Facts,
    records: list[ProbeRecord],
    *,
    platform: str,
    elevated: bool | None,
    started: float,
    fallback_host: dict[str, Any],
    unit: str | None = None,
    collected_at: datetime | None = None,
) -> HostReport:
    """Build the report; a section that fails validation is dropped and its probe marked error,
    so one bad decoder cannot make the whole report invalid."""
    doc = _nest(facts)
    records = list(records)  # a record found to own an invalid value is replaced by a validated copy
    for _ in range(len(records) + 1):
        # Identity may fail too; a report still needs a hostname and an OS family.
        doc.setdefault("host", fallback_host)
        candidate = {
            "schema": "secscan.host-report/1",
            "report_id": str(uuid.uuid4()),
            "collected_at": (collected_at or datetime.now(UTC)).isoformat(),
            "agent": {
                "version": __version__,
                "platform": platform,
                "elevated": elevated,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
            "unit": unit,
            **doc,
            # Validated ProbeRecords, taken as they are (dumped and validated again, they cost a
            # tenth of a Windows capture's decode).
            "probes": records,
        }
        try:
            return HostReport.model_validate(candidate)
        except ValidationError as exc:
            loc = ".".join(str(x) for x in exc.errors()[0]["loc"])
            culprit = _owner(loc, records)
            if culprit is None:
                raise
            _drop(doc, culprit.sections)
            error = f"invalid value at {loc}: {exc.errors()[0]['msg']}"[:500]
            records[next(i for i, r in enumerate(records) if r is culprit)] = ProbeRecord.model_validate(
                {**culprit.model_dump(), "status": ProbeStatus.error, "error": error})
    raise RuntimeError("unreachable")


def _owner(loc: str, records: list[ProbeRecord]) -> ProbeRecord | None:
    best = None
    for rec in records:
        for section in rec.sections:
            matches = (loc == section or loc.startswith(section + ".")) and rec.status == ProbeStatus.ok
            if matches and (best is None or len(section) > max(len(s) for s in best.sections)):
                best = rec
    return best


def _drop(doc: dict[str, Any], sections: list[str]) -> None:
    for path in sections:
        node = doc
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.get(part, {})
        if isinstance(node, dict):
            node.pop(leaf, None)
