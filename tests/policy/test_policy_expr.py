"""The closure compiler agrees with jmespath's own interpreter, node type by node type."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import given, settings
from jmespath.exceptions import JMESPathError

from secscan.model.host import HostReport
from secscan.policy import default_baseline
from secscan.policy.baseline import substitute
from secscan.policy.expr import SchemaView, analyse, compile_expression, parse
from tests.policy.test_policy_unknown_never_passes import report

EXTRA = [
    "antivirus.products[0].name", "antivirus.products[-1].signature_age_days", "antivirus.products[1:].name",
    "antivirus.products[*].real_time", "antivirus.products[].state", "hardening.*.enabled",
    "hardening.local_admins.members[?enabled].name | [0]", "licences.office[].classification | sort(@)",
    "max_by(antivirus.products, &signature_age_days).name", "sort_by(antivirus.products, &name)[].name",
    "map(&name, antivirus.products)", "{fw: hardening.firewall.enabled, n: length(antivirus.products)}",
    "[hardening.rdp.enabled, hardening.rdp.nla_required]", "!hardening.rdp.enabled", "!`0`", "`0` == `false`",
    "`1` == `true`", "hardening.patches.days_since_last_patch > `30`", "`\"a\"` < `\"b\"`",
    "hardening.firewall.enabled && hardening.smb.smb1_server || `null`", "not_null(hardening.ssh, `{}`)",
    "length(`[]`) == `0`", "contains(`[21, 23]`, `23`)", "starts_with(host.hostname, 'P')",
    "antivirus.products[?signature_age_days <= `7` || up_to_date == `true`].name", "@.host.os.family",
    "host.interfaces[].ipv4[]", "hardening.listening_ports[?port == `23`] | length(@)", "type(antivirus.products)",
]


def shipped() -> list[str]:
    out = []
    for compiled in default_baseline().controls:
        c = compiled.control
        for level in (1, 3, 5):
            values = {name: p.at(level) for name, p in c.params.items()}
            out += [substitute(text, values) for text in (c.pass_, c.fail, c.applies_when) if text]
    return sorted(set(out))


EXPRESSIONS = shipped() + EXTRA
COMPILED = [(text, compile_expression(text)) for text in EXPRESSIONS]


def reference(text: str, doc: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", jmespath.search(text, doc)
    except (JMESPathError, TypeError) as exc:
        return "error", type(exc).__name__


@settings(max_examples=60, deadline=None)
@given(report)
def test_same_results_as_jmespath(raw: dict[str, Any]) -> None:
    doc = HostReport.model_validate(raw).to_document()
    for text, fn in COMPILED:
        expected = reference(text, doc)
        try:
            got: tuple[str, Any] = ("ok", fn(doc))
        except (JMESPathError, TypeError) as exc:
            got = ("error", type(exc).__name__)
        if expected[0] == "error" and isinstance(expected[1], str) and expected[1] == "TypeError":
            continue  # jmespath raises on number < string; we give null (documented)
        assert got == expected, text


@pytest.mark.parametrize("text, roots", [
    ("hardening.rdp.enabled == `false` || hardening.rdp.nla_required", ["hardening.rdp.enabled",
                                                                         "hardening.rdp.nla_required"]),
    ("length(antivirus.products[?real_time == `true`]) > `0`", ["antivirus.products"]),
    ("antivirus.products[0].name", ["antivirus.products"]),
    ("hardening.local_admins.members[?builtin_admin].enabled | [0]", ["hardening.local_admins.members"]),
])
def test_root_paths(text: str, roots: list[str]) -> None:
    assert [".".join(p) for p in analyse(parse(text), None).root_paths] == roots


def test_schema_check_follows_lists_and_stops_at_raw() -> None:
    schema = SchemaView(HostReport.model_json_schema(by_alias=True))
    assert analyse(parse("antivirus.products[?realtime].name"), schema).unknown_paths == ["realtime"]
    assert analyse(parse("antivirus.products[0].raw.anything.goes"), schema).unknown_paths == []
    assert analyse(parse("host.os.family.sub"), schema).unknown_paths == ["host.os.family.sub"]
