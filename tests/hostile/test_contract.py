"""The strict contract (issue 16, item 5): what a machine writes is validated as written, never
coerced; every refusal is one line naming the field; the policies judge what the contract read."""

from __future__ import annotations

import copy
import json
import random
import typing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from secscan.collector.intake import Rejected, parse
from secscan.model import limits
from secscan.model.host import HostReport
from secscan.model.scan import ScanReport
from secscan.model.signing import sign
from secscan.synth.samples import fleet, host_report, scan_report
from tests.hostile import oracle

TOKEN = "sst_abcdef123456.abcdefghijklmnopqrstuvwxyz0123456789ABCD"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _doc(seed: int = 1) -> dict[str, Any]:
    return host_report(random.Random(seed), fleet(1, ["van-lang"], seed=seed)[0])


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = doc
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def _raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(sign(doc, TOKEN), ensure_ascii=False).encode()


def _reason(raw: bytes, **kw: Any) -> str:
    with pytest.raises(Rejected) as info:
        parse(raw, now=NOW, **kw)
    reason = info.value.reason
    assert "\n" not in reason and reason.isprintable() and len(reason) < 400, reason
    return reason


# (path, value the contract refuses): a machine writes each of these as something else.
REFUSED = [
    ("hardening.smb.smb1_server", "yes"), ("hardening.smb.smb1_server", 1), ("hardening.firewall.enabled", 1),
    ("hardening.firewall.enabled", "true"), ("agent.elevated", 0), ("host.hardware.is_virtual", "False"),
    ("host.os.build", "19045"), ("host.os.build", 19045.0), ("host.os.build", True), ("host.os.build", 2**53),
    ("hardening.patches.pending_updates", "3"), ("hardening.patches.pending_updates", 3.0),
    ("hardening.listening_ports.0.port", "445"), ("licences.os.license_status", 1.0),
    ("antivirus.products.0.signature_age_days", "3.5"), ("antivirus.products.0.signature_age_days", True),
    ("collected_at", 1764000000), ("collected_at", 1764000000.5), ("collected_at", "1764000000"),
    ("collected_at", "2026-11-20"), ("collected_at", "2026-11-20 08:00:00+07:00"),
    ("collected_at", "2026-11-20T08:00:00"), ("collected_at", "9999-12-31T23:59:59-14:00"),
    ("collected_at", "0001-01-01T00:00:00+14:00"), ("host.boot_time", 1700000000),
    ("hardening.os_end_of_life.end_of_support", 1700000000),
    ("hardening.os_end_of_life.end_of_support", "2026-11-20T00:00:00Z"),
    ("report_id", "urn:uuid:12345678-1234-4234-9234-123456789abc"), ("report_id", "12345678123442349234123456789abc"),
    ("report_id", "12345678-1234-4234-9234-123456789ABC"), ("report_id", 24197857200151252728969465429440056815),
    ("host.interfaces.0.ipv4", [167772161]), ("host.interfaces.0.ipv4", ["10.0.0.1\x00"]),
    ("antivirus.products.0.state", "ON"), ("antivirus.products.0.state", " on"), ("antivirus.products.0.source", 1),
    ("host.os.family", "Windows"), ("host.hostname", ""), ("host.hostname", "   "), ("host.hostname", "PC\x00"),
    ("host.hostname", "a" * (limits.HOSTNAME.max + 1)), ("host.hostname", "ß" * 128),
    ("host.machine_id", "m" * (limits.MACHINE_ID.max + 1)), ("host.machine_id", "a b"), ("host.machine_id", ""),
    ("unit", "u" * (limits.UNIT.max + 1)), ("unit", "Van-Lang"),
    ("agent.version", "v" * (limits.AGENT_VERSION.max + 1)),
    ("agent.version", "1.0\x1b[2J"), ("host.os.name", "Windows \u212a"), ("host.os.name", "a\x00"),
    ("host.os.name", "x" * (limits.SHORT_TEXT.max + 1)), ("probes.0.error", "e" * (limits.TEXT.max + 1)),
    ("antivirus.products.0.raw", {"k": "a\x00"}), ("antivirus.products.0.raw", {"k": "x" * (limits.TEXT.max + 1)}),
    ("antivirus.products.0.raw", json.loads('{"a":' * 20 + "1" + "}" * 20)),
    ("licences.activators", [{"kind": "task", "detail": "x"}]),  # confidence: required (no guess)
    ("host.interfaces", [{"mac": f"00:1a:00:00:{i >> 8:02x}:{i & 255:02x}"} for i in range(limits.INTERFACES.max + 1)]),
]


