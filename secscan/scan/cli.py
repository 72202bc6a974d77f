"""The scan stage's side of ``secscan scan TARGETS --unit ID``: the targets checked against the
unit's networks, nmap found in the background, the progress bar, the report written in parts.
The command itself is in ``secscan/wiring/scan.py``: it reads org.yaml with the policy stage's
reader and hands it in (``check_networks(read_yaml=...)``)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from secscan.scan.runner import Nmap
    from secscan.scan.targets import Network

DEFAULT_ORG = "org.yaml"
NAMED = 10  # targets named in a message or note; a note must stay within the contract's 4,096 characters


def check_networks(
    nets: list[Network], unit_id: str, org_path: str | None, force: bool, read_yaml: Callable[[Path], Any]
) -> tuple[list[str], Callable[[], object] | None]:
    """Refuse targets outside the unit's networks in org.yaml unless --force, before nmap runs.

    Returns the notes to record and, when the targets were checked against the networks read
    straight from the YAML, the full org.yaml validation still to run: it needs pydantic, whose
    import is most of our start-up, so it runs while nmap does (runner.scan stops nmap and
    nothing is written if it fails). It cannot widen what nmap scans: every target is already
    inside networks that validation would return unchanged (_declared_networks).
    """
    from secscan.scan.targets import outside

    path = Path(org_path or DEFAULT_ORG)
    if not path.is_file():
        if force:
            return [f"scanned with --force: no org.yaml ({path}) to check the targets against"], None
        raise click.ClickException(
            f"{path}: no such file: the unit's networks come from org.yaml "
            "(pass --org FILE, or --force to scan without checking)"
        )
    data = read_yaml(path)
    declared = _declared_networks(data, unit_id)
    if declared and not outside(nets, declared):
        return [], lambda: _unit_networks(path, data, unit_id)
    # Anything else (unusual shape, unknown unit, no networks, targets outside) is judged by the
    # full validation first, so its errors and notes are exactly those of `secscan org lint`.
    networks = _unit_networks(path, data, unit_id)
    if not networks and not force:
        raise click.ClickException(f"{path}: unit {unit_id!r} declares no networks; add them, or pass --force")
    beyond = outside(nets, networks)
    if not beyond:
        return [], None
    listed = _named(beyond)
    declared_text = _named(networks) or "none"
    if not force:
        raise click.ClickException(
            f"targets outside unit {unit_id!r}'s networks ({declared_text}): {listed}; "
            "check the address, or pass --force to scan anyway"
        )
    return [f"scanned with --force: targets outside the unit's networks ({declared_text}): {listed}"], None


def _named(nets: list[Network]) -> str:
    """The first NAMED networks, and how many in all: a message or note stays one short line."""
    more = f", … ({len(nets)} in all)" if len(nets) > NAMED else ""
    return ", ".join(str(n) for n in nets[:NAMED]) + more


def _declared_networks(data: Any, unit_id: str) -> list[Network] | None:
    """The unit's networks read from org.yaml's data without the org model, or None unless the
    unit has the plain shape: exactly one unit with that id, ``networks`` a list of strings.
    Strings become networks as the model's ``IPvAnyNetwork`` makes them (IPv4, else IPv6, host
    bits refused), so validation returns these same networks or fails
    (tests/scan/test_org_check.py holds the two side by side)."""
    import ipaddress

    units = data.get("units") if isinstance(data, dict) else None
    if not isinstance(units, list):
        return None
    found = [u for u in units if isinstance(u, dict) and u.get("id") == unit_id]
    raw = found[0].get("networks", []) if len(found) == 1 else None
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        return None
    try:
        return [ipaddress.ip_network(n) for n in raw]
    except ValueError:
        return None


def _unit_networks(path: Path, data: Any, unit_id: str) -> list[Network]:
    """The unit's networks. Only the shapes are checked here; `secscan org lint` checks the rest."""
    from pydantic import ValidationError

    from secscan.model.org import Organisation

    try:
        org = Organisation.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise click.ClickException(f"{path}: {field}: {first['msg']} (run `secscan org lint {path}`)") from None
    unit = org.unit_index.get(unit_id)
    if unit is None:
        known = ", ".join(sorted(org.unit_index)[:10])
        raise click.ClickException(f"{path}: unit {unit_id!r} is not in org.yaml (units: {known})")
    return list(unit.networks)


class FindNmap(threading.Thread):
    """runner.find_nmap in the background, so that waiting for `nmap -V` overlaps reading
    org.yaml; ``result()`` is its answer, or its ScanError."""

    def __init__(self, path: str | None) -> None:
        super().__init__(daemon=True)
        self._path = path
        self._found: Nmap | None = None
        self._error: Exception | None = None
        self.start()

    def run(self) -> None:
        from secscan.scan.runner import find_nmap

        try:
            self._found = find_nmap(self._path)
        except Exception as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> Nmap:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._found is not None
        return self._found


class ProgressBar:
    """A rich progress bar on stderr while nmap runs (nothing when stderr is not a terminal).
    Built on nmap's first report, so importing rich overlaps the scan instead of preceding it;
    not imported at all without a terminal, where it would only take CPU time from nmap."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None
        self._state = {"task": "starting", "hosts": 0}
        self._off = sys.stderr is None or not sys.stderr.isatty()

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, task: str | None, percent: float | None, hosts: int) -> None:
        if self._off:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            )
            self._bar.start()
            self._task = self._bar.add_task("nmap", total=100)
        state = self._state
        state["hosts"] = hosts
        if task:
            if task != state["task"]:
                state["task"] = task
                self._bar.reset(self._task)
            if percent is not None:
                self._bar.update(self._task, completed=percent)
        self._bar.update(self._task, description=f"nmap: {state['task']} · {state['hosts']} hosts up")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def part_path(out: str, i: int) -> Path:
    """Where part ``i`` (1-based) of a split report goes: part 1 at ``out``, then ``scan.part2.json``…"""
    target = Path(out)
    return target if i == 1 else target.with_name(f"{target.stem}.part{i}{target.suffix or '.json'}")


def write_parts(out: str, parts: list[tuple[Any, str]]) -> list[str]:
    """Write every part whole or none at all: temporary files beside the targets, renamed once all
    are written. On stdout, one part is the indented document as usual; several are one compact
    JSON document a line (each within the limit too). Returns the files written."""
    import tempfile

    if out == "-":
        if len(parts) == 1:
            sys.stdout.write(parts[0][1])
        else:
            import json

            for report, _ in parts:
                data = report.model_dump(mode="json", by_alias=True, exclude_none=True)
                sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        return ["-"]
    temps: list[tuple[str, Path]] = []
    try:
        for i, (_, text) in enumerate(parts, 1):
            target = part_path(out, i)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            temps.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        for tmp, target in temps:
            os.replace(tmp, target)
    except OSError as exc:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"{out}: cannot write the report: {exc.strerror}") from None
    return [str(target) for _, target in temps]
