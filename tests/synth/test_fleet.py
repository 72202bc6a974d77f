"""The one synthetic fleet: a PC's raw capture, decoded by the real Windows decoder, says what its
HostReport says (the same facts, the same verdict on every control at every level); draws are
deterministic and keep the demo's headline truth; the rates are the profile's."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from secscan.agent.windows import decode_capture
from secscan.demo import fleet as demo_fleet
from secscan.model.host import HostReport
from secscan.model.result import Outcome
from secscan.policy import default_baseline
from secscan.synth.capture import render_capture
from secscan.synth.draw import COMMUNE
from secscan.synth.pc import Pc
from secscan.synth.report import render_report
from secscan.synth.samples import fleet, good_pc, host_report
from secscan.synth.truth import Truth

NOW = demo_fleet.now_for_period()


def _both(pc: Pc) -> tuple[dict, dict]:
    """(the rendered HostReport, the rendered capture as decoded), both as stored documents."""
    report = HostReport.model_validate(render_report(pc, NOW, random.Random(1))).to_document()
    body = json.dumps(render_capture(pc, NOW, random.Random(2))).encode()
    return report, decode_capture(body).to_document()


def _facts(doc: dict) -> dict:
    """What a PC is, as a document states it."""
    host, lic, hard, products = doc["host"], doc["licences"], doc["hardening"], doc["antivirus"]["products"]
    return {
        "host": (host["hostname"], host["machine_id"], host["interfaces"][0]["mac"].lower(),
                 host["interfaces"][0]["ipv4"], host["os"]["build"]),
        # the decoder adds Defender's own view (Get-MpComputerStatus) beside Security Center's
        "av": (sorted(p["name"] for p in products if not p["microsoft"]), any(p["enabled"] for p in products),
               any(p["enabled"] and p["up_to_date"] for p in products)),
        "windows": (lic["os"]["classification"], lic["os"]["channel"], lic["os"]["license_status"]),
        "office": sorted((o["classification"], o["channel"]) for o in lic["office"]),
        "activator": bool(lic["activators"]),
        "hardening": (hard["firewall"]["enabled"], hard["smb"]["smb1_server"], hard["rdp"]["enabled"],
                      hard["rdp"]["nla_required"], hard["autorun"]["disabled_all_drives"],
                      hard["local_admins"]["count"], hard["local_admins"]["builtin_admin_enabled"],
                      hard["password_policy"]["min_length"], hard["password_policy"]["max_age_days"],
                      hard["password_policy"]["complexity"], hard["lockout"]["threshold"],
                      hard["screen_lock"]["enabled"], hard["screen_lock"]["timeout_seconds"],
                      [t["name"] for t in hard["remote_access"]["tools"]], hard["patches"]["auto_updates"],
                      hard["os_end_of_life"]["supported"]),
    }


@pytest.mark.parametrize("seed", [2023, 5])
def test_decoded_capture_states_the_same_facts_and_verdicts_as_the_report(seed: int) -> None:
    baseline = default_baseline()
    pcs = demo_fleet.draw(seed)
    for pc in pcs:
        report, decoded = _both(pc)
        assert _facts(decoded) == _facts(report), pc
        for level in (1, 2, 3):
            verdicts = [(v.control_id, v.outcome) for v in baseline.judge(report, level)]
            assert [(v.control_id, v.outcome) for v in baseline.judge(decoded, level)] == verdicts, (pc, level)
    # every kind of PC the demo draws is among them
    assert {pc.windows for pc in pcs} == {"oem", "retail", "mak", "kms_public", "kms38", "kmspico", "unlicensed"}
    assert {pc.office for pc in pcs} == {None, "c2r_retail", "vl_public_kms", "vl_kmspico"}
    assert {pc.av for pc in pcs} == {None, "Bkav Pro", "Kaspersky Endpoint Security for Windows", "Windows Defender"}
    assert {pc.os for pc in pcs} == {"win7", "win10", "win11"}


def test_the_demo_draw_is_deterministic_and_its_truth_the_reports() -> None:
    pcs = demo_fleet.draw(2023)
    assert [vars(p) for p in pcs] == [vars(p) for p in demo_fleet.draw(2023)]
    truth = demo_fleet.Truth.of(pcs)
    reports = [demo_fleet.host_report(pc, NOW, 2023) for pc in pcs]
    assert truth.commune_pcs == 406 and truth.pcs == len(reports)
    assert truth.windows_licensed == sum(r["licences"]["os"]["classification"] == "genuine" for r in reports)
    assert truth.office_licensed == sum(any(o["classification"] == "genuine" for o in r["licences"]["office"])
                                        for r in reports)
    assert truth.activators == sum(bool(r["licences"]["activators"]) for r in reports)
    assert truth.os_unsupported == sum(not r["hardening"]["os_end_of_life"]["supported"] for r in reports)


def test_sample_fleet_is_stable_and_a_new_report_keeps_the_identity() -> None:
    a, b = fleet(50, ["xa-a", "xa-b"], seed=3), fleet(50, ["xa-a", "xa-b"], seed=3)
    assert [vars(p) for p in a] == [vars(p) for p in b]
    assert len({p.hostname for p in a}) == len({p.machine_id for p in a}) == len({p.mac for p in a}) == 50
    rng = random.Random(1)
    first, second = host_report(rng, a[0]), host_report(rng, a[0])
    assert first["report_id"] != second["report_id"]
    for doc in (first, second):
        assert (doc["host"]["hostname"], doc["host"]["machine_id"], doc["unit"]) == (a[0].hostname, a[0].machine_id,
                                                                                     "xa-a")
        HostReport.model_validate(doc)


def test_rates_are_the_profiles() -> None:
    pcs = fleet(4000, ["xa-a"], seed=11)
    truth = Truth.of(pcs, {"xa-a"})
    assert abs(truth.antivirus / len(pcs) - COMMUNE.av_on) < 0.03
    assert abs(truth.windows_licensed / len(pcs) - COMMUNE.windows_genuine) < 0.03
    assert abs(sum(p.office is not None for p in pcs) / len(pcs) - COMMUNE.office_installed) < 0.02


def test_the_good_pc_passes_every_control_as_report_and_as_capture() -> None:
    """The PC with every setting good (tests/policy's hosts): BitLocker and a managed anti-virus are
    facts of the PC, so its capture decodes to the same passes as its report."""
    baseline = default_baseline()
    pc = good_pc("van-lang", "VANLANG-PC01", "192.168.10.21")
    report, decoded = _both(pc)
    assert _facts(decoded) == _facts(report)
    for doc in (report, decoded):
        assert doc["hardening"]["disk_encryption"]["system_volume_encrypted"] is True
        outcomes = {v.control_id: v.outcome for v in baseline.judge(doc, 3)}
        assert {c: o for c, o in outcomes.items() if o is not Outcome.passed} == {
            "ssh_root_login_disabled": Outcome.not_applicable, "sudo_nopasswd_none": Outcome.not_applicable}


def test_managed_kaspersky_shows_its_network_agent() -> None:
    pc = next(p for p in demo_fleet.draw(2023) if p.av == "Kaspersky Endpoint Security for Windows")
    for managed in (False, True):
        pc = replace(pc, local=replace(pc.local, av_managed=managed))
        for doc in _both(pc):
            assert [p.get("centrally_managed") for p in doc["antivirus"]["products"] if not p["microsoft"]] == [
                managed]
