"""The report tests' and the bench's input (secscan.demo.bundle): a valid org.yaml at every size,
distinct documents in every copy and draw, and headline figures equal to the generator's truth."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from secscan.demo import bundle, fleet
from secscan.policy import lint_org_file
from secscan.report.summary import summarise


@pytest.mark.parametrize("cut", [None, {"xa-van-lang-2", "phong-tp"}])
def test_province_org_lints_clean(cut, tmp_path):
    org = bundle.organisation(copies=2)
    if cut:
        org = bundle.only_units(org, cut)
        assert {u["id"] for u in org["units"]} == cut | {
            "tinh-phu-tho",
            "ubnd-ha-hoa",
            "ubnd-ha-hoa-2",
            "xa-van-lang-2",
        }
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    assert [str(e) for e in lint_org_file(path)] == []


def test_copies_and_draws_are_distinct_hosts_on_their_units_lans():
    b = bundle.district(seed=4, copies=2, draws=2)
    assert len(b.reports) == 4 * len(fleet.draw(4))
    assert len({d["report_id"] for d in b.reports}) == len(b.reports)
    assert len({(d["unit"], d["host"]["hostname"]) for d in b.reports}) == len(b.reports)
    networks = {u["id"]: [ipaddress.ip_network(n) for n in u.get("networks", [])] for u in b.org["units"]}
    addresses = set()
    for doc in b.reports:
        ip = ipaddress.ip_address(doc["host"]["interfaces"][0]["ipv4"][0])
        assert any(ip in n for n in networks[doc["unit"]]), (doc["unit"], ip)
        addresses.add(ip)
    assert len(addresses) == len(b.reports)
    macs = {d["host"]["interfaces"][0]["mac"] for d in b.reports}
    scanned = [h for s in b.scans for h in s["hosts"]]
    assert {s["unit"] for s in b.scans} == {d["unit"] for d in b.reports}
    assert sum(h["mac"] in macs for h in scanned) == len(b.reports) and len(scanned) == len(b.reports) + len(b.scans)
    with pytest.raises(ValueError, match="not in the organisation"):
        bundle.district(units=["nope"])


def test_headline_equals_the_generators_truth(district):
    truth = fleet.Truth.of(bundle.district().pcs)  # the same seed as the fixture
    o = summarise(district).org
    assert o.hosts == truth.pcs
    assert (o.av_present.yes, o.av_current.yes) == (truth.antivirus, truth.av_current)
    assert (o.windows_licensed.yes, o.office_licensed.yes) == (truth.windows_licensed, truth.office_licensed)
    assert o.office_licensed.known == truth.office_installed
    assert (o.activators.yes, o.unsupported_os.yes) == (truth.activators, truth.os_unsupported)
