from __future__ import annotations

from secscan.model.finding import AffectedHost, FindingKind, FindingStatus, finding_id
from secscan.model.result import Outcome
from secscan.report.evidence import reader
from secscan.report.inputs import Snapshot
from secscan.report.summary import summarise


def test_finding_id_is_stable_and_depends_on_unit_and_control_only():
    assert finding_id("u001", "av_present") == finding_id("u001", "av_present")
    assert finding_id("u001", "av_present") != finding_id("u002", "av_present")
    assert finding_id("u001", "av_present") != finding_id("u001", "av_current")


def test_same_problem_in_another_run_has_the_same_finding_id(small, district):
    # other report ids, other fleet (another seed): the same unit and control give the same id
    a = {(f.unit, f.control_id): f.id for f in summarise(small).findings}
    b = {(f.unit, f.control_id): f.id for f in summarise(district).findings}
    assert {str(h.report_id) for h in small.hosts}.isdisjoint(str(h.report_id) for h in district.hosts)
    assert all(a[k] == b[k] for k in a.keys() & b.keys()) and a.keys() & b.keys()


def test_findings_group_failing_and_unknown_hosts_per_unit_and_control(small):
    s = summarise(small)
    control = [f for f in s.findings if f.kind in (FindingKind.control, FindingKind.exposure)]
    for f in control:
        results = [r for r in small.results if r.unit == f.unit and r.control_id == f.control_id]
        failed = {r.host for r in results if r.outcome is Outcome.failed}
        unknown = {r.host for r in results if r.outcome is Outcome.unknown}
        assert f.failed == len(failed) and f.unknown == len(unknown)
        assert {h.host for h in f.hosts} == failed | unknown
        assert f.evidence  # the facts are quoted
    # a unit and control with no failing and no unknown host has no finding
    keys = {(f.unit, f.control_id) for f in control}
    for r in small.results:
        if (r.unit, r.control_id) not in keys:
            assert r.outcome in (Outcome.passed, Outcome.not_applicable)


def test_trusted_affected_host_is_the_validated_model():
    values = {"host": "PC-ộ", "outcome": "fail", "ips": ["10.0.0.5"], "detail": '{"a": 1}'}
    fast, slow = AffectedHost.trusted(**values), AffectedHost(**values)
    assert fast == slow == AffectedHost.model_construct(**values)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump_json() == slow.model_dump_json()
    fast.detail = None  # assignable like any model
    assert fast.model_copy(update={"host": "b"}).host == "b" and fast.detail is None


def test_affected_hosts_list_failing_then_unknown_each_by_name_with_their_evidence(small):
    s = summarise(small)
    for f in s.findings:
        if f.kind is not FindingKind.control:
            continue
        outcomes = [h.outcome for h in f.hosts]
        assert outcomes == sorted(outcomes, key=lambda o: o != "fail")
        fails = [h.host for h in f.hosts if h.outcome == "fail"]
        assert fails == sorted(fails)
        by_host = {r.host: r for r in small.results if r.unit == f.unit and r.control_id == f.control_id}
        for h in f.hosts:
            r = by_host[h.host]
            # one readable line per PC, never the facts' JSON (that stays in the feed)
            assert h.detail == reader("vi").line(r)
            assert h.detail and not h.detail.startswith("{")


def test_unknown_is_a_finding_not_a_pass(small):
    s = summarise(small)
    unknown = [f for f in s.findings if f.unknown and not f.failed]
    unknown_results = [r for r in small.results if r.outcome is Outcome.unknown]
    assert unknown_results, "the sample must contain unknown outcomes"
    assert any(f.control_id == unknown_results[0].control_id for f in s.findings)
    assert all(h.outcome == "unknown" for f in unknown for h in f.hosts)


