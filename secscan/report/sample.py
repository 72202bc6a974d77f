"""A synthetic district (or province) as a ReportInput, for tests, the bench and trying the renderers
before a collector store exists. Deterministic for a given seed. The Results are derived from each
host's facts by the same rules a policy would apply, so figures computed from facts (indicators) and
from results (scores, findings) agree, as they do after a real evaluation."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

from secscan.model.finding import Reference, Severity
from secscan.model.host import HostReport
from secscan.model.result import Outcome, Requirement, Result
from secscan.model.scan import ScanReport
from secscan.report.inputs import Bilingual, ControlInfo, IndicatorRef, ReportInput, UnitInfo

HA_HOA_UNITS = [
    "Thị trấn Hạ Hòa",
    "Xã Ấm Hạ",
    "Xã Bằng Giã",
    "Xã Đại Phạm",
    "Xã Đan Thượng",
    "Xã Gia Điền",
    "Xã Hà Lương",
    "Xã Hiền Lương",
    "Xã Hương Xạ",
    "Xã Lang Sơn",
    "Xã Minh Côi",
    "Xã Minh Hạc",
    "Xã Phương Viên",
    "Xã Tứ Hiệp",
    "Xã Văn Lang",
    "Xã Vĩnh Chân",
    "Xã Vô Tranh",
    "Xã Xuân Áng",
    "Xã Yên Kỳ",
    "Xã Yên Luật",
]
DEPARTMENTS = [
    "Văn phòng HĐND và UBND huyện",
    "Phòng Tài chính - Kế hoạch",
    "Phòng Văn hóa và Thông tin",
    "Phòng Tư pháp",
]

_TT12 = Reference(title="Thông tư 12/2022/TT-BTTTT", verified=False)
_CT14 = Reference(title="Chỉ thị 14/CT-TTg (2018)", verified=False)
_ND85 = Reference(title="Nghị định 85/2016/NĐ-CP, Điều 20", verified=True)

CONTROLS = [
    ControlInfo(
        id="av_present",
        severity=Severity.high,
        references=[_TT12, _CT14],
        title=Bilingual(vi="Máy tính không có phần mềm phòng chống mã độc đang hoạt động", en="No active anti-malware"),
        remediation=Bilingual(
            vi="Cài đặt và bật phần mềm phòng chống mã độc (Microsoft Defender hoặc sản phẩm có bản quyền).",
            en="Install and enable anti-malware (Microsoft Defender or a licensed product).",
        ),
    ),
    ControlInfo(
        id="av_current",
        severity=Severity.medium,
        references=[_TT12],
        title=Bilingual(
            vi="Cơ sở dữ liệu mã độc không được cập nhật (quá 3 ngày)", en="Anti-malware signatures older than 3 days"
        ),
        remediation=Bilingual(
            vi="Bật tự động cập nhật cơ sở dữ liệu mã độc.", en="Turn on automatic signature updates."
        ),
    ),
    ControlInfo(
        id="os_supported",
        severity=Severity.high,
        references=[_ND85],
        title=Bilingual(
            vi="Hệ điều hành đã hết hỗ trợ, không còn bản vá bảo mật", en="Operating system out of support"
        ),
        remediation=Bilingual(
            vi="Nâng cấp lên phiên bản hệ điều hành còn được hỗ trợ.", en="Upgrade to a supported OS."
        ),
    ),
    ControlInfo(
        id="os_patched",
        severity=Severity.high,
        references=[_TT12],
        title=Bilingual(vi="Chưa cập nhật bản vá hệ điều hành trong 45 ngày", en="No OS patch in 45 days"),
        remediation=Bilingual(
            vi="Bật Windows Update và cài các bản vá còn thiếu.",
            en="Enable Windows Update and install missing patches.",
        ),
    ),
    ControlInfo(
        id="fw_enabled",
        severity=Severity.medium,
        references=[_TT12],
        title=Bilingual(vi="Tường lửa của hệ điều hành chưa bật", en="Host firewall off"),
        remediation=Bilingual(
            vi="Bật tường lửa Windows cho mọi cấu hình mạng.", en="Turn on Windows Firewall for all profiles."
        ),
    ),
    ControlInfo(
        id="lic_windows",
        severity=Severity.medium,
        references=[],
        title=Bilingual(vi="Windows không có bản quyền hợp lệ", en="Windows not genuinely licensed"),
        remediation=Bilingual(vi="Trang bị bản quyền Windows.", en="Buy a Windows licence."),
    ),
    ControlInfo(
        id="lic_office",
        severity=Severity.low,
        references=[],
        title=Bilingual(vi="Microsoft Office không có bản quyền hợp lệ", en="Office not genuinely licensed"),
        remediation=Bilingual(
            vi="Trang bị bản quyền Office hoặc dùng phần mềm nguồn mở thay thế.",
            en="Buy an Office licence or use an open-source alternative.",
        ),
    ),
    ControlInfo(
        id="lic_activator",
        severity=Severity.high,
        heuristic=True,
        references=[],
        title=Bilingual(
            vi="Phát hiện công cụ bẻ khóa bản quyền (KMSpico, KMSAuto…)", en="Licence crack (activator) found"
        ),
        remediation=Bilingual(
            vi="Gỡ bỏ công cụ bẻ khóa, quét mã độc toàn bộ máy.", en="Remove the activator and run a full malware scan."
        ),
    ),
]


NETWORK_PORTS = {"net_no_telnet": (23, 2323), "net_workstation_no_smb_rdp": (139, 445, 3389)}
CONTROLS += [
    ControlInfo(
        id="net_no_telnet",
        severity=Severity.high,
        references=[_TT12],
        title=Bilingual(vi="Không mở dịch vụ Telnet", en="No Telnet service"),
        remediation=Bilingual(vi="Tắt Telnet trên thiết bị; quản trị qua SSH hoặc HTTPS.", en="Turn Telnet off."),
    ),
    ControlInfo(
        id="net_workstation_no_smb_rdp",
        severity=Severity.medium,
        references=[_TT12],
        title=Bilingual(
            vi="Máy trạm không mở chia sẻ tệp / điều khiển từ xa ra mạng",
            en="Workstations do not expose file sharing / remote desktop",
        ),
        remediation=Bilingual(vi="Tắt chia sẻ tệp và Remote Desktop khi không cần.", en="Turn sharing and RDP off."),
    ),
]

INDICATORS = [
    IndicatorRef(key="av_present", control="av_present"),
    IndicatorRef(key="av_current", control="av_current"),
    IndicatorRef(key="windows_licensed", control="lic_windows"),
    IndicatorRef(key="office_licensed", control="lic_office"),
    IndicatorRef(key="activators", control="lic_activator", counts="fail"),
    IndicatorRef(key="unsupported_os", control="os_supported", counts="fail"),
]


def _host_doc(rng: random.Random, unit: str, index: int, ip: IPv4Address, when: datetime, bad: float) -> dict[str, Any]:
    """One HostReport document; ``bad`` is the unit's probability of each problem."""
    hostname = f"{unit.upper()}-PC{index:03d}"
    mac = "02:00:" + ":".join(f"{b:02x}" for b in ip.packed)
    has_av = rng.random() > bad
    unknown_av = rng.random() < 0.03
    win7 = rng.random() < bad / 3
    lic_class = "genuine" if rng.random() > bad * 1.5 else rng.choice(["unlicensed", "suspicious"])
    activator = lic_class == "suspicious" and rng.random() < 0.8
    office_class = "genuine" if rng.random() > bad * 1.8 else "suspicious"
    return {
        "schema": "secscan.host-report/1",
        "report_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "collected_at": (when - timedelta(hours=rng.randint(1, 200))).isoformat(),
        "agent": {"version": "0.1.0", "platform": "windows", "source": "synthetic", "elevated": True},
        "unit": unit,
        "host": {
            "hostname": hostname,
            "os": {
                "family": "windows",
                "name": "Windows 7 Professional" if win7 else "Windows 10 Pro",
                "build": 7601 if win7 else 19045,
            },
            "interfaces": [{"name": "Ethernet", "mac": mac, "ipv4": [str(ip)], "up": True}],
        },
        "antivirus": {
            "products": None
            if unknown_av
            else (
                [
                    {
                        "name": "Microsoft Defender Antivirus",
                        "source": "securitycenter2",
                        "state": "on",
                        "enabled": True,
                        "up_to_date": rng.random() > bad,
                        "signature_age_days": 1.0,
                    }
                ]
                if has_av
                else []
            )
        },
        "licences": {
            "os": {"product": "Windows(R), Professional edition", "classification": lic_class},
            "office": [{"product": "Office 16, Office16ProPlusVL_KMS_Client", "classification": office_class}]
            if rng.random() < 0.7
            else [],
            "activators": [
                {"kind": "task", "detail": "scheduled task AutoKMS", "tool": "KMSAuto", "confidence": "high"}
            ]
            if activator
            else [],
        },
        "hardening": {
            "os_end_of_life": {"supported": not win7},
            "firewall": {"enabled": rng.random() > bad} if rng.random() > 0.06 else None,
            "patches": {"days_since_last_patch": float(rng.randint(1, 120))},
        },
    }


