"""Ingest speed: file import against a raw executemany, and HTTP with concurrent clients.

    python bench/ingest.py [--n 10000] [--clients 50] [--http-n 10000] [--workers 1] [--no-pg] [--org FILE]

Targets (issue 5): import ≥ 2,000 reports/s and within 3x of a raw executemany of the same
documents; HTTP with 50 concurrent clients on loopback ≥ 1,000 reports/s with p99 < 250 ms; the
same figures on PostgreSQL (a throwaway cluster with default durability, fsync on). The reports
are realistic signed HostReports from secscan.synth (~3 kB each). The HTTP clients are plain
asyncio keep-alive connections, so the client costs little of the machine's CPU; they share it
with the server all the same, and the figures say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secscan.collector.db import open_engine  # noqa: E402
from secscan.collector.store import Store  # noqa: E402
from secscan.synth.samples import fleet, host_report  # noqa: E402
from secscan.testing import PostgresCluster, _free_port, postgres_bindir  # noqa: E402

UNIT = "xa-a"


def make_reports(folder: Path, n: int, token: str, seed: int) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, host in enumerate(fleet(n, [UNIT], seed=seed)):
        path = folder / f"{i:05d}.json"
        path.write_text(json.dumps(host_report(rng, host, token=token), ensure_ascii=False))
        paths.append(path)
    return paths


def fresh_store(url: str, org: str | None = None) -> tuple[Store, str]:
    store = Store(open_engine(url))
    if org:  # the same path as `secscan collector init --org`: units, levels, the stored org
        from click.testing import CliRunner

        from secscan.cli import cli

        result = CliRunner().invoke(cli, ["collector", "--db", url, "init", "--org", org])
        assert result.exit_code == 0, result.output
    else:
        store.migrate()
        store.upsert_units([{"id": UNIT, "name": "UBND xã A"}])
    return store, store.create_token(UNIT)[1]


def bench_import(url: str, folder: Path, n: int) -> tuple[float, float]:
    """`secscan collector import` as a user runs it (a new process: interpreter start, the parse
    worker it starts for a large import, judging when the store has an org.yaml). Returns
    (reports/s wall, ms of CPU per report summed over the importer and its worker)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "secscan", "collector", "--db", url, "import", "-q", str(folder)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0 and f"accepted {n}, duplicate 0, rejected 0" in done.stdout, done.stdout + done.stderr
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return n / elapsed, cpu / n * 1000


def bench_raw_sqlite(paths: list[Path], db: Path) -> float:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw (name TEXT PRIMARY KEY, document TEXT NOT NULL)")
    t0 = time.perf_counter()
    rows = [(p.name, p.read_text(encoding="utf-8")) for p in paths]
    with conn:
        conn.executemany("INSERT INTO raw VALUES (?, ?)", rows)
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(paths) / elapsed


def bench_raw_postgres(paths: list[Path], url: str) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE raw (name TEXT PRIMARY KEY, document TEXT NOT NULL)")
        conn.commit()
        t0 = time.perf_counter()
        rows = [(p.name, p.read_text(encoding="utf-8")) for p in paths]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO raw VALUES (%s, %s)", rows)
        conn.commit()
        elapsed = time.perf_counter() - t0
    return len(paths) / elapsed


async def _client(port: int, token: str, bodies: list[bytes], latencies: list[float], statuses: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for body in bodies:
            head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            t0 = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            code = int(status_line.split()[1])
            statuses[code] = statuses.get(code, 0) + 1
    finally:
        writer.close()


async def _http_run(port: int, token: str, bodies: list[bytes], clients: int) -> tuple[float, list[float], dict]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    shares = [bodies[i::clients] for i in range(clients)]
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(port, token, share, latencies, statuses) for share in shares))
    return time.perf_counter() - t0, latencies, statuses


