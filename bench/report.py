"""Report speed: the leadership PDF for a province (250 units / 10,000 hosts, target ≤ 10 s) and the
SOC feed for 100,000 events (target ≤ 5 s). The province is the demo district (secscan.demo) copied
5 times with its fleet drawn 5 times into each copy, judged by the real policy stage.
Prints its figures. Run: python bench/report.py [--warm] [--draws=N] (N × 2,425 hosts; default 5) [--store]

The targets are timed from the judged input in memory. ``--store`` also times what a user runs:
the same province imported into a SQLite store (`secscan collector init` + `import`, judged at
ingest), then `secscan report pdf` as a separate process, reading the store included (target ≤ 5 s).
Each line gives wall time, CPU time (this process and the commands it ran) and the load average."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from secscan.demo import bundle
from secscan.report import config, feed
from secscan.report.pdf import write_pdf
from secscan.report.summary import summarise

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    """CPU time of this process and of the commands it ran (`secscan …` as its own process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, fn):
    """Wall time (the target), CPU time (what it costs on a shared machine: the wall time of a
    quiet machine) and the load average beside it."""
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), _cpu()
    value = fn()
    took, cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"{label:<64} {took:7.2f} s wall {cpu:7.2f} s CPU  (load {load:.2f})")
    return value, took


def from_store(b: bundle.Bundle) -> float:
    """`secscan report pdf` end to end, on a store holding the same province; its first run's wall time."""
    import yaml

    def secscan(*args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run([sys.executable, "-m", "secscan", *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})

    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "usb", Path(tmp) / "province.db"
        folder.mkdir()
        (Path(tmp) / "org.yaml").write_text(yaml.safe_dump(b.org, allow_unicode=True), encoding="utf-8")
        for i, doc in enumerate(b.reports + b.scans):
            (folder / f"{i:05d}.json").write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        timed("store: collector init + import, judged at ingest (not in the target)",
              lambda: (secscan("collector", "--db", str(db), "init", "--org", str(Path(tmp) / "org.yaml")),
                       secscan("collector", "--db", str(db), "import", "-q", str(folder))))
        took = [timed(f"`secscan report pdf` from that store, {run} (target ≤ 5 s)",
                      lambda: secscan("report", "pdf", "--config", str(ROOT / "examples" / "report.yaml"),
                                      "-o", str(Path(tmp) / "province.pdf"), env={"SECSCAN_DB": str(db)}))[1]
                for run in ("first", "again")]
    return took[0]


def main() -> int:
    cfg = config.load(ROOT / "examples" / "report.yaml")
    draws = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--draws=")), 5))
    province = bundle.district(copies=5, draws=draws)
    inp, _ = timed(
        f"build input: 5 × the demo district, fleet drawn {draws} × (not in the target)",
        lambda: bundle.report_input(province),
    )
    print(f"  {len(inp.units)} units, {len(inp.hosts)} hosts, {len(inp.results)} results, {len(inp.scans)} scans")
    gc.freeze()  # as `secscan report` does once its input is loaded (report/cli.py _load)

    def pdf():
        start = time.perf_counter()
        summary = summarise(inp, cfg.prices)
        split = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            pages = write_pdf(summary, cfg, "vi", Path(tmp) / "province.pdf")
        print(f"  summary + findings {split - start:.2f} s, HTML + WeasyPrint {time.perf_counter() - split:.2f} s")
        return summary, pages

    (summary, pages), pdf_s = timed("PDF: summary + findings + render, cold (target ≤ 10 s)", pdf)
    print(f"  {pages} pages, {len(summary.findings)} findings")
    _, warm_s = timed("PDF again, warm (fonts and templates loaded)", pdf)
    pdf_s = min(pdf_s, warm_s) if "--warm" in sys.argv else pdf_s

    s, sum_s = timed("feed: summary + findings", lambda: summarise(inp))

    def run_feed():
        with tempfile.TemporaryFile("w", encoding="utf-8") as fh:
            return feed.write_lines(feed.lines(s), fh)

    events, feed_s = timed("feed: events + NDJSON written to a file (target ≤ 5 s)", run_feed)
    per_100k = feed_s * 100_000 / events
    print(f"  {events} events ({events / feed_s:,.0f} events/s, {per_100k:.2f} s per 100,000); "
          f"with the summary {sum_s + feed_s:.2f} s")
    store_s = 0.0
    if "--store" in sys.argv:
        del inp, s, summary
        store_s = from_store(province)
    ok = pdf_s <= 10 and per_100k <= 5 and events >= 100_000 and store_s <= 5
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
