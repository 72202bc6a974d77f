"""``secscan collector``: the collector's own commands (secscan/collector/cli.py) and those that
join it to other stages. The collector never imports the agent or the policy stage: the Windows
capture decoder (``CaptureDecoder``) and the judgement (``Evaluator``) are handed to it here as
functions, imported lazily, only by the commands that use them, so ``secscan --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from secscan.collector import cli as stage
from secscan.collector.cli import open_store, printable

if TYPE_CHECKING:
    from secscan.collector.store import Evaluator, Store
    from secscan.model.host import HostReport


def decode_capture(raw: bytes) -> HostReport:
    """The Windows capture decoder, from the agent, imported on first use."""
    try:
        from secscan.agent.windows import decode_capture as decode
    except ImportError as exc:
        raise RuntimeError(f"the Windows capture decoder is not available in this installation ({exc})") from exc
    return decode(raw)


def policy_evaluator(store: Store) -> Evaluator | None:
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


def judging_store(db: str | None) -> Store:
    """The store, checked, judging what it takes with the org.yaml it holds."""
    store = open_store(db)
    store.evaluator = policy_evaluator(store)
    return store


# The stage's group with the joined commands added: a new group, so the stage's stays as it is.
collector = click.Group(name=stage.collector.name, params=stage.collector.params, callback=stage.collector.callback,
                        help=stage.collector.help, commands=dict(stage.collector.commands))


@collector.command()
@click.option("--org", "org_file", type=click.Path(exists=True, dir_okay=False), help="org.yaml: units to create")
@click.pass_obj
def init(obj: dict[str, Any], org_file: str | None) -> None:
    """Create the store (or bring it to the current schema) and load the units of org.yaml."""
    from secscan.collector.db import display_url, resolve_url

    store = open_store(obj["db"], check=False)
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
    store = judging_store(obj["db"])
    if store.evaluator is None:
        raise click.ClickException("no org.yaml in the store: run `secscan collector init --org org.yaml` first")
    with stage.progress("evaluate", store.latest_report_count(unit_id), quiet=False) as advance:
        reports, results = store.reevaluate(unit_id, progress=advance)
    click.echo(f"evaluated {reports} report(s): {results} result(s)")


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
        store = judging_store(obj["db"])
        if unit_id and store.unit(unit_id) is None:
            raise click.ClickException(f"--unit {unit_id}: no such unit")
        with stage.progress("import", total, quiet) as advance:
            try:
                summary = run_import(store, list(paths), unit=unit_id, require_signature=require_signature,
                                     commit_every=commit_every, progress=advance, batches=batches)
            except ParseWorkerError as exc:  # this transaction is rolled back
                raise click.ClickException(str(exc)) from None
        if summary.accepted >= importer.ANALYZE_FROM:
            store.analyze()
    for name, reason in summary.rejected:  # both may carry what a hostile file chose: shown, not obeyed
        click.echo(f"rejected: {printable(name)}: {printable(reason)}", err=True)
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
    store = judging_store(obj["db"])
    if unit_id and store.unit(unit_id) is None:
        raise click.ClickException(f"--unit {unit_id}: no such unit")

    def said(result: WatchPass) -> None:
        for name, reason in result.rejected:
            click.echo(f"rejected: {printable(name)}: {printable(reason)}", err=True)
        if result.done or result.rejected:
            click.echo(f"{result.done} file(s) to done/ ({result.duplicate} duplicate), "
                       f"{len(result.rejected)} to rejected/", err=True)

    click.echo(f"watching {paths[0]} every {interval:g} s (Ctrl-C to stop)", err=True)
    try:
        watch(store, Path(paths[0]), decoder=decode_capture, unit=unit_id, require_signature=require_signature,
              interval=interval, min_age=settle, on_pass=said)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


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

    from secscan.collector.captures import redecode as run
    from secscan.collector.captures import stats

    store = judging_store(obj["db"])
    total = stats(store, unit_id).captures
    with stage.progress("redecode", total, quiet) as advance:
        summary = run(store, decode_capture, since=since.replace(tzinfo=UTC) if since else None, unit=unit_id,
                      progress=advance)
    for report_id, reason in summary.failed:
        click.echo(f"not decoded: report {report_id}: {printable(reason)} (stored report kept)", err=True)
    click.echo(f"redecoded {summary.captures} capture(s): {summary.reports_changed} report(s) changed, "
               f"{summary.rejudged} latest report(s) judged again, {len(summary.failed)} not decoded")
    if store.evaluator is None:
        click.echo("no org.yaml in the store: results were not judged (secscan collector init --org)")
    for control, n in sorted(summary.results_changed.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {control}: {n} result(s) changed")


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
    open_store(obj["db"])  # refuse to start on a store that is not initialised
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
    uvicorn.run("secscan.wiring.collector:app_from_env", factory=True, host=host, port=port, workers=workers,
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

    store = judging_store(None)
    checkpoint_in_background(store.engine)
    long_lived_process()
    app = create_app(store, max_bytes=int(os.environ.get("SECSCAN_MAX_BYTES") or MAX_REPORT_BYTES),
                     decoder=decode_capture, parse_process=(os.cpu_count() or 1) > 1)
    return with_console(app, store)


def with_console(app: Any, store: Store) -> Any:
    """``app`` with the officers' web console mounted at /console, its figures read by the report
    stage from the same store (docs/console.md)."""
    from secscan.console.app import mounted
    from secscan.wiring.report import from_store

    url = store.engine.url.render_as_string(hide_password=False)
    return mounted(app, store, lambda: from_store(url, None))


@collector.group()
def user() -> None:
    """Accounts of the web console (/console): admin (every unit), officer (a unit and its
    sub-units), viewer (read-only; a unit and its sub-units, or every unit)."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def _users(db: str | None) -> Any:
    from secscan.collector.users import Users

    return Users(open_store(db).db)


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "officer", "viewer"]), required=True)
@click.option("--unit", "unit_id", help="the top of the account's scope (officer: required; admin: none)")
@click.option("--lang", type=click.Choice(["vi", "en"]), help="the console's language for this account [vi]")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@click.pass_obj
def user_add(obj: dict[str, Any], name: str, role: str, unit_id: str | None, lang: str | None,
             password_stdin: bool) -> None:
    """Create a console account."""
    from secscan.collector.users import UserError

    users = _users(obj["db"])
    try:
        users.add(name, role, unit_id, _password(password_stdin), lang)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name}: {role}" + (f" of {unit_id} and its sub-units" if unit_id else ", every unit"))


@user.command("list")
@click.pass_obj
def user_list(obj: dict[str, Any]) -> None:
    """The console's accounts (never their passwords)."""
    for u in _users(obj["db"]).listed():
        state = "disabled" if u["disabled_at"] else "locked" if u["locked_until"] else "active"
        click.echo(f"{printable(u['name'])}\t{u['role']}\t{u['unit_id'] or '*'}\t{state}")


@user.command("disable")
@click.argument("name")
@click.pass_obj
def user_disable(obj: dict[str, Any], name: str) -> None:
    """Disable an account; its open sessions end at once."""
    from secscan.collector.users import UserError

    try:
        _users(obj["db"]).disable(name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name}: disabled")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@click.pass_obj
def user_passwd(obj: dict[str, Any], name: str, password_stdin: bool) -> None:
    """Set an account's password; its open sessions end and a lockout is lifted."""
    from secscan.collector.users import UserError

    try:
        _users(obj["db"]).set_password(name, _password(password_stdin))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name}: password changed")