def _judge(report: HostReport) -> dict[str, tuple[Outcome, dict[str, Any], str | None]]:
    """What a policy evaluation would say about the sample facts (the sample's own rules)."""
    products = report.antivirus.products
    lic = report.licences
    out: dict[str, tuple[Outcome, dict[str, Any], str | None]] = {}
    if products is None:
        out["av_present"] = (Outcome.unknown, {}, "antivirus.products: denied")
        out["av_current"] = (Outcome.unknown, {}, "antivirus.products: denied")
    else:
        on = [p for p in products if p.enabled]
        out["av_present"] = (Outcome.passed if on else Outcome.failed, {"products": [p.name for p in on]}, None)
        if on:
            ok = any(p.up_to_date for p in on)
            out["av_current"] = (Outcome.passed if ok else Outcome.failed, {"up_to_date": ok}, None)
        else:
            out["av_current"] = (Outcome.not_applicable, {}, "no anti-malware")
    eol = report.hardening.os_end_of_life
    out["os_supported"] = (
        Outcome.passed if eol and eol.supported else Outcome.failed,
        {"os": report.host.os.name},
        None,
    )
    days = report.hardening.patches.days_since_last_patch if report.hardening.patches else None
    out["os_patched"] = (
        Outcome.passed if days is not None and days <= 45 else Outcome.failed,
        {"days_since_last_patch": days},
        None,
    )
    fw = report.hardening.firewall
    if fw is None or fw.enabled is None:
        out["fw_enabled"] = (Outcome.unknown, {}, "hardening.firewall: denied: needs administrator rights")
    else:
        out["fw_enabled"] = (Outcome.passed if fw.enabled else Outcome.failed, {"enabled": fw.enabled}, None)
    cls = lic.os.classification.value if lic.os else "unknown"
    out["lic_windows"] = (Outcome.passed if cls == "genuine" else Outcome.failed, {"classification": cls}, None)
    if lic.office:
        bad = [o.classification.value for o in lic.office if o.classification.value != "genuine"]
        out["lic_office"] = (Outcome.failed if bad else Outcome.passed, {"classification": bad or ["genuine"]}, None)
    else:
        out["lic_office"] = (Outcome.not_applicable, {}, "Office not installed")
    tools = [a.tool for a in lic.activators or []]
    out["lic_activator"] = (Outcome.failed if tools else Outcome.passed, {"tools": tools}, None)
    return out


