"""Scans too large for one record never lose what nmap found (issue 16, item 8), and nmap's XML
cannot put addresses outside the targets into a unit's report.

* many single addresses: the targets go to nmap by ``-iL -`` once the command line would exceed
  the contract's ``nmap.args`` (4,096 characters), contiguous ones merged into CIDRs first;
* thousands of live hosts: the report is split into several ScanReports, each within what the
  collector accepts per document, together holding every host;
* hosts outside the targets (or repeated) in nmap's output are dropped, counted and noted.

The end-to-end cases run ``secscan scan`` with a stand-in for nmap (a script that answers ``-V``
like nmap and writes chosen XML): it sends no packet anywhere. The real nmap over many addresses
runs in tests/scan/test_lab_scan.py, inside the namespace lab.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from secscan.model.scan import NmapRun, ScanReport
from secscan.scan import runner
from secscan.scan.cli import part_path
from secscan.scan.nmap_xml import MAX_HOSTNAMES, MAX_NOTES, MAX_PORTS, parse
from secscan.scan.profiles import load_profiles
from secscan.scan.runner import MAX_ARGS, MAX_REPORT_BYTES, Command, ScanError, check_targets, command, split
from secscan.scan.targets import TargetSet, compact, parse_targets
from secscan.wiring.scan import scan

QUICK = load_profiles()["quick"]

# --- the limits are the contract's and the collector's ----------------------------------------


def test_the_args_limit_is_the_contracts() -> None:
    NmapRun(args="x" * MAX_ARGS)
    with pytest.raises(ValidationError):
        NmapRun(args="x" * (MAX_ARGS + 1))


def test_the_report_limit_is_the_collectors() -> None:
    from secscan.collector.intake import MAX_REPORT_BYTES as COLLECTOR

    assert MAX_REPORT_BYTES == COLLECTOR
    assert next(p for p in scan.params if p.name == "max_bytes").default == MAX_REPORT_BYTES


@pytest.mark.parametrize("limit", [256 * 1024, 1_000_000])
def test_a_smaller_collector_limit_is_followed(tmp_path: Path, fake, limit: int) -> None:
    nmap, _ = fake("many", 3_000)
    result = run_scan(tmp_path, nmap, "10.0.0.0/16", "--unit", "huyen", "--profile", "quick", "--max-bytes", str(limit))
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("scan*.json"))
    assert len(files) >= 2 and all(f.stat().st_size <= limit for f in files) and "warning" not in result.output
    assert sum(len(ScanReport.model_validate_json(f.read_text(encoding="utf-8")).hosts) for f in files) == 3_000


# --- targets ----------------------------------------------------------------------------------


def scattered(n: int, net: str = "192.168.0.0/16") -> list[str]:
    """``n`` single addresses no two of which are neighbours: nothing to merge."""
    base = ipaddress.ip_network(net).network_address
    return [str(base + 2 * i + 2) for i in range(n)]


def test_contiguous_addresses_are_merged() -> None:
    nets = compact(parse_targets([f"10.1.2.{i}" for i in range(256)] + ["10.1.2.7", "10.1.3.0/24", "2001:db8::/64"]))
    assert [str(n) for n in nets] == ["10.1.2.0/23", "2001:db8::/64"]


def test_target_set_membership() -> None:
    inside = TargetSet(parse_targets(["10.0.0.8/29", "10.0.1.5", "2001:db8::/64"]))
    assert [ipaddress.ip_address(a) in inside for a in ("10.0.0.8", "10.0.0.15", "10.0.1.5", "2001:db8::1")] == [
        True, True, True, True,
    ]
    assert [ipaddress.ip_address(a) in inside for a in ("10.0.0.7", "10.0.0.16", "10.0.1.4", "8.8.8.8", "::1")] == [
        False, False, False, False, False,
    ]


@pytest.mark.parametrize(("n", "listed"), [(1, False), (100, False), (400, True), (1_000, True), (20_000, True)])
def test_any_number_of_targets_gives_a_recordable_command(n: int, listed: bool) -> None:
    nets = compact(parse_targets(scattered(n)))
    cmd = command("/usr/bin/nmap", QUICK, nets, is_privileged=True)
    assert len(cmd.recorded) <= MAX_ARGS
    NmapRun(args=cmd.recorded)  # what the report records is within the contract
    if cmd.stdin is None:  # short lists stay on the command line, exactly as before
        assert cmd.argv[-n - 1] == "--" and cmd.argv[-n:] == [str(net.network_address) for net in nets]
    else:
        assert cmd.argv[-2:] == ["-iL", "-"] and "--" not in cmd.argv
        assert cmd.stdin.split() == [str(net.network_address) for net in nets]
    assert (cmd.stdin is not None) == listed


def test_a_command_that_cannot_be_recorded_is_refused_before_running() -> None:
    with pytest.raises(ScanError, match="more than a ScanReport records"):
        command("/opt/" + "n" * MAX_ARGS, QUICK, parse_targets(["10.0.0.1"]), is_privileged=True)


def test_too_many_scattered_targets_are_refused_up_front() -> None:
    base = ipaddress.ip_address("10.0.0.0")
    check_targets([ipaddress.ip_network((base + 2 * i, 32)) for i in range(20_000)])
    with pytest.raises(ScanError, match=r"separate targets take .* bytes in the report, more than 1,048,576"):
        check_targets([ipaddress.ip_network((base + 2 * i, 32)) for i in range(60_000)])


# --- splitting --------------------------------------------------------------------------------


def report_with(hosts: int) -> ScanReport:
    return ScanReport.model_validate({
        "scan_id": "0b7f3f3e-3c1e-4a57-9a53-2f1b6f0e1a01",
        "unit": "xa-a",
        "targets": ["10.0.0.0/16"],
        "profile": "standard",
        "nmap": {"version": "7.93", "args": "nmap -oX - -- 10.0.0.0/16", "privileged": True},
        "started_at": "2026-11-26T08:00:00+07:00",
        "finished_at": "2026-11-26T08:20:00+07:00",
        "notes": ["a note"],
        "hosts": [{
            "ip": str(ipaddress.ip_address("10.0.0.1") + i),
            "mac": f"00:1b:78:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
            "vendor": "Hewlett Packard",
            "hostnames": [f"pc-{i}.ubnd.local"],
            "status_reason": "arp-response",
            "ports": [{"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"},
                      {"port": 3389, "proto": "tcp", "state": "open", "service": "ms-wbt-server"}],
        } for i in range(hosts)],
    })


def test_a_report_within_the_limit_is_one_document() -> None:
    report = report_with(50)
    [(part, text)] = split(report)
    assert part is report and json.loads(text)["scan_id"] == str(report.scan_id)


@pytest.mark.parametrize("limit", [20_000, 64_000, 300_000])
def test_a_large_report_is_split_within_the_limit_keeping_every_host(limit: int) -> None:
    report = report_with(800)
    parts = split(report, limit)
    assert len(parts) > 1
    for i, (part, text) in enumerate(parts, 1):
        assert len(text.encode()) <= limit
        again = ScanReport.model_validate_json(text)  # each is a whole, valid report
        assert again == part
        assert (again.unit, again.targets, again.nmap, again.started_at, again.finished_at) == (
            report.unit, report.targets, report.nmap, report.started_at, report.finished_at,
        )
        assert again.notes[:-1] == report.notes and again.notes[-1].startswith(f"part {i} of {len(parts)} of one scan")
    assert [h for part, _ in parts for h in part.hosts] == report.hosts
    assert len({part.scan_id for part, _ in parts}) == len(parts) and parts[0][0].scan_id == report.scan_id


def test_parts_are_filled_not_scattered() -> None:
    report = report_with(2_000)
    whole = len(split(report, 10**9)[0][1].encode())
    parts = split(report, 100_000)
    assert len(parts) <= whole // 100_000 + 2


# --- nmap's XML: hosts outside the targets ----------------------------------------------------


def xml_of(addresses: list[str], *, hostnames: int = 1, ports: int = 1) -> bytes:
    def host(a: str) -> str:
        names = "".join(f'<hostname name="h{k}.{a}" type="PTR"/>' for k in range(hostnames))
        opened = "".join(f'<port protocol="tcp" portid="{p}"><state state="open"/></port>' for p in range(1, ports + 1))
        return (f'<host><status state="up" reason="arp-response"/><address addr="{a}" addrtype="ipv4"/>'
                f"<hostnames>{names}</hostnames><ports>{opened}</ports></host>\n")

    hosts = "".join(host(a) for a in addresses)
    return (
        '<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap" version="7.93">\n'
        f'{hosts}<runstats><finished time="1" elapsed="1.0" exit="success"/></runstats></nmaprun>\n'
    ).encode()


def test_hosts_outside_the_targets_are_dropped_and_noted() -> None:
    targets = parse_targets(["10.0.0.0/24", "10.0.5.9"])
    xml = xml_of(["10.0.0.5", "8.8.8.8", "10.0.5.9", "10.0.0.5", "10.0.1.1", "192.168.1.1", "10.0.5.10"])
    run = parse(xml, targets)
    assert [str(h.ip) for h in run.hosts] == ["10.0.0.5", "10.0.5.9"]
    assert (run.outside, run.repeated) == (4, 1)
    assert run.dropped == run.notes[-2:]
    assert run.notes[-2].startswith("4 hosts in nmap's output outside the scan's targets were dropped "
                                    "(8.8.8.8, 10.0.1.1, 192.168.1.1, 10.0.5.10)")
    assert run.notes[-1] == "1 hosts reported twice in nmap's output were dropped (the first kept)"
    assert [str(h.ip) for h in parse(xml).hosts] == ["10.0.0.5", "8.8.8.8", "10.0.5.9", "10.0.1.1",
                                                     "192.168.1.1", "10.0.5.10"]  # no targets given: all


def test_one_host_cannot_outgrow_a_report() -> None:
    run = parse(xml_of(["10.0.0.5"], hostnames=MAX_HOSTNAMES + 40, ports=MAX_PORTS + 500), parse_targets(["10.0.0.5"]))
    [host] = run.hosts
    assert len(host.hostnames) == MAX_HOSTNAMES and len(host.ports) == MAX_PORTS
    assert f"host 10.0.0.5: {MAX_PORTS + 500} ports listed, the first {MAX_PORTS} kept" in run.notes
    assert f"host 10.0.0.5: {MAX_HOSTNAMES + 40} hostnames listed, the first {MAX_HOSTNAMES} kept" in run.notes


def test_notes_are_bounded() -> None:
    banner = "B" * 600
    hosts = "".join(
        f'<host><status state="up" reason="syn-ack"/><address addr="10.0.{i // 250}.{i % 250 + 1}" addrtype="ipv4"/>'
        f'<ports><port protocol="tcp" portid="80"><state state="open"/><service name="http" product="{banner}"/>'
        "</port></ports></host>\n"
        for i in range(500)
    )
    xml = (f'<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap" version="7.93">{hosts}'
           '<runstats><finished time="1" elapsed="1.0" exit="success"/></runstats></nmaprun>').encode()
    run = parse(xml)
    assert len(run.hosts) == 500 and len(run.notes) == MAX_NOTES + 1
    assert run.notes[-1] == f"… and {500 - MAX_NOTES} more notes like these"


# --- end to end, with a stand-in for nmap ------------------------------------------------------

FAKE = '''#!{python}
"""A stand-in for nmap: answers -V as nmap does; otherwise writes nmap XML for {mode!r}."""
import sys
args = sys.argv[1:]
if args == ["-V"]:
    print("Nmap version 7.93 ( https://nmap.org )")
    sys.exit(0)
with open({log!r}, "a") as fh:
    fh.write(" ".join(args) + "\\n")
targets = sys.stdin.read().split() if args[-2:] == ["-iL", "-"] else args[args.index("--") + 1:]
mode = {mode!r}
if mode == "echo":  # every target is a live host
    addresses = [t.split("/")[0] for t in targets]
elif mode == "intruders":  # the targets, plus hosts nobody asked for
    addresses = [t.split("/")[0] for t in targets] + ["8.8.8.8", "10.213.9.7", "192.168.1.1"]
else:  # "many": {{count}} live hosts of 10.0.0.0/16
    addresses = ["10.0.%d.%d" % (i // 250, i % 250 + 1) for i in range({count})]
out = sys.stdout
out.write('<?xml version="1.0" encoding="UTF-8"?>\\n<nmaprun scanner="nmap" args="nmap" version="7.93">\\n')
out.flush()
for i, a in enumerate(addresses):
    out.write('<host><status state="up" reason="arp-response"/><address addr="%s" addrtype="ipv4"/>'
              '<address addr="00:1B:78:%02X:%02X:%02X" addrtype="mac" vendor="Hewlett Packard"/>'
              '<hostnames><hostname name="pc-%d.ubnd.local" type="PTR"/></hostnames><ports>'
              '<port protocol="tcp" portid="445"><state state="open"/><service name="microsoft-ds"/></port>'
              '<port protocol="tcp" portid="3389"><state state="open"/><service name="ms-wbt-server"/></port>'
              '</ports></host>\\n' % (a, i >> 16 & 255, i >> 8 & 255, i & 255, i))
out.write('<runstats><finished time="1" elapsed="1.0" exit="success"/></runstats></nmaprun>\\n')
'''

ORG = """name: UBND huyện Thử
default_level: 2
units:
  - {id: huyen, name: UBND huyện Thử, kind: district, networks: [10.0.0.0/16, 192.168.0.0/16]}
  - {id: xa-a, name: UBND xã A, kind: commune, parent: huyen, networks: [192.168.0.0/20]}