@pytest.mark.parametrize(("path", "value"), REFUSED, ids=[f"{p}={v!r:.30}" for p, v in REFUSED])
def test_what_a_machine_would_not_write_is_refused_naming_the_field(path: str, value: Any) -> None:
    doc = _doc()
    doc["antivirus"]["products"] = doc["antivirus"]["products"] or [{"name": "Windows Defender",
                                                                      "source": "defender"}]
    doc["licences"]["os"] = doc["licences"]["os"] or {"product": "Windows"}
    doc["hardening"]["os_end_of_life"] = {}
    reason = _reason(_raw(_set(doc, path, value)))
    named = path.rsplit(".", 1)[0] if path.endswith((".ipv4", ".raw")) else path
    assert reason.startswith(named.split(".0.")[0]) and ": " in reason, (path, reason)
    assert oracle.problems(json.loads(_raw(doc))), "the independent re-check must refuse it as well"


# (path, value) that a machine does write: accepted as written.
ACCEPTED = [
    ("antivirus.products.0.signature_age_days", 3), ("hardening.patches.days_since_last_patch", 0),
    ("collected_at", "2026-11-20T08:00:00Z"), ("collected_at", "2026-11-20T08:00:00.123456+07:00"),
    ("collected_at", "0001-01-01T14:00:00+14:00"), ("collected_at", (NOW + timedelta(hours=23)).isoformat()),
    ("host.os.build", limits.MAX_INT), ("host.os.build", -limits.MAX_INT),
    ("host.interfaces.0.ipv6", ["fe80::1%eth0", "2001:DB8::1"]), ("host.hostname", "ß" * 127 + "a"),
    ("host.hostname", "a" * limits.HOSTNAME.max), ("host.hostname", "[/bold]\x1b[31m"),
    ("host.machine_id", "m" * limits.MACHINE_ID.max), ("host.os.name", "Xã Văn Lang"),
    ("antivirus.products.0.raw", {"productState": 397568, "nested": {"a": ["b", None, 1.5]}}),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED, ids=[f"{p}={v!r:.30}" for p, v in ACCEPTED])
def test_what_a_machine_writes_is_accepted(path: str, value: Any) -> None:
    doc = _doc(2)
    doc["antivirus"]["products"] = doc["antivirus"]["products"] or [{"name": "Windows Defender",
                                                                      "source": "defender"}]
    raw = _raw(_set(doc, path, value))
    parsed = parse(raw, now=NOW)
    assert parsed.kind == "host" and parsed.document == json.loads(raw)
    assert oracle.problems(parsed.document) == []


def test_a_report_dated_ahead_of_the_collectors_clock_is_refused() -> None:
    ahead = (NOW + limits.FUTURE_TOLERANCE + timedelta(seconds=1)).isoformat()
    reason = _reason(_raw(_set(_doc(), "collected_at", ahead)))
    assert reason.startswith(f"collected_at: {ahead} is in the future (more than 24 h ahead of this collector's "
                             "clock, 2026-12-01T12:00:00+00:00)"), reason
    assert _reason(_raw(_set(_doc(), "collected_at", "2099-01-01T00:00:00+07:00"))).startswith(
        "collected_at: 2099-01-01T00:00:00+07:00 is in the future")
    just = (NOW + limits.FUTURE_TOLERANCE).isoformat()
    assert parse(_raw(_set(_doc(), "collected_at", just)), now=NOW).kind == "host"
    scan = scan_report(random.Random(1), unit="van-lang")
    scan["started_at"] = "2099-01-01T00:00:00Z"
    assert _reason(json.dumps(scan).encode()).startswith("started_at: 2099-01-01T00:00:00+00:00 is in the future")