def sample_input(
    units: int = 24,
    hosts_per_unit: int = 25,
    seed: int = 7,
    period: str = "2026-11",
    names: list[str] | None = None,
    scans: bool = True,
) -> ReportInput:
    rng = random.Random(seed)
    when = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    names = names or (DEPARTMENTS + HA_HOA_UNITS)
    unit_infos = []
    host_reports: list[HostReport] = []
    results: list[Result] = []
    scan_reports: list[ScanReport] = []
    severities = {c.id: c.severity.value for c in CONTROLS}
    for u in range(units):
        name = names[u] if u < len(names) else f"Đơn vị số {u + 1}"
        unit_id = f"u{u + 1:03d}"
        level = 3 if u == 0 else 2
        unit_infos.append(
            UnitInfo(id=unit_id, name=name, level=level, kind="commune" if u >= len(DEPARTMENTS) else "department")
        )
        bad = [0.05, 0.15, 0.3, 0.55][u % 4]
        net = int(IPv4Address("10.0.0.0")) + (u << 8)
        scanned_hosts = []
        for i in range(hosts_per_unit):
            ip = IPv4Address(net + 10 + i)
            report = HostReport.model_validate(_host_doc(rng, unit_id, i + 1, ip, when, bad))
            host_reports.append(report)
            for control_id, (outcome, evidence, reason) in _judge(report).items():
                results.append(
                    Result(
                        report_id=str(report.report_id),
                        host=report.host.hostname,
                        unit=unit_id,
                        baseline="sample",
                        control_id=control_id,
                        level=level,
                        requirement=Requirement.required,
                        outcome=outcome,
                        severity=severities[control_id],
                        evidence=evidence,
                        reason=reason,
                    )
                )
            scanned_hosts.append(
                {
                    "ip": str(ip),
                    "mac": report.host.interfaces[0].mac,
                    "ports": [{"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"}]
                    if rng.random() < bad / 2
                    else [],
                }
            )
        for j in range(max(1, hosts_per_unit // 10)):  # devices no agent reports for
            scanned_hosts.append(
                {
                    "ip": str(IPv4Address(net + 200 + j)),
                    "mac": f"02:aa:00:00:{u & 255:02x}:{j & 255:02x}",
                    "vendor": "TP-Link",
                    "ports": [{"port": 23, "proto": "tcp", "state": "open"}] if j == 0 else [],
                }
            )
        if scans:
            scan = ScanReport.model_validate(
                {
                    "scan_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "unit": unit_id,
                    "targets": [f"{IPv4Address(net)}/24"],
                    "nmap": {"version": "7.93", "args": "nmap -sS"},
                    "started_at": when.isoformat(),
                    "finished_at": (when + timedelta(minutes=3)).isoformat(),
                    "hosts": scanned_hosts,
                }
            )
            scan_reports.append(scan)
            for scanned in scan.hosts:  # the network controls (policies/vn-network.yaml), judged per scan host
                open_ports = sorted(p.port for p in scanned.ports if p.state == "open")
                for control_id, ports in NETWORK_PORTS.items():
                    bad = [p for p in open_ports if p in ports]
                    results.append(
                        Result(
                            report_id=str(scan.scan_id),
                            host=str(scanned.ip),
                            unit=unit_id,
                            baseline="sample-network",
                            control_id=control_id,
                            level=level,
                            requirement=Requirement.required,
                            outcome=Outcome.failed if bad else Outcome.passed,
                            severity=severities[control_id],
                            evidence={"ports": bad},
                        )
                    )
    return ReportInput(
        organisation="Ủy ban nhân dân huyện Hạ Hòa",
        period=period,
        generated_at=when,
        units=unit_infos,
        controls=CONTROLS,
        indicators=INDICATORS,
        hosts=host_reports,
        results=results,
        scans=scan_reports,
    )
