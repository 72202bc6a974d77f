"""One report cannot sink its batch, a batch may name more MACs than PostgreSQL binds at once, a
symbolic link inside an imported folder is not followed, and what a hostile file names is
printed, not obeyed — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random

from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.intake import parse
from secscan.collector.refusals import Refusal
from secscan.synth.samples import fleet, host_report


def test_a_report_that_cannot_be_stored_is_refused_alone(store, token, rng):
    docs = [host_report(rng, h, token=token) for h in fleet(12, ["xa-a"], seed=5)]
    bad = docs[6]["report_id"]

    def evaluator(doc, unit):  # the store's judge fails on one report only (a bug, a hostile value)
        if doc["report_id"] == bad:
            raise OverflowError("date value out of range")
        return []

    store.evaluator = evaluator
    parsed = [(parse(json.dumps(d).encode()), "http") for d in docs]
    outcomes = store.ingest(parsed, bearers=[store.token_by_bearer(token)] * len(parsed))
    assert [o.status for o in outcomes].count("accepted") == 11
    refused = next(o for o in outcomes if o.id == bad)
    assert refused.status == "rejected" and refused.refusal == Refusal.unstorable
    assert refused.reason == "cannot be stored: OverflowError: date value out of range"
    assert store.counts()["reports"] == 11
    # the same inside an import's long transaction
    store.evaluator = None
    more = [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"], seed=6)]
    with store.bulk() as conn:
        store.evaluator = evaluator
        bad = more[1]["report_id"]
        got = store.ingest([(parse(json.dumps(d).encode()), "import:x") for d in more], conn=conn)
    assert [o.status for o in got] == ["accepted", "rejected", "accepted"]
    assert store.counts()["reports"] == 13


def test_a_batch_with_more_macs_than_postgresql_binds_at_once(store, token):
    rng = random.Random(9)
    docs = []
    for i, h in enumerate(fleet(280, ["xa-a"], seed=7)):
        doc = host_report(rng, h)
        doc.pop("signature", None)
        doc["host"]["interfaces"] = [{"mac": f"00:1{i % 10}:{i // 256:02x}:{i % 256:02x}:{k // 256:02x}:{k % 256:02x}",
                                      "ipv4": [], "ipv6": []} for k in range(240)]
        docs.append(doc)
    assert sum(len(d["host"]["interfaces"]) for d in docs) > 65_535
    parsed = [(parse(json.dumps(d).encode()), "import:x") for d in docs]
    outcomes = store.ingest(parsed, unit="xa-a")
    assert {o.status for o in outcomes} == {"accepted"}, {o.reason for o in outcomes}
    again = store.ingest([(parse(json.dumps(d).encode()), "import:x") for d in docs], unit="xa-a")
    assert {o.status for o in again} == {"duplicate"}
    assert store.counts()["hosts"] == 280


def test_a_symbolic_link_inside_an_imported_folder_is_not_followed(store, db_url, rng, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    doc = host_report(rng, fleet(1, ["xa-a"], seed=8)[0])
    (outside / "secret.json").write_text(json.dumps(doc))
    stick = tmp_path / "stick"
    stick.mkdir()
    os.symlink(outside / "secret.json", stick / "link.json")
    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "import", "-q", "--unit", "xa-a", str(stick)])
    assert result.exit_code == 1
    assert "link.json: symbolic link inside the folder: not followed" in result.stderr
    assert store.counts()["reports"] == 0


def test_rejections_print_hostile_names_inert(store, db_url, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "evil\x1b[31m.json").write_text('{"schema": "secscan.host-report/1", "\x1b]8;;http://x\x07": 1}')
    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "import", "-q", str(stick)])
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "evil\\x1b[31m.json" in result.stderr
