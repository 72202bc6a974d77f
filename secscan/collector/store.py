"""The store: one object for the stages and the CLI, made of parts that each hold one job.

| part (field)        | module              | job |
| ------------------- | ------------------- | --- |
| ``db``              | db.Database         | the engine, write transactions, the bulk connection |
| ``access``          | tokens.Tokens       | enrollment tokens; ``tokens.authorise`` decides each report's unit |
| ``intake``          | ingest.Ingest       | batch ingest: authorise, dedupe, host identity, write, judge |
| ``judged``          | results.Results     | results of each host's latest report; re-judging |
| ``history``         | findings_history    | the findings' life, written by the report stage |
| ``reads``           | reads.Reads         | units, inventory, reports, scans, counts |
| ``admin``           | admin.Admin         | meta, units from org.yaml, approved moves, ANALYZE |

Migrations are ``migrations.migrate``; the raw captures' re-decoding and pruning are captures.py.
Refusals are domain errors (refusals.py); the HTTP API maps them to status codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from secscan.collector import migrations
from secscan.collector.admin import Admin
from secscan.collector.db import Database, now
from secscan.collector.findings_history import FindingsHistory
from secscan.collector.ingest import Ingest
from secscan.collector.intake import Parsed
from secscan.collector.reads import Reads
from secscan.collector.refusals import Outcome, Refusal
from secscan.collector.results import Evaluator, Results, write_results
from secscan.collector.tokens import TokenInfo, Tokens
from secscan.model.host import HostReport
from secscan.model.result import Result
from secscan.model.scan import ScanReport

__all__ = ["Evaluator", "Outcome", "Refusal", "Store", "TokenInfo", "now"]


class Store:
    def __init__(self, engine: Engine, evaluator: Evaluator | None = None) -> None:
        self.engine = engine
        # judges each host's latest report at ingest; set by the CLI's wiring when org.yaml is loaded
        self.evaluator = evaluator
        self.db = Database(engine)
        self.access = Tokens(self.db)
        self.intake = Ingest(self.db)
        self.judged = Results(self.db)
        self.history = FindingsHistory(self.db)
        self.reads = Reads(self.db)
        self.admin = Admin(self.db)

    # --- setup ----------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        return migrations.migrate(self.engine)

    def check(self) -> None:
        migrations.check(self.engine)

    def write(self) -> AbstractContextManager[Connection]:
        return self.db.write()

    def get_meta(self, key: str) -> str | None:
        return self.admin.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.admin.set_meta(key, value)

    def upsert_units(self, rows: Iterable[dict[str, Any]]) -> int:
        return self.admin.upsert_units(rows)

    def approve_move(self, host_id: str, approve: bool = True) -> dict[str, Any]:
        return self.admin.approve_move(host_id, approve)

    def analyze(self) -> bool:
        return self.admin.analyze()

    # --- tokens ---------------------------------------------------------------------------

    def create_token(self, unit_id: str, label: str | None = None) -> tuple[str, str]:
        return self.access.create(unit_id, label)

    def tokens(self, unit_id: str | None = None) -> list[dict[str, Any]]:
        return self.access.listed(unit_id)

    def revoke_token(self, key_id: str) -> bool:
        return self.access.revoke(key_id)

    def token_by_bearer(self, token: str) -> TokenInfo | None:
        return self.access.by_bearer(token)

    # --- ingest ---------------------------------------------------------------------------

    def ingest(self, parsed: Sequence[tuple[Parsed, str]], *, bearer: TokenInfo | None = None,
               bearers: Sequence[TokenInfo | None] | None = None, unit: str | None = None,
               require_signature: bool = False, conn: Connection | None = None) -> list[Outcome]:
        """Store validated reports; ``parsed`` pairs each with its source ("http", "import:FILE").
        Returns one Outcome per input, in order. ``bearer`` (or ``bearers``, one per report when
        several HTTP pushes share a transaction): the pushing token, whose unit binds the report;
        ``unit``: the unit given on the command line for reports that name none. ``conn``: a
        connection from ``bulk()`` whose transaction the caller commits; by default the batch is
        one transaction of its own."""
        per_item = list(bearers) if bearers is not None else [bearer] * len(parsed)
        return self.intake.ingest(parsed, self.evaluator, bearers=per_item, unit=unit,
                                  require_signature=require_signature, conn=conn)

    def bulk(self) -> AbstractContextManager[Connection]:
        return self.intake.bulk()

    # --- results --------------------------------------------------------------------------

    def write_results(self, conn: Connection, rows: list[tuple[str, str, str | None, list[Result]]],
                      stamp: datetime) -> int:
        return write_results(conn, rows, stamp)

    def reevaluate(self, unit: str | None = None, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
        """Re-judge each host's latest report with the current evaluator (after org.yaml or a
        policy changed). Returns (reports, results)."""
        if self.evaluator is None:
            raise RuntimeError("no evaluator configured")
        return self.judged.reevaluate(self.evaluator, unit, progress)

    def latest_results(self, unit: str | None = None) -> list[Result]:
        return self.judged.latest(unit)

    # --- findings history (written by the report stage) -----------------------------------

    def findings(self, unit: str | None = None, include_resolved: bool = True) -> list[dict[str, Any]]:
        return self.history.findings(unit, include_resolved)

    def save_findings(self, current: Iterable[dict[str, Any]], at: datetime | None = None,
                      units: Iterable[str] | None = None) -> dict[str, int]:
        return self.history.save(current, at, units)

    # --- reads ----------------------------------------------------------------------------

    def units(self) -> list[dict[str, Any]]:
        return self.reads.units()

    def unit(self, unit_id: str) -> dict[str, Any] | None:
        return self.reads.unit(unit_id)

    def unit_summary(self, unit_id: str, stale_days: float = 30) -> dict[str, Any] | None:
        return self.reads.unit_summary(unit_id, stale_days)

    def hosts(self, unit: str | None = None, stale_days: float | None = None) -> list[dict[str, Any]]:
        return self.reads.hosts(unit, stale_days)

    def latest_report_count(self, unit: str | None = None) -> int:
        return self.reads.latest_report_count(unit)

    def report_document(self, report_id: str) -> dict[str, Any] | None:
        return self.reads.report_document(report_id)

    def latest_reports(self, unit: str | None = None,
                       unreadable: list[tuple[str, str]] | None = None) -> list[HostReport]:
        return self.reads.latest_reports(unit, unreadable)

    def scans(self, unit: str | None = None, unreadable: list[tuple[str, str]] | None = None) -> list[ScanReport]:
        return self.reads.scans(unit, unreadable)

    def counts(self) -> dict[str, int]:
        return self.reads.counts()