def test_the_clock_defaults_to_now() -> None:
    doc = _set(_doc(), "collected_at", (datetime.now(UTC) + timedelta(days=2)).isoformat())
    with pytest.raises(Rejected, match=r"^collected_at: .* is in the future"):
        parse(_raw(doc))
    parse(_raw(_set(_doc(), "collected_at", datetime.now(UTC).isoformat())))


def test_a_date_that_overflows_utc_is_one_line_naming_the_field() -> None:
    reason = _reason(_raw(_set(_doc(), "collected_at", "9999-12-31T23:59:59-14:00")))
    assert reason == ("collected_at: Value error, 9999-12-31T23:59:59-14:00 is outside the range of dates when "
                      "converted to UTC")


@pytest.mark.parametrize("key", ["surprise\nline", "\x1b[31m", "a" * 1000, "dotted.name", "\u202e"])
def test_an_unknown_member_is_named_escaped_on_one_line(key: str) -> None:
    doc = _doc()
    doc["host"][key] = 1
    reason = _reason(_raw(doc))
    assert reason.startswith("host.'") and reason.endswith("Extra inputs are not permitted"), reason
    assert "\x1b" not in reason and len(reason) < 200


def test_a_capture_whose_facts_break_the_contract_is_one_line() -> None:
    def decoder(raw: bytes) -> HostReport:
        doc = _doc()
        doc["host"]["hostname"] = ""
        return HostReport.model_validate(doc)

    capture = json.dumps({"schema": "secscan.windows-capture/1"}).encode()
    with pytest.raises(Rejected) as info:
        parse(capture, decoder=decoder)
    assert info.value.reason.startswith("windows capture: host.hostname: String should have at least 1 character")

    def broken(raw: bytes) -> HostReport:
        raise ValueError("line one\nline two\x1b[2J")

    with pytest.raises(Rejected) as info:
        parse(capture, decoder=broken)
    assert info.value.reason == "windows capture: line one line two\\x1b[2J"


def test_a_scan_report_is_strict_too() -> None:
    scan = scan_report(random.Random(1), unit="van-lang")
    assert parse(json.dumps(scan).encode(), now=NOW).kind == "scan"
    for path, value in [("hosts.0.ports.0.port", "445"), ("nmap.privileged", 1), ("started_at", 1763715600),
                        ("scan_id", "URN:UUID:00000000-0000-4000-8000-000000000000"), ("hosts.0.ip", 3232235786),
                        ("unit", "x" * 65), ("hosts.0.hostnames", ["a\x00"])]:
        bad = _set(copy.deepcopy(scan), path, value)
        assert _reason(json.dumps(bad).encode()).startswith(path.split(".0.")[0]), path
        assert oracle.problems(bad, "scan")


def test_code_that_builds_a_model_passes_objects_and_gets_text_normalised() -> None:
    """The agent and the Windows decoder build reports in Python: datetime, UUID and address
    objects are what the strings mean, and text from the OS is normalised (NFC) for them, while a
    received document must already be NFC."""
    import ipaddress
    import uuid

    doc = _doc()
    doc["report_id"] = uuid.uuid4()
    doc["collected_at"] = datetime(2026, 11, 20, 8, tzinfo=UTC)
    doc["host"]["interfaces"][0]["ipv4"] = [ipaddress.ip_address("10.0.0.1")]
    doc["host"]["os"]["name"] = "Xa\u0303 Va\u0306n Lang"
    report = HostReport.model_validate(doc)
    assert report.host.os.name == "Xã Văn Lang" and report.to_document()["collected_at"] == "2026-11-20T08:00:00Z"
    doc["collected_at"] = 1764000000
    with pytest.raises(ValidationError):
        HostReport.model_validate(doc)


