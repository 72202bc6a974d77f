"""The store on SQLite and PostgreSQL: ingest, refusal without half-storing, host identity,
migrations, results and finding history."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from secscan.collector.intake import parse
from secscan.collector.refusals import Refusal
from secscan.model.result import Outcome, Requirement, Result
from secscan.model.signing import new_token, sign
from secscan.synth.pc import Pc
from secscan.synth.samples import fleet, host_report, scan_report


def _ingest(store, docs, **kw):
    return store.ingest([(parse(json.dumps(d).encode()), "test") for d in docs], **kw)


def _unsigned(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "signature"}


def test_accepts_then_dedupes(store, token, rng):
    docs = [host_report(rng, h, token=token) for h in fleet(20, ["xa-a"])]
    assert {o.status for o in _ingest(store, docs)} == {"accepted"}
    again = _ingest(store, [json.loads(json.dumps(d, indent=2)) for d in docs[:5]])  # reformatted copies
    assert [o.status for o in again] == ["duplicate"] * 5
    counts = store.counts()
    assert counts["reports"] == 20 and counts["hosts"] == 20
    stored = store.report_document(docs[0]["report_id"])
    assert stored == docs[0]  # the signed document kept whole


def test_duplicates_within_one_batch(store, token, rng):
    doc = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    reformatted = (parse(json.dumps(doc, indent=4, sort_keys=True).encode()), "copy")
    forged = _unsigned(copy.deepcopy(doc))
    forged["host"]["hostname"] = "FORGED"
    outcomes = store.ingest([(parse(json.dumps(doc).encode()), "a"), reformatted,
                             (parse(json.dumps(sign(forged, token)).encode()), "b")])
    assert [o.status for o in outcomes] == ["accepted", "duplicate", "rejected"]
    assert "already stored with different content" in outcomes[2].reason


def _refused(store, doc, reason, refusal, **kw):
    before = store.counts()
    [out] = _ingest(store, [doc], **kw)
    assert out.status == "rejected", out
    assert reason in out.reason, out.reason
    assert out.refusal == refusal
    assert store.counts() == before  # nothing half stored


def test_tampered_signature(store, token, rng):
    doc = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    doc["hardening"]["firewall"]["enabled"] = not doc["hardening"]["firewall"]["enabled"]
    _refused(store, doc, "signature: does not match the document", Refusal.unauthorised)


def test_a_float_the_fast_encoder_writes_otherwise_still_verifies(store, token, rng):
    # json.dumps (the agent) writes 1e-05, orjson (the collector's fast path) 0.00001: the
    # signature is then checked over the definition's bytes, and the report is accepted.
    from secscan.collector.intake import _signed_message
    from secscan.model.signing import signed_message

    doc = _unsigned(host_report(rng, fleet(1, ["xa-a"])[0]))
    doc["agent"]["duration_ms"] = 1e-05
    doc = sign(doc, token)
    assert _signed_message(doc)[0] != signed_message(doc)[0]
    assert [o.status for o in _ingest(store, [doc])] == ["accepted"]
    doc["agent"]["duration_ms"] = 2e-05  # and a change is still caught on that path
    _refused(store, doc, "signature: does not match the document", Refusal.unauthorised)


def test_inf_in_a_free_form_member_is_refused_at_the_signature(store, token, rng):
    # raw members hold any JSON; 1e400 parses to inf there, which no signed JSON can carry
    doc = _unsigned(host_report(rng, fleet(1, ["xa-a"])[0]))
    doc["antivirus"]["products"] = [{"name": "Test AV", "source": "securitycenter2", "raw": {"productState": 1.5}}]
    raw = json.dumps(sign(doc, token)).replace('"productState": 1.5', '"productState": 1e400').encode()
    (outcome,) = store.ingest([(parse(raw), "test")])
    assert (outcome.status, outcome.reason, outcome.refusal) == (
        "rejected", "invalid JSON: a number is out of range", Refusal.invalid)
    assert store.counts()["reports"] == 0


def test_wrong_unit_token(store, rng):
    _, other = store.create_token("xa-b")
    doc = host_report(rng, fleet(1, ["xa-a"])[0], token=other)  # says xa-a, signed with xa-b's token
    _refused(store, doc, "unit: the report says 'xa-a' but its token belongs to 'xa-b'", Refusal.forbidden)


def test_unknown_and_revoked_keys(store, token, rng):
    _, stranger = new_token()
    _refused(store, host_report(rng, unit="xa-a", token=stranger), "is not a token of this collector",
             Refusal.unauthorised)
    key_id = token.split("_")[1].split(".")[0]
    assert store.revoke_token(key_id) and not store.revoke_token(key_id)
    _refused(store, host_report(rng, unit="xa-a", token=token), f"token {key_id} has been revoked",
             Refusal.unauthorised)


def test_replayed_report_id_with_other_content(store, token, rng):
    doc = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    assert _ingest(store, [doc])[0].status == "accepted"
    forged = _unsigned(copy.deepcopy(doc))
    forged["host"]["hostname"] = "FORGED"
    _refused(store, sign(forged, token), "already stored with different content", Refusal.conflict)
    assert store.report_document(doc["report_id"]) == doc  # the original is untouched


def test_unsigned_and_unknown_unit(store, rng):
    doc = host_report(rng, unit="xa-a")
    _refused(store, doc, "signature: the report is not signed", Refusal.unauthorised, require_signature=True)
    _refused(store, host_report(rng, unit="nowhere"), "unit: 'nowhere' is not a unit of this collector",
             Refusal.invalid)
    _refused(store, host_report(rng, unit="xa-a"), "the report says 'xa-a', not 'xa-b'", Refusal.invalid, unit="xa-b")
    out = _ingest(store, [host_report(rng, unit=None)], unit="xa-b")[0]
    assert out.status == "accepted"
    assert store.hosts("xa-b")[0]["id"] == out.host_id


def test_bad_report_does_not_spoil_its_batch(store, token, rng):
    good = [host_report(rng, h, token=token) for h in fleet(5, ["xa-a"])]
    bad = copy.deepcopy(good[2])
    bad["report_id"] = "00000000-0000-4000-8000-000000000000"  # signature no longer matches
    outcomes = _ingest(store, [*good[:2], bad, *good[2:]])
    assert [o.status for o in outcomes] == ["accepted", "accepted", "rejected", "accepted", "accepted", "accepted"]
    assert store.counts()["reports"] == 5


def _report_for(rng, host: Pc, token: str, at: datetime, **changes):
    doc = _unsigned(host_report(rng, host, collected_at=at))
    h = doc["host"]
    for key, value in changes.items():
        if key == "mac":
            h["interfaces"][0]["mac"] = value
        elif key == "ip":
            h["interfaces"][0]["ipv4"] = [value]
        else:
            h[key] = value
    return sign(doc, token)


def test_identity_survives_rename_ip_change_and_new_nic(store, token, rng):
    pc = fleet(1, ["xa-a"], seed=7)[0]
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    steps = [
        _report_for(rng, pc, token, t0),
        _report_for(rng, pc, token, t0 + timedelta(days=1), ip="10.9.9.9"),  # DHCP moved it
        _report_for(rng, pc, token, t0 + timedelta(days=2), ip="10.9.9.9", hostname="KETOAN-01"),  # renamed
        _report_for(rng, pc, token, t0 + timedelta(days=3), ip="10.9.9.9", hostname="KETOAN-01",
                    mac="3c:52:82:00:00:99"),  # new NIC
    ]
    for doc in steps:
        assert _ingest(store, [doc])[0].status == "accepted"
    [host] = store.hosts()
    assert host["hostname"] == "KETOAN-01" and host["ips"] == ["10.9.9.9"]
    assert host["macs"] == sorted([pc.mac, "3c:52:82:00:00:99"])
    assert not host["clone_suspect"]
    assert host["first_seen"] == t0 and host["last_seen"] == t0 + timedelta(days=3)
    # an older report arriving late (USB stick) does not roll the host back
    late = _report_for(rng, pc, token, t0 - timedelta(days=5), hostname="OLDNAME")
    assert _ingest(store, [late])[0].status == "accepted"
    [host] = store.hosts()
    assert host["hostname"] == "KETOAN-01" and host["first_seen"] == t0 - timedelta(days=5)
    assert host["last_report_id"] == steps[-1]["report_id"]


def test_cloned_image_is_flagged_not_merged(store, token, rng):
    pc, other = fleet(2, ["xa-a"], seed=9)
    clone = replace(other, machine_id=pc.machine_id, unit="xa-a")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _ingest(store, [_report_for(rng, pc, token, t0)])
    _ingest(store, [_report_for(rng, clone, token, t0 + timedelta(hours=1))])
    _ingest(store, [_report_for(rng, clone, token, t0 + timedelta(hours=2))])  # the clone again: same row
    hosts = {h["hostname"]: h for h in store.hosts()}
    assert len(hosts) == 2
    original, copy_ = hosts[pc.hostname], hosts[other.hostname]
    assert original["clone_suspect"] and copy_["clone_suspect"]
    assert copy_["clone_of"] == original["id"] and original["clone_of"] is None
    assert original["machine_id"] == copy_["machine_id"]
    assert store.unit_summary("xa-a")["clone_suspects"] == 2


def test_clone_in_the_same_batch(store, token, rng):
    pc, other = fleet(2, ["xa-a"], seed=11)
    clone = replace(other, machine_id=pc.machine_id, unit="xa-a")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _ingest(store, [_report_for(rng, pc, token, t0), _report_for(rng, clone, token, t0)])
    assert sorted(bool(h["clone_of"]) for h in store.hosts()) == [False, True]


def test_locally_administered_macs_identify_nothing(store, token, rng):
    a, b = fleet(2, ["xa-a"], seed=13)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    docs = []
    for pc in (a, b):  # both carry the same random docker bridge MAC, and no machine id
        doc = _unsigned(_report_for(rng, pc, token, t0))
        doc["host"]["machine_id"] = None
        doc["host"]["interfaces"].append({"name": "docker0", "mac": "02:42:ac:11:00:02", "ipv4": ["172.17.0.1"]})
        docs.append(sign(doc, token))
    _ingest(store, docs)
    assert len(store.hosts()) == 2


def test_scan_reports(store, rng):
    doc = scan_report(rng, unit="xa-b")
    assert [o.status for o in _ingest(store, [doc, doc])] == ["accepted", "duplicate"]
    assert [str(s.scan_id) for s in store.scans("xa-b")] == [doc["scan_id"]]


def test_hosts_stale_filter(store, token, rng):
    old, fresh = fleet(2, ["xa-a"], seed=3)
    now = datetime.now(UTC)
    _ingest(store, [_report_for(rng, old, token, now - timedelta(days=40)), _report_for(rng, fresh, token, now)])
    assert [h["hostname"] for h in store.hosts(stale_days=30)] == [old.hostname]
    assert len(store.hosts("xa-a")) == 2 and store.hosts("xa-b") == []
    summary = store.unit_summary("xa-a")
    assert summary["hosts"] == 2 and summary["stale_hosts"] == 1 and summary["reports"] == 2


def _firewall_rule(doc, unit):
    """A tiny real evaluator: one control over one fact (the policy stage provides the real ones;
    see test_policy.py)."""
    enabled = ((doc.get("hardening") or {}).get("firewall") or {}).get("enabled")
    outcome = Outcome.unknown if enabled is None else (Outcome.passed if enabled else Outcome.failed)
    return [Result(report_id=doc["report_id"], host=doc["host"]["hostname"], unit=unit, baseline="test",
                   control_id="FW-1", level=2, requirement=Requirement.required, outcome=outcome, severity="high",
                   evidence={"hardening.firewall.enabled": enabled})]


def test_results_of_the_latest_report_and_reevaluation(store, token, rng):
    store.evaluator = _firewall_rule
    pc = fleet(1, ["xa-a"], seed=5)[0]
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    first = _unsigned(_report_for(rng, pc, token, t0))
    first["hardening"]["firewall"]["enabled"] = False
    second = copy.deepcopy(first)
    second["report_id"] = "11111111-1111-4111-8111-111111111111"
    second["collected_at"] = (t0 + timedelta(days=1)).isoformat()
    second["hardening"]["firewall"]["enabled"] = True
    _ingest(store, [sign(first, token)])
    assert [r.outcome for r in store.latest_results("xa-a")] == [Outcome.failed]
    _ingest(store, [sign(second, token)])
    [latest] = store.latest_results("xa-a")
    assert latest.outcome == Outcome.passed and latest.report_id == second["report_id"]
    assert store.counts()["results"] == 1  # the older report's results were replaced
    assert store.unit_summary("xa-a")["results"]["pass"] == 1
    late = copy.deepcopy(first)  # an older report arriving late changes nothing
    late["report_id"] = "33333333-3333-4333-8333-333333333333"
    _ingest(store, [sign(late, token)])
    assert [r.report_id for r in store.latest_results()] == [second["report_id"]]
    store.evaluator = lambda doc, unit: [r.model_copy(update={"outcome": Outcome.unknown})
                                         for r in _firewall_rule(doc, unit)]
    assert store.reevaluate() == (1, 1)
    assert [r.outcome for r in store.latest_results()] == [Outcome.unknown]
    assert store.reevaluate(unit="xa-b") == (0, 0)


def test_finding_history(store):
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    f = lambda unit, control: {"unit_id": unit, "baseline": "nd85", "control_id": control,  # noqa: E731
                               "severity": "high", "data": {"hosts": ["PC1"]}}
    assert store.save_findings([f("xa-a", "AV-1"), f("xa-b", "AV-1")], at=t0) == {"new": 2, "open": 0, "resolved": 0}
    t1 = t0 + timedelta(days=7)
    assert store.save_findings([f("xa-a", "AV-1")], at=t1, units=["xa-a"]) == {"new": 0, "open": 1, "resolved": 0}
    t2 = t1 + timedelta(days=7)
    assert store.save_findings([], at=t2) == {"new": 0, "open": 0, "resolved": 2}
    rows = {(r["unit_id"], r["control_id"]): r for r in store.findings()}
    assert rows[("xa-a", "AV-1")]["first_seen"] == t0 and rows[("xa-a", "AV-1")]["last_seen"] == t1
    assert rows[("xa-a", "AV-1")]["status"] == "resolved" and rows[("xa-a", "AV-1")]["resolved_at"] == t2
    t3 = t2 + timedelta(days=1)
    assert store.save_findings([f("xa-a", "AV-1")], at=t3)["new"] == 1  # came back: new again
    assert store.findings("xa-a", include_resolved=False)[0]["first_seen"] == t3


def test_unit_parent_cycle_refused(store):
    with pytest.raises(ValueError, match="parent cycle"):
        store.upsert_units([{"id": "p", "name": "P", "parent_id": "q"}, {"id": "q", "name": "Q", "parent_id": "p"}])


def test_concurrent_writers_store_each_report_once(store, token, rng):
    """Several threads (as several collectors would) push overlapping reports, including the same
    new PC at once: each report stored once, the PC one host."""
    pcs = fleet(30, ["xa-a"], seed=21)
    docs = [host_report(rng, h, token=token) for h in pcs]
    twin = _report_for(rng, pcs[0], token, datetime(2026, 11, 25, tzinfo=UTC))
    errors: list[BaseException] = []

    def push(chunk: list[dict]) -> None:
        try:
            for doc in chunk:
                assert _ingest(store, [doc])[0].status in ("accepted", "duplicate")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=([*docs[i::3], twin],)) for i in range(3)]
    threads += [threading.Thread(target=push, args=(docs[::-1],))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert store.counts()["reports"] == 31 and store.counts()["hosts"] == 30
