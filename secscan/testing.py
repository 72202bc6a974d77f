"""Realistic synthetic reports for tests, benches and demos (stdlib + model only).

``host_report(rng, unit=...)`` returns a HostReport *document* (a dict, as it travels) that
validates against the model: a Windows or Linux office PC with antivirus, licences and hardening
facts drawn from the mixes seen in district reports (most PCs have an AV, a third cracked, old
patches). ``fleet(n, units, seed)`` gives ``n`` distinct hosts; the same seed gives the same
fleet, so a test can re-generate "the next report from the same PC". Nothing here is used by the
shipped code paths.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from secscan.model.host import HOST_REPORT_SCHEMA
from secscan.model.scan import SCAN_REPORT_SCHEMA
from secscan.model.signing import sign

_WINDOWS = [
    ("Windows 10 Pro", "10.0.19045", 19045, "22H2", "Professional"),
    ("Windows 11 Pro", "10.0.22631", 22631, "23H2", "Professional"),
    ("Windows 7 Professional", "6.1.7601", 7601, None, "Professional"),
    ("Windows 10 Home Single Language", "10.0.19044", 19044, "21H2", "CoreSingleLanguage"),
]
_AV = [("Windows Defender", "Microsoft", "securitycenter2"),
       ("Kaspersky Endpoint Security", "Kaspersky", "securitycenter2"),
       ("BKAV Pro", "BKAV", "securitycenter2"), ("ESET Endpoint Antivirus", "ESET", "securitycenter2")]
_ACTIVATORS = ["KMSpico", "KMSAuto", "KMS_VL_ALL", "AAct"]
_OUIS = ["3c:52:82", "00:1a:a0", "f4:8e:38", "d8:9e:f3", "b0:83:fe", "00:0c:29"]


@dataclass
class FakeHost:
    """The stable identity of one synthetic PC."""

    hostname: str
    machine_id: str
    mac: str
    ip: str
    windows: bool
    unit: str | None


def fleet(n: int, units: list[str] | None = None, seed: int = 1) -> list[FakeHost]:
    rng = random.Random(seed)
    hosts = []
    for i in range(n):
        unit = units[i % len(units)] if units else None
        mac = rng.choice(_OUIS) + ":" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
        hosts.append(FakeHost(
            hostname=f"{(unit or 'pc').upper()}-PC{i:05d}"[:63],
            machine_id=uuid.UUID(int=rng.getrandbits(128)).hex,
            mac=mac,
            ip=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{(i & 255) or 1}",
            windows=rng.random() < 0.85,
            unit=unit,
        ))
    return hosts


def host_report(rng: random.Random, host: FakeHost | None = None, *, unit: str | None = None,
                collected_at: datetime | None = None, token: str | None = None) -> dict[str, Any]:
    """One HostReport document for ``host`` (a fresh random PC when omitted), signed with
    ``token`` when given."""
    if host is None:
        host = fleet(1, [unit] if unit else None, seed=rng.getrandbits(32))[0]
    unit = unit if unit is not None else host.unit
    when = collected_at or datetime(2026, 11, 20, 8, 0, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 5))
    if host.windows:
        name, version, build, display, edition = rng.choice(_WINDOWS)
        os_doc: dict[str, Any] = {"family": "windows", "name": name, "product_name_raw": name, "version": version,
                                  "display_version": display, "build": build, "ubr": rng.randrange(100, 5000),
                                  "edition": edition, "installation_type": "client", "arch": "AMD64"}
        platform = "windows"
    else:
        os_doc = {"family": "linux", "name": "Ubuntu 22.04.4 LTS", "version": "22.04",
                  "kernel": "5.15.0-105-generic", "arch": "x86_64"}
        platform = "linux"
    cracked = rng.random() < 0.35
    av_name, vendor, source = rng.choice(_AV)
    has_av = rng.random() < 0.8
    sig_age = round(rng.uniform(0, 40), 1)
    products = [{
        "name": av_name, "vendor": vendor, "source": source, "state": "on" if rng.random() < 0.9 else "off",
        "enabled": True, "real_time": rng.random() < 0.9, "up_to_date": sig_age < 7,
        "signature_age_days": sig_age, "product_state": 397568 if sig_age < 7 else 397584,
    }] if has_av else []
    patch_days = round(rng.uniform(1, 400), 1)
    doc: dict[str, Any] = {
        "schema": HOST_REPORT_SCHEMA,
        "report_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "collected_at": when.isoformat(),
        "agent": {"version": "0.1.0", "platform": platform, "source": "synthetic", "elevated": rng.random() < 0.7,
                  "duration_ms": round(rng.uniform(800, 9000), 1)},
        "unit": unit,
        "host": {
            "hostname": host.hostname, "workgroup": "WORKGROUP", "machine_id": host.machine_id,
            "role": "workstation", "os": os_doc,
            "hardware": {"manufacturer": rng.choice(["Dell Inc.", "HP", "LENOVO", "ASUS"]), "model": "OptiPlex 3080",
                         "cpu_count": rng.choice([2, 4, 8]), "memory_mb": rng.choice([4096, 8192, 16384]),
                         "is_virtual": False},
            "interfaces": [{"name": "Ethernet", "mac": host.mac, "ipv4": [host.ip], "ipv6": [], "up": True}],
            "logged_in_users": ["canbo"],
        },
        "antivirus": {"products": products, "detections": ["HackTool:Win32/AutoKMS"] if cracked and has_av else []},
        "licences": {
            "os": {"product": "Windows(R), Professional edition", "channel": "Volume:GVLK" if cracked else "OEM:DM",
                   "license_status": 1, "license_status_text": "Licensed",
                   "classification": "suspicious" if cracked else "genuine", "confidence": "high",
                   "kms_host": "127.0.0.2" if cracked else None,
                   "evidence": ["KMS host is a loopback address"] if cracked else []} if host.windows else None,
            "office": [],
            "activators": [{"kind": "task", "detail": "scheduled task AutoPico Daily Restart",
                            "tool": rng.choice(_ACTIVATORS), "confidence": "high"}] if cracked else [],
        },
        "hardening": {
            "firewall": {"enabled": rng.random() < 0.7, "backend": "windows" if host.windows else "nftables",
                         "profiles": [{"name": "Domain", "enabled": True}, {"name": "Private", "enabled": True},
                                      {"name": "Public", "enabled": rng.random() < 0.7}]},
            "patches": {"days_since_last_patch": patch_days, "auto_updates": rng.random() < 0.6,
                        "pending_updates": rng.randrange(0, 30)},
            "smb": {"smb1_server": rng.random() < 0.2, "smb1_client": rng.random() < 0.3},
            "rdp": {"enabled": rng.random() < 0.3, "nla_required": True, "port": 3389},
            "local_admins": {"members": [{"name": "Administrator", "kind": "user", "source": "local",
                                          "builtin_admin": True, "enabled": rng.random() < 0.4}],
                             "count": rng.randrange(1, 4)},
            "password_policy": {"min_length": rng.choice([0, 6, 8, 12]), "max_age_days": 42, "complexity": False},
            "listening_ports": [{"port": 445, "proto": "tcp", "address": "0.0.0.0", "process": "System"}],
        },
        "probes": [{"name": n, "status": "ok", "duration_ms": round(rng.uniform(5, 900), 1), "sections": [s]}
                   for n, s in [("os", "host.os"), ("antivirus", "antivirus"), ("licences", "licences"),
                                ("firewall", "hardening.firewall"), ("patches", "hardening.patches")]]
                  + [{"name": "disk_encryption", "status": "denied", "duration_ms": 3.0,
                      "error": "manage-bde needs an elevated prompt", "sections": ["hardening.disk_encryption"]}],
    }
    return sign(doc, token) if token else doc


def scan_report(rng: random.Random, unit: str | None = None, hosts: int = 5) -> dict[str, Any]:
    """One ScanReport document for a /24 with ``hosts`` live hosts."""
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return {
        "schema": SCAN_REPORT_SCHEMA,
        "scan_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "unit": unit, "targets": ["192.168.1.0/24"], "profile": "default",
        "nmap": {"version": "7.93", "args": "nmap -sS -O 192.168.1.0/24", "privileged": True},
        "started_at": start.isoformat(), "finished_at": (start + timedelta(minutes=4)).isoformat(),
        "hosts": [{"ip": f"192.168.1.{10 + i}", "hostnames": [], "status_reason": "arp-response",
                   "ports": [{"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"}]}
                  for i in range(hosts)],
    }


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