def start_server(url: str, workers: int = 1) -> tuple[subprocess.Popen, int]:
    """`secscan collector serve` on a free loopback port, once it answers /healthz."""
    import httpx

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "secscan", "collector", "--db", url, "serve", "--port", str(port),
                               "--workers", str(workers)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, port


def bench_http(url: str, token: str, paths: list[Path], clients: int, workers: int) -> dict:
    server, port = start_server(url, workers)
    try:
        bodies = [p.read_bytes() for p in paths]
        import psutil

        procs = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        cpu0 = sum(sum(p.cpu_times()[:2]) for p in procs)
        own0 = sum(os.times()[:2])
        elapsed, latencies, statuses = asyncio.run(_http_run(port, token, bodies, clients))
        server_cpu = sum(sum(p.cpu_times()[:2]) for p in procs) - cpu0
        client_cpu = sum(os.times()[:2]) - own0
    finally:
        server.terminate()
        server.wait(20)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rate": len(bodies) / elapsed, "p50": pick(0.50), "p99": pick(0.99), "max": latencies[-1] * 1000,
            "statuses": statuses, "server_ms": server_cpu / len(bodies) * 1000,
            "client_ms": client_cpu / len(bodies) * 1000, "busy": (server_cpu + client_cpu) / elapsed}


def run(label: str, url: str, tmp: Path, args: argparse.Namespace, raw: callable) -> None:
    store, token = fresh_store(url, args.org)
    store.engine.dispose()
    paths = make_reports(tmp / f"{label}-files", args.n, token, seed=1)
    rate, cpu_ms = bench_import(url, tmp / f"{label}-files", args.n)
    raw_rate = raw(paths)
    judged = "stored and judged against org.yaml" if args.org else "stored"
    print(f"{label}: import {args.n} HostReports ({judged}): {rate:,.0f} reports/s "
          f"(target ≥ 2,000) | raw executemany of the same documents: {raw_rate:,.0f} docs/s "
          f"| ratio {raw_rate / rate:.1f}x (target ≤ 3x) | CPU {cpu_ms:.2f} ms/report "
          f"(importer and its parse worker, interpreter start included)")
    http_paths = make_reports(tmp / f"{label}-http", args.http_n, token, seed=2)
    h = bench_http(url, token, http_paths, args.clients, args.workers)
    print(f"{label}: HTTP {args.http_n} POSTs, {args.clients} clients, {args.workers} worker(s): "
          f"{h['rate']:,.0f} reports/s (target ≥ 1,000) | p50 {h['p50']:.0f} ms, p99 {h['p99']:.0f} ms "
          f"(target < 250), max {h['max']:.0f} ms | statuses {h['statuses']} | CPU per POST: server "
          f"{h['server_ms']:.2f} ms, client {h['client_ms']:.2f} ms; the two used {h['busy']:.2f} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--http-n", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--org", help="org.yaml: also judge every report at ingest (e.g. examples/org.yaml; "
                                      "reports then belong to its unit van-lang)")
    args = parser.parse_args()
    if args.org:
        global UNIT
        UNIT = "van-lang"
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="secscan-bench-") as tmpdir:
        tmp = Path(tmpdir)
        run("sqlite", f"sqlite:///{tmp}/bench.db", tmp, args, lambda paths: bench_raw_sqlite(paths, tmp / "raw.db"))
        if args.no_pg:
            return
        bindir = postgres_bindir()
        if bindir is None and not os.environ.get("SECSCAN_TEST_PG_URL"):
            print("postgresql: skipped (no initdb/pg_ctl; set SECSCAN_TEST_PG_URL)")
            return
        cluster = None
        url = os.environ.get("SECSCAN_TEST_PG_URL")
        if not url:
            cluster = PostgresCluster(bindir, durable=True).start()
            url = cluster.url
        try:
            run("postgresql", url, tmp, args, lambda paths: bench_raw_postgres(paths, url))
        finally:
            if cluster:
                cluster.stop()


if __name__ == "__main__":
    main()
