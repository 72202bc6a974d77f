"""A district store for the console: the demo org.yaml, PCs in two communes (one of them with a
hostile hostname), a LAN scan, and one account of each kind."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.cli import cli

ROOT = Path(__file__).parents[2]
PASSWORD = "mật-khẩu-đủ-dài-1"
HOSTILE = '<script>alert(1)</script><img src="http://192.0.2.1/x.png">'
# name -> (role, unit): the commune officer sees van-lang only
ACCOUNTS = {
    "admin-huyen": ("admin", None),
    "canbo-vanlang": ("officer", "van-lang"),
    "lanhdao-vanlang": ("viewer", "van-lang"),
    "canbo-huyen": ("officer", "hahoa"),
}


@dataclass
class District:
    db: str
    tmp: Path

    def store(self):
        from secscan.collector.db import open_engine
        from secscan.collector.store import Store

        return Store(open_engine(self.db))

    def hosts(self, unit: str) -> list[dict]:
        return self.store().hosts(unit)


def collector(db: str, *args: str, stdin: str | None = None):
    result = CliRunner().invoke(cli, ["collector", "--db", db, *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="package")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    from secscan.synth.samples import fleet, host_report, scan_report

    tmp = tmp_path_factory.mktemp("console")
    db = f"sqlite:///{tmp}/secscan.db"
    collector(db, "init", "--org", str(ROOT / "examples" / "org.yaml"))
    rng = random.Random(20)
    (tmp / "in").mkdir()
    docs = []
    for seed, unit in ((1, "van-lang"), (2, "vinh-chan")):
        token = collector(db, "token", "create", "--unit", unit).stdout.strip()
        pcs = fleet(5, [unit], seed=seed)
        if unit == "vinh-chan":
            pcs[0] = dataclasses.replace(pcs[0], hostname=HOSTILE)
        docs += [host_report(rng, pc, token=token) for pc in pcs] + [scan_report(rng, unit, 3)]
    for doc in docs:
        name = doc.get("report_id") or doc["scan_id"]
        (tmp / "in" / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    collector(db, "import", "-q", str(tmp / "in"))
    for name, (role, unit) in ACCOUNTS.items():
        collector(db, "user", "add", name, "--role", role, *(["--unit", unit] if unit else []), "--password-stdin",
                  stdin=PASSWORD + "\n")
    yield District(db, tmp)