def test_heuristic_findings_carry_confidence_and_references_their_verified_flag(small):
    s = summarise(small)
    activator = [f for f in s.findings if f.control_id == "no_activator"]
    assert activator and all(f.confidence == "high" for f in activator)
    assert all(f.confidence is None for f in s.findings if f.control_id == "av_installed")
    # the shipped baselines verify no citation yet: mark one verified and see both flags travel
    control = next(c for c in small.controls if c.id == "no_activator")
    first = control.references[0].model_copy(update={"verified": True})
    marked = control.model_copy(update={"references": [first, *control.references[1:]]})
    inp = small.model_copy(update={"controls": [marked if c.id == marked.id else c for c in small.controls]})
    controls = {c.id: c for c in inp.controls}
    findings = [f for f in summarise(inp).findings if f.control_id in controls]
    assert findings and all(f.references == controls[f.control_id].references for f in findings)
    assert {r.verified for f in findings for r in f.references} == {True, False}


def test_network_exposure_and_unmanaged_hosts_are_findings(small):
    s = summarise(small)
    unmanaged = [f for f in s.findings if f.kind is FindingKind.unmanaged]
    assert len(unmanaged) == len(small.scans)  # one device no agent reports for on each scanned LAN
    assert all(f.failed == 1 and f.hosts[0].ips[0].endswith(".250") for f in unmanaged)
    assert all("no agent report" in f.hosts[0].detail and "23/tcp" in f.hosts[0].detail for f in unmanaged)
    telnet = [f for f in s.findings if f.control_id == "net_no_telnet"]
    assert telnet and all(f.kind is FindingKind.exposure and f.severity.value == "high" for f in telnet)
    assert all(h.ips == [h.host] for f in telnet for h in f.hosts)


def test_a_stale_agent_report_makes_the_host_unmanaged(small):
    from datetime import timedelta

    later = small.model_copy(update={"generated_at": small.generated_at + timedelta(days=60)})
    unmanaged = [f for f in summarise(later).findings if f.kind is FindingKind.unmanaged]
    assert sum(f.failed for f in unmanaged) == sum(len(s.hosts) for s in small.scans)  # every report is stale


def test_status_new_open_resolved_with_first_and_last_seen(small):
    first = summarise(small)
    assert {f.status for f in first.findings} == {FindingStatus.new}
    snap = first.snapshot()
    # next period: one finding fixed (its results now pass), the rest still there
    gone = next(f for f in first.findings if f.kind is FindingKind.control)
    later = small.generated_at.replace(month=12)
    results = [
        r.model_copy(update={"outcome": Outcome.passed})
        if (r.unit, r.control_id) == (gone.unit, gone.control_id)
        else r
        for r in small.results
    ]
    nxt = small.model_copy(
        update={
            "results": results,
            "generated_at": later,
            "period": "2026-12",
            "previous": Snapshot.model_validate(snap.model_dump(by_alias=True)),
        }
    )
    second = summarise(nxt)
    by_id = {f.id: f for f in second.findings}
    assert by_id[gone.id].status is FindingStatus.resolved
    assert by_id[gone.id].last_seen == small.generated_at
    still = [f for f in second.findings if f.id != gone.id]
    assert still and all(f.status is FindingStatus.open for f in still)
    assert all(f.first_seen == small.generated_at and f.last_seen == later for f in still)
    # the snapshot keeps only active findings: a third period does not resurrect the resolved one
    third = summarise(nxt.model_copy(update={"previous": second.snapshot()}))
    assert gone.id not in {f.id for f in third.findings}


def test_brief_findings_are_the_detailed_ones_without_hosts_and_evidence(small):
    # the PDF and the feed work from the brief list; what they show of a finding's hosts comes
    # from Summary.detailed, the same entries the full list (HTML, CSV, snapshot) carries
    s = summarise(small)
    assert [f.id for f in s.brief] == [f.id for f in s.findings]
    for brief, full in zip(s.brief, s.findings, strict=True):
        assert s.detailed(brief) == full
        assert brief.model_copy(update={"hosts": full.hosts, "evidence": full.evidence}) == full
        assert len(full.hosts) == full.failed + full.unknown
        if brief.kind is FindingKind.control:
            assert brief.hosts == [] and full.hosts
