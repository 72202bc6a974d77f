"""A throw-away LAN made of network namespaces, for scanning with the real nmap (the tests, the
scan benchmark and ``secscan demo`` build one).

The scanner gets its own namespace holding a bridge; every lab host is another namespace joined
to that bridge by a veth pair, with a chosen MAC and real listeners. The scanner's namespace has
no route anywhere else, so even a wrong target cannot leave the lab: only addresses inside these
namespaces are ever scanned. Everything is deleted on exit, also when a test fails.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

LISTENER = Path(__file__).with_name("lab_listener.py")
SUBNET = ipaddress.ip_network("10.213.7.0/24")  # default; exists only inside the lab's namespaces


@dataclass
class LabHost:
    name: str  # namespace name
    ip: str
    mac: str
    services: list[str]  # "port:behaviour" for lab_listener.py
    process: subprocess.Popen[str] | None = None


@dataclass
class Lab:
    subnet: ipaddress.IPv4Network = SUBNET
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    hosts: list[LabHost] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # ip -> hostname served by the lab's reverse DNS
    created: list[str] = field(default_factory=list)
    dns: subprocess.Popen[str] | None = None

    @property
    def scanner(self) -> str:
        return f"ss{self.tag}s"

    @property
    def scanner_ip(self) -> str:
        return str(self.subnet.network_address + 1)

    def add_host(self, octet: int, mac: str, services: list[str], hostname: str | None = None) -> LabHost:
        host = LabHost(f"ss{self.tag}h{len(self.hosts)}", str(self.subnet.network_address + octet), mac, services)
        self.hosts.append(host)
        if hostname:
            self.names[host.ip] = hostname
        return host

    @property
    def etc(self) -> Path:
        # `ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf.
        return Path("/etc/netns") / self.scanner

    def __enter__(self) -> Lab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        s = self.scanner
        _ip("netns", "add", s)
        self.created.append(s)
        _ip("-n", s, "link", "set", "lo", "up")
        _ip("-n", s, "link", "add", "br0", "type", "bridge")
        _ip("-n", s, "addr", "add", f"{self.scanner_ip}/{self.subnet.prefixlen}", "dev", "br0")
        _ip("-n", s, "link", "set", "br0", "up")
        # nmap resolves every live address in reverse; answer from the lab, never the host's resolver.
        self.etc.mkdir(parents=True, exist_ok=True)
        (self.etc / "resolv.conf").write_text(f"nameserver {self.scanner_ip}\n")
        dns = ",".join(f"{ip}={name}" for ip, name in self.names.items())
        self.dns = _listen(s, [f"53:dns={dns}"])
        for n, host in enumerate(self.hosts):
            _ip("netns", "add", host.name)
            self.created.append(host.name)
            _ip("-n", host.name, "link", "set", "lo", "up")
            _ip("link", "add", "eth0", "netns", host.name, "type", "veth", "peer", "name", f"p{n}", "netns", s)
            _ip("-n", host.name, "link", "set", "eth0", "address", host.mac)
            _ip("-n", host.name, "addr", "add", f"{host.ip}/{self.subnet.prefixlen}", "dev", "eth0")
            _ip("-n", host.name, "link", "set", "eth0", "up")
            _ip("-n", s, "link", "set", f"p{n}", "master", "br0")
            _ip("-n", s, "link", "set", f"p{n}", "up")
            if host.services:
                host.process = _listen(host.name, host.services)

    def close(self) -> None:
        for process in [self.dns, *(host.process for host in self.hosts)]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for name in reversed(self.created):
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        self.created.clear()
        shutil.rmtree(self.etc, ignore_errors=True)

    def run(
        self, argv: list[str], *, unprivileged: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the scanner's namespace (as nobody, without raw sockets, if asked)."""
        prefix = ["ip", "netns", "exec", self.scanner]
        if unprivileged:
            prefix += ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        return subprocess.run(prefix + argv, capture_output=True, text=True, timeout=timeout)


def _listen(namespace: str, specs: list[str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, str(LISTENER), *specs], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError(f"lab listener in {namespace} did not start")
    return process


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")


def unavailable() -> str | None:
    """Why the lab cannot be built here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2 (`ip`); scripts/system-deps.sh installs it"
    probe = f"ssprobe{uuid.uuid4().hex[:6]}"
    proc = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"cannot create a network namespace (no CAP_NET_ADMIN?): {proc.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None
