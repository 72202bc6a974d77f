"""``secscan collector``: init, tokens, import, hosts, serve, evaluate.

This module is where the collector meets the other stages: the Windows capture decoder (agent)
and the policy evaluator are imported here, lazily, only by the commands that use them, and
handed to the store; the collector package itself imports only the model. SQLAlchemy, FastAPI
and rich are imported inside the commands too, so ``secscan --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

DB_HELP = "store: SQLAlchemy URL or SQLite file path [env SECSCAN_DB; default ./secscan.db]"


def _store(db: str | None, *, check: bool = True, evaluator: bool = False) -> Any:
    from secscan.collector.db import open_engine
    from secscan.collector.migrations import SchemaError
    from secscan.collector.store import Store

    store = Store(open_engine(db))
    if check:
        try:
            store.check()
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from exc
        if evaluator:
            store.evaluator = policy_evaluator(store)
    return store


def decode_capture(raw: bytes) -> Any:
    """The Windows capture decoder, from the agent, imported on first use."""
    try:
        from secscan.agent.windows import decode_capture as decode
    except ImportError as exc:
        raise RuntimeError(f"the Windows capture decoder is not available in this installation ({exc})") from exc
    return decode(raw)


def policy_evaluator(store: Any) -> Any:
    """The policy stage's judgement over the org.yaml stored by `init --org`, or None when no
    org.yaml was loaded (reports are then stored unjudged; `evaluate` judges them later)."""
    org_json = store.get_meta("org")
    if org_json is None:
        return None
    from secscan.model.org import Organisation
    from secscan.policy import default_baseline, evaluate_host, load_baselines

    org = Organisation.model_validate_json(org_json)
    if org.baseline:
        baselines = load_baselines()
        if org.baseline not in baselines:
            raise click.ClickException(f"org.yaml: baseline {org.baseline!r} is not among the policies "
                                       f"({', '.join(sorted(baselines))})")
        baseline = baselines[org.baseline]
    else:
        baseline = default_baseline()

    def evaluate(doc: dict[str, Any], unit: str | None) -> list[Any]:
        if unit is not None and doc.get("unit") != unit:
            doc = {**doc, "unit": unit}  # the unit the token (or --unit) bound the report to
        return evaluate_host(doc, org, baseline)

    return evaluate


@click.group()
@click.option("--db", envvar="SECSCAN_DB", help=DB_HELP)
@click.pass_context
def collector(ctx: click.Context, db: str | None) -> None:
    """Store reports per unit: import files and zips, HTTP ingest, inventory."""
    ctx.obj = {"db": db}


@collector.command()
@click.option("--org", "org_file", type=click.Path(exists=True, dir_okay=False), help="org.yaml: units to create")
@click.pass_obj
def init(obj: dict[str, Any], org_file: str | None) -> None:
    """Create the store (or bring it to the current schema) and load the units of org.yaml."""
    from secscan.collector.db import display_url, resolve_url

    store = _store(obj["db"], check=False)
    applied = store.migrate()
    url = display_url(resolve_url(obj["db"]))
    click.echo(f"store {url}: " + (f"schema migrated to version {applied[-1]}" if applied else "schema up to date"))
    if org_file:
        from secscan.policy import PolicyError, load_org

        try:
            org = load_org(org_file)
        except PolicyError as exc:
            raise click.ClickException(f"{org_file}: not loaded:\n" + "\n".join(map(str, exc.errors))) from exc
        rows = [{"id": u.id, "parent_id": u.parent, "name": u.name, "kind": u.kind, "level": org.level_of(u.id),
                 "data": u.model_dump(mode="json", exclude_none=True)} for u in org.units]
        store.upsert_units(rows)
        store.set_meta("org", org.model_dump_json(by_alias=True))
        click.echo(f"units: {len(rows)} loaded from {org_file} ({org.name}); "
                   "run `secscan collector evaluate` to re-judge stored reports")


@collector.command()
@click.option("--unit", "unit_id", help="only this unit's hosts")
@click.pass_obj
def evaluate(obj: dict[str, Any], unit_id: str | None) -> None:
    """Re-judge each host's latest report against org.yaml and the policies (after either changed)."""
    store = _store(obj["db"], evaluator=True)
    if store.evaluator is None:
        raise click.ClickException("no org.yaml in the store: run `secscan collector init --org org.yaml` first")
    reports, results = store.reevaluate(unit_id)
    click.echo(f"evaluated {reports} report(s): {results} result(s)")


