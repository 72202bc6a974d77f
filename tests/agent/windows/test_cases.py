"""Each recorded capture decodes to the facts it is about (issue 3, "Done means")."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

from secscan.model.common import ProbeStatus
from secscan.model.host import HostReport
from tests.agent.windows.conftest import decode


def probe(report: HostReport, name: str):  # type: ignore[no-untyped-def]
    return next(p for p in report.probes if p.name == f"windows.{name}")


def av(report: HostReport, source: str, name_part: str = ""):  # type: ignore[no-untyped-def]
    return next(p for p in report.antivirus.products or [] if p.source == source and name_part in p.name)


def test_win10_defender_only() -> None:
    r = decode("win10_defender_only")
    assert r.agent.platform == "windows" and r.agent.source == "capture" and r.agent.elevated is True
    assert str(r.report_id) == "6f1d2b1e-8c1a-4a52-9f0e-0d6c1c2b7a01"  # re-import deduplicates
    assert r.collected_at == datetime(2026, 11, 20, 2, 10, 9, 500000, tzinfo=UTC)
    assert r.host.hostname == "PC-VANTHU01" and r.host.workgroup == "WORKGROUP"
    assert (r.host.os.name, r.host.os.build, r.host.os.ubr, r.host.os.display_version) == ("Windows 10 Pro", 19045,
                                                                                          5131, "22H2")
    sc2 = av(r, "securitycenter2")
    assert (sc2.state, sc2.enabled, sc2.microsoft, sc2.up_to_date) == ("on", True, True, True)
    assert sc2.product_state == 397568
    mp = av(r, "defender")
    assert (mp.real_time, mp.tamper_protected, mp.running_mode, mp.signature_age_days) == (True, True, "Normal", 0)
    assert mp.signature_updated_at == datetime(2026, 11, 19, 22, 40, 11, tzinfo=UTC)
    assert len(r.antivirus.products or []) == 2  # no fallback duplicate of Defender
    assert r.antivirus.detections == []
    assert r.licences.activators == []
    h = r.hardening
    assert h.firewall and h.firewall.enabled is True and [p.name for p in h.firewall.profiles] == [
        "Domain", "Private", "Public"]
    assert h.patches and h.patches.last_patch_at == datetime(2026, 11, 13, tzinfo=UTC)
    assert h.patches.days_since_last_patch == 7.1
    assert h.os_end_of_life and h.os_end_of_life.end_of_support == date(2025, 10, 14)
    assert h.os_end_of_life.supported is False and "not verified" in (h.os_end_of_life.basis or "")
    assert h.smb and (h.smb.smb1_server, h.smb.smb1_client) == (False, False)
    assert h.rdp and (h.rdp.enabled, h.rdp.nla_required, h.rdp.port) == (False, True, 3389)
    assert h.autorun and h.autorun.disabled_all_drives is True
    assert h.local_admins and h.local_admins.count == 1 and h.local_admins.builtin_admin_enabled is False
    assert h.password_policy and (h.password_policy.min_length, h.password_policy.complexity,
                                  h.password_policy.source) == (8, True, "secedit")
    assert h.lockout and h.lockout.threshold == 5
    assert h.disk_encryption and h.disk_encryption.system_volume_encrypted is True
    assert h.screen_lock and (h.screen_lock.enabled, h.screen_lock.timeout_seconds) == (True, 600)
    assert h.remote_access and h.remote_access.tools == []
    assert probe(r, "office_ospp").status == ProbeStatus.unsupported


def test_genuine_oem_with_firmware_key() -> None:
    lic = decode("win10_defender_only").licences.os
    assert lic and lic.channel == "OEM:DM" and lic.partial_key == "7XRCQ"
    assert (lic.classification, lic.confidence) == ("genuine", "high")


def test_windows11_is_named_from_the_build() -> None:
    r = decode("win11_genuine_oem")
    assert r.host.os.product_name_raw == "Windows 10 Pro"
    assert r.host.os.name == "Windows 11 Pro"
    assert r.hardening.os_end_of_life and r.hardening.os_end_of_life.end_of_support == date(2025, 11, 11)


def test_kaspersky_on_defender_off_and_mak() -> None:
    r = decode("win10_kaspersky_defender_off_mak")
    kes = av(r, "securitycenter2", "Kaspersky")
    assert (kes.state, kes.microsoft, kes.up_to_date, kes.vendor) == ("on", False, True, "Kaspersky")
    defender = av(r, "securitycenter2", "Defender")
    assert (defender.state, defender.enabled, defender.microsoft) == ("off", False, True)
    # Defender's own status failed: recorded, no invented Defender product, no detections claimed.
    assert probe(r, "defender").status == ProbeStatus.error and "0x800106ba" in (probe(r, "defender").error or "")
    assert len(r.antivirus.products or []) == 2 and r.antivirus.detections is None
    lic = r.licences.os
    assert lic and lic.channel == "Volume:MAK" and lic.classification == "genuine"
    assert lic.confidence == "low"  # MAK (medium), lowered: activator checks incomplete
    assert any("incomplete" in e for e in lic.evidence)
    assert r.licences.activators is None  # none found but not every place could be searched


def test_bkav_with_old_signatures() -> None:
    r = decode("win10_bkav_old_signatures")
    bkav = av(r, "securitycenter2", "Bkav")
    assert (bkav.state, bkav.microsoft, bkav.up_to_date, bkav.product_state) == ("on", False, False, 397328)
    assert av(r, "securitycenter2", "Defender").state == "snoozed"
    assert av(r, "defender").state == "off"  # passive mode: installed, not protecting
    assert not [p for p in r.antivirus.products or [] if p.source in ("process", "uninstall")]


def test_server_without_securitycenter2() -> None:
    r = decode("server2019_no_securitycenter2", kms_allow=["kms01.sotttt.example.gov.vn"])
    assert probe(r, "securitycenter2").status == ProbeStatus.unsupported
    assert r.host.role == "server" and r.host.os.installation_type == "server" and r.host.domain
    names = {(p.name, p.source) for p in r.antivirus.products or []}
    assert names == {("Microsoft Defender Antivirus", "defender"), ("Kaspersky", "service")}
    assert av(r, "service").enabled is True and av(r, "service").state == "unknown"
    assert r.hardening.os_end_of_life and r.hardening.os_end_of_life.end_of_support == date(2029, 1, 9)
    lic = r.licences.os
    assert lic and (lic.classification, lic.confidence) == ("genuine", "high")
    assert lic.kms_discovered_host == "kms01.sotttt.example.gov.vn"
    assert r.host.hardware.is_virtual is True
    assert r.hardening.screen_lock and r.hardening.screen_lock.timeout_seconds == 900


def test_org_kms_outside_the_allow_list_is_unknown() -> None:
    lic = decode("server2019_no_securitycenter2").licences.os
    assert lic and (lic.classification, lic.confidence) == ("unknown", "low")
    assert any("allow-list" in e for e in lic.evidence)


def test_kms_to_a_public_crack_host() -> None:
    r = decode("kms_public_crack_host")
    lic = r.licences.os
    assert lic and (lic.classification, lic.confidence, lic.kms_host) == ("suspicious", "high", "kms.03k.org")
    kinds = {(a.kind, a.tool) for a in r.licences.activators or []}
    assert ("kms_host", "public KMS") in kinds and ("task", "MAS Online KMS") in kinds


def test_kms38() -> None:
    r = decode("kms38")
    lic = r.licences.os
    assert lic and lic.classification == "suspicious" and lic.grace_minutes == 7340421
    kinds = {a.kind for a in r.licences.activators or []}
    assert {"kms_host", "grace"} <= kinds
    assert any("127.0.0.2" in a.detail and a.tool == "MAS KMS38" for a in r.licences.activators or [])


def test_kmspico_artefacts() -> None:
    r = decode("kmspico_artefacts")
    evidence = r.licences.activators or []
    assert {a.kind for a in evidence} >= {"file", "task", "service", "defender_exclusion", "defender_detection",
                                          "hosts_file"}
    assert {a.tool for a in evidence if a.kind in ("file", "task", "service", "defender_exclusion")} == {"KMSpico"}
    assert r.antivirus.detections == ["HackTool:Win32/AutoKMS"]  # one threat written as an object
    lic = r.licences.os
    assert lic and (lic.classification, lic.confidence) == ("suspicious", "high")


def test_office_click_to_run_retail_and_generic_windows_key() -> None:
    r = decode("office_c2r_retail")
    office = r.licences.office or []
    assert len(office) == 1 and office[0].channel == "Retail"
    assert (office[0].classification, office[0].confidence) == ("genuine", "medium")
    win = r.licences.os
    # A digital licence with the generic key: HWID activation looks the same. Never "genuine" by assumption.
    assert win and win.partial_key == "3V66T" and win.classification == "unknown"
    assert any("no activator evidence found" in e for e in win.evidence)


def test_office_volume_licence_on_a_pirate_kms() -> None:
    r = decode("office_vl_pirate_kms")
    office = (r.licences.office or [])[0]
    assert office.kms_host == "42.193.139.78"  # from the Office registry override
    assert office.classification == "suspicious"
    assert r.licences.os and r.licences.os.classification == "genuine"  # Windows untouched by Office's KMS
    assert {a.kind for a in r.licences.activators or []} == {"kms_host", "vl_interval"}


def test_windows7() -> None:
    r = decode("windows7")
    assert r.host.os.name == "Windows 7 Professional" and r.host.os.build == 7601
    assert r.host.os.display_version == "Service Pack 1" and r.host.os.installation_type == "client"
    assert r.hardening.os_end_of_life and r.hardening.os_end_of_life.supported is False
    eset = av(r, "securitycenter2", "ESET")
    assert eset.state == "on" and len(r.antivirus.products or []) == 1
    assert probe(r, "defender").status == ProbeStatus.unsupported
    assert r.hardening.firewall and r.hardening.firewall.raw == {"source": "registry"}
    assert [p.enabled for p in r.hardening.firewall.profiles] == [True, True, False]
    assert r.hardening.firewall.enabled is False
    assert r.hardening.smb and (r.hardening.smb.smb1_server, r.hardening.smb.smb1_client) == (True, True)
    assert r.hardening.rdp and (r.hardening.rdp.enabled, r.hardening.rdp.nla_required) == (True, False)
    assert r.hardening.autorun and r.hardening.autorun.disabled_all_drives is False
    assert r.hardening.patches and r.hardening.patches.last_patch_at == datetime(2020, 1, 15, tzinfo=UTC)
    admins = r.hardening.local_admins
    assert admins and admins.count == 2 and admins.builtin_admin_enabled is True
    win = r.licences.os
    assert win and win.channel == "OEM:SLP" and win.classification == "genuine"
    office = r.licences.office or []
    assert [o.product for o in office] == ["Office 14, OfficeProPlus-Retail edition"]
    assert r.hardening.disk_encryption is None


def test_non_admin_sections_denied_stay_unknown() -> None:
    r = decode("non_admin")
    assert r.agent.elevated is False
    for name in ("secedit", "bitlocker", "defender_exclusions", "defender_threats", "ifeo"):
        assert probe(r, name).status == ProbeStatus.denied
    assert r.hardening.disk_encryption is None  # denied: unknown, not "unencrypted"
    assert r.antivirus.detections is None
    assert r.licences.activators is None
    pw = r.hardening.password_policy
    assert pw and pw.source == "net_accounts" and pw.complexity is None  # net accounts cannot tell
    assert (pw.min_length, pw.max_age_days, pw.history) == (0, 42, 0)
    assert r.hardening.lockout and r.hardening.lockout.threshold == 0
    lic = r.licences.os
    assert lic and (lic.classification, lic.confidence) == ("genuine", "medium")


def test_powershell_51_date_shapes_and_single_objects() -> None:
    r = decode("ps51_date_shapes")
    assert r.collected_at == datetime(2026, 11, 26, 2, 10, 9, 500000, tzinfo=UTC)  # {"value": "/Date()/"} form
    assert r.host.os.install_date == datetime(2023, 3, 2, 1, 22, 10, tzinfo=UTC)
    assert r.host.boot_time == datetime(2026, 11, 26, 2, 5, 31, 500000, tzinfo=UTC)
    assert [str(ip) for ip in r.host.interfaces[0].ipv4] == ["192.168.1.23"]
    assert av(r, "defender").signature_updated_at == datetime(2026, 11, 25, 22, 40, 11, tzinfo=UTC)
    assert r.hardening.patches and r.hardening.patches.hotfixes == ["KB5046613"]
    assert r.hardening.patches.last_patch_at == datetime(2026, 11, 18, tzinfo=UTC)
    fw = r.hardening.firewall
    assert fw and [(p.enabled, p.default_inbound) for p in fw.profiles] == [
        (True, "Block"), (True, "Block"), (False, "NotConfigured")]
    assert r.hardening.local_admins and len(r.hardening.local_admins.members) == 1
    sl = r.hardening.screen_lock
    assert sl and sl.users[0].secure is True and sl.timeout_seconds == 900  # policy value wins
    assert r.hardening.disk_encryption and r.hardening.disk_encryption.system_volume_encrypted is False
    assert r.hardening.autorun and r.hardening.autorun.no_drive_type_autorun == 0x800000FF
    assert all(p.status in ("ok", "unsupported") for p in r.probes)


def test_vietnamese_names_and_labels() -> None:
    r = decode("vietnamese")
    assert r.host.workgroup == "UBND-XÃ"
    names = [m.name for m in (r.hardening.local_admins.members if r.hardening.local_admins else [])]
    nfc = "PC-VANTHU01\\Nguyễn Văn Ánh"
    assert nfc in names and unicodedata.is_normalized("NFC", nfc)  # captured decomposed (NFD)
    assert r.hardening.screen_lock and r.hardening.screen_lock.users[0].user == "PC-VANTHU01\\Trần Thị Hương"
    pw = r.hardening.password_policy
    assert pw and pw.source == "net_accounts" and (pw.min_length, pw.max_age_days, pw.min_age_days, pw.history) == (
        8, 90, 1, 5)
    lock = r.hardening.lockout
    assert lock and (lock.threshold, lock.duration_minutes, lock.reset_minutes) == (5, 15, 15)
    tools = r.hardening.remote_access.tools if r.hardening.remote_access else []
    assert [(t.name, t.running) for t in tools] == [("UltraViewer", True)]
    bkav = av(r, "process", "Bkav")
    assert bkav.enabled is True and bkav.state == "unknown"
    # Viettel-CA token software is not an anti-virus.
    assert not [p for p in r.antivirus.products or [] if "Viettel" in p.name]
    text = r.model_dump_json()
    assert "Nguyễn Văn Ánh" in text or "Nguy\\u1ec5n" in text
