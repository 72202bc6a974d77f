"""``secscan report …``: pdf, html, csv, feed, findings (the snapshot for next period), sample.

Input: ``--input bundle.json`` (a ``secscan.report-input/1`` document: units, controls, the latest
HostReport per host, the evaluated Results, the LAN scans), or the collector store named by
``SECSCAN_DB`` when that stage is installed. ``--previous snapshot.json`` is last period's
``secscan report findings`` output: it drives new/open/resolved and the change table.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from secscan.cli import keep_until_exit
from secscan.model.finding import Finding
from secscan.report.inputs import ReportInput, Snapshot
from secscan.report.texts import LANGS

_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


# --- the collector store (SECSCAN_DB) --------------------------------------------------------------
# Here, in the wiring layer: the report package itself imports only model and policy (DESIGN.md).
# The store's findings history is written by `secscan report findings`: run the period's documents
# first, then record, so the next period compares against this one.

HISTORY_BASELINE = "secscan-report"  # the store keys findings by (unit, baseline, control)


def open_store(db_url: str | None) -> Any:
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


def previous_from_store(store: Any, period: str) -> Snapshot | None:
    rows = [r for r in store.findings(include_resolved=False) if r["baseline"] == HISTORY_BASELINE and r.get("data")]
    if not rows:
        return None
    findings = [Finding.model_validate(r["data"]) for r in rows]
    last = max(r["last_seen"] for r in rows)
    return Snapshot(period=f"before {period}", generated_at=last, findings=findings)


def from_store(db_url: str | None, period: str | None) -> ReportInput:
    from secscan.model.org import Organisation
    from secscan.policy import default_baseline, load_baselines
    from secscan.report.evaluated import build_input

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
    reports, scans = store.latest_reports(unreadable=unreadable), store.scans(unreadable=unreadable)
    if unreadable:
        first_id, why = unreadable[0]
        click.echo(f"warning: {len(unreadable)} stored document(s) no longer meet the contract and are left out "
                   f"of the inventory (e.g. {first_id}: {why}); their PCs' stored results still count. Import "
                   "a fresh report from those PCs.", err=True)
    return build_input(
        org,
        baseline,
        reports,
        scans,
        results=store.latest_results(),
        period=period,
        generated_at=now,
        previous=previous_from_store(store, period),
    )


def record_findings(db_url: str | None, findings: Iterable[Finding], at: datetime, units: Iterable[str]) -> dict:
    """Write this period's active findings as the store's history (one transaction)."""
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


# --- commands ------------------------------------------------------------------------------------


def _fail(message: str) -> None:
    raise click.ClickException(message.splitlines()[0] if message else "failed")


def _check_out(out: Path | str | None, *, beside: bool = False) -> None:
    """Refuse an output path that cannot be written before the (long) load, not after it. A file
    that exists (``/dev/stdout`` too) needs only to be writable itself; a new one, or one written
    ``beside`` first and renamed (the PDF's ``.part``), needs a writable folder."""
    if out is None or str(out) == "-":
        return
    path = Path(out)
    if path.is_dir():
        _fail(f"{out}: is a folder")
    if path.exists() and not beside:
        if not os.access(path, os.W_OK):
            _fail(f"{out}: not writable")
        return
    folder = path.absolute().parent
    if not folder.is_dir():
        _fail(f"{out}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        _fail(f"{out}: folder {folder} is not writable")


@contextmanager
def _writing(*targets: Path | str) -> Iterator[None]:
    """A write that fails anyway (disk full, permissions changed meanwhile): one line, not a
    traceback. Only errors on the output itself: a template or font that cannot be read is a
    different problem and keeps its own message."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and str(exc.filename) not in {str(t) for t in targets}:
            raise
        _fail(f"{targets[0]}: cannot write: {exc.strerror or exc}")


def _load(input_path: Path | None, previous: Path | None, period: str | None, unit: str | None):
    from secscan.report.inputs import load_bundle, load_snapshot
    from secscan.runtime import cyclic_gc_paused

    if period is not None and not _PERIOD.match(period):
        _fail(f"--period {period}: expected YYYY-MM or YYYY, e.g. 2026-11")
    # The input is millions of objects for a province, all alive until the command ends: the
    # cyclic collector is paused while they are built (it re-scanned the growing heap over and
    # over: 17 s of a 23 s load, measured) and then told to leave them alone (freeze).
    try:
        with cyclic_gc_paused():
            inp = load_bundle(input_path) if input_path else from_store(os.environ.get("SECSCAN_DB"), period)
            if period is not None:
                inp = inp.model_copy(update={"period": period})
            if previous is not None:
                inp = inp.model_copy(update={"previous": load_snapshot(previous)})
            if unit is not None:
                inp = inp.only_unit(unit)
            gc.freeze()
    except ValueError as exc:
        _fail(str(exc))
    keep_until_exit(inp)
    return inp


def _summary(ctx_opts: dict, prices=None):
    from secscan.report.summary import summarise

    inp = _load(ctx_opts["input_path"], ctx_opts["previous"], ctx_opts["period"], ctx_opts.get("unit"))
    summary = summarise(inp, prices, ctx_opts["lang"])
    keep_until_exit(inp, summary)
    return summary


def _config(path: Path | None):
    from secscan.report.config import load

    path = path or (Path(os.environ["SECSCAN_REPORT_CONFIG"]) if os.environ.get("SECSCAN_REPORT_CONFIG") else None)
    if path is None:
        _fail("--config report.yaml is required (issuing body, signer, recipients, prices; see examples/report.yaml)")
    try:
        return load(path)
    except ValueError as exc:
        _fail(str(exc))


def _prices(path: Path | None):
    """Licence prices when a report.yaml is given (html/csv show the cost only then)."""
    if path is None and not os.environ.get("SECSCAN_REPORT_CONFIG"):
        return None
    return _config(path).prices


def _common(f):
    f = click.option(
        "--input",
        "input_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="report input bundle (secscan.report-input/1 JSON); default: the store in SECSCAN_DB",
    )(f)
    f = click.option(
        "--previous",
        type=click.Path(path_type=Path, dir_okay=False),
        help="last period's snapshot (output of `secscan report findings`)",
    )(f)
    f = click.option(
        "--period",
        help="the period the report covers: 2026-11 or 2026 (a label: the store keeps each host's latest report)",
    )(f)
    f = click.option("--lang", type=click.Choice(LANGS), default="vi", show_default=True)(f)
    return f


def _unit_opt(f):
    return click.option("--unit", help="only this unit id")(f)


def _config_opt(f):
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="report.yaml (default: $SECSCAN_REPORT_CONFIG)",
    )(f)


@click.group()
def report() -> None:
    """Leadership PDF, SOC feed (OCSF), HTML and CSV from evaluated results."""


@report.command()
@_common
@_unit_opt
@_config_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
def pdf(out: Path, config_path: Path | None, **opts) -> None:
    """The leadership report (Decree 30/2020 layout), Vietnamese by default."""
    from secscan.report.pdf import write_pdf

    cfg = _config(config_path)
    _check_out(out, beside=True)
    summary = _summary(opts, cfg.prices)
    tmp = out.with_name(out.name + ".part")
    try:
        with _writing(out, tmp):
            pages = write_pdf(summary, cfg, opts["lang"], tmp)
            tmp.replace(out)  # never leave a half-written PDF under the requested name
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"{out}: {pages} pages, {summary.org.hosts} hosts, {len(summary.units)} units", err=True)


@report.command()
@_common
@_unit_opt
@_config_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
def html(out: Path, config_path: Path | None, **opts) -> None:
    """Sortable tables for the IT officer (one self-contained file)."""
    from secscan.report.html import write_html

    _check_out(out)
    summary = _summary(opts, _prices(config_path))
    with _writing(out):
        write_html(summary, opts["lang"], out)
    click.echo(f"{out}: {len(summary.findings)} findings", err=True)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", default="-", help="file, or - for stdout")
def csv(out: str, **opts) -> None:
    """One row per host × control (spreadsheet-safe)."""
    from secscan.report.csvout import write_csv

    _check_out(out)
    summary = _summary(opts)
    if out == "-":
        write_csv(summary, opts["lang"], sys.stdout)
    else:
        with _writing(out), open(out, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
            n = write_csv(summary, opts["lang"], fh)
        click.echo(f"{out}: {n} rows", err=True)


@report.command()
@_common
@_unit_opt
@click.option("--since", help="only events at or after this time (ISO 8601 with zone, e.g. 2026-11-01T00:00:00+07:00)")
@click.option("--push", "push_url", help="POST the events in NDJSON batches to this URL (with retry)")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("-o", "--out", default="-", help="file, or - for stdout (ignored with --push)")
def feed(since: str | None, push_url: str | None, batch: int, out: str, **opts) -> None:
    """OCSF 1.5.0 Compliance Findings (class 2003), one JSON per line."""
    from secscan.report import feed as feed_mod

    since_dt = None
    if since is not None:
        try:
            since_dt = datetime.fromisoformat(since)
        except ValueError:
            _fail(f"--since {since}: not an ISO 8601 time")
        if since_dt.tzinfo is None:
            _fail(f"--since {since}: give a time zone, e.g. +07:00")
    if not push_url:
        _check_out(out)
    summary = _summary(opts)
    lines = feed_mod.lines(summary, opts["lang"], since_dt)
    if push_url:
        try:
            sent = feed_mod.push(lines, push_url, batch=batch)
        except feed_mod.PushError as exc:
            _fail(str(exc))
        click.echo(f"{push_url}: {sent} events sent", err=True)
        return
    if out == "-":
        feed_mod.write_lines(lines, sys.stdout)
        return
    with _writing(out), open(out, "w", encoding="utf-8") as fh:
        feed_mod.write_lines(lines, fh)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="write the snapshot JSON here")
@click.option("--no-record", is_flag=True, help="with the store: do not write the findings history")
def findings(out: Path | None, no_record: bool, **opts) -> None:
    """Close the period: record its findings (store history, or a snapshot file for --previous)."""
    if out is None and (opts["input_path"] is not None or no_record):
        _fail("give -o FILE (with --input or --no-record there is nowhere else to record the findings)")
    _check_out(out)
    summary = _summary(opts)
    if out is not None:
        with _writing(out):
            out.write_text(summary.snapshot().model_dump_json(by_alias=True, indent=1), encoding="utf-8")
    if opts["input_path"] is None and not no_record:
        counts = record_findings(
            os.environ.get("SECSCAN_DB"),
            summary.active_findings,
            summary.inp.generated_at,
            [u.id for u in summary.inp.units],
        )
        click.echo(
            f"SECSCAN_DB: findings recorded: {counts['new']} new, {counts['open']} open, {counts['resolved']} resolved",
            err=True,
        )
    click.echo(
        f"{len(summary.active_findings)} findings "
        f"({len(summary.resolved_findings)} resolved since the previous period)",
        err=True,
    )


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

    _check_out(out)
    try:
        documents = bundle.district(seed, copies=copies, draws=draws, units=list(units) if units else None)
    except ValueError as exc:
        _fail(str(exc))
    inp = bundle.report_input(documents)
    with _writing(out):
        out.write_text(inp.model_dump_json(by_alias=True), encoding="utf-8")
    click.echo(f"{out}: {len(inp.units)} units, {len(inp.hosts)} hosts, {len(inp.results)} results", err=True)
