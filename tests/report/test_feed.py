"""The SOC feed: every event valid against the real OCSF 1.5.0 JSON Schema, stable uids, --since,
close events, and --push with retry against a loopback server."""

from __future__ import annotations

import copy
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from secscan.model.result import Outcome
from secscan.report import feed
from secscan.report.summary import summarise
from tests.report.conftest import small_input


@pytest.fixture(scope="module")
def validator():
    import jsonschema
    import ocsf_json_schema as ocsf

    schema = ocsf.OcsfJsonSchemaEmbedded(ocsf.get_ocsf_schema(version=feed.OCSF_VERSION)).get_class_schema(
        "compliance_finding"
    )
    return jsonschema.Draft202012Validator(schema)


def _assert_valid(validator, events):
    assert events
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event['finding_info']['uid']}: {[(list(e.path), e.message[:120]) for e in errors[:3]]}"


def test_every_event_validates_against_ocsf(validator, small):
    events = list(feed.events(summarise(small)))
    _assert_valid(validator, events)
    assert {e["class_uid"] for e in events} == {2003}
    assert {e["finding_info"]["types"][0] for e in events} == {"control", "exposure", "unmanaged"}
    # events() parses the very lines that are shipped: one JSON document per line
    shipped = list(feed.lines(summarise(small)))
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in shipped)
    assert [json.loads(line) for line in shipped] == events


def test_hostile_input_still_validates_and_stays_data(validator, hostile, hostile_strings):
    events = list(feed.events(summarise(hostile)))
    _assert_valid(validator, events)
    hostnames = {e["device"]["hostname"] for e in events}
    assert any(h.startswith(hostile_strings["host"]) for h in hostnames)  # verbatim, as JSON data
    line = next(feed.lines(summarise(hostile)))
    assert line.count("\n") == 1 and json.loads(line) == events[0]


def test_the_validator_rejects_a_broken_event(validator, small):
    event = next(feed.events(summarise(small)))
    for mutate in (
        lambda e: e.pop("finding_info"),
        lambda e: e.update(severity_id=42),
        lambda e: e["device"].update(mac="not-a-mac"),
        lambda e: e.update(surprise=1),
    ):
        broken = copy.deepcopy(event)
        mutate(broken)
        assert list(validator.iter_errors(broken)), "the schema must catch it"


def test_one_event_per_host_and_failed_or_unknown_control(small):
    events = [e for e in feed.events(summarise(small)) if e["finding_info"]["types"] != ["unmanaged"]]
    expected = [r for r in small.results if r.outcome in (Outcome.failed, Outcome.unknown)]
    assert len(events) == len(expected)
    exposure = [e for e in events if e["finding_info"]["types"] == ["exposure"]]
    scan_failures = [r for r in expected if r.report_id in small.scan_ids]
    assert scan_failures and len(exposure) == len(scan_failures)
    assert all(e["device"]["ip"] == e["device"]["hostname"] for e in exposure)  # a scan host is its address
    events = [e for e in events if e["finding_info"]["types"] == ["control"]]
    statuses = {e["compliance"]["status"] for e in events}
    assert statuses == {"Fail", "Unknown"}
    units = {u.id for u in small.units}
    assert all(e["device"]["org"]["uid"] in units and e["device"]["ip"].startswith("10.231.") for e in events)
    assert {e["metadata"]["version"] for e in events} == {"1.5.0"}


def test_finding_uids_are_stable_across_runs(small):
    a = {e["finding_info"]["uid"] for e in feed.events(summarise(small))}
    b = {e["finding_info"]["uid"] for e in feed.events(summarise(small_input()))}  # built again
    assert a == b
    assert feed.host_finding_uid("u1", "av_present", "PC1") != feed.host_finding_uid("u1", "av_present", "PC2")


def test_since_keeps_only_newer_events(small):
    s = summarise(small)
    times = sorted(e["time"] for e in feed.events(s))
    cut = small.generated_at - timedelta(hours=100)
    kept = list(feed.events(s, since=cut))
    assert 0 < len(kept) < len(times)
    assert all(e["time"] >= int(cut.timestamp() * 1000) for e in kept)


