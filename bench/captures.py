"""Windows captures: HTTP ingest of signed captures, `collector redecode`, and what a capture weighs.

    python bench/captures.py [--n 5000] [--clients 50] [--pg] [--synthetic]

Targets (issue 15): signed captures ingested over HTTP (signature checked, decoded, judged against
org.yaml, raw kept) >= 500/s on this machine; redecode >= 1,000 captures/s; the size of a typical
PC's capture stated. The captures are the demo fleet's (secscan.demo.captures), sealed with a unit
token. The demo's captures hold only what the demo's PCs need (~8.5 kB); a real office PC's
inventory is much longer, so by default each capture gets the inventory of secscan.synth.inventory's
`full_size` (about 250 services, 180 processes, 220 programs, 180 scheduled tasks, 150 hotfixes),
which is what a "typical" figure means here; --synthetic measures the demo's own. The load
generator runs on the same machine (plain asyncio keep-alive clients from bench/ingest.py) and
shares its two CPUs with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import bench_http  # noqa: E402

from secscan.collector import captures as kept  # noqa: E402
from secscan.collector.db import open_engine  # noqa: E402
from secscan.collector.store import Store  # noqa: E402
from secscan.demo import captures as demo_captures  # noqa: E402
from secscan.demo import fleet  # noqa: E402
from secscan.model.signing import seal  # noqa: E402
from secscan.synth.inventory import full_size  # noqa: E402
from secscan.testing import PostgresCluster, postgres_bindir  # noqa: E402
from secscan.wiring.collector import decode_capture, policy_evaluator  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
UNIT = "van-lang"


def captures(n: int, synthetic: bool) -> list[bytes]:
    """n capture bodies from the demo fleet, drawn again with another seed as often as needed."""
    out: list[bytes] = []
    seed = 2023
    now = fleet.now_for_period()
    while len(out) < n:
        for pc in fleet.draw(seed):
            doc = demo_captures.render(pc, now, seed)
            doc["script_version"] = 2
            body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            out.append(body if synthetic else full_size(body))
            if len(out) == n:
                break
        seed += 1
    return out


def fresh(url: str) -> tuple[Store, str]:
    from click.testing import CliRunner

    from secscan.cli import cli

    result = CliRunner().invoke(cli, ["collector", "--db", url, "init", "--org", str(ORG)])
    assert result.exit_code == 0, result.output
    store = Store(open_engine(url))
    return store, store.create_token(UNIT)[1]


def run(label: str, url: str, bodies: list[bytes], clients: int, tmp: Path) -> None:
    store, token = fresh(url)
    folder = tmp / f"{label}-sealed"
    folder.mkdir()
    paths = []
    for i, body in enumerate(bodies):
        path = folder / f"{i:05d}.secscan"
        path.write_bytes(seal(body, token))
        paths.append(path)
    http = bench_http(url, token, paths, clients, workers=1)
    assert http["statuses"] == {200: len(bodies)}, http["statuses"]
    print(f"{label}: HTTP, {len(bodies)} signed captures, {clients} clients: {http['rate']:,.0f} captures/s, "
          f"p50 {http['p50']:.0f} ms, p99 {http['p99']:.0f} ms (server {http['server_ms']:.2f} ms CPU each, "
          f"clients {http['client_ms']:.2f}; {http['busy']:.2f} of 2 CPUs busy)")
    store.evaluator = policy_evaluator(store)
    t0 = time.perf_counter()
    summary = kept.redecode(store, decode_capture)
    elapsed = time.perf_counter() - t0
    assert summary.captures == len(bodies) and not summary.failed and summary.reports_changed == 0
    print(f"{label}: redecode {summary.captures} captures (decoded, compared, {summary.rejudged} re-judged): "
          f"{summary.captures / elapsed:,.0f} captures/s")
    stats = kept.stats(store)
    print(f"{label}: stored {stats.stored_bytes / stats.captures / 1024:.1f} KiB per capture (compressed)")
    store.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pg", action="store_true", help="also on a throwaway PostgreSQL cluster")
    ap.add_argument("--synthetic", action="store_true", help="the demo's captures as they are, not padded")
    args = ap.parse_args()
    bodies = captures(args.n, args.synthetic)
    sizes = [len(b) for b in bodies]
    packed = [len(zlib.compress(b, 1)) for b in bodies[:500]]  # the level the collector keeps them at
    kind = "demo (synthetic)" if args.synthetic else "typical office PC (full_size)"
    print(f"load before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    print(f"capture size, {kind}: median {statistics.median(sizes) / 1024:.1f} KiB raw, "
          f"{statistics.median(packed) / 1024:.1f} KiB zlib-compressed; one capture a day for a year: "
          f"{365 * statistics.median(packed) / 1024 / 1024:.1f} MiB per PC kept raw "
          f"(`collector captures prune` keeps the last 12 and 400 days by default)")
    t0 = time.perf_counter()
    for body in bodies[:500]:
        decode_capture(body)
    print(f"decoder alone, one process: {500 / (time.perf_counter() - t0):,.0f} captures/s")
    with tempfile.TemporaryDirectory(prefix="secscan-bench-captures-") as tmp:
        run("sqlite", f"sqlite:///{tmp}/store.db", bodies, args.clients, Path(tmp))
        if args.pg:
            bindir = postgres_bindir()
            if bindir is None:
                print("postgres: skipped (no initdb/pg_ctl)")
            else:
                cluster = PostgresCluster(bindir).start()
                try:
                    run("postgres", cluster.url, bodies, args.clients, Path(tmp))
                finally:
                    cluster.stop()
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
