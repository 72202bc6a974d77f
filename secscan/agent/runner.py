"""Run probes in isolation and assemble a HostReport.

A probe is a function ``collect() -> dict[path, value]`` that fills one or more HostReport
sections (paths such as ``"hardening.firewall"``). Each runs in its own thread with its own time
limit; whatever it raises becomes a ProbeRecord with a status and a reason, never an exception out
of ``agent run``. A probe that overruns is abandoned (its subprocesses carry their own timeouts).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
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


def run_probes(probes: list[Probe], workers: int = 8) -> tuple[Facts, list[ProbeRecord]]:
    facts: Facts = {}
    records: list[ProbeRecord] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
    start = time.perf_counter()
    finished: dict[str, float] = {}

    def timed(probe: Probe) -> Facts:
        try:
            return probe.collect()
        finally:
            finished[probe.name] = time.perf_counter()

    futures = [(p, pool.submit(timed, p)) for p in probes]
    for probe, future in futures:
        remaining = probe.timeout - (time.perf_counter() - start)
        status, error, value = ProbeStatus.ok, None, None
        try:
            value = future.result(timeout=max(remaining, 0.01))
        except FutureTimeout:
            status, error = ProbeStatus.timeout, f"no answer within {probe.timeout:g} s"
        except ProbeFailure as exc:
            status, error = ProbeStatus(exc.status), _reason(exc)
        except Exception as exc:  # a probe bug or garbage input must not sink the report
            status, error = ProbeStatus.error, _reason(exc)
        elapsed = (finished.get(probe.name, time.perf_counter()) - start) * 1000
        if value is not None:
            unknown = set(value) - set(probe.sections)
            if unknown:
                status, error, value = ProbeStatus.error, f"filled undeclared sections {sorted(unknown)}", None
            else:
                facts.update(value)
        records.append(
            ProbeRecord(name=probe.name, status=status, duration_ms=round(elapsed, 1), error=error,
                        sections=list(probe.sections))
        )
    pool.shutdown(wait=False, cancel_futures=True)
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
            "probes": [r.model_dump(mode="json") for r in records],
        }
        try:
            return HostReport.model_validate(candidate)
        except ValidationError as exc:
            loc = ".".join(str(x) for x in exc.errors()[0]["loc"])
            culprit = _owner(loc, records)
            if culprit is None:
                raise
            _drop(doc, culprit.sections)
            culprit.status = ProbeStatus.error
            culprit.error = f"invalid value at {loc}: {exc.errors()[0]['msg']}"[:500]
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
