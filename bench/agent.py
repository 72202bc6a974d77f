"""Benchmark `secscan agent run`: median wall time and peak RSS over several runs.

Targets (issue 2, this 2-core machine): <= 1.5 s wall, <= 60 MB peak RSS.
Usage: python bench/agent.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(out: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secscan", "agent", "run", "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"agent run exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        one_run(Path(tmp) / "warmup.json")  # page cache, .pyc files
        results = [one_run(Path(tmp) / f"r{i}.json") for i in range(runs)]
    walls = [w for w, _ in results]
    rss = max(r for _, r in results)
    print(
        f"agent run x{runs}: median wall {statistics.median(walls):.3f} s (min {min(walls):.3f}, "
        f"max {max(walls):.3f}); peak RSS {rss:.1f} MB"
    )
    print(
        f"targets: wall <= 1.5 s: {'met' if statistics.median(walls) <= 1.5 else 'MISSED'}; "
        f"RSS <= 60 MB: {'met' if rss <= 60 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
