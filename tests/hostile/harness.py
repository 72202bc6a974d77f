"""Run mutations against the importer or the HTTP API of a real store, and judge every outcome.

Shared by tests/hostile/test_mutations.py (a few hundred per run) and bench/hostile.py (10,000 per
database). A run's ``Tally`` counts what was accepted, rejected and duplicate, and lists every
failure: a crash (an exception, a 5xx), an accepted document that fails the independent re-check
(oracle.problems, its signature with its unit's key, its unit), a verdict that differs between the
stored document and the model's reading of it, a rejection that is not one line naming the file or
request and the field, and a report neither stored, refused nor a duplicate (lost).
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from secscan.collector import schema as t
from secscan.collector.store import Store
from secscan.model.signing import parse_token, signing_key, verify
from secscan.synth.samples import fleet, host_report
from tests.hostile import oracle
from tests.hostile.mutate import Mutation, mutate

UNITS = ("van-lang", "vinh-chan")
# The first member of a field path a rejection may name (HostReport and ScanReport members) and
# the heads of the reasons that are about the document as a whole.
FIELDS = set(oracle.schema_of("host")["properties"]) | set(oracle.schema_of("scan")["properties"])
WHOLE = ("invalid JSON", "not UTF-8 text", "not a secscan report", "document is ", "(document)", "file is ",
         "body is ")
_HEAD = re.compile(r"^([^:]+): ")


def store_for(db_url: str) -> tuple[Store, dict[str, str]]:
    """A migrated store with examples/org.yaml loaded (as `collector init --org` does), judging
    at ingest, and a token per unit of UNITS."""
    from click.testing import CliRunner

    from secscan.cli import cli
    from secscan.collector.db import open_engine
    from secscan.wiring.collector import policy_evaluator

    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "init", "--org", str(oracle.ORG)])
    assert result.exit_code == 0, result.output
    store = Store(open_engine(db_url))
    store.evaluator = policy_evaluator(store)
    tokens = {unit: store.create_token(unit, "hostile")[1] for unit in UNITS}
    return store, tokens


def bases(n: int, seed: int = 16) -> list[tuple[dict[str, Any], str]]:
    """``n`` valid unsigned documents of the units, each of its own PC."""
    rng = random.Random(seed)
    return [(host_report(rng, pc), pc.unit or UNITS[0]) for pc in fleet(n, list(UNITS), seed=seed)]


def mutations(n: int, tokens: dict[str, str], seed: int) -> list[Mutation]:
    rnd = random.Random(seed)
    docs = bases(64, seed)
    return [mutate(*docs[rnd.randrange(len(docs))], tokens, rnd) for _ in range(n)]


@dataclass
class Tally:
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # the field named, for the figures
    crashes: list[str] = field(default_factory=list)
    recheck: list[str] = field(default_factory=list)  # accepted, but the independent re-check fails
    mismatches: list[str] = field(default_factory=list)  # verdicts differ: stored document vs model
    bad_rejections: list[str] = field(default_factory=list)  # not one line naming the field
    lost: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.accepted + self.duplicate + self.rejected + len(self.crashes) + len(self.lost)

    def failures(self) -> list[str]:
        return self.crashes + self.recheck + self.mismatches + self.bad_rejections + self.lost

    def summary(self) -> str:
        return (f"{self.seen} mutations: {self.accepted} accepted, {self.rejected} rejected, "
                f"{self.duplicate} duplicate; "
                f"crashes {len(self.crashes)}, re-check failures {len(self.recheck)}, verdict mismatches "
                f"{len(self.mismatches)}, bad rejections {len(self.bad_rejections)}, lost {len(self.lost)}")


def named_path(reason: str) -> tuple[str, ...] | None:
    """The field path a rejection starts with (``host.os.family: ...``), its members unquoted
    (intake quotes a member name that is not plain printable text), or None."""
    head = _HEAD.match(reason)
    if head is None:
        return None
    parts = []
    for m in _MEMBER.finditer(head.group(1)):
        part = m.group(0)
        if part.startswith("'"):
            try:  # a long name is cut short, marked with "…" (it then matches the names it starts)
                part = ast.literal_eval(part.removesuffix("…")) + ("…" if part.endswith("…") else "")
            except (ValueError, SyntaxError):
                return None
        parts.append(part)
    return tuple(parts)


_MEMBER = re.compile(r"'(?:[^'\\]|\\.)*'…?|[^.]+")


def judge_rejection(m: Mutation, reason: str, tally: Tally, where: str) -> None:
    tally.rejected += 1
    named = named_path(reason) or ()
    if not named and reason.split(" ", 1)[0] in FIELDS:  # "report_id <id> was already stored ..." (store.py)
        named = (reason.split(" ", 1)[0],)
    changed = [tuple(str(p) for p in path) for path in m.paths]
    is_field = bool(named) and (named[0] in FIELDS or any(_related(named, path) for path in changed))
    tally.reasons[named[0] if is_field and named[0] in FIELDS else reason[:24]] += 1
    problem = None
    if "\n" in reason or "\r" in reason or not reason.isprintable():
        problem = "not one printable line"
    elif len(reason) > 400:
        problem = f"{len(reason)} characters"
    elif not (reason.startswith(WHOLE) or is_field):
        problem = "names no field"
    elif (is_field and m.signing == "resign" and not m.text_level and named[0] not in ("signature", "unit")
          and not _replayed_id(named, reason) and not any(_related(named, path) for path in changed)):
        # a contract refusal of a re-signed document names a field that was changed (or one inside
        # or around it: a member created on the way, a required member dropped)
        problem = f"names {'.'.join(named)!r}, not a changed field"
    if problem:
        tally.bad_rejections.append(f"{where}: {problem}: {reason[:200]!r} after {m.describe()}")


def _replayed_id(named: tuple[str, ...], reason: str) -> bool:
    """The store's refusal of an id it already holds with other content: right whatever was
    changed, since the examples of one test share a store and a seeded draw can repeat an id."""
    return named == ("report_id",) and "already stored with different content" in reason


def _related(named: tuple[str, ...], changed: tuple[str, ...]) -> bool:
    """The same member, one inside the other, or siblings (a required member of an object the
    change created, or of the one it emptied)."""
    common = 0
    for x, y in zip(named, changed, strict=False):
        if x != y and not (x.endswith("…") and y.startswith(x[:-1])):
            break
        common += 1
    return common == min(len(named), len(changed)) or (common >= 1 and common >= len(changed) - 1)


def recheck(store: Store, m: Mutation, report_id: str, tokens: dict[str, str], tally: Tally, where: str,
            pushed: bool) -> None:
    """The stored report of an accepted mutation, checked without the collector's own code.
    ``pushed``: it came over HTTP with its unit's token (a file has no pushing token: it is
    filed under the unit of the token that signed it)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(t.reports.c.document, t.reports.c.unit_id, t.reports.c.key_id, t.reports.c.digest)
                           .where(t.reports.c.report_id == report_id)).one_or_none()
        stored_results = conn.execute(select(t.results.c.results).where(t.results.c.report_id == report_id)
                                      ).scalar_one_or_none()
    if row is None:
        tally.lost.append(f"{where}: accepted {report_id} is not in the store: {m.describe()}")
        return
    doc = json.loads(row.document)
    failures = [f"contract: {p}" for p in oracle.problems(doc)[:3]]
    by_key = {parse_token(tok)[0]: (unit, tok) for unit, tok in tokens.items()}
    if row.key_id not in by_key:
        failures.append(f"stored with key id {row.key_id!r}, not a unit token")
    else:
        unit, tok = by_key[row.key_id]
        if not verify(doc, signing_key(tok)):
            failures.append("signature does not verify with its unit's key")
        if row.unit_id != unit:
            failures.append(f"stored in unit {row.unit_id!r}, its token is {unit!r}'s")
        if doc.get("unit") not in (None, unit):
            failures.append(f"names unit {doc.get('unit')!r}, its token is {unit!r}'s")
        if pushed and unit != m.unit:
            failures.append(f"accepted with {unit!r}'s signature, pushed by {m.unit!r}")
    if failures:
        tally.recheck.append(f"{where}: {report_id}: {'; '.join(failures)} after {m.describe()}")
        return
    try:
        mismatch = oracle.verdict_mismatch(doc, row.unit_id)
        if mismatch is None and stored_results is not None:  # what the collector stored at ingest
            stored = [(r["control_id"], r["outcome"]) for r in json.loads(stored_results)]
            if stored != oracle.verdicts(doc, row.unit_id):
                mismatch = "the results stored at ingest differ from the policies' verdicts on the document"
    except Exception as exc:  # the policies or the model fail on a document the collector accepted
        tally.crashes.append(f"{where}: judging {report_id}: {exc!r} after {m.describe()}")
        return
    if mismatch:
        tally.mismatches.append(f"{where}: {report_id}: {mismatch} after {m.describe()}")


