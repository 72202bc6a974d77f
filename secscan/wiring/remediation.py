"""Closing the loop of ``secscan remediate``: what it records in the store beside each script it
writes, and what the reports are handed (``ReportInput.remediation``, read by
secscan/report/remediation.py). docs/remediate.md says what the figures mean.

The store keeps, per unit, the (PC, control) pairs each written script targets and the report each
PC's fix was written from: one JSON list per unit in ``secscan_meta`` (newest last), which needs no
new table while the store's migrations are being reworked.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from secscan.report.remediation import (
    MAX_SCRIPTS_PER_UNIT,
    PairRef,
    RemediationInput,
    ScriptRecord,
    ScriptTarget,
    UnitFixability,
    superseded,
)

if TYPE_CHECKING:
    from secscan.collector.store import Store
    from secscan.model.result import Result
    from secscan.policy.remediation import Catalogue
    from secscan.remediate import Plan
    from secscan.report.inputs import ReportInput


def _scripts_key(unit: str) -> str:
    return "remediation:" + hashlib.sha256(unit.encode("utf-8")).hexdigest()[:40]  # the key column holds 64


def _recorded_scripts(store: Store, unit: str) -> list[ScriptRecord]:
    raw = store.get_meta(_scripts_key(unit))
    if not raw:
        return []
    try:
        return [ScriptRecord.model_validate(item) for item in json.loads(raw)]
    except ValueError as exc:  # a record written by another secscan version: said, not guessed at
        click.echo(f"warning: the remediation scripts recorded for unit {unit} cannot be read "
                   f"({str(exc).splitlines()[0]}); they are left out of the reports", err=True)
        return []


def record_script(store: Store, plan: Plan, catalogue: Catalogue, written_at: datetime, file_name: str, *,
                  version: str) -> None:
    """Keep, beside the script just written, the (PC, control) pairs it fixes and the report each
    PC's fix was written from (at most MAX_SCRIPTS_PER_UNIT scripts per unit, newest last)."""
    from secscan.remediate import fix_pairs

    scripted, _ = fix_pairs(plan, catalogue)
    if not scripted:
        return
    targets = [ScriptTarget(host=pc.hostname, machine_id=pc.machine_id, report_id=pc.report_id, control=control,
                            fixes=[f for f in pc.fixes if catalogue.fixes[f].control == control])
               for pc, control in scripted]
    record = ScriptRecord(script_id=plan.script_id(written_at), unit=plan.unit, written_at=written_at,
                          file=file_name, version=version, platform=plan.platform, targets=targets)
    kept = [*_recorded_scripts(store, plan.unit), record][-MAX_SCRIPTS_PER_UNIT:]
    store.set_meta(_scripts_key(plan.unit), json.dumps([r.model_dump(mode="json", by_alias=True) for r in kept]))


def remediation_input(store: Store, inp: ReportInput) -> RemediationInput | None:
    """What the reports need of remediation, for ``inp``'s units: per unit the failing pairs a
    script can fix or only explain (the catalogue over the latest results, as `secscan remediate`
    would plan them), and the scripts recorded for those units. None when the catalogue does not
    load (the reports then leave the section out and say so)."""
    from secscan.policy.remediation import load_catalogue
    from secscan.policy.source import PolicyError
    from secscan.remediate import PLATFORMS, fix_pairs, make_plan

    try:
        catalogue = load_catalogue()
    except PolicyError as exc:
        click.echo(f"warning: the remediation catalogue does not lint ({exc.errors[0]}); the reports leave out "
                   "the remediation section", err=True)
        return None
    by_unit: dict[str, list[Result]] = {}
    for result in inp.results:
        if result.unit is not None:
            by_unit.setdefault(result.unit, []).append(result)
    old = superseded(inp)  # a PC under two host records: its newer report only
    reports = {str(r.report_id): r for r in inp.hosts if str(r.report_id) not in old}
    fixable = []
    for unit in inp.units:
        results = by_unit.get(unit.id, [])
        wanted = {r.report_id for r in results}
        scripted, guided = [], []
        for platform in PLATFORMS:
            pcs = [reports[i] for i in wanted if i in reports and reports[i].host.os.family == platform]
            if not pcs:
                continue
            ids = {str(p.report_id) for p in pcs}
            plan = make_plan([r for r in results if r.report_id in ids], pcs, catalogue, unit=unit.id,
                             platform=platform, evidence=False)
            pairs = fix_pairs(plan, catalogue)
            scripted += pairs[0]
            guided += pairs[1]
        fixable.append(UnitFixability(unit=unit.id,
                                      script=[PairRef(report_id=pc.report_id, control=c) for pc, c in scripted],
                                      guidance=[PairRef(report_id=pc.report_id, control=c) for pc, c in guided]))
    scripts = [record for unit in inp.units for record in _recorded_scripts(store, unit.id)]
    return RemediationInput(fixable=fixable, scripts=scripts)
