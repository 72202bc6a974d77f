"""The demo district as the documents a collector would hold — org.yaml, the fleet's HostReports
and one LAN scan per unit — and as a ReportInput judged by the real policy stage. For the report
tests (which bend the documents into their special cases before evaluation), ``bench/report.py``
and ``secscan report sample``.

``copies`` repeats the district under one province (unit ids and names suffixed, each copy on its
own 10.x/16), ``draws`` draws the fleet several times into each copy (hostnames suffixed): a
province of 250 units and 10,000 PCs is ``district(copies=5, draws=5)``. Deterministic for a seed.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from secscan.demo import fleet, hahoa

if TYPE_CHECKING:
    from secscan.report.inputs import ReportInput, Snapshot

PROVINCE = {"id": "tinh-phu-tho", "name": "UBND tỉnh Phú Thọ", "name_en": "Phu Tho Provincial People's Committee",
            "kind": "province", "level": 2,
            "level_reason": "minh họa: tỉnh gồm các bản sao của huyện Hạ Hòa (illustrative province)"}
UNMANAGED_HOST = 250  # the last octet of the device nobody manages on each LAN (PCs sit at .20 upwards)
WEEK_HOURS = 7 * 24  # the USB sticks come in over a week before the report
# nmap's OS guesses for the fleet's systems (a guess is what makes a scan host a workstation)
OS_GUESS = {"win7": "Microsoft Windows 7 SP1", "win10": "Microsoft Windows 10 1809 - 21H2",
            "win11": "Microsoft Windows 11 21H2"}


@dataclass
class Bundle:
    org: dict[str, Any]  # the org.yaml document
    reports: list[dict[str, Any]]  # HostReport documents
    scans: list[dict[str, Any]]  # ScanReport documents, one per unit with PCs
    pcs: list[fleet.Pc]  # the generator's truth behind ``reports``
    now: datetime


def _suffix(k: int) -> str:
    return "" if k == 0 else f"-{k + 1}"


def _renet(text: str, k: int) -> str:
    """Copy ``k`` lives in 10.(231-k).0.0/16 instead of Hạ Hòa's 10.231.0.0/16."""
    return text if k == 0 else text.replace("10.231.", f"10.{231 - k}.", 1)


def organisation(copies: int = 1) -> dict[str, Any]:
    """Hạ Hòa's org.yaml, or ``copies`` of it under one province (one decision classifying them all)."""
    district = hahoa.organisation()
    if copies == 1:
        return district
    if not 1 <= copies <= 200:
        raise ValueError(f"copies {copies}: between 1 and 200")
    org = {**district, "name": PROVINCE["name"], "name_en": PROVINCE["name_en"], "units": [dict(PROVINCE)]}
    decision = copy.deepcopy(district["decisions"][0])
    for system in decision["systems"]:
        system["units"] = [u + _suffix(k) for k in range(copies) for u in system["units"]]
    org["decisions"] = [decision]
    for k in range(copies):
        for unit in district["units"]:
            org["units"].append({
                **unit,
                "id": unit["id"] + _suffix(k),
                "name": unit["name"] + (f" ({k + 1})" if k else ""),
                "parent": unit["parent"] + _suffix(k) if unit.get("parent") else PROVINCE["id"],
                "networks": [_renet(n, k) for n in unit["networks"]],
            })
    return org


def _pcs(seed: int, copies: int, draws: int) -> list[tuple[fleet.Pc, int]]:
    """The fleet drawn ``draws`` times into each of ``copies`` districts, each PC with the seed of
    its draw; every PC of a unit on its own address in the unit's /24."""
    pcs: list[tuple[fleet.Pc, int]] = []
    for k in range(copies):
        per_unit: dict[str, int] = defaultdict(int)
        for d in range(draws):
            draw_seed = seed + 1000 * k + d
            for pc in fleet.draw(draw_seed):
                unit = pc.unit + _suffix(k)
                n = per_unit[unit]
                per_unit[unit] += 1
                if 20 + n >= UNMANAGED_HOST:
                    raise ValueError(f"draws {draws}: more PCs in {unit} than its /24 leaves room for")
                net = pc.ip.rsplit(".", 1)[0]
                pcs.append((replace(pc, unit=unit, ip=_renet(f"{net}.{20 + n}", k),
                                    hostname=pc.hostname + (f"-{d + 1}" if d else "")), draw_seed))
    return pcs