def test_second_period_updates_and_closes(validator, small):
    first = summarise(small)
    fixed_host = next(r.host for r in small.results if r.outcome is Outcome.failed and r.control_id == "patches_recent")
    results = [
        r.model_copy(update={"outcome": Outcome.passed})
        if (r.host, r.control_id) == (fixed_host, "patches_recent")
        else r
        for r in small.results
    ]
    nxt = small.model_copy(
        update={
            "results": results,
            "previous": first.snapshot(),
            "generated_at": small.generated_at + timedelta(days=30),
        }
    )
    events = list(feed.events(summarise(nxt)))
    _assert_valid(validator, events)
    closed = [e for e in events if e["activity_id"] == 3]
    assert [e["device"]["hostname"] for e in closed] == [fixed_host]
    assert closed[0]["status"] == "Resolved"
    assert {e["status"] for e in events if e["activity_id"] == 2} == {"In Progress"}


class _Sink(BaseHTTPRequestHandler):
    plan: ClassVar[list[int]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        code = _Sink.plan.pop(0) if _Sink.plan else 200
        if code == 200:
            _Sink.bodies.append(body)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    server = HTTPServer(("127.0.0.1", 0), _Sink)
    _Sink.plan, _Sink.bodies = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/ingest"
    server.shutdown()


def test_push_batches_with_retry(sink, small):
    lines = list(feed.lines(summarise(small)))
    _Sink.plan = [503, 200, 429]  # first batch fails once, second is throttled once
    sent = feed.push(lines, sink, batch=100, backoff=0.01)
    assert sent == len(lines)
    received = [line for body in _Sink.bodies for line in body.decode().splitlines()]
    assert [json.loads(x) for x in received] == [json.loads(x) for x in lines]
    assert max(len(b.decode().splitlines()) for b in _Sink.bodies) == 100


def test_push_gives_up_on_client_errors_and_after_retries(sink):
    _Sink.plan = [400]
    with pytest.raises(feed.PushError, match=r"HTTP 400 \(not retried"):
        feed.push(['{"a":1}\n'], sink, backoff=0.01)
    _Sink.plan = [500, 500, 500]
    with pytest.raises(feed.PushError, match="after 3 attempts"):
        feed.push(['{"a":1}\n'], sink, attempts=3, backoff=0.01)
    with pytest.raises(feed.PushError, match="ConnectError"):
        feed.push(['{"a":1}\n'], "http://127.0.0.1:9/none", attempts=2, backoff=0.01)


def test_each_line_is_the_typed_event_encoded_whole(small):
    """The per-group templates give the very bytes of encoding the typed OCSF event in one piece."""
    from secscan.report.jsonlines import encode_model
    from secscan.report.ocsf import ComplianceFinding

    first = summarise(small)
    later = small.generated_at + timedelta(days=30)
    nxt = small.model_copy(update={"previous": first.snapshot(), "generated_at": later,
                                   "results": [r for r in small.results if r.control_id != "patches_recent"]})
    shipped = list(feed.lines(first)) + list(feed.lines(summarise(nxt), "en"))
    kinds = set()
    for line in shipped:
        event = ComplianceFinding.model_validate(json.loads(line))
        assert encode_model(event) + "\n" == line
        kinds.add((event.activity_id, event.finding_info.types[0], event.evidences is not None))
    assert {(3, "control", False), (1, "unmanaged", True)} <= kinds  # closed, and the evidence shapes


def test_the_typed_event_refuses_contradictions(small):
    from pydantic import ValidationError

    from secscan.report.ocsf import ComplianceFinding

    event = next(feed.events(summarise(small)))
    for mutate in (
        lambda e: e.update(activity_name="Close"),  # the id says otherwise
        lambda e: e.update(type_uid=200399),
        lambda e: e["compliance"].update(status="Pass"),
        lambda e: e.update(surprise=1),  # not an attribute the feed writes
        lambda e: e.update(severity_id=9),
    ):
        broken = copy.deepcopy(event)
        mutate(broken)
        with pytest.raises(ValidationError):
            ComplianceFinding.model_validate(broken)


def test_a_template_hole_must_be_where_the_model_has_a_value():
    from secscan.report.jsonlines import Template
    from secscan.report.ocsf import Device, Organization

    device = Device(hostname="PC-1", type_id=2, org=Organization(name="Xã 100% \"A\"", uid="a"))
    template = Template(device, [("hostname",)], suffix="\n")
    assert template.fill(['"PC-2"']) == '{"hostname":"PC-2","type_id":2,"org":{"name":"Xã 100% \\"A\\"","uid":"a"}}\n'
    with pytest.raises(KeyError, match="ip"):
        Template(device, [("ip",)])  # unset: left out of the JSON, so there is no place for a value
