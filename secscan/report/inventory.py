"""The inventory a unit's level-proposal dossier ("hồ sơ đề xuất cấp độ") annexes: its devices, the
software installed on them, and its network (the ranges org.yaml declares, the devices the LAN
scans saw, managed or not). ``secscan report inventory`` writes it as a workbook (workbook.py) or a
small PDF (reports/templates/inventory.html.j2).

Facts only, from each PC's latest report and the unit's scans (the ReportInput the wiring hands
in): what a report did not carry is written "unknown", never left blank as if it were "none".
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from secscan.model.host import HostReport, InstalledSoftware, LicenceClass
from secscan.report.coverage import coverage
from secscan.report.inputs import ReportInput, UnitInfo
from secscan.report.workbook import DATETIME_FORMAT, LOCAL, Sheet, Table, words, write_workbook

# Office's licence is known per PC (licences.office); an installed program is matched to it by name.
_OFFICE_NAMES = ("microsoft office", "microsoft 365")


@dataclass
class Inventory:
    unit: UnitInfo
    generated_at: datetime
    devices: Table
    software: Table
    network: Table
    software_unknown: int  # PCs whose report carries no software list


def _ips(report: HostReport) -> str:
    v4 = [str(a) for i in report.host.interfaces for a in i.ipv4]
    return ", ".join(v4 or [str(a) for i in report.host.interfaces for a in i.ipv6])


def _os(report: HostReport, unknown: str) -> tuple[str, str]:
    os_ = report.host.os
    name = os_.name or os_.product_name_raw or (os_.family if os_.family != "other" else unknown)
    version = " ".join(x for x in (os_.display_version, f"({os_.build}.{os_.ubr})" if os_.build and os_.ubr
                                   else str(os_.build) if os_.build else os_.version) if x)
    return name, version or unknown


def _antivirus(report: HostReport, w: dict[str, Any]) -> str:
    products = report.antivirus.products
    if products is None:
        return w["unknown"]
    if not products:
        return w["none"]
    states = w["inventory"]["av_state"]
    return "; ".join(dict.fromkeys(f"{p.name} ({states[p.state.value]})" for p in products))


def _licence(report: HostReport, w: dict[str, Any]) -> str:
    lic = report.licences.os
    return w["inventory"]["licence"][(lic.classification if lic else LicenceClass.unknown).value]


def _devices(hosts: list[HostReport], w: dict[str, Any]) -> Table:
    rows = []
    for n, r in enumerate(sorted(hosts, key=lambda h: h.host.hostname.casefold()), 1):
        hw = r.host.hardware
        macs = ", ".join(dict.fromkeys(i.mac.upper() for i in r.host.interfaces if i.mac))
        os_name, os_version = _os(r, w["unknown"])
        ram = round(hw.memory_mb / 1024, 1) if hw.memory_mb else None
        rows.append([n, r.host.hostname, _ips(r), macs, os_name, os_version, hw.cpu or w["unknown"],
                     ram if ram is not None else w["unknown"], _antivirus(r, w), _licence(r, w), r.collected_at])
    return Table(w["inventory"]["devices_head"], rows, {7: "0.0", 10: DATETIME_FORMAT})


def _software(hosts: list[HostReport], w: dict[str, Any]) -> tuple[Table, int]:
    """One row per program (name and publisher): the versions seen, on how many PCs, and for
    Office the licence state of those PCs (Windows' own licence is the device table's column)."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    versions: dict[tuple[str, str], set[str]] = defaultdict(set)
    office: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unknown = 0
    lic_words = w["inventory"]["licence"]
    for r in hosts:
        if r.software is None:
            unknown += 1
            continue
        office_class = _office_class(r)
        for item in r.software:
            key = (item.name, item.publisher or "")
            if str(r.report_id) in seen[key]:
                continue  # listed twice (64- and 32-bit keys): one PC
            seen[key].add(str(r.report_id))
            if item.version:
                versions[key].add(item.version)
            if _is_office(item):
                office[key][office_class] += 1
    rows = []
    for n, key in enumerate(sorted(seen, key=lambda k: (-len(seen[k]), k[0].casefold())), 1):
        states = office.get(key)
        licence = "; ".join(f"{lic_words[c]}: {k}" for c, k in sorted(states.items())) if states else "—"
        rows.append([n, key[0], key[1] or w["unknown"], ", ".join(sorted(versions[key])) or w["unknown"],
                     len(seen[key]), licence])
    return Table(w["inventory"]["software_head"], rows), unknown


def _is_office(item: InstalledSoftware) -> bool:
    return item.name.casefold().startswith(_OFFICE_NAMES)


def _office_class(report: HostReport) -> str:
    office = report.licences.office
    if not office:  # None: not checked; []: no Office licence found although a program may be listed
        return LicenceClass.unknown.value if office is None else LicenceClass.unlicensed.value
    order = [LicenceClass.unlicensed, LicenceClass.suspicious, LicenceClass.unknown, LicenceClass.genuine]
    return min((lic.classification for lic in office), key=order.index).value  # the worst of them


