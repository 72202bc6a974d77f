"""Test and benchmark helpers that are no stage's: a throwaway PostgreSQL cluster on loopback and a
free port. The synthetic PCs and documents are ``secscan.synth``'s (``secscan.synth.samples``).
Nothing here is used by the shipped code paths.
"""

from __future__ import annotations

# --- a throwaway PostgreSQL cluster (tests and bench/ingest.py) ------------------------------


def postgres_bindir() -> str | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, or None."""
    import glob
    import os

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if
                   p.split("/")[-2].isdigit() else 0)
    for bindir in reversed(found):
        if os.access(f"{bindir}/initdb", os.X_OK) and os.access(f"{bindir}/pg_ctl", os.X_OK):
            return bindir
    return None


class PostgresCluster:
    """initdb + pg_ctl in a temporary folder, listening on 127.0.0.1 only. As root it runs the
    server as the ``postgres`` user (initdb refuses root). ``durable=False`` turns fsync off:
    right for tests, wrong for benchmarks."""

    def __init__(self, bindir: str, durable: bool = False) -> None:
        import os
        import tempfile

        self.bindir = bindir
        self.durable = durable
        self.base = tempfile.mkdtemp(prefix="secscan-pg-")
        self.data = f"{self.base}/data"
        self.port = _free_port()
        self.user = "secscan"
        self._as: list[str] = []
        if os.geteuid() == 0:
            import shutil

            shutil.chown(self.base, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        import subprocess

        proc = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])}: exit {proc.returncode}: {proc.stderr.strip()[-800:]}")

    def start(self) -> PostgresCluster:
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--no-locale")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.base} -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-l", f"{self.base}/server.log", "-w",
                  "-t", "60", "start")
        return self

    def stop(self) -> None:
        import shutil

        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
