"""What the adversarial suite found outside the contract and intake, and how it is handled now
(these were kept as strict xfails until the file that owns each was fixed)."""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import update

from secscan.collector import schema as t
from secscan.collector.importer import run_import
from secscan.synth.samples import fleet, host_report


def test_a_store_written_before_the_strict_contract_still_reports(deployed: tuple[Any, dict[str, str]],
                                                                   tmp_path: Any) -> None:
    """A document stored before the contract became strict is left out of the inventory and named,
    never guessed at; the report stage does not stop."""
    store, tokens = deployed
    doc = host_report(random.Random(1), fleet(1, ["van-lang"], seed=1)[0], token=tokens["van-lang"])
    (tmp_path / "r.json").write_text(json.dumps(doc))
    assert run_import(store, [str(tmp_path)], require_signature=True).accepted == 1
    legacy = {**doc, "hardening": {**doc["hardening"], "smb": {"smb1_server": "yes", "smb1_client": 0}}}
    with store.engine.begin() as conn:  # as a collector before issue 16 stored it
        conn.execute(update(t.reports).where(t.reports.c.report_id == doc["report_id"])
                     .values(document=json.dumps(legacy)))
    unreadable: list[tuple[str, str]] = []
    assert store.latest_reports("van-lang", unreadable=unreadable) == []
    assert unreadable == [(doc["report_id"], "hardening.smb.smb1_server: Input should be a valid boolean")]
