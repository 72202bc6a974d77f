"""``secscan report …``: pdf, html, csv, feed, findings (the snapshot for next period), sample.

Input: ``--input bundle.json`` (a ``secscan.report-input/1`` document: units, controls, the latest
HostReport per host, the evaluated Results, the LAN scans), or the collector store named by
``SECSCAN_DB`` when that stage is installed. ``--previous snapshot.json`` is last period's
``secscan report findings`` output: it drives new/open/resolved and the change table.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path

import click

from secscan.report.texts import LANGS

_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


def _fail(message: str) -> None:
    raise click.ClickException(message.splitlines()[0] if message else "failed")


def _load(input_path: Path | None, previous: Path | None, period: str | None, unit: str | None):
    from secscan.report.inputs import load_bundle, load_snapshot

    if period is not None and not _PERIOD.match(period):
        _fail(f"--period {period}: expected YYYY-MM or YYYY, e.g. 2026-11")
    try:
        if input_path is not None:
            inp = load_bundle(input_path)
        else:
            from secscan.report.source import from_store

            inp = from_store(os.environ.get("SECSCAN_DB"), period)
        if period is not None:
            inp = inp.model_copy(update={"period": period})
        if previous is not None:
            inp = inp.model_copy(update={"previous": load_snapshot(previous)})
        if unit is not None:
            inp = inp.only_unit(unit)
    except ValueError as exc:
        _fail(str(exc))
    return inp


def _summary(ctx_opts: dict, prices=None):
    from secscan.report.summary import summarise

    inp = _load(ctx_opts["input_path"], ctx_opts["previous"], ctx_opts["period"], ctx_opts.get("unit"))
    return summarise(inp, prices, ctx_opts["lang"])


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
    f = click.option("--period", help="period label / selection: 2026-11 or 2026")(f)
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
    summary = _summary(opts, cfg.prices)
    tmp = out.with_name(out.name + ".part")
    try:
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

    summary = _summary(opts, _prices(config_path))
    write_html(summary, opts["lang"], out)
    click.echo(f"{out}: {len(summary.findings)} findings", err=True)


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", default="-", help="file, or - for stdout")
def csv(out: str, **opts) -> None:
    """One row per host × control (spreadsheet-safe)."""
    from secscan.report.csvout import write_csv

    summary = _summary(opts)
    if out == "-":
        write_csv(summary, opts["lang"], sys.stdout)
    else:
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel then reads UTF-8
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
    summary = _summary(opts)
    lines = feed_mod.to_ndjson(feed_mod.events(summary, opts["lang"], since_dt))
    if push_url:
        try:
            sent = feed_mod.push(lines, push_url, batch=batch)
        except feed_mod.PushError as exc:
            _fail(str(exc))
        click.echo(f"{push_url}: {sent} events sent", err=True)
        return
    fh = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        fh.writelines(lines)
    finally:
        if fh is not sys.stdout:
            fh.close()


@report.command()
@_common
@_unit_opt
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="write the snapshot JSON here")
@click.option("--no-record", is_flag=True, help="with the store: do not write the findings history")
def findings(out: Path | None, no_record: bool, **opts) -> None:
    """Close the period: record its findings (store history, or a snapshot file for --previous)."""
    if out is None and (opts["input_path"] is not None or no_record):
        _fail("give -o FILE (with --input or --no-record there is nowhere else to record the findings)")
    summary = _summary(opts)
    if out is not None:
        out.write_text(summary.snapshot().model_dump_json(by_alias=True, indent=1), encoding="utf-8")
    if opts["input_path"] is None and not no_record:
        from secscan.report.source import record_findings

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
@click.option("--units", default=24, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--hosts-per-unit", default=25, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--seed", default=7, show_default=True)
def sample(out: Path, units: int, hosts_per_unit: int, seed: int) -> None:
    """Write a synthetic district as a report input bundle (to try the renderers)."""
    from secscan.report.sample import sample_input

    inp = sample_input(units=units, hosts_per_unit=hosts_per_unit, seed=seed)
    out.write_text(inp.model_dump_json(by_alias=True), encoding="utf-8")
    click.echo(f"{out}: {len(inp.units)} units, {len(inp.hosts)} hosts, {len(inp.results)} results", err=True)
