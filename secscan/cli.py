"""The one click group. Each stage keeps its commands in its own ``cli`` module; they are
imported only when invoked, so ``secscan agent run`` never loads WeasyPrint or SQLAlchemy."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys

import click

from secscan import __version__

# command name -> "module:attribute"; a stage adds its line here and nothing else.
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("secscan.agent.cli:agent", "collect this PC's facts into a HostReport"),
    "schema": ("secscan.model.cli:schema", "print the JSON Schema of a contract"),
    "scan": ("secscan.scan.cli:scan", "scan a unit's LAN with nmap into a ScanReport"),
    "collector": ("secscan.collector.cli:collector", "store reports per unit; HTTP ingest"),
    "policy": ("secscan.policy.cli:policy", "lint the policy baselines"),
    "org": ("secscan.policy.cli:org", "lint the organisation file (org.yaml)"),
    "evaluate": ("secscan.policy.cli:evaluate", "judge reports against the policies per unit"),
    "report": ("secscan.report.cli:report", "leadership PDF, SOC feed, HTML and CSV"),
    "demo": ("secscan.demo:demo", "run the whole flow on a synthetic district"),
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


# What a command built that lives until the process ends (a province's report input: millions of
# objects). main() then ends the process without freeing them one by one, which took 1.5 s of a
# 17 s `secscan report pdf` (measured), once the output is flushed.
_KEPT: list[object] = []


def keep_until_exit(*objects: object) -> None:
    _KEPT[:] = objects


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit as done:
        if _KEPT:
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


def _exit_code(code: object) -> int:
    """SystemExit's code as the process's: None is success, a message is printed and is failure."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr, flush=True)
    return 1
