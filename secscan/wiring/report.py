"""``secscan report``: the report stage's commands (secscan/report/cli.py) reading their input
from the collector's store named by ``SECSCAN_DB``, and ``sample``, the demo district as a report
input. The store's findings history is written by `secscan report findings`: run the period's
documents first, then record, so the next period compares against this one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from secscan.model.finding import Finding
from secscan.report import cli as stage
from secscan.report.inputs import ReportInput, Snapshot
from secscan.wiring.progress import Steps, quiet, terminal_steps
from secscan.wiring.remediation import remediation_input

if TYPE_CHECKING:
    from secscan.collector.store import Store

HISTORY_BASELINE = "secscan-report"  # the store keys findings by (unit, baseline, control)


def open_store(db_url: str | None) -> Store:
    if not db_url:
        raise ValueError("no input: pass --input bundle.json, or set SECSCAN_DB to the collector store")
    try:
        from secscan.collector.db import open_engine
        from secscan.collector.migrations import SchemaError
        from secscan.collector.store import Store
    except ModuleNotFoundError:
        raise ValueError(
            f"SECSCAN_DB={db_url}: the collector stage is not installed; pass --input bundle.json"
        ) from None
    store = Store(open_engine(db_url))
    try:
        store.check()
    except SchemaError as exc:
        raise ValueError(f"SECSCAN_DB: {exc}") from None
    return store


def previous_from_store(store: Store, period: str) -> Snapshot | None:
    rows = [r for r in store.findings(include_resolved=False) if r["baseline"] == HISTORY_BASELINE and r.get("data")]
    if not rows:
        return None
    findings = [Finding.model_validate(r["data"]) for r in rows]
    last = max(r["last_seen"] for r in rows)
    return Snapshot(period=f"before {period}", generated_at=last, findings=findings)


def from_store(db_url: str | None, period: str | None, steps: Steps = quiet) -> ReportInput:
    from secscan.model.org import Organisation
    from secscan.policy import default_baseline, load_baselines
    from secscan.report.evaluated import build_input

    with steps("opening the store, org.yaml and the policies"):
        store = open_store(db_url)
        org_json = store.get_meta("org")
        if org_json is None:
            raise ValueError("SECSCAN_DB: the store has no org.yaml; run `secscan collector init --org org.yaml` first")
        org = Organisation.model_validate_json(org_json)
        if org.baseline:
            baselines = load_baselines()
            if org.baseline not in baselines:
                raise ValueError(f"org.yaml: baseline {org.baseline!r} is not among the policies")
            baseline = baselines[org.baseline]
        else:
            baseline = default_baseline()
    now = datetime.now(UTC)
    period = period or f"{now.year}-{now.month:02d}"
    # Results as stored at ingest (or by `collector evaluate`): the store's judgement is the one
    # the report shows, so the PDF's figures are the collector's.
    unreadable: list[tuple[str, str]] = []
    with steps("reading the PCs' latest reports and the LAN scans"):
        reports, scans = store.latest_reports(unreadable=unreadable), store.scans(unreadable=unreadable)
    if unreadable:
        first_id, why = unreadable[0]
        click.echo(f"warning: {len(unreadable)} stored document(s) no longer meet the contract and are left out "
                   f"of the inventory (e.g. {first_id}: {why}); their PCs' stored results still count. Import "
                   "a fresh report from those PCs.", err=True)
    with steps(f"reading the judged results of {len(reports):,} PCs"):
        results = store.latest_results()
    with steps(f"judging {len(scans):,} LAN scans"):
        inp = build_input(org, baseline, reports, scans, results=results, period=period, generated_at=now,
                          previous=previous_from_store(store, period))
    with steps("what remediation scripts can fix"):
        remediation = remediation_input(store, inp)  # and what secscan remediate recorded
    return inp.model_copy(update={"remediation": remediation})


def record_findings(db_url: str | None, findings: Iterable[Finding], at: datetime, units: Iterable[str]
                    ) -> dict[str, int]:
    """This period's active findings as the store's history (one transaction)."""
    store = open_store(db_url)
    current = [
        {
            "unit_id": f.unit,
            "baseline": HISTORY_BASELINE,
            "control_id": f.control_id,
            "severity": f.severity.value,
            "data": f.model_dump(mode="json", by_alias=True),
        }
        for f in findings
    ]
    return store.save_findings(current, at=at, units=units)


class StoreInput:
    """The collector's store as the report commands' ``ReportStore`` (SECSCAN_DB, read when used)."""

    def __init__(self, steps: Steps = quiet) -> None:
        self.steps = steps

    def load(self, period: str | None) -> ReportInput:
        return from_store(os.environ.get("SECSCAN_DB"), period, self.steps)

    def record(self, findings: Iterable[Finding], at: datetime, units: Iterable[str]) -> dict[str, int]:
        return record_findings(os.environ.get("SECSCAN_DB"), findings, at, units)


@click.pass_context
def _hand_in_the_store(ctx: click.Context) -> None:
    steps = terminal_steps()  # on a terminal's stderr, else nothing
    ctx.meta[stage.STEPS] = steps
    ctx.obj = StoreInput(steps)


# The stage's group with the store handed in and `sample` added: a new group, the stage's stays as it is.
report = click.Group(name=stage.report.name, help=stage.report.help, callback=_hand_in_the_store,
                     commands=dict(stage.report.commands))


@report.command()
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--seed", default=2023, show_default=True, help="the demo fleet's seed (as secscan demo)")
@click.option(
    "--copies",
    default=1,
    show_default=True,
    type=click.IntRange(1, 200),
    help="copies of the district under one province (5 ≈ 250 units)",
)
@click.option(
    "--draws",
    default=1,
    show_default=True,
    type=click.IntRange(1, 5),
    help="the fleet drawn this many times into each copy (5 × 5 copies ≈ 12,000 PCs)",
)
@click.option("--unit", "units", multiple=True, help="only this unit's PCs (repeatable; org.yaml cut down to them)")
def sample(out: Path, seed: int, copies: int, draws: int, units: tuple[str, ...]) -> None:
    """Write the demo district (secscan demo's org and fleet, judged by the policy) as a report input bundle."""
    from secscan.demo import bundle

    stage.check_out(out)
    try:
        documents = bundle.district(seed, copies=copies, draws=draws, units=list(units) if units else None)
    except ValueError as exc:
        stage.fail(str(exc))
    inp = bundle.report_input(documents)
    with stage.writing(out):
        out.write_text(inp.model_dump_json(by_alias=True), encoding="utf-8")
    click.echo(f"{out}: {len(inp.units)} units, {len(inp.hosts)} hosts, {len(inp.results)} results", err=True)
