"""The contract's limits against both databases, from the one table (secscan/model/limits.py): a
value at the limit is stored, in its column where it has one, on SQLite and PostgreSQL alike; one
past it is a one-line rejection naming the field, before anything reaches a database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from secscan.collector import schema as t
from secscan.collector.importer import run_import
from secscan.model import limits
from secscan.model.limits import LIMITS, Limit
from secscan.model.signing import sign, signing_key, token_hash
from secscan.synth.samples import fleet, host_report

UNIT = "van-lang"


def _value(limit: Limit, n: int) -> Any:
    if limit.name == "installed software":
        return [{"name": f"Program {i}", "version": "1.0", "publisher": None, "installed_on": "2026-01-02",
                 "source": "registry_64"} for i in range(n)]
    if limit.kind == "items":
        return [{"name": f"eth{i}", "mac": f"00:1a:a0:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                 "ipv4": [], "ipv6": [], "up": True} for i in range(n)]
    # a character that is one character casefolded and lowered too, and not ASCII where the
    # contract allows it (PostgreSQL's varchar(n) counts characters, not bytes)
    char = {"machine id": "m", "key id": "k", "unit id": "u", "agent version": "v"}.get(limit.name, "Đ")
    return char * n


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    node: Any = doc
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value


def _document(limit: Limit, n: int, token: str, seed: int) -> dict[str, Any]:
    doc = host_report(random.Random(seed), fleet(1, [UNIT], seed=seed)[0])
    value = _value(limit, n)
    assert limit.path is not None
    if limit.name == "unit id":
        doc["unit"] = value
    elif limit.name != "key id":
        _put(doc, limit.path, value)
    return sign(doc, token)


def _import(store: Any, tmp_path: Path, name: str, doc: dict[str, Any]) -> Any:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "r.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return run_import(store, [str(folder)], require_signature=True)


def _token_with_key_id(store: Any, key_id: str, unit: str) -> str:
    token = f"sst_{key_id}.{'s' * 43}"
    with store.engine.begin() as conn:
        conn.execute(t.tokens.insert().values(key_id=key_id, unit_id=unit, token_hash=token_hash(token),
                                              signing_key=signing_key(token), label="limit",
                                              created_at=datetime.now(UTC)))
    return token


@pytest.mark.parametrize("limit", [lim for lim in LIMITS if lim.path], ids=lambda lim: lim.name.replace(" ", "-"))
def test_at_the_limit_stored_past_it_refused(deployed: tuple[Any, dict[str, str]], tmp_path: Path,
                                             limit: Limit) -> None:
    store, tokens = deployed
    token = tokens[UNIT]
    if limit.name == "unit id":  # a unit whose id is as long as the contract allows, with its token
        unit = _value(limit, limit.max)
        store.upsert_units([{"id": unit, "name": "UBND xã có tên dài"}])
        token = store.create_token(unit, "limit")[1]
    elif limit.name == "key id":
        token = _token_with_key_id(store, _value(limit, limit.max), UNIT)

    at = _import(store, tmp_path, "at", _document(limit, limit.max, token, seed=1))
    assert (at.accepted, at.rejected) == (1, []), at.rejected
    doc = _document(limit, limit.max, token, seed=1)
    with store.engine.connect() as conn:
        report = conn.execute(select(t.reports).where(t.reports.c.report_id == doc["report_id"])).one()
        host = conn.execute(select(t.hosts).where(t.hosts.c.id == report.host_id)).one()
        macs = conn.execute(select(func.count()).select_from(t.host_macs)
                            .where(t.host_macs.c.host_id == host.id)).scalar()
    value = _value(limit, limit.max)
    stored = {"hosts.hostname_key": host.hostname_key, "hosts.machine_id": host.machine_id,
              "units.id": report.unit_id, "tokens.key_id": report.key_id, "hosts.agent": host.agent,
              "host_macs.mac": macs}
    expected = {"hosts.hostname_key": value.casefold() if isinstance(value, str) else None,
                "hosts.machine_id": value, "units.id": value, "tokens.key_id": value,
                "hosts.agent": limit.prefix + value if isinstance(value, str) else None,
                "host_macs.mac": limit.max}
    if limit.column:
        assert stored[limit.column] == expected[limit.column]
    assert json.loads(report.document) == doc

    past = _document(limit, limit.max + 1, token, seed=2)
    if limit.name == "key id":  # no token can have it: the member is changed after signing
        past["signature"]["key_id"] = _value(limit, limit.max + 1)
    refused = _import(store, tmp_path, "past", past)
    assert refused.accepted == 0 and len(refused.rejected) == 1
    name, reason = refused.rejected[0]
    assert name.endswith("r.json") and "\n" not in reason
    assert reason.startswith(f"{limit.path}: "), reason
    assert str(limit.max) in reason, reason


def test_hostnames_are_held_to_the_limit_casefolded(deployed: tuple[Any, dict[str, str]], tmp_path: Path) -> None:
    """"ß" casefolds to "ss": the store matches hostnames casefolded in a String(255) column."""
    store, tokens = deployed
    doc = host_report(random.Random(3), fleet(1, [UNIT], seed=3)[0])
    doc["host"]["hostname"] = "ß" * 127 + "a"  # 255 casefolded
    assert _import(store, tmp_path, "at", sign(doc, tokens[UNIT])).accepted == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(t.hosts.c.hostname_key).where(t.hosts.c.hostname == doc["host"]["hostname"])
                            ).scalar() == "ss" * 127 + "a"
    doc["host"]["hostname"] = "ß" * 128  # 128 characters, 256 casefolded
    refused = _import(store, tmp_path, "past", sign(doc, tokens[UNIT]))
    assert refused.rejected[0][1].startswith("host.hostname: Value error, is longer than 255 characters (casefolded")


def test_the_table_matches_the_store_columns() -> None:
    """Each limit with a column fits it exactly: the column is String(max + the prefix it stores)."""
    checked = 0
    for limit in LIMITS:
        if limit.column is None or limit.kind != "chars":
            continue
        table, column = limit.column.split(".")
        assert t.metadata.tables[table].c[column].type.length == limit.max + len(limit.prefix), limit
        checked += 1
    assert checked == 5
    # the report's unit, the token's unit and the captures' unit share the one length
    for column in (t.reports.c.unit_id, t.hosts.c.unit_id, t.tokens.c.unit_id, t.captures.c.unit_id):
        assert column.type.length == limits.UNIT.max
    assert t.reports.c.key_id.type.length == limits.KEY_ID.max


def test_a_batch_of_reports_with_many_macs(deployed: tuple[Any, dict[str, str]], tmp_path: Path) -> None:
    """70 reports at the interface limit in one import: 71,680 MACs, more than PostgreSQL's 65,535
    bind parameters in one statement."""
    store, tokens = deployed
    folder = tmp_path / "many"
    folder.mkdir()
    rng = random.Random(4)
    for i, pc in enumerate(fleet(70, [UNIT], seed=4)):
        doc = host_report(rng, pc)
        doc["host"]["interfaces"] = [{"name": f"eth{j}", "mac": f"00:1b:{i:02x}:{j >> 8 & 255:02x}:{j & 255:02x}:01",
                                      "ipv4": [], "ipv6": []} for j in range(limits.INTERFACES.max)]
        (folder / f"{i}.json").write_text(json.dumps(sign(doc, tokens[UNIT])), encoding="utf-8")
    summary = run_import(store, [str(folder)], require_signature=True)
    assert (summary.accepted, summary.rejected) == (70, [])
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.host_macs)).scalar() == 70 * limits.INTERFACES.max


# The examples of issue 16 (items 2, 6, 7, 9): each crashed the PostgreSQL store, sank a batch or
# pinned a PC; now each is refused alone, naming its field, and the good reports beside it stay.
ISSUE_EXAMPLES = {
    "nul-hostname": ("host.hostname", lambda d: d["host"].update(hostname="PC\x00")),
    "nul-key-id": ("signature.key_id", None),
    "long-hostname": ("host.hostname", lambda d: d["host"].update(hostname="h" * 256)),
    "long-machine-id": ("host.machine_id", lambda d: d["host"].update(machine_id="m" * 129)),
    "utc-overflow": ("collected_at", lambda d: d.update(collected_at="9999-12-31T23:59:59-14:00")),
    "year-2099": ("collected_at", lambda d: d.update(collected_at="2099-01-01T00:00:00+07:00")),
    "empty-hostname": ("host.hostname", lambda d: d["host"].update(hostname="")),
    "string-bool": ("hardening.smb.smb1_server", lambda d: d["hardening"]["smb"].update(smb1_server="yes")),
    "int-bool": ("hardening.firewall.enabled", lambda d: d["hardening"]["firewall"].update(enabled=1)),
    "float-date": ("collected_at", lambda d: d.update(collected_at=1764000000.5)),
}


def _examples(token: str) -> dict[str, dict[str, Any]]:
    out = {}
    for i, (name, (_, change)) in enumerate(ISSUE_EXAMPLES.items()):
        doc = host_report(random.Random(100 + i), fleet(1, [UNIT], seed=100 + i)[0])
        if change:
            change(doc)
        doc = sign(doc, token)
        if name == "nul-key-id":
            doc["signature"]["key_id"] = "abcdef\x00123456"
        out[name] = doc
    return out


def test_the_issues_examples_are_refused_alone(deployed: tuple[Any, dict[str, str]], tmp_path: Path) -> None:
    store, tokens = deployed
    folder = tmp_path / "stick"
    folder.mkdir()
    for i, pc in enumerate(fleet(40, [UNIT], seed=7)):
        (folder / f"good-{i:02d}.json").write_text(json.dumps(host_report(random.Random(i), pc, token=tokens[UNIT])))
    bad = _examples(tokens[UNIT])
    for name, doc in bad.items():
        (folder / f"{name}.json").write_text(json.dumps(doc))
    summary = run_import(store, [str(folder)], require_signature=True)
    assert summary.accepted == 40
    refused = {Path(name).stem: reason for name, reason in summary.rejected}
    assert set(refused) == set(bad)
    for name, (field, _) in ISSUE_EXAMPLES.items():
        assert refused[name].startswith(f"{field}: ") and "\n" not in refused[name], (name, refused[name])


def test_the_issues_examples_over_http(deployed: tuple[Any, dict[str, str]]) -> None:
    from fastapi.testclient import TestClient

    from secscan.collector.api import create_app

    store, tokens = deployed
    with TestClient(create_app(store)) as client:
        for name, doc in _examples(tokens[UNIT]).items():
            answer = client.post("/api/v1/reports", content=json.dumps(doc).encode(),
                                 headers={"Authorization": f"Bearer {tokens[UNIT]}"})
            assert answer.status_code == 422, (name, answer.status_code, answer.text)
            assert answer.json()["detail"].startswith(f"{ISSUE_EXAMPLES[name][0]}: "), (name, answer.json())
        good = host_report(random.Random(1), fleet(1, [UNIT], seed=1)[0], token=tokens[UNIT])
        assert client.post("/api/v1/reports", content=json.dumps(good).encode(),
                           headers={"Authorization": f"Bearer {tokens[UNIT]}"}).status_code == 200