# --- the HTTP API ----------------------------------------------------------------------------

def run_http(store: Store, tokens: dict[str, str], muts: Iterable[Mutation], tally: Tally | None = None,
             client: Any = None) -> Tally:
    from fastapi.testclient import TestClient

    from secscan.collector.api import create_app

    tally = tally or Tally()
    own = client is None
    if own:
        client = TestClient(create_app(store), raise_server_exceptions=True)
        client.__enter__()
    try:
        for i, m in enumerate(muts):
            where = f"POST #{i}"
            try:
                response = client.post("/api/v1/reports", content=m.body,
                                       headers={"Content-Type": "application/json",
                                                "Authorization": f"Bearer {tokens[m.unit]}"})
            except Exception:
                tally.crashes.append(f"{where}: {traceback.format_exc(limit=-3)} after {m.describe()}")
                continue
            tally.statuses[response.status_code] += 1
            try:
                answer = response.json()
            except ValueError:
                tally.crashes.append(f"{where}: {response.status_code}, not JSON: {response.text[:200]!r}")
                continue
            if response.status_code >= 500:
                tally.crashes.append(f"{where}: {response.status_code} {answer} after {m.describe()}")
            elif response.status_code == 200 and answer.get("status") == "accepted":
                tally.accepted += 1
                recheck(store, m, answer["id"], tokens, tally, where, pushed=True)
            elif response.status_code == 200 and answer.get("status") == "duplicate":
                tally.duplicate += 1
            elif 400 <= response.status_code < 500 and isinstance(answer.get("detail"), str):
                judge_rejection(m, answer["detail"], tally, where)
            else:
                tally.crashes.append(f"{where}: unexpected answer {response.status_code} {answer}")
    finally:
        if own:
            client.__exit__(None, None, None)
    return tally


