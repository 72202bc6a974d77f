"""``secscan scan``: the scan stage's command, checking its targets against the unit's networks in
org.yaml, which is read by the policy stage's hardened YAML reader (the scan stage never imports
the policy stage). The rest of the command's pieces are the scan stage's (secscan/scan/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from secscan.scan.cli import DEFAULT_ORG, FindNmap, ProgressBar, check_networks, write_parts


def read_yaml(path: Path) -> Any:
    """org.yaml's data, read as every other command reads it (``secscan.policy.source``: size and
    node limits, aliases counted per use, duplicate keys and non-plain tags refused, libyaml's
    parser). Only that module and PyYAML are imported here, before nmap starts."""
    from secscan.policy.source import read

    src = read(path)
    if src.errors:
        more = f" (and {len(src.errors) - 1} more; run `secscan org lint {path}`)" if len(src.errors) > 1 else ""
        raise click.ClickException(f"{src.errors[0]}{more}")
    return src.data


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--unit", "unit_id", required=True, help="The unit whose LAN this is (its id in org.yaml).")
@click.option(
    "--org",
    "org_path",
    type=click.Path(dir_okay=False),
    envvar="SECSCAN_ORG",
    default=None,
    help=f"org.yaml with the unit's networks [env SECSCAN_ORG; default ./{DEFAULT_ORG}].",
)
@click.option(
    "--profile",
    type=click.Choice(["quick", "standard", "full"]),
    default="standard",
    show_default=True,
    help="quick: risky ports; standard: + service versions; full: + more ports, UDP, OS guess.",
)
@click.option("--out", "out", default="-", show_default=True, help="Where to write the ScanReport JSON (- = stdout).")
@click.option("--force", is_flag=True, help="Scan targets outside the unit's declared networks.")
@click.option("--dns/--no-dns", default=True, show_default=True, help="Reverse-DNS names of live hosts.")
@click.option("--nmap", "nmap_path", default=None, envvar="SECSCAN_NMAP", help="Path of the nmap program.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=256 * 1024),  # room for the targets (a quarter at most) and hosts in each part
    default=4 * 1024 * 1024,  # the collector's default (runner.MAX_REPORT_BYTES, tests/scan/test_limits.py)
    show_default=True,
    envvar="SECSCAN_MAX_BYTES",
    help="Largest report document the collector takes (its SECSCAN_MAX_BYTES); a larger scan is written in parts.",
)
def scan(
    targets: tuple[str, ...],
    unit_id: str,
    org_path: str | None,
    profile: str,
    out: str,
    force: bool,
    dns: bool,
    nmap_path: str | None,
    max_bytes: int,
) -> None:
    """Scan TARGETS (addresses, CIDRs, ranges like 192.168.1.10-50) on the LAN of unit --unit.

    Run as root (Linux) or from an elevated prompt (Windows) for MAC addresses, vendors and the
    OS guess; otherwise secscan falls back to a TCP connect scan and says what is lost.
    """
    # Everything before nmap starts is start-up the user waits for (docs/scan.md, "Speed"): only
    # what decides whether and how to run nmap is done here; the rest waits until nmap runs.
    from secscan.scan.profiles import load_profiles
    from secscan.scan.runner import ScanError, privileged, split
    from secscan.scan.runner import scan as run_scan
    from secscan.scan.targets import TargetError, parse_targets

    try:
        nets = parse_targets(targets)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="TARGETS") from None
    finding = FindNmap(nmap_path)  # its `nmap -V` runs while org.yaml is read
    notes, org_check = check_networks(nets, unit_id, org_path, force, read_yaml)
    try:
        nmap = finding.result()
    except ScanError as exc:
        raise click.ClickException(str(exc)) from None
    is_privileged = privileged()
    chosen = load_profiles()[profile]
    if not is_privileged:
        click.echo(
            "warning: not root/Administrator: TCP connect scan; no MAC addresses, vendors or OS guess "
            "(the report's notes list what is lost)",
            err=True,
        )
    warnings: list[str] = []
    try:
        with ProgressBar() as progress:
            report = run_scan(
                nets,
                chosen,
                unit=unit_id,
                nmap=nmap,
                is_privileged=is_privileged,
                dns=dns,
                progress=progress,
                while_running=org_check,
                warnings=warnings,
                max_bytes=max_bytes,
            )
        report.notes[:0] = notes
        # Over the collector's limit per document (thousands of live hosts): several reports.
        parts = split(report, max_bytes)
    except ScanError as exc:
        raise click.ClickException(str(exc)) from None
    for i, (_, text) in enumerate(parts, 1):
        if len(text.encode()) > max_bytes:  # cannot happen within check_targets' bounds; written all the same
            warnings.append(f"part {i} of the report is {len(text.encode()):,} bytes, over --max-bytes {max_bytes:,}: "
                            "the collector refuses it unless its SECSCAN_MAX_BYTES is raised")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    written = write_parts(out, parts)
    opened = sum(1 for h in report.hosts for p in h.ports if p.state == "open")
    where = "stdout" if out == "-" else written[0]
    if len(parts) > 1:
        how = "one JSON document a line" if out == "-" else ", ".join(written)
        where += (f" as {len(parts)} ScanReports ({how}): the collector takes at most {max_bytes:,} "
                  "bytes per document; import every part")
    click.echo(
        f"scan: {len(report.hosts)} hosts up, {opened} open ports ({profile}, nmap {report.nmap.version}) -> {where}",
        err=True,
    )
