"""Property-based mutation of valid signed reports (issue 16): against the contract alone, the
HTTP API and the importer, on SQLite and PostgreSQL. Every accepted document is re-checked
independently (tests/hostile/oracle.py: the published schema walked by hand, the signature with
its unit's key, the unit), and judged the same by the policies as the model reads it; every
rejection is one line naming the file or request and the field; nothing crashes, nothing is lost.

The default run takes a few hundred mutations per path and database; ``-m slow`` adds 2,000 per
database; bench/hostile.py runs 10,000 per database and prints the figures.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secscan.collector.intake import Rejected, parse
from secscan.model.signing import new_token
from tests.hostile import harness, oracle
from tests.hostile.mutate import mutate

TOKENS = {unit: new_token()[1] for unit in harness.UNITS}
BASES = harness.bases(32)
DB_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                             HealthCheck.too_slow], database=None)


def _one(rnd: random.Random, tokens: dict[str, str]) -> Any:
    doc, unit = BASES[rnd.randrange(len(BASES))]
    return mutate(doc, unit, tokens, rnd)


def _fail_on(tally: harness.Tally) -> None:
    failures = tally.failures()
    assert not failures, f"{tally.summary()}\n" + "\n".join(failures[:10])


@settings(max_examples=400, deadline=None, database=None)
@given(st.randoms(use_true_random=False))
def test_the_contract_alone(rnd: random.Random) -> None:
    """intake.parse: a Rejected with one line naming the field, or a document the oracle passes
    and the policies judge as the model reads it. (Signatures and units need a store: below.)"""
    m = _one(rnd, TOKENS)
    tally = harness.Tally()
    try:
        parsed = parse(m.body)
    except Rejected as exc:
        harness.judge_rejection(m, exc.reason, tally, "parse")
        _fail_on(tally)
        return
    assert oracle.problems(parsed.document, parsed.kind) == [], m.describe()
    assert oracle.verdict_mismatch(parsed.document, parsed.document.get("unit")) is None, m.describe()


@pytest.fixture
def http(deployed: tuple[Any, dict[str, str]]) -> Iterator[tuple[Any, dict[str, str], Any]]:
    """(store, tokens, a TestClient of the collector's app): one per test, shared by its examples."""
    from fastapi.testclient import TestClient

    from secscan.collector.api import create_app

    store, tokens = deployed
    with TestClient(create_app(store)) as client:
        yield store, tokens, client


@settings(DB_SETTINGS, max_examples=150)
@given(rnd=st.randoms(use_true_random=False))
def test_http_pushes(http: tuple[Any, dict[str, str], Any], rnd: random.Random) -> None:
    store, tokens, client = http
    _fail_on(harness.run_http(store, tokens, [_one(rnd, tokens)], client=client))


@settings(DB_SETTINGS, max_examples=40)
@given(seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=8))
def test_imported_folders(deployed: tuple[Any, dict[str, str]], tmp_path_factory: Any, seeds: list[int]) -> None:
    """A folder of a few mutations, imported in one run with signatures required."""
    store, tokens = deployed
    muts = [_one(random.Random(seed), tokens) for seed in seeds]
    _fail_on(harness.run_import(store, tokens, muts, tmp_path_factory.mktemp("drop")))


def test_a_batch_with_every_kind_of_bad_report_stores_the_good_ones(deployed: tuple[Any, dict[str, str]],
                                                                     tmp_path: Path) -> None:
    """300 mutations in one folder, one import: the good reports are stored, each bad one is
    refused alone (no store-level failure sinks the batch), and the same again over HTTP."""
    store, tokens = deployed
    muts = harness.mutations(300, tokens, seed=16)
    tally = harness.run_import(store, tokens, muts, tmp_path / "drop")
    _fail_on(tally)
    assert tally.accepted > 30 and tally.rejected > 100, tally.summary()
    over_http = harness.run_http(store, tokens, harness.mutations(300, tokens, seed=17))
    _fail_on(over_http)
    assert over_http.accepted > 30 and set(over_http.statuses) <= {200, 401, 403, 409, 413, 422}, over_http.statuses


def test_the_import_command_prints_one_line_per_refused_file(deployed: tuple[Any, dict[str, str]],
                                                              db_url: str, tmp_path: Path) -> None:
    """`secscan collector import`: each refused file is one line, ``rejected: <file>: <field>: ...``
    with its control characters shown, not obeyed; exit status 1; no traceback."""
    from secscan.cli import cli

    _, tokens = deployed
    drop = tmp_path / "drop"
    drop.mkdir()
    muts = harness.mutations(120, tokens, seed=18)
    for i, m in enumerate(muts):
        (drop / f"m{i:03d}.json").write_bytes(m.body)
    (drop / "evil\x1b[31m.json").write_bytes(muts[0].body.replace(b'"hostname": "', b'"hostname": 7, "x": "', 1))
    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "import", "-q", "--require-signature", str(drop)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"rejected: {drop}/") for line in lines), lines[:5]
    assert "\x1b" not in result.stderr and any("evil\\x1b[31m.json: " in line for line in lines)
    counts = result.stdout.strip().splitlines()[-1]
    assert counts.startswith("accepted ") and f"rejected {len(lines)}" in counts
    for line in lines:
        reason = line.split(": ", 2)[2]
        assert harness.named_path(reason) or reason.startswith(harness.WHOLE), line


@pytest.mark.slow
def test_many_mutations(deployed: tuple[Any, dict[str, str]], tmp_path: Path) -> None:
    """2,000 through the importer and 2,000 over HTTP, per database (bench/hostile.py: 10,000)."""
    store, tokens = deployed
    tally = harness.run_import(store, tokens, harness.mutations(2000, tokens, seed=1), tmp_path / "drop")
    harness.run_http(store, tokens, harness.mutations(2000, tokens, seed=2), tally)
    print(tally.summary())
    _fail_on(tally)


def test_the_mutations_reach_every_kind_of_member() -> None:
    """The mutator covers the contract: every kind of value, unknown members, lists past their
    limit, text changed after signing, and every way of signing."""
    muts = harness.mutations(1500, TOKENS, seed=3)
    ops = " ".join(op for m in muts for op in m.ops)
    for kind in ("(bool)", "(int)", "(number)", "(datetime)", "(date)", "(uuid)", "(ip)", "(enum)", "(string)",
                 "(object)", "(array)", "add ", "del ", "host.interfaces has 1025 items", "text: "):
        assert kind in ops, kind
    assert {m.signing for m in muts} == {"resign", "stale", "other", "unsigned", "keyid"}
    assert len({json.loads(m.body)["report_id"] for m in muts[:50] if m.body.startswith(b"{")
                if _json_ok(m.body)}) > 40


def _json_ok(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body).get("report_id"), str)
    except (ValueError, AttributeError):
        return False
