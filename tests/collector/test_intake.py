"""intake.parse: every hostile document refused with a reason that names the problem."""

from __future__ import annotations

import json
import random

import pytest

from secscan.collector.intake import Rejected, parse
from secscan.model.host import HostReport
from secscan.synth.samples import host_report, scan_report

TOKEN = "sst_abcdef123456.abcdefghijklmnopqrstuvwxyz0123456789ABCD"


def _raw(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _reason(raw: bytes, **kw) -> tuple[str, int]:
    with pytest.raises(Rejected) as info:
        parse(raw, **kw)
    return info.value.reason, info.value.status


def test_host_report_parsed_with_key_and_unit():
    doc = host_report(random.Random(1), unit="xa-a", token=TOKEN)
    p = parse(_raw(doc))
    assert (p.kind, p.id, p.unit, p.key_id, p.signed) == ("host", doc["report_id"], "xa-a", "abcdef123456", True)
    # the digest is of the bytes (the store compares reformatted copies by their JSON)
    assert parse(json.dumps(doc, indent=3, sort_keys=True).encode()).digest != p.digest
    assert parse(_raw(doc)).digest == p.digest


def test_scan_report_parsed():
    p = parse(_raw(scan_report(random.Random(1), unit="xa-a")))
    assert p.kind == "scan" and p.unit == "xa-a"


@pytest.mark.parametrize(("raw", "expected"), [
    (b"{", "invalid JSON: Expecting property name"),
    (b"", "invalid JSON: Expecting value at line 1 column 1"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "not a secscan report: the document is a JSON list"),
    (b'{"hello": 1}', 'not a secscan report: no "schema" member'),
    (b'{"schema": "other.thing/1"}', "not a secscan report: schema 'other.thing/1'"),
    (b'{"schema": "secscan.host-report/2"}', "schema: version 'secscan.host-report/2' is not supported"),
    (b'{"schema": "secscan.host-report/1", "x": NaN}', "invalid JSON: NaN is not valid JSON"),
])
def test_bad_documents(raw: bytes, expected: str):
    reason, status = _reason(raw)
    assert reason.startswith(expected), reason
    assert status == 422


def test_invalid_field_is_named():
    doc = host_report(random.Random(1), unit="xa-a")
    doc["host"]["os"]["family"] = "amiga"
    reason, status = _reason(_raw(doc))
    assert reason.startswith("host.os.family: Input should be"), reason
    assert status == 422
    doc = host_report(random.Random(1), unit="xa-a")
    doc["surprise"] = 1
    assert _reason(_raw(doc))[0].startswith("surprise: Extra inputs are not permitted")


def test_oversized_is_413():
    raw = _raw(host_report(random.Random(1)))
    reason, status = _reason(raw, max_bytes=len(raw) - 1)
    assert status == 413 and "over the limit" in reason


def test_byte_order_mark_accepted():
    raw = _raw(host_report(random.Random(1)))
    assert parse(b"\xef\xbb\xbf" + raw).id == parse(raw).id


def test_windows_capture_uses_the_injected_decoder():
    inner = host_report(random.Random(3), unit="xa-a")
    capture = _raw({"schema": "secscan.windows-capture/1", "facts": inner})

    def decode(raw: bytes) -> HostReport:
        return HostReport.model_validate(json.loads(raw)["facts"])

    p = parse(capture, decoder=decode)
    assert p.kind == "host" and p.id == inner["report_id"] and not p.signed
    assert _reason(capture)[0] == "secscan.windows-capture/1: no capture decoder available here"

    def broken(raw: bytes) -> HostReport:
        raise ValueError("section 'av' is not a list")

    assert _reason(capture, decoder=broken)[0] == "windows capture: section 'av' is not a list"


def test_number_out_of_float_range_is_refused():
    """1e400 parses to inf, which no contract field (and no signed canonical JSON) can carry: a
    clear 422 naming the field, not a crash."""
    doc = host_report(random.Random(1), unit="xa-a", token=TOKEN)
    raw = _raw(doc).replace(f'"duration_ms": {json.dumps(doc["agent"]["duration_ms"])}'.encode(),
                            b'"duration_ms": 1e400', 1)
    assert b"1e400" in raw
    assert _reason(raw) == ("agent.duration_ms: Input should be a finite number", 422)
