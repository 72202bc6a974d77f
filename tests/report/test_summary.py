from __future__ import annotations

from collections import Counter

import pytest

from secscan.model.result import Outcome, Requirement
from secscan.report.config import Prices
from secscan.report.summary import summarise


def test_unit_scores_are_passed_over_judged_required_results(small):
    s = summarise(small)
    for row in s.units:
        c = Counter(
            r.outcome
            for r in small.results
            if r.unit == row.unit.id and r.requirement is Requirement.required and r.report_id not in small.scan_ids
        )
        assert (row.ind.passed, row.ind.failed, row.ind.unknown) == (
            c[Outcome.passed],
            c[Outcome.failed],
            c[Outcome.unknown],
        )
        judged = c[Outcome.passed] + c[Outcome.failed]
        assert judged and row.ind.score == round(100 * c[Outcome.passed] / judged, 1)
    assert s.org.passed == sum(r.ind.passed for r in s.units)


def test_unknown_never_counts_as_pass(small):
    all_unknown = small.model_copy(
        update={"results": [r.model_copy(update={"outcome": Outcome.unknown}) for r in small.results]}
    )
    s = summarise(all_unknown)
    # scan hosts are exposure, apart; recommended controls are not in the score
    host = [r for r in small.results if r.report_id not in small.scan_ids]
    required = [r for r in host if r.requirement is Requirement.required]
    assert required and len(required) < len(host)
    assert s.org.score is None and s.org.passed == 0 and s.org.unknown == len(required)


def test_indicators_are_three_way_and_match_the_facts(small):
    s = summarise(small)
    o = s.org
    products = [h.antivirus.products for h in small.hosts]
    assert o.av_present.unknown == sum(p is None for p in products)
    assert o.av_present.yes == sum(bool(p) and any(x.enabled for x in p) for p in products)
    assert o.av_present.total == o.hosts == len(small.hosts)
    assert o.windows_licensed.yes == sum(h.licences.os.classification.value == "genuine" for h in small.hosts)
    assert o.activators.yes == sum(bool(h.licences.activators) for h in small.hosts)
    assert o.unsupported_os.yes == sum(not h.hardening.os_end_of_life.supported for h in small.hosts)
    assert 0 < o.unsupported_os.yes < o.hosts
    assert o.av_present.unknown and o.av_present.yes and o.av_present.no  # all three ways occur
    # every PC is on its unit's scanned LAN, beside one device no agent reports for
    scanned = [h for s in small.scans for h in s.hosts]
    reported = {h.host.interfaces[0].mac for h in small.hosts}
    assert o.seen == len(scanned) and o.managed == len(small.hosts) == sum(h.mac in reported for h in scanned)
    assert o.unmanaged == len(small.scans)


def test_licences_to_buy_and_cost(small):
    s = summarise(small, Prices(windows=4_500_000, office=6_500_000))
    bad_windows = sum(h.licences.os.classification.value in ("unlicensed", "suspicious") for h in small.hosts)
    bad_office = sum(
        any(o.classification.value in ("unlicensed", "suspicious") for o in h.licences.office or [])
        for h in small.hosts
    )
    assert (s.licences.windows, s.licences.office) == (bad_windows, bad_office)
    assert s.licences.cost == bad_windows * 4_500_000 + bad_office * 6_500_000
    rec = dict(s.recommendations)["licences"]
    assert (rec["windows"], rec["office"], rec["cost"]) == (bad_windows, bad_office, s.licences.cost)


def test_indicators_read_the_outcome_of_their_control(small):
    s = summarise(small)
    control = {i.key: i.control for i in small.indicators}
    av = control["av_present"]
    passed = sum(r.control_id == av and r.outcome is Outcome.passed for r in small.results)
    failed = sum(r.control_id == av and r.outcome is Outcome.failed for r in small.results)
    assert (s.org.av_present.yes, s.org.av_present.no) == (passed, failed)
    act = control["activators"]
    activator_fail = sum(r.control_id == act and r.outcome is Outcome.failed for r in small.results)
    assert s.org.activators.yes == activator_fail  # counts: fail
    no_map = summarise(small.model_copy(update={"indicators": []}))
    assert no_map.org.av_present.total == 0 and no_map.org.score == s.org.score


def test_changes_since_previous_period(small):
    first = summarise(small)
    nxt = small.model_copy(update={"previous": first.snapshot(), "period": "2026-12"})
    changes = {c.key: c for c in summarise(nxt).changes}
    assert changes["hosts"].before == changes["hosts"].now == len(small.hosts)
    assert changes["score"].delta == 0


def test_only_unit_restricts_everything(small):
    one = small.only_unit("xa-van-lang")
    assert (
        {h.unit for h in one.hosts} == {r.unit for r in one.results} == {s.unit for s in one.scans} == {"xa-van-lang"}
    )
    with pytest.raises(ValueError, match="no such unit"):
        small.only_unit("nope")


def test_exposed_hosts_are_the_exposure_findings_failing_hosts(district):
    from secscan.model.finding import FindingKind
    from secscan.report.summary import exposed_hosts

    s = summarise(district)
    from_findings = {(f.unit, h.host) for f in s.active_brief if f.kind is FindingKind.exposure
                     for h in s.detailed(f).hosts if h.outcome == "fail"}
    assert from_findings and exposed_hosts(district) == from_findings
    assert dict(s.recommendations)["exposure"] == {"n": len(from_findings)}
