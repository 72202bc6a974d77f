"""The adversarial run of issue 16: mutated signed reports against the importer and the HTTP API,
on SQLite and PostgreSQL, with every outcome judged (tests/hostile/harness.py).

    python bench/hostile.py [--n 10000] [--seed 1] [--no-pg]

For each database: ``--n`` mutations imported as one folder (signatures required), then ``--n``
others pushed one by one over HTTP (FastAPI's TestClient over the collector's app, in process).
Every accepted document is re-checked independently (the published JSON Schema walked by hand,
the signature with its unit's key, the unit), judged by the policies on the stored document and
on the model's reading of it (they must agree), and every rejection must be one line naming the
file or request and the field. Prints the counts and the first failures; exit status 1 when
anything failed. PostgreSQL is a throwaway cluster (secscan.testing.PostgresCluster).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secscan.testing import PostgresCluster, postgres_bindir  # noqa: E402
from tests.hostile import harness  # noqa: E402


def run(label: str, url: str, tmp: Path, n: int, seed: int) -> harness.Tally:
    store, tokens = harness.store_for(url)
    try:
        started = time.perf_counter()
        imported = harness.run_import(store, tokens, harness.mutations(n, tokens, seed), tmp / f"{label}-drop")
        took_import = time.perf_counter() - started
        print(f"{label}: import: {imported.summary()} ({took_import:.0f} s)", flush=True)
        started = time.perf_counter()
        pushed = harness.run_http(store, tokens, harness.mutations(n, tokens, seed + 1))
        took_http = time.perf_counter() - started
        statuses = dict(sorted(pushed.statuses.items()))
        print(f"{label}: HTTP:   {pushed.summary()} ({took_http:.0f} s); statuses {statuses}", flush=True)
        both = harness.Tally()
        for part in (imported, pushed):
            both.accepted += part.accepted
            both.duplicate += part.duplicate
            both.rejected += part.rejected
            both.reasons.update(part.reasons)
            for name in ("crashes", "recheck", "mismatches", "bad_rejections", "lost"):
                getattr(both, name).extend(getattr(part, name))
        top = ", ".join(f"{k} {v}" for k, v in both.reasons.most_common(10))
        print(f"{label}: rejections by the field named (first member): {top}")
        for failure in both.failures()[:20]:
            print(f"  FAIL {failure[:400]}")
        return both
    finally:
        store.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="mutations per path (import, HTTP) and database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="secscan-hostile-") as tmp:
        tally = run("sqlite", f"sqlite:///{tmp}/hostile.db", Path(tmp), args.n, args.seed)
        failed += len(tally.failures())
        if args.no_pg:
            pass
        elif (bindir := postgres_bindir()) is None:
            print("postgres: skipped (no initdb/pg_ctl under /usr/lib/postgresql/*/bin)")
        else:
            cluster = PostgresCluster(bindir).start()
            try:
                tally = run("postgres", cluster.url, Path(tmp), args.n, args.seed)
                failed += len(tally.failures())
            finally:
                cluster.stop()
    print("FAILED" if failed else "all outcomes as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
