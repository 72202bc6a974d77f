"""A capture that is not one: one clear line naming the field and the reason."""

from __future__ import annotations

import json

import pytest

from secscan.agent.windows import CaptureError, decode_capture
from tests.agent.windows.conftest import CAPTURES

GOOD = (CAPTURES / "win10_defender_only.json").read_text(encoding="utf-8")


def _broken(**changes: object) -> str:
    doc = json.loads(GOOD)
    doc.update(changes)
    return json.dumps(doc)


@pytest.mark.parametrize(("raw", "message"), [
    ((CAPTURES / "truncated.json").read_bytes(), "not valid JSON at line 1 column"),
    ((CAPTURES / "not_json.txt").read_bytes(), "not valid JSON at line 1 column 1"),
    (b"", "capture is empty"),
    (b"  \r\n", "capture is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not "),
    (b"[1, 2]", "top level must be an object"),
    (_broken(schema="secscan.host-report/1"), "schema: expected 'secscan.windows-capture/1'"),
    (_broken(sections=[]), "sections: missing or not an object"),
    (_broken(sections={"firewall": "ok"}), "sections.firewall: expected an object"),
    (_broken(sections={"firewall": {"status": "fine"}}), "sections.firewall.status: expected one of"),
    (_broken(sections={"firewall": {"status": "ok", "ms": "fast"}}), "sections.firewall.ms: not a number"),
    (_broken(finished_at="the day after"), "finished_at: unrecognised date"),
    (_broken(elevated="maybe"), "elevated: not a boolean"),
    ("[" * 100000, "JSON nested too deeply"),
])
def test_bad_capture(raw: bytes | str, message: str) -> None:
    with pytest.raises(CaptureError) as err:
        decode_capture(raw)
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_utf16_capture_from_a_redirect_decodes() -> None:
    # `collect.ps1 > capture.json` in Windows PowerShell 5.1 writes UTF-16LE with a BOM.
    report = decode_capture(GOOD.encode("utf-16"))
    assert report.host.hostname == "PC-VANTHU01"
    assert decode_capture(GOOD.encode("utf-16-le")).host.hostname == "PC-VANTHU01"
    assert decode_capture(b"\xef\xbb\xbf" + GOOD.encode("utf-8")).host.hostname == "PC-VANTHU01"


def test_capture_without_an_id_gets_a_stable_report_id() -> None:
    doc = json.loads(GOOD)
    del doc["capture_id"]
    raw = json.dumps(doc)
    assert decode_capture(raw).report_id == decode_capture(raw).report_id
