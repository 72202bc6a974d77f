"""--push: spool first, deliver oldest first, never lose a report, never resend a delivered one.
A real HTTP(S) server on loopback plays the collector."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


class Collector:
    """Answers like the collector: 200 once per report_id (and for repeats), or a chosen status."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[dict] = []
        self.auth: list[str | None] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.auth.append(self.headers.get("Authorization"))
                if outer.status == 200:
                    outer.received.append(json.loads(body))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b'{"detail": "nope"}' if outer.status != 200 else b'{"status": "accepted"}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "secscan", "agent", "run", *args], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"})


TOKEN = "sst_abcdef012345.q3gI2fBqP1p3s2c0dC6aVhQ9m2vJ8x7uT4kLwE5rYz0"


def test_unreachable_collector_spools_then_delivers_in_order_once(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    free_port = Collector()
    url = f"http://127.0.0.1:{free_port.port}/api/v1/reports"
    free_port.close()  # nobody listens there now

    first = agent("--unit", "u1", "--token", TOKEN, "--push", url, "--spool", str(spool))
    assert first.returncode == 3
    assert "kept in" in first.stderr and "Traceback" not in first.stderr
    spooled = list(spool.glob("*.json"))
    assert len(spooled) == 1
    first_id = json.loads(spooled[0].read_text())["report_id"]

    collector = Collector()
    try:
        url = f"http://127.0.0.1:{collector.port}/api/v1/reports"
        second = agent("--unit", "u1", "--token", TOKEN, "--push", url, "--spool", str(spool))
        assert second.returncode == 0, second.stderr
        ids = [doc["report_id"] for doc in collector.received]
        assert len(ids) == 2 and ids[0] == first_id  # the spooled one goes first
        assert collector.auth == [f"Bearer {TOKEN}"] * 2
        assert not list(spool.glob("*.json"))
        third = agent("--unit", "u1", "--token", TOKEN, "--push", url, "--spool", str(spool))
        assert third.returncode == 0
        assert len(collector.received) == 3  # only the new one: nothing delivered twice
    finally:
        collector.close()


def test_refused_report_is_kept_aside_with_its_reason(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    collector = Collector()
    collector.status = 401
    try:
        proc = agent("--unit", "u1", "--token", TOKEN, "--push",
                     f"http://127.0.0.1:{collector.port}/api/v1/reports", "--spool", str(spool))
    finally:
        collector.close()
    assert "rejected by collector" in proc.stderr
    kept = list((spool / "rejected").glob("*.json"))
    assert len(kept) == 1
    assert (spool / "rejected" / (kept[0].name + ".reason")).read_text().startswith("401")
    assert not list(spool.glob("*.json"))


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed: cannot make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_https_push_verifies_tls(tmp_path: Path, tls_pair: tuple[Path, Path]) -> None:
    cert, key = tls_pair
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    collector = Collector(tls=context)
    url = f"https://127.0.0.1:{collector.port}/api/v1/reports"
    try:
        untrusted = agent("--unit", "u1", "--token", TOKEN, "--push", url, "--spool", str(tmp_path / "a"))
        assert untrusted.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        trusted = agent("--unit", "u1", "--token", TOKEN, "--push", url, "--spool", str(tmp_path / "a"),
                        "--ca-bundle", str(cert))
        assert trusted.returncode == 0, trusted.stderr
        assert len(collector.received) == 2  # the spooled one from the failed attempt, then the new one
    finally:
        collector.close()