def lan_scan(unit: str, pcs: list[fleet.Pc], now: datetime, rng: random.Random) -> dict[str, Any]:
    """The ScanReport of one unit's /24 as the scanner would send it: its PCs (file sharing and
    remote desktop open where the PC has them on) and one device no agent reports for, a switch
    with Telnet open."""
    net = pcs[0].ip.rsplit(".", 1)[0]
    hosts: list[dict[str, Any]] = []
    for pc in pcs:
        ports = [{"port": 135, "proto": "tcp", "state": "open", "service": "msrpc"}]
        if pc.smb1:
            ports.append({"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"})
        if pc.rdp:
            ports.append({"port": 3389, "proto": "tcp", "state": "open", "service": "ms-wbt-server"})
        hosts.append({"ip": pc.ip, "mac": pc.mac, "status_reason": "arp-response", "ports": ports,
                      "os_guess": [{"name": OS_GUESS[pc.os], "accuracy": 96}]})
    hosts.append({"ip": f"{net}.{UNMANAGED_HOST}", "mac": "b8:ac:6f:" + ":".join(f"{rng.randrange(256):02x}"
                                                                           for _ in range(3)),
                  "vendor": "TP-Link", "status_reason": "arp-response",
                  "os_guess": [{"name": "Linux 2.6.32 - 3.10 (embedded)", "accuracy": 91}],
                  "ports": [{"port": 23, "proto": "tcp", "state": "open", "service": "telnet"}]})
    started = now - timedelta(hours=rng.uniform(2, 48))
    return {
        "schema": "secscan.scan-report/1", "scan_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "unit": unit, "targets": [f"{net}.0/24"], "profile": "full",
        "nmap": {"version": "7.93", "args": f"nmap -sS -O {net}.0/24", "privileged": True},
        "started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=3)).isoformat(),
        "hosts": hosts,
    }


def only_units(org: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """org.yaml cut down to the units in ``keep`` and their ancestors (a small district for tests)."""
    parent = {u["id"]: u.get("parent") for u in org["units"]}
    if keep - parent.keys():
        raise ValueError(f"units {sorted(keep - parent.keys())}: not in the organisation")
    kept = set()
    for unit in keep:
        while unit is not None and unit not in kept:
            kept.add(unit)
            unit = parent[unit]
    decisions = copy.deepcopy(org["decisions"])
    for decision in decisions:
        for system in decision["systems"]:
            system["units"] = [u for u in system["units"] if u in kept]
    return {**org, "units": [u for u in org["units"] if u["id"] in kept], "decisions": decisions}


def district(seed: int = 2023, copies: int = 1, draws: int = 1, units: list[str] | None = None) -> Bundle:
    """The documents of the district (``copies`` and ``draws``: a province); ``units``: only those
    units' PCs, and org.yaml cut down to them."""
    rng = random.Random(seed)
    now = fleet.now_for_period()
    drawn = _pcs(seed, copies, draws)
    org = organisation(copies)
    if units is not None:
        org = only_units(org, set(units))
        drawn = [(pc, s) for pc, s in drawn if pc.unit in units]
    pcs = [pc for pc, _ in drawn]
    reports = [fleet.host_report(pc, now - timedelta(hours=rng.uniform(1, WEEK_HOURS)), s) for pc, s in drawn]
    by_unit: dict[str, list[fleet.Pc]] = defaultdict(list)
    for pc in pcs:
        by_unit[pc.unit].append(pc)
    lans = [lan_scan(unit, members, now, rng) for unit, members in by_unit.items()]
    return Bundle(org=org, reports=reports, scans=lans, pcs=pcs, now=now)


def report_input(bundle: Bundle, period: str = "2026-11", previous: Snapshot | None = None) -> ReportInput:
    """The bundle judged by the real policy stage: the default baseline (Hạ Hòa's), vn-network for the scans."""
    from secscan.model.host import HostReport
    from secscan.model.org import Organisation
    from secscan.model.scan import ScanReport
    from secscan.policy import default_baseline
    from secscan.report.evaluated import build_input

    return build_input(
        Organisation.model_validate(bundle.org), default_baseline(),
        [HostReport.model_validate(d) for d in bundle.reports], [ScanReport.model_validate(s) for s in bundle.scans],
        period=period, generated_at=bundle.now, previous=previous,
    )

