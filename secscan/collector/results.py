"""Judged results: one row per judged report (each host's latest), written at ingest, by
``reevaluate`` after org.yaml or a policy changed, and by ``redecode``; read by the report stage."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, and_, select

from secscan.collector import schema as t
from secscan.collector.db import Database, now
from secscan.model.result import Outcome as Judged
from secscan.model.result import Result

_RESULTS = TypeAdapter(list[Result])

# (report document as received, the unit the collector filed it under) -> Results. Set by the CLI
# from the policy stage (secscan.policy.evaluate_host) when org.yaml has been loaded.
Evaluator = Callable[[dict[str, Any], str | None], list[Result]]

# (report_id, host_id, unit, document) of a host's latest report
Latest = tuple[str, str, str | None, dict[str, Any]]


def judge_into(conn: Connection, evaluator: Evaluator, rows: list[Latest], stamp: datetime) -> int:
    """Judge the rows and replace their hosts' results; returns the number of Results."""
    judged = [(report_id, host_id, unit_id, evaluator(doc, unit_id)) for report_id, host_id, unit_id, doc in rows]
    return write_results(conn, judged, stamp)


def write_results(conn: Connection, rows: list[tuple[str, str, str | None, list[Result]]], stamp: datetime) -> int:
    """Replace the results of the hosts of (report_id, host_id, unit, Results) rows."""
    values, n = [], 0
    for report_id, host_id, unit_id, judged in rows:
        n += len(judged)
        tally = Counter(r.outcome for r in judged)
        values.append({"report_id": report_id, "host_id": host_id, "unit_id": unit_id,
                       "passed": tally[Judged.passed], "failed": tally[Judged.failed],
                       "unknown": tally[Judged.unknown], "not_applicable": tally[Judged.not_applicable],
                       "results": _RESULTS.dump_json(judged).decode(), "evaluated_at": stamp})
    if rows:
        conn.execute(t.results.delete().where(t.results.c.host_id.in_(sorted({r[1] for r in rows}))))
    if values:
        conn.execute(t.results.insert(), values)
    return n


def latest_results_query(unit: str | None) -> Any:
    """The results rows of each host's latest report (of one unit when given)."""
    q = (select(t.results.c.results).select_from(t.results)
         .join(t.hosts, and_(t.hosts.c.id == t.results.c.host_id,
                             t.hosts.c.last_report_id == t.results.c.report_id)))
    if unit:
        q = q.where(t.results.c.unit_id == unit)
    return q


class Results:
    def __init__(self, db: Database) -> None:
        self.db = db

    def reevaluate(self, evaluator: Evaluator, unit: str | None = None,
                   progress: Callable[[int], None] | None = None) -> tuple[int, int]:
        """Re-judge each host's latest report with ``evaluator``. Returns (reports, results);
        each chunk of 200 is one transaction."""
        q = (select(t.reports.c.report_id, t.reports.c.host_id, t.reports.c.unit_id, t.reports.c.document)
             .join(t.hosts, t.hosts.c.last_report_id == t.reports.c.report_id))
        if unit:
            q = q.where(t.reports.c.unit_id == unit)
        with self.db.engine.connect() as conn:
            targets = conn.execute(q.with_only_columns(t.reports.c.report_id)
                                   .order_by(t.reports.c.report_id)).scalars().all()
        n_reports = n_results = 0
        for start in range(0, len(targets), 200):
            chunk = targets[start:start + 200]
            with self.db.write() as conn:
                rows = conn.execute(q.where(t.reports.c.report_id.in_(chunk))).all()
                n_results += judge_into(conn, evaluator, [(r[0], r[1], r[2], json.loads(r[3])) for r in rows], now())
            n_reports += len(rows)
            if progress:
                progress(len(rows))
        return n_reports, n_results

    def latest(self, unit: str | None = None) -> list[Result]:
        """The Results of each host's most recent report (for the report stage), by unit (none
        first), then host name, then in the baseline's control order: the CSV's and the feed's
        order. It comes from SQL: a sort of a province's 315,000 Results in Python took 0.7 s."""
        order = (t.results.c.unit_id.asc().nulls_first(), t.hosts.c.hostname_key, t.hosts.c.id)
        with self.db.engine.connect() as conn:
            texts = conn.execute(latest_results_query(unit).order_by(*order)).scalars().all()
        return [res for text in texts for res in _RESULTS.validate_json(text)]
