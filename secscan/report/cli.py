"""``secscan report …``: pdf, html, csv, feed, findings (the snapshot for next period).

Input: ``--input bundle.json`` (a ``secscan.report-input/1`` document: units, controls, the latest
HostReport per host, the evaluated Results, the LAN scans), or the collector store named by
``SECSCAN_DB``, which the wiring hands in (``ReportStore``). ``--previous snapshot.json`` is last period's
``secscan report findings`` output: it drives new/open/resolved and the change table.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import NoReturn, Protocol

import click

from secscan.model.finding import Finding
from secscan.report.inputs import ReportInput
from secscan.report.texts import LANGS
from secscan.runtime import keep_until_exit

_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


# --- the collector's store -----------------------------------------------------------------------
# The report stage never imports the collector (DESIGN.md): `secscan report` (secscan/wiring/report.py)
# hands these commands the store as the click context's object.


class ReportStore(Protocol):
    """What the report commands need of the collector's store."""

    def load(self, period: str | None) -> ReportInput:
        """The latest judged reports as a report input; ValueError (one line) when there is none."""

    def record(self, findings: Iterable[Finding], at: datetime, units: Iterable[str]) -> dict[str, int]:
        """Write this period's active findings as the store's history; the new/open/resolved counts."""


# The steps of a long command, shown on a terminal: the wiring puts a function label -> context
# manager under this key of the click context's ``meta`` (secscan/wiring/progress.py); without
# one a step shows nothing.
STEPS = "secscan.report.steps"


def step(label: str) -> AbstractContextManager[object]:
    ctx = click.get_current_context(silent=True)
    steps = ctx.meta.get(STEPS) if ctx is not None else None
    return steps(label) if steps is not None else nullcontext()


def _store() -> ReportStore:
    store = click.get_current_context().obj
    if store is None:
        raise ValueError("no input: pass --input bundle.json, or set SECSCAN_DB to the collector store")
    return store


# --- commands ------------------------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    raise click.ClickException(message.splitlines()[0] if message else "failed")