# --- the policies judge what the contract validated -----------------------------------------

def _defaulted(model: type[BaseModel], path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every member of the contract whose absence the model fills with something other than null."""
    out = []
    for name, f in model.model_fields.items():
        here = (*path, f.alias or name)
        if not f.is_required() and f.get_default(call_default_factory=True) is not None:
            out.append(here)
        for outer in typing.get_args(f.annotation) or (f.annotation,):
            for inner in typing.get_args(outer) or (outer,):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and len(path) < 6:
                    out += _defaulted(inner, here + ((0,) if typing.get_origin(outer) is list else ()))
    return out


def _rich(seed: int) -> dict[str, Any]:
    doc = _doc(seed)
    doc["hardening"]["remote_access"] = {"tools": [{"name": "TeamViewer", "installed": True, "running": False}]}
    doc["hardening"]["disk_encryption"] = {"system_volume_encrypted": True, "volumes": [{"mount": "C:"}]}
    doc["hardening"]["screen_lock"] = {"enabled": True, "timeout_seconds": 600, "users": [{"user": "a"}]}
    doc["licences"]["activators"] = [{"kind": "task", "detail": "x", "tool": "KMSpico", "confidence": "high"}]
    doc["licences"]["office"] = [{"product": "Office 16", "classification": "genuine", "evidence": []}]
    doc["antivirus"]["products"] = [{"name": "Bkav", "source": "securitycenter2", "state": "on", "real_time": None,
                                     "enabled": True}]
    return doc


def _drop(doc: dict[str, Any], path: tuple[str | int, ...]) -> bool:
    node: Any = doc
    for part in path[:-1]:
        node = (node[0] if node else None) if isinstance(node, list) else node.get(part)
        if not isinstance(node, (dict, list)):
            return False
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def test_no_default_makes_the_model_and_the_policies_disagree() -> None:
    """A member the model fills in when it is absent (a default) reads as null to the policies,
    which judge the document as received: for every such member of the contract, and every
    baseline shipped, the verdicts on a document without it equal those on the model's reading."""
    from secscan.policy import load_baselines, load_org
    from secscan.policy.evaluate import evaluate_host

    org = load_org(oracle.ORG)
    members = _defaulted(HostReport)
    assert len(members) > 15
    tried = 0
    for seed in range(4):
        for path in members:
            doc = _rich(seed)
            if not _drop(doc, path):
                continue
            tried += 1
            as_model = HostReport.model_validate(doc).to_document()
            for baseline in load_baselines().values():
                for unit in ("van-lang", "vinh-chan"):  # levels 3 and 2
                    got = [(r.control_id, r.outcome) for r in evaluate_host({**doc, "unit": unit}, org, baseline)]
                    want = [(r.control_id, r.outcome) for r in evaluate_host({**as_model, "unit": unit}, org,
                                                                               baseline)]
                    assert got == want, (path, baseline.id, sorted(set(got) ^ set(want)))
    assert tried > 40


def test_received_scan_and_host_schemas_match_the_oracle() -> None:
    """The oracle walks the published JSON Schemas: a valid document passes it, and the schema
    carries the bounds the model enforces (a bound lost from the schema would go unchecked)."""
    assert oracle.problems(_doc()) == []
    assert oracle.problems(scan_report(random.Random(2), unit="van-lang"), "scan") == []
    defs = HostReport.model_json_schema()["$defs"]
    assert defs["Interface"]["properties"]["mac"]["anyOf"][0]["pattern"]
    assert defs["Licence"]["properties"]["partial_key"]["anyOf"][0]["maxLength"] == 5
    assert defs["Host"]["properties"]["hostname"]["maxLength"] == limits.HOSTNAME.max
    assert ScanReport.model_json_schema()["properties"]["unit"]["anyOf"][0]["maxLength"] == limits.UNIT.max