@collector.command()
@click.pass_obj
def migrate(obj: dict[str, Any]) -> None:
    """Apply pending schema migrations."""
    applied = _store(obj["db"], check=False).migrate()
    click.echo(f"applied {applied}" if applied else "schema up to date")


@collector.group()
def unit() -> None:
    """List or add units (org.yaml is the usual source)."""


@unit.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def unit_list(obj: dict[str, Any], as_json: bool) -> None:
    rows = _store(obj["db"]).units()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for u in rows:
        click.echo(f"{u['id']}\t{u['name']}\t{u['kind'] or '-'}\tlevel {u['level'] or '-'}\t"
                   f"parent {u['parent_id'] or '-'}\t{u['hosts']} hosts")


@unit.command("add")
@click.argument("unit_id")
@click.option("--name", required=True)
@click.option("--parent")
@click.option("--kind")
@click.option("--level", type=click.IntRange(1, 5))
@click.pass_obj
def unit_add(obj: dict[str, Any], unit_id: str, name: str, parent: str | None, kind: str | None,
             level: int | None) -> None:
    from pydantic import TypeAdapter, ValidationError

    from secscan.model.common import UnitId

    try:  # an id no report could name (too long, not org.yaml's pattern) is refused here, not later
        TypeAdapter(UnitId).validate_python(unit_id)
    except ValidationError as exc:
        raise click.BadParameter(exc.errors(include_url=False)[0]["msg"], param_hint="UNIT_ID") from None
    store = _store(obj["db"])
    if parent and store.unit(parent) is None:
        raise click.ClickException(f"--parent {parent}: no such unit")
    store.upsert_units([{"id": unit_id, "name": name, "parent_id": parent, "kind": kind, "level": level}])
    click.echo(f"unit {unit_id} saved")


@collector.group()
def token() -> None:
    """Per-unit enrollment tokens (shown once, stored only as hashes)."""


@token.command("create")
@click.option("--unit", "unit_id", required=True)
@click.option("--label", help="where the token is used, e.g. the PC batch or the officer")
@click.pass_obj
def token_create(obj: dict[str, Any], unit_id: str, label: str | None) -> None:
    store = _store(obj["db"])
    try:
        key_id, tok = store.create_token(unit_id, label)
    except KeyError as exc:
        raise click.ClickException(f"--unit {unit_id}: {exc.args[0]}") from exc
    click.echo(tok)
    click.echo(f"token {key_id} for unit {unit_id}: shown once, store it now (secscan agent run --token ...)",
               err=True)


@token.command("list")
@click.option("--unit", "unit_id")
@click.pass_obj
def token_list(obj: dict[str, Any], unit_id: str | None) -> None:
    for row in _store(obj["db"]).tokens(unit_id):
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        click.echo(f"{row['key_id']}\t{row['unit_id']}\t{state}\tcreated {row['created_at']:%Y-%m-%d %H:%M}\t"
                   f"{row['label'] or ''}")


@token.command("revoke")
@click.argument("key_id")
@click.pass_obj
def token_revoke(obj: dict[str, Any], key_id: str) -> None:
    if not _store(obj["db"]).revoke_token(key_id):
        raise click.ClickException(f"token {key_id}: no such active token")
    click.echo(f"token {key_id} revoked: its pushes and its signed reports are refused from now on")


@collector.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--unit", "unit_id", help="unit for reports that name none (unsigned files, captures)")
@click.option("--require-signature", is_flag=True, help="refuse reports not signed by a unit token")
@click.option("--batch", type=click.IntRange(min=1),
              help="reports per transaction [default: 2000] (a crash loses at most these; re-run the import)")
