"""The one click group. Each stage keeps its commands in its own ``cli`` module; they are
imported only when invoked, so ``secscan agent run`` never loads WeasyPrint or SQLAlchemy."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import click

from secscan import __version__
from secscan.runtime import objects_kept

# command name -> "module:attribute"; a stage adds its line here and nothing else.
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("secscan.agent.cli:agent", "collect this PC's facts into a HostReport"),
    "schema": ("secscan.wiring.schema:schema", "print the JSON Schema of a contract"),
    "scan": ("secscan.wiring.scan:scan", "scan a unit's LAN with nmap into a ScanReport"),
    "collector": ("secscan.wiring.collector:collector", "store reports per unit; HTTP ingest"),
    "policy": ("secscan.policy.cli:policy", "lint the policy baselines"),
    "org": ("secscan.policy.cli:org", "lint the organisation file (org.yaml)"),
    "evaluate": ("secscan.policy.cli:evaluate", "judge reports against the policies per unit"),
    "report": ("secscan.wiring.report:report", "leadership PDF, SOC feed, HTML and CSV"),
    "demo": ("secscan.wiring.demo:demo", "run the whole flow on a synthetic district"),
    "remediate": ("secscan.cli:remediate", "write a reviewable fix script for a unit's failing PCs"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (target, _) in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("secscan"):
                return None  # stage not built yet
            raise
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help from the table, so `secscan --help` imports no stage.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(target: str) -> bool:
    try:
        return importlib.util.find_spec(target.split(":")[0]) is not None
    except ModuleNotFoundError:  # the stage's package itself is not there yet
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="secscan")
def cli() -> None:
    """secscan: information-security posture of office PCs, per unit, against the
    security-level decision (Decree 85/2016, Circular 12/2022, TCVN 11930:2017)."""


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit as done:
        if objects_kept():
            code = _exit_code(done.code)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except OSError:  # the reader went away (`| head`): what it wanted, it has
                    code = code or 1
            os._exit(code)
        raise
    finally:
        # The process ends here and nothing alive now needs collecting: without this, the final
        # GC pass at exit walks every pydantic schema and rich object loaded (~70 ms after a scan).
        gc.freeze()


@click.command()
@click.option("--unit", required=True, help="the unit id (org.yaml)")
@click.option("--host", "hosts", multiple=True, help="only this PC (hostname; repeatable)")
@click.option("--control", "controls", multiple=True, help="only this control (id; repeatable)")
@click.option("--use", "use", multiple=True, help="an alternative fix instead of the default, e.g. rdp-off")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="language of the titles and guidance in the script")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the script, e.g. fix.ps1 (or fix.sh for the Linux PCs)")
@click.option("--platform", type=click.Choice(["windows", "linux"]),
              help="the PCs to fix: windows (PowerShell 5.1) or linux (POSIX sh) [default: linux for --out *.sh]")
@click.option("--force", is_flag=True, help="overwrite --out if it exists")
@click.option("--db", envvar="SECSCAN_DB",
              help="store: SQLAlchemy URL or SQLite file [env SECSCAN_DB; default ./secscan.db]")
def remediate(unit: str, hosts: tuple[str, ...], controls: tuple[str, ...], use: tuple[str, ...], lang: str,
              out: Path, platform: str | None, force: bool, db: str | None) -> None:
    """Write a PowerShell 5.1 script (a POSIX sh one for --platform linux) that fixes what the latest
    reports of UNIT's PCs still fail, from the remediation catalogue (policies/remediation/). The
    script changes nothing unless run with -Apply (--apply), and only on the PCs it lists. Read it
    first (docs/remediate.md)."""
    # The wiring: the store (collector) is read here; secscan.remediate takes Results and returns text.
    from datetime import UTC, datetime

    from secscan.collector.db import open_engine
    from secscan.collector.migrations import SchemaError
    from secscan.collector.store import Store
    from secscan.policy.baseline import load_baselines
    from secscan.policy.remediation import load_catalogue
    from secscan.policy.source import PolicyError
    from secscan.remediate import RemediateError, make_plan, render, script_bytes
    from secscan.remediate.posix import render_sh, sh_bytes
    from secscan.wiring.remediation import record_script

    platform = platform or ("linux" if out.suffix == ".sh" else "windows")
    if out.exists() and not force:
        raise click.ClickException(f"--out {out}: exists; pass --force to replace it")
    target = db or os.environ.get("SECSCAN_DB") or "secscan.db"
    if "://" not in target and not Path(target).is_file():
        raise click.ClickException(f"no store at {target}: set SECSCAN_DB (or --db) to the collector's store")
    store = Store(open_engine(target))
    try:
        store.check()
    except SchemaError as exc:
        raise click.ClickException(f"store {target}: {exc}") from None
    if store.unit(unit) is None:
        known = ", ".join(u["id"] for u in store.units()[:20])
        raise click.ClickException(f"--unit {unit}: not a unit of the store (units: {known}, ...)")
    try:
        baselines = load_baselines()
        catalogue = load_catalogue(baselines=baselines.values())
    except PolicyError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise click.ClickException("the remediation catalogue does not lint: see `secscan policy lint`") from None
    results, reports = _unit_results(store, unit)
    titles = {}
    for compiled in baselines.values():
        for control in compiled.baseline.controls:
            titles.setdefault(control.id, control.title)
    try:
        plan = make_plan(results, reports, catalogue, unit=unit, hosts=hosts, controls=controls, use=use, lang=lang,
                         titles=titles, platform=platform)
    except RemediateError as exc:
        raise click.ClickException(str(exc)) from None
    for name, why in plan.excluded:
        click.echo(f"left out: {name}: {why}", err=True)
    if not plan.pcs:
        click.echo(f"unit {unit}: no PC fails a control the catalogue can fix or explain; no script written")
        return
    written_at = datetime.now(UTC).replace(microsecond=0)
    if platform == "linux":
        out.write_bytes(sh_bytes(render_sh(plan, catalogue, version=__version__, generated_at=written_at,
                                           file_name=out.name)))
    else:
        out.write_bytes(script_bytes(render(plan, catalogue, version=__version__, generated_at=written_at,
                                            file_name=out.name)))
    record_script(store, plan, catalogue, written_at, out.name, version=__version__)
    n_fixes = sum(len(p.fixes) for p in plan.pcs)
    n_guidance = sum(len(p.guidance) for p in plan.pcs)
    click.echo(f"{out}: unit {unit}, {len(plan.pcs)} PC(s), {n_fixes} fix(es), {n_guidance} item(s) of guidance "
               f"({', '.join(f'{f.control} {len(f.failing)}' for f in plan.findings)})")
    try_it = f"sh ./{out.name}" if platform == "linux" else \
        f"powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{out.name}"
    click.echo(f"read it, then try it on one PC (it only reads by default): {try_it}")


def _unit_results(store: Any, unit: str) -> tuple[list[Any], list[Any]]:
    """The latest Results judged for ``unit`` and the HostReports they judged. A PC whose report
    names no unit (a capture run by hand) is placed in its unit by its network when judged; the
    store files its results under no unit, so they are looked for among the unplaced PCs' too."""
    from secscan.model.host import HostReport

    results = list(store.latest_results(unit))
    unplaced = {h["last_report_id"] for h in store.hosts() if h["unit_id"] is None}
    if unplaced:
        seen = {(r.report_id, r.control_id) for r in results}
        results += [r for r in store.latest_results() if r.report_id in unplaced and r.unit == unit
                    and (r.report_id, r.control_id) not in seen]
    reports = {str(r.report_id): r for r in store.latest_reports(unit)}
    for report_id in {r.report_id for r in results} - set(reports):
        document = store.report_document(report_id)
        if document is not None:
            reports[report_id] = HostReport.model_validate(document)
    newest: dict[str, HostReport] = {}  # a PC under two host records (hand-run, then signed): the newer
    for report in reports.values():
        key = (report.host.machine_id or str(report.report_id)).casefold()
        if key not in newest or report.collected_at > newest[key].collected_at:
            newest[key] = report
    kept = {str(r.report_id) for r in newest.values()}
    return [r for r in results if r.report_id in kept or r.report_id not in reports], list(newest.values())


def _exit_code(code: object) -> int:
    """SystemExit's code as the process's: None is success, a message is printed and is failure."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr, flush=True)
    return 1
