"""The same scan through `secscan scan` and through plain nmap with the same arguments.

Builds the namespace lab of secscan/scan/lab.py (root and iproute2 needed; nothing outside the
lab's namespaces is scanned), runs `secscan scan` end to end (Python start-up, org.yaml check,
python-nmap's `nmap -V`, XML parsing, validation, JSON written), then runs the exact nmap argv that
secscan recorded in its report, alternately, and prints the median wall times and their ratio.
Target: ratio <= 1.10.

    sudo python bench/scan.py [--profile quick|standard|full] [--runs 3] [--targets 10.213.7.0/24]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secscan.scan.lab import Lab, unavailable  # noqa: E402

ORG = ROOT / "tests" / "fixtures" / "scan" / "org.yaml"


def timed(lab: Lab, argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = lab.run(argv, timeout=900)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr}")
    return elapsed, proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="standard", choices=["quick", "standard", "full"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--targets", default="10.213.7.0/24")
    opts = ap.parse_args()
    why = unavailable()
    if why:
        sys.exit(f"bench/scan.py: {why}")
    lab = Lab()
    lab.add_host(10, "00:1b:78:aa:00:10", ["80:http", "9100:close"], "may-in-tang2.ubnd.local")
    lab.add_host(11, "b8:ac:6f:aa:00:11", ["23:telnet", "445:close"], "ketoan-pc.ubnd.local")
    lab.add_host(12, "00:e0:4c:aa:00:12", ["445:close"])
    secscan_times: list[float] = []
    nmap_times: list[float] = []
    with lab, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scan.json"
        secscan = [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            opts.targets,
            "--unit",
            "xa-lab",
            "--org",
            str(ORG),
            "--profile",
            opts.profile,
            "--out",
            str(out),
        ]
        for _ in range(opts.runs):
            elapsed, _proc = timed(lab, secscan)
            secscan_times.append(elapsed)
            report = json.loads(out.read_text(encoding="utf-8"))
            nmap_argv = shlex.split(report["nmap"]["args"])  # exactly what secscan ran
            elapsed, _proc = timed(lab, nmap_argv)
            nmap_times.append(elapsed)
    s, n = statistics.median(secscan_times), statistics.median(nmap_times)
    print(f"profile {opts.profile}, targets {opts.targets}, {len(report['hosts'])} hosts up, {opts.runs} runs each")
    print(f"nmap args: {report['nmap']['args']}")
    print(f"secscan scan : median {s:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in secscan_times)})")
    print(f"plain nmap   : median {n:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in nmap_times)})")
    print(f"ratio        : {s / n:.3f}  (target <= 1.10)")


if __name__ == "__main__":
    main()
