"""The Linux agent: the probe table (name, sections it fills, time limit) and ``collect()``."""

from __future__ import annotations

import os
import time

from secscan.agent.linux import accounts, antivirus, disk, eol, firewall, identity, network, packages, ssh, updates
from secscan.agent.runner import Probe, assemble, run_probes
from secscan.model.host import HostReport

PROBES: list[Probe] = [
    Probe("identity", ("host",), identity.collect, timeout=3),
    Probe("antivirus", ("antivirus.products",), antivirus.collect, timeout=3),
    Probe("firewall", ("hardening.firewall",), firewall.collect, timeout=5),
    Probe("updates", ("hardening.patches",), updates.collect, timeout=3),
    Probe("pending_updates", ("hardening.patches.pending_updates", "hardening.patches.pending_security_updates"),
          updates.collect_pending, timeout=1.5),
    Probe("os_end_of_life", ("hardening.os_end_of_life",), eol.collect, timeout=1),
    Probe("local_admins", ("hardening.local_admins",), accounts.collect_admins, timeout=3),
    Probe("password_policy", ("hardening.password_policy", "hardening.lockout"), accounts.collect_policy, timeout=2),
    Probe("ssh", ("hardening.ssh",), ssh.collect, timeout=2),
    Probe("disk_encryption", ("hardening.disk_encryption",), disk.collect, timeout=2),
    Probe("listening_ports", ("hardening.listening_ports",), network.collect_ports, timeout=3),
    Probe("remote_access", ("hardening.remote_access",), network.collect_remote, timeout=3),
    Probe("software", ("software",), packages.collect, timeout=12),
]


def collect(probes: list[Probe] | None = None) -> HostReport:
    started = time.perf_counter()
    facts, records = run_probes(PROBES if probes is None else probes)
    return assemble(facts, records, platform="linux", elevated=os.geteuid() == 0, started=started,
                    fallback_host=identity.fallback_host())
