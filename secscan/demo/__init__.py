"""``secscan demo``: the whole flow on a synthetic organisation, from nothing, in well under a minute.
``--era 2023`` (the default) is UBND huyện Hạ Hòa with its departments and communes; ``--era 2025``
is tỉnh Phú Thọ's communes reporting to the provincial Sở Khoa học và Công nghệ under the 2026
regime (``secscan/demo/eras.py``).

1. writes org.yaml for the era's organisation and a report configuration;
2. draws a fleet at the rates of the 2023 district report and writes it as the IT officers' USB sticks
   (signed HostReports, per-unit tokens, and for some PCs raw Windows captures) and as the share
   the scheduled PowerShell script drops signed captures on;
3. runs the real agent on this machine;
4. scans a LAN of network namespaces it builds itself with the real nmap (root, nmap and
   iproute2 needed; otherwise it says why it skipped);
5. imports everything through the collector, evaluates, and writes the PDF, the OCSF feed, the
   HTML and the CSV, printing their paths and the headline numbers beside the generator's truth.

The demo drives the stages' own commands through the function ``secscan/wiring/demo.py`` hands
in (it never imports the wiring), and reads the store and the policies itself for the headline.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click

if TYPE_CHECKING:
    from secscan.demo.eras import Era

class RunCommand(Protocol):
    """Runs one secscan command in-process with these environment variables set; a command that
    fails raises click.ClickException naming it."""

    def __call__(self, args: list[str], env: dict[str, str]) -> None: ...


def _write_yaml(path: Path, data: dict[str, Any], header: str) -> None:
    import yaml

    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def _usb_sticks(out: Path, store: Any, seed: int, era: Era) -> tuple[Any, int, int, int]:
    """The fleet as it reaches the collector (the district's, or the province's): signed HostReports
    (the Python agent) and raw captures (collect.ps1 run by hand) on the officers' USB sticks, and
    signed captures that the scheduled collect.ps1 dropped on the collector's share (``-OutDir``).
    Returns (PCs, reports, USB captures, share captures)."""
    from secscan.demo import captures, fleet
    from secscan.model.signing import seal, sign

    pcs = era.draw(seed)
    now = fleet.now_for_period()
    tokens: dict[str, str] = {}
    usb = out / "usb"
    share = usb / "share"  # the collector share's drop folder, copied onto the officer's stick
    n_reports = n_captures = n_share = 0
    for i, pc in enumerate(pcs):
        if pc.unit not in tokens:
            tokens[pc.unit] = store.create_token(pc.unit, label="demo")[1]
        folder = usb / pc.unit
        folder.mkdir(parents=True, exist_ok=True)
        if i % 8 == 3:
            # The PowerShell-only path, by hand: the raw capture, decoded by the collector at import.
            (folder / f"{pc.hostname}.capture.json").write_text(json.dumps(captures.render(pc, now, seed)))
            n_captures += 1
        elif i % 8 == 7:
            # The PowerShell-only path, scheduled: a signed capture written to the share.
            body = json.dumps(captures.render(pc, now, seed), ensure_ascii=False).encode("utf-8")
            drop = share / pc.unit
            drop.mkdir(parents=True, exist_ok=True)
            stamp = now.strftime("%Y%m%dT%H%M%SZ")
            (drop / f"{pc.hostname}_{stamp}.secscan").write_bytes(seal(body, tokens[pc.unit]))
            n_share += 1
        else:
            document = sign(fleet.host_report(pc, now, seed), tokens[pc.unit])
            (folder / f"{pc.hostname}.json").write_text(json.dumps(document, ensure_ascii=False))
            n_reports += 1
    return pcs, n_reports, n_captures, n_share


def _lab_scan(out: Path, org_file: Path, pcs: list[Any], era: Era) -> str:
    """Scan a LAN the demo builds from network namespaces; returns what happened, for the user."""
    from secscan.scan.lab import Lab, unavailable

    why = unavailable()
    if why is None and shutil.which("nmap") is None:
        why = "nmap is not installed (apt-get install nmap)"
    if why:
        return f"LAN scan skipped: {why}"
    import ipaddress

    unit = era.scan_unit
    subnet = ipaddress.ip_network(era.scan_subnet)
    lab = Lab(subnet=subnet)
    # Two PCs the agents reported (same MAC and address), and devices nobody manages.
    for pc in [p for p in pcs if p.unit == unit][:2]:
        lab.add_host(int(pc.ip.rsplit(".", 1)[1]), pc.mac, ["135:close", "445:close"])
    lab.add_host(200, "00:1b:78:aa:00:10", ["80:http", "9100:close"], "may-in-mot-cua")
    lab.add_host(201, "b8:ac:6f:aa:00:11", ["23:telnet", "445:close", "3389:close"])
    lab.add_host(202, "00:e0:4c:aa:00:12", ["5900:close"])
    target = out / f"scan-{unit}.json"
    with lab:
        proc = lab.run([sys.executable, "-m", "secscan", "scan", str(subnet), "--unit", unit, "--org", str(org_file),
                        "--profile", "quick", "--out", str(target)], timeout=300)
    if proc.returncode != 0 or not target.exists():
        return f"LAN scan failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    return f"LAN scan of {subnet} ({unit}) inside network namespaces: {target}"


def run(out_dir: str, seed: int, lang: str, no_scan: bool, secscan: RunCommand, era_name: str = "2023") -> None:
    """Run the whole flow on the era's synthetic organisation (``eras.ERAS``); ``secscan`` runs one
    secscan command as the user would type it (the wiring hands it in)."""
    from secscan.collector.db import open_engine
    from secscan.collector.store import Store
    from secscan.demo import fleet
    from secscan.demo.eras import ERAS

    era = ERAS[era_name]

    started = time.perf_counter()
    out = Path(out_dir).resolve()
    if out.exists() and any(out.iterdir()):
        if not (out / "secscan.db").exists():
            raise click.ClickException(f"{out}: exists and is not a previous demo folder; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "secscan.db"
    env = {"SECSCAN_DB": str(db)}

    org_file = out / "org.yaml"
    _write_yaml(org_file, era.organisation(), era.org_header)
    config_file = out / "report.yaml"
    _write_yaml(config_file, era.report_config(), "# Cấu hình báo cáo (secscan demo)\n")
    click.echo(f"1. organisation: {org_file}")
    secscan(["collector", "init", "--org", str(org_file)], env)

    store = Store(open_engine(str(db)))
    pcs, n_reports, n_captures, n_share = _usb_sticks(out, store, seed, era)
    click.echo(f"2. fleet: {len(pcs)} PCs → {n_reports} signed HostReports and {n_captures} Windows captures "
               f"in {out / 'usb'}; {n_share} signed captures from the share in {out / 'usb' / 'share'}")

    kit_unit = era.scan_unit
    token_file = out / f"token-{kit_unit}.txt"
    token_file.write_text(store.create_token(kit_unit, label="demo: Windows kit")[1] + "\n", encoding="utf-8")
    kit = out / "usb" / f"kit-{kit_unit}"
    secscan(["agent", "package", "windows", "--unit", kit_unit, "--token-file", str(token_file),
          "--share", era.share, "--out", str(kit)], env)
    click.echo(f"   the zero-install Windows kit for {kit_unit} (collect.ps1, install.ps1, HUONG-DAN.txt): {kit}")

    this_pc = out / "usb" / "this-machine"
    this_pc.mkdir(parents=True, exist_ok=True)
    token = store.create_token(era.root, label="demo: this machine")[1]
    secscan(["agent", "run", "--unit", era.root, "--token", token, "--out", str(this_pc) + "/"], env)
    click.echo(f"3. the real agent on this machine: {next(this_pc.glob('*.json'))}")

    scan_note = "LAN scan skipped: --no-scan" if no_scan else _lab_scan(out, org_file, pcs, era)
    click.echo(f"4. {scan_note}")

    secscan(["collector", "import", str(out / "usb"), *(str(p) for p in out.glob("scan-*.json"))], env)
    reports = out / "reports"
    reports.mkdir(exist_ok=True)
    pdf, feed, html, csv = (reports / f"bao-cao-2026-11.{lang}.pdf", reports / "feed.ndjson",
                            reports / "ket-qua.html", reports / "ket-qua.csv")
    common = ["--lang", lang, "--period", "2026-11"]
    secscan(["report", "pdf", "--config", str(config_file), *common, "-o", str(pdf)], env)
    secscan(["report", "feed", "-o", str(feed)], env)
    secscan(["report", "html", *common, "-o", str(html)], env)
    secscan(["report", "csv", "-o", str(csv)], env)
    click.echo("5. documents:")
    for path in (pdf, feed, html, csv):
        click.echo(f"   {path}")
    _headline(store, fleet.Truth.of(pcs, era.commune_units()), out, era.name)
    click.echo(f"done in {time.perf_counter() - started:.1f} s")


def _headline(store: Any, truth: Any, out: Path, era: str) -> None:
    """The indicators as the pipeline computed them, beside the generator's truth."""
    from secscan.policy import default_baseline, load_baselines, load_org, summarise

    org = load_org(out / "org.yaml")
    baseline = load_baselines()[org.baseline] if org.baseline else default_baseline()
    summary = summarise(store.latest_results(), org, baseline)
    expected = {"antivirus": truth.antivirus, "av_signatures_current": truth.av_current,
                "windows_licensed": truth.windows_licensed, "office_licensed": truth.office_licensed,
                "activator_found": truth.activators, "os_unsupported": truth.os_unsupported}
    click.echo(f"headline ({summary.total.hosts} PCs judged; generator's truth in brackets):")
    rows = {}
    for ind in summary.total.indicators:
        share = f"{ind.share:.0%}" if ind.share is not None else "-"
        truth_n = expected.get(ind.indicator_id)
        rows[ind.indicator_id] = {"count": ind.count, "judged": ind.judged, "unknown": ind.unknown, "truth": truth_n}
        click.echo(f"   {ind.indicator_id:<22} {ind.count:>4} / {ind.judged:<4} {share:>4}   [{truth_n}]"
                   + (f"  ({ind.unknown} unknown)" if ind.unknown else ""))
    headline = {"era": era, "baseline": baseline.id, "truth": vars(truth), "indicators": rows}
    (out / "headline.json").write_text(json.dumps(headline, indent=1))