@click.option("--watch", is_flag=True,
              help="PATHS is one drop folder: import what arrives, again and again, moving each file to "
                   "done/ or rejected/ (with the reason) once stored")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(min=0.1),
              help="--watch: seconds between passes")
@click.option("--settle", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="--watch: take a file only once it has not changed for this many seconds")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar")
@click.pass_obj
def import_(obj: dict[str, Any], paths: tuple[str, ...], unit_id: str | None, require_signature: bool,
            batch: int | None, watch: bool, interval: float, settle: float, quiet: bool) -> None:
    """Import HostReports, ScanReports, Windows captures (signed .secscan or plain .json), folders
    and zips of them.

    Input files are only read, except with --watch, which moves them. Exit status 1 when any file
    was rejected."""
    if watch:
        _watch(obj, paths, unit_id, require_signature, interval, settle)
        return
    from secscan.collector import importer, sources
    from secscan.collector.importer import BATCH, COMMIT_EVERY, ParseWorkerError, reading, run_import, worth_a_worker

    total = sources.count(list(paths))
    commit_every = batch or COMMIT_EVERY
    # the reading (and its worker, for a large import) starts first: it parses while the store opens
    with reading(list(paths), decoder=decode_capture, size=min(BATCH, commit_every),
                 parallel=worth_a_worker(total)) as batches:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        store = _store(obj["db"], evaluator=True)
        if unit_id and store.unit(unit_id) is None:
            raise click.ClickException(f"--unit {unit_id}: no such unit")
        err = Console(stderr=True)
        with Progress(TextColumn("import"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, disable=quiet or not err.is_terminal) as bar:
            task = bar.add_task("import", total=total)
            try:
                summary = run_import(store, list(paths), unit=unit_id, require_signature=require_signature,
                                     commit_every=commit_every, progress=lambda n: bar.advance(task, n),
                                     batches=batches)
            except ParseWorkerError as exc:  # this transaction is rolled back
                raise click.ClickException(str(exc)) from None
        if summary.accepted >= importer.ANALYZE_FROM:
            store.analyze()
    for name, reason in summary.rejected:  # both may carry what a hostile file chose: shown, not obeyed
        click.echo(f"rejected: {_printable(name)}: {_printable(reason)}", err=True)
    skipped = f", {summary.skipped} skipped (not reports)" if summary.skipped else ""
    click.echo(f"accepted {summary.accepted}, duplicate {summary.duplicate}, rejected {len(summary.rejected)}"
               f"{skipped}")
    if summary.rejected:
        sys.exit(1)


def _watch(obj: dict[str, Any], paths: tuple[str, ...], unit_id: str | None, require_signature: bool,
           interval: float, settle: float) -> None:
    from pathlib import Path

    from secscan.collector.watch import WatchPass, watch

    if len(paths) != 1 or not Path(paths[0]).is_dir():
        raise click.UsageError("--watch takes exactly one folder")
    store = _store(obj["db"], evaluator=True)
    if unit_id and store.unit(unit_id) is None:
        raise click.ClickException(f"--unit {unit_id}: no such unit")

    def said(result: WatchPass) -> None:
        for name, reason in result.rejected:
            click.echo(f"rejected: {_printable(name)}: {_printable(reason)}", err=True)
        if result.done or result.rejected:
            click.echo(f"{result.done} file(s) to done/ ({result.duplicate} duplicate), "
                       f"{len(result.rejected)} to rejected/", err=True)

    click.echo(f"watching {paths[0]} every {interval:g} s (Ctrl-C to stop)", err=True)
    try:
        watch(store, Path(paths[0]), decoder=decode_capture, unit=unit_id, require_signature=require_signature,
              interval=interval, min_age=settle, on_pass=said)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def _printable(text: str) -> str:
    """Control characters (terminal escapes in a hostile file name or field) shown, not obeyed."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


@collector.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="only captures collected on or after this date (UTC)")
@click.option("--unit", "unit_id", help="only this unit's PCs")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar")
@click.pass_obj
def redecode(obj: dict[str, Any], since: Any, unit_id: str | None, quiet: bool) -> None:
    """Decode the stored Windows captures again with this secscan's decoder and re-judge them.

    A decoder fix corrects history without touching a PC. Prints how many reports changed and, per
    control, how many results changed outcome."""
    from datetime import UTC

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from secscan.collector.captures import redecode as run
    from secscan.collector.captures import stats

    store = _store(obj["db"], evaluator=True)
    total = stats(store, unit_id).captures
    err = Console(stderr=True)
    with Progress(TextColumn("redecode"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("redecode", total=total)
        summary = run(store, decode_capture, since=since.replace(tzinfo=UTC) if since else None, unit=unit_id,
                      progress=lambda n: bar.advance(task, n))
    for report_id, reason in summary.failed:
        click.echo(f"not decoded: report {report_id}: {_printable(reason)} (stored report kept)", err=True)
    click.echo(f"redecoded {summary.captures} capture(s): {summary.reports_changed} report(s) changed, "
               f"{summary.rejudged} latest report(s) judged again, {len(summary.failed)} not decoded")
    if store.evaluator is None:
        click.echo("no org.yaml in the store: results were not judged (secscan collector init --org)")
    for control, n in sorted(summary.results_changed.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {control}: {n} result(s) changed")


@collector.group()
def captures() -> None:
    """The raw Windows captures kept beside their reports: size, retention."""


@captures.command("stats")
@click.option("--unit", "unit_id")
@click.pass_obj
def captures_stats(obj: dict[str, Any], unit_id: str | None) -> None:
    from secscan.collector.captures import stats

    s = stats(_store(obj["db"]), unit_id)
    per = s.stored_bytes // s.captures if s.captures else 0
    click.echo(f"{s.captures} capture(s) of {s.hosts} PC(s): {s.stored_bytes:,} bytes stored (compressed), "
               f"{per:,} bytes each on average; oldest {s.oldest or '-'}, newest {s.newest or '-'}")


@captures.command("prune")
@click.option("--keep-last", default=12, show_default=True, type=click.IntRange(min=0),
              help="always keep each PC's newest N captures")
@click.option("--keep-days", default=400, show_default=True, type=click.FloatRange(min=0),
              help="keep every capture collected within this many days")
@click.pass_obj
def captures_prune(obj: dict[str, Any], keep_last: int, keep_days: float) -> None:
    """Delete raw captures older than --keep-days beyond each PC's newest --keep-last (their
    decoded reports stay). Run it from a timer, e.g. weekly."""
    from secscan.collector.captures import prune
    from secscan.collector.store import now

    n = prune(_store(obj["db"]), keep_last=keep_last, keep_days=keep_days, now=now())
    click.echo(f"pruned {n} capture(s) (kept each PC's newest {keep_last} and all of the last {keep_days:g} days)")


@collector.command()
@click.option("--unit", "unit_id")
@click.option("--stale", type=float, metavar="DAYS", help="only hosts not heard from for DAYS days")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def hosts(obj: dict[str, Any], unit_id: str | None, stale: float | None, as_json: bool) -> None:
    """The inventory: each PC with its last report; --stale lists those that stopped reporting."""
    rows = _store(obj["db"]).hosts(unit_id, stale)
    if as_json:
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("unit", "hostname", "os", "reports by", "last seen", "ip", "mac", "machine id", "note")
    for r in rows:
        notes = [f"clone of {r['clone_of'][:8]}" if r["clone_of"] else ("clone suspect" if r["clone_suspect"] else "")]
        notes.append(r["agent_note"] or "")
        cells = [r["unit_id"] or "-", r["hostname"], r["os_name"] or "-", r["agent_label"],
                 f"{r['last_seen']:%Y-%m-%d %H:%M}", ", ".join(r["ips"] or []), ", ".join(r["macs"]),
                 (r["machine_id"] or "-")[:12], "; ".join(n for n in notes if n)]
        # Text, not str: a hostname is the PC's to choose, and rich would obey markup in it
        table.add_row(*(Text(_printable(c)) for c in cells))
    Console().print(table)
    click.echo(f"{len(rows)} host(s)" + (f" not seen for {stale:g} days" if stale is not None else ""))


@collector.command("approve-move")
@click.argument("host_id")
@click.option("--reject", is_flag=True, help="two different PCs after all: keep both, drop the flag")
@click.pass_obj
def approve_move(obj: dict[str, Any], host_id: str, reject: bool) -> None:
    """Settle a PC that reported from another unit than the one it is filed under.

    A report whose machine id or MACs match a PC of another unit is never filed under that PC
    (one unit's token cannot change another unit's PCs): it gets a host of its own, flagged in
    `collector hosts`. Approving merges the two: the PC moved, with its history."""
    try:
        done = _store(obj["db"]).approve_move(host_id, approve=not reject)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    if done["merged_into"]:
        click.echo(f"host {host_id} merged into {done['merged_into']}: moved from unit {done['from_unit']} "
                   f"to {done['to_unit']}")
    else:
        click.echo(f"host {host_id}: kept as a PC of its own")


@collector.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, type=int)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--max-bytes", default=None, type=int, help="largest accepted body (default 4 MiB)")
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds for a request's line and headers (from the connection, or from the first byte of the "
                   "next request on a kept-alive one); then the connection is closed")
@click.option("--body-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds for the whole body once the headers are in; then 408 and the connection is closed "
                   "(allow a 4 MiB body over the slowest commune link)")
@click.option("--idle-timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds a kept-alive connection may wait between requests")
@click.option("--max-connections", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="open connections per worker process; beyond it a new connection gets 503 (the open-file "
                   "limit is raised to fit)")
@click.pass_obj
def serve(obj: dict[str, Any], host: str, port: int, tls_cert: str | None, tls_key: str | None,
          max_bytes: int | None, workers: int, header_timeout: float, body_timeout: float, idle_timeout: float,
          max_connections: int) -> None:
    """Run the HTTP(S) ingest: POST /api/v1/reports, GET /api/v1/units, /healthz.

    Every connection has deadlines (a client that sends its request slowly, or nothing, is
    closed), the number of connections is capped, and a push refused before its body is read
    (401, 413) is answered and closed without reading the body: safe on a LAN without a reverse
    proxy (docs/deployment.md)."""
    import uvicorn

    from secscan.collector.db import resolve_url
    from secscan.collector.server import Limits, open_files_for

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    _store(obj["db"])  # refuse to start on a store that is not initialised
    os.environ["SECSCAN_DB"] = resolve_url(obj["db"])
    if max_bytes:
        os.environ["SECSCAN_MAX_BYTES"] = str(max_bytes)
    if not tls_cert and host not in ("127.0.0.1", "::1", "localhost"):
        click.echo("warning: serving plain HTTP on a non-loopback address; use --tls-cert/--tls-key", err=True)
    max_connections, note = open_files_for(max_connections)
    if note:
        click.echo(note, err=True)
    # the worker processes read the limits from the environment (secscan.collector.server.limits)
    os.environ.update(Limits(header_timeout, body_timeout, idle_timeout, max_connections).env())
    uvicorn.run("secscan.collector.cli:app_from_env", factory=True, host=host, port=port, workers=workers,
                http="secscan.collector.server:DeadlineProtocol", loop="secscan.collector.server:new_event_loop",
                timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]
                ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_level="warning", access_log=False,
                proxy_headers=False)  # nothing here reads client addresses: skip X-Forwarded-* per request


def app_from_env() -> Any:
    """The ASGI app for uvicorn (each worker builds its own store from SECSCAN_DB)."""

    from secscan.collector.api import create_app
    from secscan.collector.db import checkpoint_in_background
    from secscan.collector.intake import MAX_REPORT_BYTES
    from secscan.runtime import long_lived_process

    store = _store(None, evaluator=True)
    checkpoint_in_background(store.engine)
    long_lived_process()
    return create_app(store, max_bytes=int(os.environ.get("SECSCAN_MAX_BYTES") or MAX_REPORT_BYTES),
                      decoder=decode_capture, parse_process=(os.cpu_count() or 1) > 1)