def _network(inp: ReportInput, unit: UnitInfo, hosts: list[HostReport], w: dict[str, Any]) -> Table:
    iw = w["inventory"]
    nets = []
    for cidr in unit.networks:
        try:
            nets.append((cidr, ipaddress.ip_network(cidr, strict=False)))
        except ValueError:
            nets.append((cidr, None))  # org.yaml's validation allows only networks; a bundle may not
    cov = coverage(hosts, inp.scans, inp.generated_at).get(unit.id)
    unmanaged = {h.ip: h for h in (cov.unmanaged if cov else [])}
    by_ip = {str(a): r.host.hostname for r in hosts for i in r.host.interfaces for a in [*i.ipv4, *i.ipv6]}
    seen: dict[str, list[Any]] = {}
    for scan in inp.scans:
        if scan.unit != unit.id:
            continue
        for h in scan.hosts:
            ip = str(h.ip)
            if h.status_reason == "localhost-response" or ip in seen:
                continue  # the scanning laptop itself; a host two scans saw is one device
            addr = ipaddress.ip_address(ip)
            net = next((c for c, n in nets if n is not None and addr in n), iw["outside"])
            ports = ", ".join(f"{p.port}/{p.proto}" + (f" {p.service}" if p.service else "")
                              for p in h.ports if p.state.startswith("open"))
            um = unmanaged.get(ip)
            managed = iw["unmanaged"].format(reason=um.reason) if um else iw["managed"]
            name = by_ip.get(ip) or ", ".join(h.hostnames)
            seen[ip] = [net, ip, (h.mac or "").upper(), h.vendor or "", name, ports, managed]
    rows = sorted(seen.values(), key=lambda row: (row[0], ipaddress.ip_address(row[1])))
    covered = {row[0] for row in rows}
    rows += [[cidr, "", "", "", "", "", iw["not_scanned"]] for cidr, _ in nets if cidr not in covered]
    return Table(iw["network_head"], [[n, *row] for n, row in enumerate(rows, 1)])


def build(inp: ReportInput, unit_id: str, lang: str) -> Inventory:
    """``unit_id``'s inventory from the report input (ValueError naming the unit when unknown)."""
    units = {u.id: u for u in inp.units}
    if unit_id not in units:
        raise ValueError(f"--unit {unit_id}: no such unit (known: {', '.join(units)})")
    w = words(lang)
    hosts = [h for h in inp.hosts if h.unit == unit_id]
    software, unknown = _software(hosts, w)
    return Inventory(units[unit_id], inp.generated_at, _devices(hosts, w), software,
                     _network(inp, units[unit_id], hosts, w), unknown)


def sheets(inv: Inventory, lang: str) -> list[Sheet]:
    iw = words(lang)["inventory"]
    notes = [iw["software_unknown"].format(n=inv.software_unknown)] if inv.software_unknown else []
    return [Sheet(iw["sheets"]["devices"], [inv.devices]),
            Sheet(iw["sheets"]["software"], [inv.software], notes),
            Sheet(iw["sheets"]["network"], [inv.network])]


def write_xlsx(inv: Inventory, lang: str, out: Path | IO[bytes]) -> None:
    write_workbook(sheets(inv, lang), out, words(lang)["inventory"]["title"].format(unit=inv.unit.name))


def render_html(inv: Inventory, lang: str) -> str:
    from secscan.report.numbers import fmt_num
    from secscan.report.pdf import printable
    from secscan.report.render import environment

    def show(value: Any) -> str:
        if isinstance(value, datetime):
            return value.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
        if isinstance(value, float):
            return fmt_num(value, lang, 1)
        if isinstance(value, int):
            return fmt_num(value, lang)
        return "" if value is None else str(value)

    iw = words(lang)["inventory"]
    tables = [(iw["devices_title"], inv.devices, None), (iw["software_title"], inv.software,
              iw["software_unknown"].format(n=inv.software_unknown) if inv.software_unknown else None),
              (iw["network_title"], inv.network, None)]
    html = environment().get_template("inventory.html.j2").render(
        lang=lang, title=iw["title"].format(unit=inv.unit.name),
        subtitle=iw["subtitle"].format(date=inv.generated_at.astimezone(LOCAL).strftime("%d/%m/%Y")),
        tables=[(title, t.head, [[show(v) for v in row] for row in t.rows], note) for title, t, note in tables],
        empty=iw["no_devices"])
    return printable(html)


def write_pdf(inv: Inventory, lang: str, out: Path) -> int:
    """The same tables as a PDF annex (A4 landscape); returns the page count."""
    from weasyprint import HTML

    from secscan.report.pdf import make_fetcher
    from secscan.runtime import data_dir

    root = data_dir("reports")
    document = HTML(string=render_html(inv, lang), base_url=str(root / "templates") + "/",
                    url_fetcher=make_fetcher(root, [])).render()
    document.write_pdf(str(out))
    return len(document.pages)