# --- the importer ----------------------------------------------------------------------------

def run_import(store: Store, tokens: dict[str, str], muts: list[Mutation], folder: Path,
               tally: Tally | None = None) -> Tally:
    """Every mutation a file in ``folder``, imported in one run (a batch of all of them, as a
    USB stick would bring them), with signatures required: the unit of each comes from its token."""
    from secscan.collector.importer import run_import as importer

    tally = tally or Tally()
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for i, m in enumerate(muts):
        name = folder / f"m{i:05d}.json"
        name.write_bytes(m.body)
        names[str(name)] = m
    try:
        summary = importer(store, [str(folder)], require_signature=True)
    except Exception:
        tally.crashes.append(f"import of {len(muts)} files: {traceback.format_exc(limit=-4)}")
        return tally
    rejected = dict(summary.rejected)
    for name, m in names.items():
        where = Path(name).name
        if name in rejected:
            judge_rejection(m, rejected[name], tally, where)
            continue
        digest = hashlib.sha256(m.body.removeprefix(b"\xef\xbb\xbf")).hexdigest()
        with store.engine.connect() as conn:
            by_digest = conn.execute(select(t.reports.c.report_id).where(t.reports.c.digest == digest)).scalar()
        if by_digest is not None and by_digest == m.report_id:
            tally.accepted += 1
            recheck(store, m, by_digest, tokens, tally, where, pushed=False)
        elif by_digest is not None or (m.report_id is not None and _stored(store, m.report_id)):
            tally.duplicate += 1
        else:
            tally.lost.append(f"{where}: neither stored, refused nor a duplicate: {m.describe()}")
    extra = set(rejected) - set(names)
    if extra:
        tally.crashes.append(f"rejections for files never written: {sorted(extra)[:3]}")
    return tally


def _stored(store: Store, report_id: str) -> bool:
    with store.engine.connect() as conn:
        found = conn.execute(select(t.reports.c.report_id).where(t.reports.c.report_id == report_id)).scalar()
    return found is not None