def check_out(out: Path | str | None, *, beside: bool = False) -> None:
    """Refuse an output path that cannot be written before the (long) load, not after it. A file
    that exists (``/dev/stdout`` too) needs only to be writable itself; a new one, or one written
    ``beside`` first and renamed (the PDF's ``.part``), needs a writable folder."""
    if out is None or str(out) == "-":
        return
    path = Path(out)
    if path.is_dir():
        fail(f"{out}: is a folder")
    if path.exists() and not beside:
        if not os.access(path, os.W_OK):
            fail(f"{out}: not writable")
        return
    folder = path.absolute().parent
    if not folder.is_dir():
        fail(f"{out}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        fail(f"{out}: folder {folder} is not writable")


@contextmanager
def writing(*targets: Path | str) -> Iterator[None]:
    """A write that fails anyway (disk full, permissions changed meanwhile): one line, not a
    traceback. Only errors on the output itself: a template or font that cannot be read is a
    different problem and keeps its own message."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and str(exc.filename) not in {str(t) for t in targets}:
            raise
        fail(f"{targets[0]}: cannot write: {exc.strerror or exc}")


def _load(input_path: Path | None, previous: Path | None, period: str | None, unit: str | None):
    from secscan.report.inputs import load_bundle, load_snapshot
    from secscan.runtime import cyclic_gc_paused

    if period is not None and not _PERIOD.match(period):
        fail(f"--period {period}: expected YYYY-MM or YYYY, e.g. 2026-11")
    # The input is millions of objects for a province, all alive until the command ends: the
    # cyclic collector is paused while they are built (it re-scanned the growing heap over and
    # over: 17 s of a 23 s load, measured) and then told to leave them alone (freeze).
    try:
        with cyclic_gc_paused():
            if input_path:
                with step(f"reading {input_path.name}"):
                    inp = load_bundle(input_path)
            else:
                inp = _store().load(period)
            if period is not None:
                inp = inp.model_copy(update={"period": period})
            if previous is not None:
                inp = inp.model_copy(update={"previous": load_snapshot(previous)})
            if unit is not None:
                inp = inp.only_unit(unit)
            gc.freeze()
    except ValueError as exc:
        fail(str(exc))
    keep_until_exit(inp)
    return inp


def _summary(ctx_opts: dict, prices=None):
    from secscan.report.summary import summarise

    inp = _load(ctx_opts["input_path"], ctx_opts["previous"], ctx_opts["period"], ctx_opts.get("unit"))
    with step("summary and findings"):
        summary = summarise(inp, prices, ctx_opts["lang"])
    keep_until_exit(inp, summary)
    return summary


def _config(path: Path | None):
    from secscan.report.config import load

    path = path or (Path(os.environ["SECSCAN_REPORT_CONFIG"]) if os.environ.get("SECSCAN_REPORT_CONFIG") else None)
    if path is None:
        fail("--config report.yaml is required (issuing body, signer, recipients, prices; see examples/report.yaml)")
    try:
        return load(path)
    except ValueError as exc:
        fail(str(exc))


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
    check_out(out, beside=True)
    summary = _summary(opts, cfg.prices)
    tmp = out.with_name(out.name + ".part")
    try:
        with writing(out, tmp), step("the PDF: layout, drawing, writing"):
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

    check_out(out)
    summary = _summary(opts, _prices(config_path))
    with writing(out), step("writing the page"):
        write_html(summary, opts["lang"], out)
    click.echo(f"{out}: {len(summary.findings)} findings", err=True)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", default="-", help="file, or - for stdout")
def csv(out: str, **opts) -> None:
    """One row per host × control (spreadsheet-safe)."""
    from secscan.report.csvout import write_csv

    check_out(out)
    summary = _summary(opts)
    if out == "-":
        write_csv(summary, opts["lang"], sys.stdout)
    else:
        with writing(out), open(out, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
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
            fail(f"--since {since}: not an ISO 8601 time")
        if since_dt.tzinfo is None:
            fail(f"--since {since}: give a time zone, e.g. +07:00")
    if not push_url:
        check_out(out)
    summary = _summary(opts)
    lines = feed_mod.lines(summary, opts["lang"], since_dt)
    if push_url:
        try:
            with step(f"sending the events to {push_url}"):
                sent = feed_mod.push(lines, push_url, batch=batch)
        except feed_mod.PushError as exc:
            fail(str(exc))
        click.echo(f"{push_url}: {sent} events sent", err=True)
        return
    if out == "-":
        with step("writing the events"):
            feed_mod.write_lines(lines, sys.stdout)
        return
    with writing(out), open(out, "w", encoding="utf-8") as fh, step("writing the events"):
        feed_mod.write_lines(lines, fh)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="write the snapshot JSON here")
@click.option("--no-record", is_flag=True, help="with the store: do not write the findings history")
def findings(out: Path | None, no_record: bool, **opts) -> None:
    """Close the period: record its findings (store history, or a snapshot file for --previous)."""
    if out is None and (opts["input_path"] is not None or no_record):
        fail("give -o FILE (with --input or --no-record there is nowhere else to record the findings)")
    check_out(out)
    summary = _summary(opts)
    if out is not None:
        with writing(out):
            out.write_text(summary.snapshot().model_dump_json(by_alias=True, indent=1), encoding="utf-8")
    if opts["input_path"] is None and not no_record:
        counts = _store().record(
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


def _write_atomic(out: Path, write) -> None:  # type: ignore[no-untyped-def]
    """``write(path)`` to ``out`` through a ``.part`` beside it: never a half-written file under the name."""
    tmp = out.with_name(out.name + ".part")
    try:
        with writing(out, tmp):
            write(tmp)
            tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("ket-qua.xlsx"),
              show_default=True)
def xlsx(out: Path, **opts) -> None:
    """The officer's results workbook: a summary sheet and a sheet per unit, the PDF's figures (spreadsheet-safe)."""
    from secscan.report.workbook import write_results

    check_out(out, beside=True)
    summary = _summary(opts)
    sheets: list[int] = []
    with step("writing the workbook"):
        _write_atomic(out, lambda path: sheets.append(write_results(summary, opts["lang"], path)))
    click.echo(f"{out}: {sheets[0]} sheets, {summary.org.hosts} hosts, {len(summary.units)} units", err=True)


@report.command()
@_common
@click.option("--unit", required=True, help="the unit whose level-proposal dossier this is (org.yaml id)")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx", show_default=True)
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
              help="default: danh-muc-<unit>.xlsx (or .pdf)")
def inventory(unit: str, fmt: str, out: Path | None, **opts) -> None:
    """The inventory a level-proposal dossier annexes: devices, installed software, network."""
    from secscan.report import inventory as inv_mod

    out = out or Path(f"danh-muc-{unit}.{fmt}")
    check_out(out, beside=True)
    inp = _load(opts["input_path"], opts["previous"], opts["period"], unit)
    try:
        inv = inv_mod.build(inp, unit, opts["lang"])
    except ValueError as exc:
        fail(str(exc))
    writer = inv_mod.write_pdf if fmt == "pdf" else inv_mod.write_xlsx
    _write_atomic(out, lambda path: writer(inv, opts["lang"], path))
    click.echo(f"{out}: {len(inv.devices.rows)} devices, {len(inv.software.rows)} programs "
               f"({inv.software_unknown} PCs without a software list), {len(inv.network.rows)} network rows", err=True)
