"""``secscan collector``: the collector's own commands (units, tokens, hosts, captures, migrate).

The commands that join the collector to other stages (init with org.yaml, import, watch,
redecode, evaluate, serve: the Windows decoder and the judgement handed in as functions) are
added by ``secscan/wiring/collector.py``; this module imports only the collector and the model.
SQLAlchemy and rich are imported inside the commands, so ``secscan --help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from secscan.collector.store import Store

DB_HELP = "store: SQLAlchemy URL or SQLite file path [env SECSCAN_DB; default ./secscan.db]"


def open_store(db: str | None, *, check: bool = True) -> Store:
    """The store at ``db`` (SECSCAN_DB, or ./secscan.db); ``check``: refuse one not at the current schema."""
    from secscan.collector.db import open_engine
    from secscan.collector.migrations import SchemaError
    from secscan.collector.store import Store

    store = Store(open_engine(db))
    if check:
        try:
            store.check()
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from exc
    return store


@contextmanager
def progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[int], object]]:
    """A progress bar on stderr (none with --quiet or when stderr is not a terminal); yields the
    function that advances it by n."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = Console(stderr=True)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@click.group()
@click.option("--db", envvar="SECSCAN_DB", help=DB_HELP)
@click.pass_context
def collector(ctx: click.Context, db: str | None) -> None:
    """Store reports per unit: import files and zips, HTTP ingest, inventory."""
    ctx.obj = {"db": db}


@collector.command()
@click.pass_obj
def migrate(obj: dict[str, Any]) -> None:
    """Apply pending schema migrations."""
    applied = open_store(obj["db"], check=False).migrate()
    click.echo(f"applied {applied}" if applied else "schema up to date")


@collector.group()
def unit() -> None:
    """List or add units (org.yaml is the usual source)."""


@unit.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def unit_list(obj: dict[str, Any], as_json: bool) -> None:
    rows = open_store(obj["db"]).units()
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
    store = open_store(obj["db"])
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
    store = open_store(obj["db"])
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
    for row in open_store(obj["db"]).tokens(unit_id):
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        click.echo(f"{row['key_id']}\t{row['unit_id']}\t{state}\tcreated {row['created_at']:%Y-%m-%d %H:%M}\t"
                   f"{row['label'] or ''}")


@token.command("revoke")
@click.argument("key_id")
@click.pass_obj
def token_revoke(obj: dict[str, Any], key_id: str) -> None:
    if not open_store(obj["db"]).revoke_token(key_id):
        raise click.ClickException(f"token {key_id}: no such active token")
    click.echo(f"token {key_id} revoked: its pushes and its signed reports are refused from now on")


def printable(text: str) -> str:
    """Control characters (terminal escapes in a hostile file name or field) shown, not obeyed."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


@collector.group()
def captures() -> None:
    """The raw Windows captures kept beside their reports: size, retention."""


@captures.command("stats")
@click.option("--unit", "unit_id")
@click.pass_obj
def captures_stats(obj: dict[str, Any], unit_id: str | None) -> None:
    from secscan.collector.captures import stats

    s = stats(open_store(obj["db"]), unit_id)
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

    n = prune(open_store(obj["db"]), keep_last=keep_last, keep_days=keep_days, now=now())
    click.echo(f"pruned {n} capture(s) (kept each PC's newest {keep_last} and all of the last {keep_days:g} days)")


@collector.command()
@click.option("--unit", "unit_id")
@click.option("--stale", type=float, metavar="DAYS", help="only hosts not heard from for DAYS days")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def hosts(obj: dict[str, Any], unit_id: str | None, stale: float | None, as_json: bool) -> None:
    """The inventory: each PC with its last report; --stale lists those that stopped reporting."""
    rows = open_store(obj["db"]).hosts(unit_id, stale)
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
        table.add_row(*(Text(printable(c)) for c in cells))
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
        done = open_store(obj["db"]).approve_move(host_id, approve=not reject)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    if done["merged_into"]:
        click.echo(f"host {host_id} merged into {done['merged_into']}: moved from unit {done['from_unit']} "
                   f"to {done['to_unit']}")
    else:
        click.echo(f"host {host_id}: kept as a PC of its own")
