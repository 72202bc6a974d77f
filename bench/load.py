"""A district's agents pushing at once: N concurrent agents for S seconds against `collector serve`.

    python bench/load.py [--agents 200] [--seconds 60] [--pg]

Target (issue 16): 200 concurrent agents for 60 s: 0 errors, 0 lost or duplicated reports, with
the p99 latency stated. Each agent is one keep-alive connection pushing signed HostReports of its
own PC one after another (as a spool drains), every twentieth one a retry of a report it already
sent (a lost answer), until the time is up. At the end the store is read back: every report
answered 200 "accepted" is there exactly once, every retry came back "duplicate", nothing else is
stored. The load generator runs on the same 2-CPU machine as the server and shares it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import start_server  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from secscan.collector import schema as t  # noqa: E402
from secscan.collector.db import open_engine  # noqa: E402
from secscan.collector.store import Store  # noqa: E402
from secscan.synth.samples import fleet, host_report  # noqa: E402
from secscan.testing import PostgresCluster, postgres_bindir  # noqa: E402

UNIT = "xa-a"
PUSHES_PER_AGENT_SECOND = 16  # reports made ready per agent and second: more than the server takes (~12)


async def _agent(port: int, token: str, bodies: list[tuple[str, bytes]], deadline: float, log: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, (report_id, body) in enumerate(bodies):
            if time.perf_counter() > deadline:
                return
            retry = i > 0 and i % 20 == 0
            if retry:
                report_id, body = bodies[i - 1]
            head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            t0 = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answer = json.loads(await reader.readexactly(length))
            log.append((report_id, status, answer.get("status"), retry, time.perf_counter() - t0))
    finally:
        writer.close()


def run(label: str, url: str, agents: int, seconds: float) -> None:
    store = Store(open_engine(url))
    store.migrate()
    store.upsert_units([{"id": UNIT, "name": "UBND xã A"}])
    token = store.create_token(UNIT)[1]
    rng = random.Random(16)
    pcs = fleet(agents, [UNIT], seed=16)
    print(f"{label}: preparing {agents * int(seconds * PUSHES_PER_AGENT_SECOND):,} signed reports …", flush=True)
    work = []
    for pc in pcs:
        docs = [host_report(rng, pc, token=token) for _ in range(int(seconds * PUSHES_PER_AGENT_SECOND))]
        work.append([(d["report_id"], json.dumps(d).encode()) for d in docs])
    server, port = start_server(url)
    log: list = []
    try:
        load0 = os.getloadavg()[0]

        async def all_agents() -> None:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(_agent(port, token, w, deadline, log) for w in work))

        started = time.perf_counter()
        asyncio.run(all_agents())
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    errors = [e for e in log if e[1] != 200]
    accepted = {e[0] for e in log if e[2] == "accepted"}
    wrong_retries = [e for e in log if e[3] and e[2] != "duplicate"]
    with store.engine.connect() as conn:
        stored = set(conn.execute(select(t.reports.c.report_id)).scalars())
        rows = conn.execute(select(func.count()).select_from(t.reports)).scalar_one()
    lost = accepted - stored
    extra = stored - accepted
    latencies = sorted(e[4] for e in log)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"{label}: {agents} agents for {elapsed:.0f} s: {len(log):,} pushes ({len(log) / elapsed:,.0f}/s), "
          f"{len(errors)} errors, {len(lost)} lost, {len(extra)} stored but not acknowledged, "
          f"{rows - len(stored)} duplicated rows, {len(wrong_retries)} retries not answered 'duplicate'; "
          f"p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms, max {latencies[-1] * 1000:.0f} ms "
          f"(load average {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)")
    store.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--pg", action="store_true", help="also on a throwaway PostgreSQL cluster (fsync on)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="secscan-load-") as tmp:
        run("sqlite", f"sqlite:///{tmp}/store.db", args.agents, args.seconds)
    if args.pg:
        bindir = postgres_bindir()
        if bindir is None:
            print("postgresql: skipped (no initdb/pg_ctl)")
            return
        cluster = PostgresCluster(bindir, durable=True).start()
        try:
            run("postgresql", cluster.url, args.agents, args.seconds)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