"""


@pytest.fixture
def fake(tmp_path: Path):
    """fake(mode, count=0) -> (path of a stand-in nmap, its log of runs)."""

    def make(mode: str, count: int = 0) -> tuple[Path, Path]:
        log = tmp_path / f"{mode}.log"
        path = tmp_path / f"nmap-{mode}"
        path.write_text(FAKE.format(python=sys.executable, mode=mode, log=str(log), count=count))
        path.chmod(0o755)
        return path, log

    return make


def run_scan(tmp_path: Path, nmap: Path, *args: str, out: str | None = None):
    org = tmp_path / "org.yaml"
    org.write_text(ORG, encoding="utf-8")
    target = out or str(tmp_path / "scan.json")
    return CliRunner().invoke(scan, [*args, "--org", str(org), "--nmap", str(nmap), "--out", target, "--no-dns"])


def test_300_scattered_addresses_are_scanned_and_recorded(tmp_path: Path, fake) -> None:
    nmap, log = fake("echo")
    addresses = scattered(300)
    result = run_scan(tmp_path, nmap, *addresses, "--unit", "xa-a", "--profile", "quick")
    assert result.exit_code == 0, result.output
    report = ScanReport.model_validate_json((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert len(report.hosts) == 300 and {str(h.ip) for h in report.hosts} == set(addresses)
    assert report.nmap.args.endswith(" -iL -") and len(report.nmap.args) <= MAX_ARGS
    assert report.targets == [f"{a}/32" for a in sorted(addresses, key=ipaddress.ip_address)]
    assert log.read_text().strip().endswith("-iL -")


def test_a_handful_of_targets_stays_on_the_command_line(tmp_path: Path, fake) -> None:
    nmap, _ = fake("echo")
    result = run_scan(tmp_path, nmap, "192.168.0.5", "192.168.0.6-7", "--unit", "xa-a", "--profile", "quick")
    assert result.exit_code == 0, result.output
    report = ScanReport.model_validate_json((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert report.targets == ["192.168.0.5/32", "192.168.0.6/31"]
    assert report.nmap.args.endswith(" -- 192.168.0.5 192.168.0.6/31")


def test_hosts_outside_the_targets_never_reach_the_report(tmp_path: Path, fake) -> None:
    nmap, _ = fake("intruders")
    result = run_scan(tmp_path, nmap, "192.168.0.5", "192.168.0.9", "--unit", "xa-a", "--profile", "quick")
    assert result.exit_code == 0, result.output
    report = ScanReport.model_validate_json((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert sorted(str(h.ip) for h in report.hosts) == ["192.168.0.5", "192.168.0.9"]
    said = "3 hosts in nmap's output outside the scan's targets were dropped (8.8.8.8, 10.213.9.7, 192.168.1.1)"
    assert any(n.startswith(said) for n in report.notes)
    assert f"warning: {said}" in result.output


@pytest.mark.slow
def test_12000_live_hosts_are_split_into_reports_the_collector_takes(tmp_path: Path, fake) -> None:
    from secscan.collector.intake import parse as intake

    nmap, _ = fake("many", 12_000)
    result = run_scan(tmp_path, nmap, "10.0.0.0/16", "--unit", "huyen", "--profile", "quick")
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("scan*.json"))
    assert files[0] == tmp_path / "scan.json" and len(files) >= 2
    assert files == sorted(part_path(str(tmp_path / "scan.json"), i) for i in range(1, len(files) + 1))
    assert f"as {len(files)} ScanReports" in result.output and "import every part" in result.output
    seen: set[str] = set()
    ids = set()
    for f in files:
        raw = f.read_bytes()
        assert len(raw) <= MAX_REPORT_BYTES
        parsed = intake(raw)  # the collector accepts each part
        assert parsed.kind == "scan"
        report = ScanReport.model_validate_json(raw)
        ids.add(report.scan_id)
        seen |= {str(h.ip) for h in report.hosts}
    assert len(seen) == 12_000 and len(ids) == len(files)


@pytest.mark.slow
def test_split_report_on_stdout_is_one_document_a_line(tmp_path: Path, fake) -> None:
    nmap, _ = fake("many", 12_000)
    result = run_scan(tmp_path, nmap, "10.0.0.0/16", "--unit", "huyen", "--profile", "quick", out="-")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 2 and "one JSON document a line" in result.stderr
    assert all(len(line.encode()) <= MAX_REPORT_BYTES for line in lines)
    reports = [ScanReport.model_validate_json(line) for line in lines]
    assert sum(len(r.hosts) for r in reports) == 12_000


def test_a_value_the_contract_refuses_stops_nmap_before_its_findings_are_lost(tmp_path: Path, fake) -> None:
    nmap, _ = fake("echo")
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(
        scan, ["192.168.0.5", "--unit", "u" * 600, "--force", "--org", str(tmp_path / "none.yaml"),
               "--nmap", str(nmap), "--out", str(out)]
    )
    assert result.exit_code == 1 and "the scan cannot be recorded: unit:" in result.output
    assert not out.exists()


def test_command_dataclass_records_the_exact_argv() -> None:
    cmd = Command(["/usr/bin/nmap", "-sS", "-iL", "-"], [], "10.0.0.1\n")
    assert cmd.recorded == "/usr/bin/nmap -sS -iL -"


def test_runner_writes_long_target_lists_without_blocking(tmp_path: Path, fake) -> None:
    """8,000 targets (~100 kB, more than a pipe holds) go to the stand-in's standard input while
    its output is read: no deadlock, every target arrives."""
    nmap, _ = fake("echo")
    nets = compact(parse_targets(scattered(8_000)))
    report = runner.scan(nets, QUICK, unit="huyen", nmap=runner.Nmap(str(nmap), "7.93"), is_privileged=True, dns=False)
    assert len(report.hosts) == 8_000 and report.nmap.args.endswith(" -iL -")
