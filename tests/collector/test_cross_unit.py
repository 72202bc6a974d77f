"""One unit's token cannot touch another unit's PCs: identity attacks by machine id, MAC and
hostname leave every row of the victim unit as it was; a PC that really moved is a conflict the
administrator approves (or refuses), on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from secscan.cli import cli
from secscan.collector import schema as t
from secscan.collector.intake import parse
from secscan.model.signing import sign
from secscan.synth.samples import fleet, host_report


def _unit_rows(store: Any, unit: str) -> dict[str, Any]:
    """Everything stored about a unit's PCs: hosts, their MACs, results."""
    with store.engine.connect() as conn:
        hosts = [dict(r) for r in conn.execute(select(t.hosts).where(t.hosts.c.unit_id == unit)
                                               .order_by(t.hosts.c.id)).mappings()]
        ids = [h["id"] for h in hosts]
        macs = sorted(conn.execute(select(t.host_macs).where(t.host_macs.c.host_id.in_(ids))).all())
        reports = sorted(conn.execute(select(t.reports.c.report_id, t.reports.c.host_id)
                                      .where(t.reports.c.host_id.in_(ids))).all())
    return {"hosts": hosts, "macs": macs, "reports": reports}


def _store_signed(store: Any, doc: dict[str, Any], token: str) -> Any:
    import json

    p = parse(json.dumps(sign(doc, token)).encode())
    return store.ingest([(p, "http")], bearer=store.token_by_bearer(token))[0]


def _attack(victim: dict[str, Any], attacker: dict[str, Any], how: str) -> dict[str, Any]:
    doc = copy.deepcopy(attacker)
    parts = set(how.split("+"))
    if "mid" in parts:
        doc["host"]["machine_id"] = victim["host"]["machine_id"]
    if "name" in parts:
        doc["host"]["hostname"] = victim["host"]["hostname"]
    if "mac" in parts:
        doc["host"]["interfaces"] = copy.deepcopy(victim["host"]["interfaces"])
    if "nomid" in parts:
        doc["host"]["machine_id"] = None
    doc.pop("signature", None)
    doc["unit"] = None
    return doc


ATTACKS = ["mid+name", "mid+mac", "mid", "nomid+mac", "nomid+name", "mid+name+mac"]


@pytest.mark.parametrize("how", ATTACKS)
def test_another_units_token_changes_nothing_of_a_unit(store, how):
    rng = random.Random(how)
    token_a, token_b = store.create_token("xa-a")[1], store.create_token("xa-b")[1]
    victims = [host_report(rng, h) for h in fleet(3, ["xa-a"], seed=1)]
    for doc in victims:
        doc.pop("signature", None)
        assert _store_signed(store, doc, token_a).status == "accepted"
    before = _unit_rows(store, "xa-a")
    attacker = host_report(rng, fleet(1, ["xa-b"], seed=2)[0])
    outcome = _store_signed(store, _attack(victims[0], attacker, how), token_b)
    assert outcome.status == "accepted"  # filed, but as unit B's own PC
    assert _unit_rows(store, "xa-a") == before
    mine = [h for h in store.hosts("xa-b")]
    assert len(mine) == 1 and mine[0]["id"] != before["hosts"][0]["id"]
    parts = set(how.split("+"))
    matched = "mac" in parts or ("mid" in parts and "name" in parts)
    victim_id = next(h["id"] for h in before["hosts"] if h["hostname"] == victims[0]["host"]["hostname"])
    assert mine[0]["moved_from"] == (victim_id if matched else None)
    # the victim's latest report stays its own, and a later genuine report still lands on it
    later = copy.deepcopy(victims[0])
    later["report_id"] = "33333333-3333-4333-8333-333333333333"
    later["host"]["os"]["name"] = "Windows 11 Pro"
    assert _store_signed(store, later, token_a).status == "accepted"
    assert {h["hostname"]: h["unit_id"] for h in store.hosts("xa-a")} == \
        {h["hostname"]: "xa-a" for h in before["hosts"]}


def test_a_real_move_is_approved_by_the_administrator(store, db_url):
    rng = random.Random(7)
    token_a, token_b = store.create_token("xa-a")[1], store.create_token("xa-b")[1]
    pc = host_report(rng, fleet(1, ["xa-a"], seed=3)[0])
    pc.pop("signature", None)
    assert _store_signed(store, pc, token_a).status == "accepted"
    old_id = store.hosts("xa-a")[0]["id"]
    moved = copy.deepcopy(pc)
    moved["report_id"] = "44444444-4444-4444-8444-444444444444"
    moved["unit"] = None
    assert _store_signed(store, moved, token_b).status == "accepted"
    pending = store.hosts("xa-b")[0]
    assert pending["moved_from"] == old_id and "approve-move" in pending["agent_note"]
    run = lambda *a: CliRunner().invoke(cli, ["collector", "--db", db_url, *a])  # noqa: E731
    wrong = run("approve-move", old_id)
    assert wrong.exit_code == 1 and f"host {old_id}: no move pending approval" in wrong.output
    done = run("approve-move", pending["id"])
    assert done.exit_code == 0 and f"merged into {old_id}: moved from unit xa-a to xa-b" in done.output
    assert store.hosts("xa-a") == []
    (merged,) = store.hosts("xa-b")
    assert merged["id"] == old_id and merged["moved_from"] is None
    assert merged["last_report_id"] == moved["report_id"]
    with store.engine.connect() as conn:
        reports = conn.execute(select(t.reports.c.report_id, t.reports.c.unit_id)
                               .where(t.reports.c.host_id == old_id)).all()
    assert sorted(reports) == sorted([(pc["report_id"], "xa-a"), (moved["report_id"], "xa-b")])
    # and from now on unit B's reports land on it, unit A's token can no longer touch it
    again = copy.deepcopy(moved)
    again["report_id"] = "55555555-5555-4555-8555-555555555555"
    assert _store_signed(store, again, token_b).status == "accepted"
    assert [h["id"] for h in store.hosts("xa-b")] == [old_id]


def test_a_refused_move_keeps_two_pcs(store, db_url):
    rng = random.Random(8)
    token_a, token_b = store.create_token("xa-a")[1], store.create_token("xa-b")[1]
    pc = host_report(rng, fleet(1, ["xa-a"], seed=4)[0])
    pc.pop("signature", None)
    _store_signed(store, pc, token_a)
    twin = copy.deepcopy(pc)
    twin["report_id"], twin["unit"] = "66666666-6666-4666-8666-666666666666", None
    _store_signed(store, twin, token_b)
    pending = store.hosts("xa-b")[0]
    out = CliRunner().invoke(cli, ["collector", "--db", db_url, "approve-move", pending["id"], "--reject"])
    assert out.exit_code == 0 and "kept as a PC of its own" in out.output
    assert store.hosts("xa-b")[0]["moved_from"] is None and len(store.hosts("xa-a")) == 1
