"""Is the root filesystem on dm-crypt? Follow the root mount's block device through the
device-mapper stack in /sys (LVM on LUKS, LUKS on a partition, ...)."""

from __future__ import annotations

import os
from typing import Any

from secscan.agent._exec import read_text
from secscan.agent.errors import ProbeUnsupported
from secscan.agent.runner import Facts

SYS_BLOCK = "/sys/dev/block"


def parse_root_mount(mountinfo: str) -> tuple[str, str, str]:
    """(major:minor, fstype, source) of "/" from /proc/self/mountinfo (the last mount wins)."""
    found = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) >= 10 and fields[4] == "/":
            sep = fields.index("-")
            found = (fields[2], fields[sep + 1], fields[sep + 2])
    if found is None:
        raise ValueError("no / mount in mountinfo")
    return found


def is_crypt(devno: str, sys_block: str = SYS_BLOCK, depth: int = 0) -> bool:
    """True if this device, or any device under it (slaves), is a dm-crypt mapping."""
    base = os.path.join(sys_block, devno)
    try:
        uuid = read_text(os.path.join(base, "dm", "uuid"), limit=4096).strip()
    except ProbeUnsupported:
        uuid = ""
    if uuid.startswith("CRYPT-"):
        return True
    slaves = os.path.join(base, "slaves")
    if depth < 16 and os.path.isdir(slaves):
        for slave in os.listdir(slaves):
            try:
                slave_devno = read_text(os.path.join(slaves, slave, "dev"), limit=64).strip()
            except ProbeUnsupported:
                continue
            if is_crypt(slave_devno, sys_block, depth + 1):
                return True
    return False


def collect() -> Facts:
    devno, fstype, source = parse_root_mount(read_text("/proc/self/mountinfo"))
    if devno.startswith("0:"):
        # overlay, tmpfs, NFS...: no block device here, e.g. a container; the host's disk is not visible.
        raise ProbeUnsupported(f"root filesystem is {fstype} ({source}) with no block device to inspect")
    if not os.path.isdir(os.path.join(SYS_BLOCK, devno)):
        raise ProbeUnsupported(f"root device {devno} not found under {SYS_BLOCK}")
    encrypted = is_crypt(devno)
    volume: dict[str, Any] = {"mount": "/", "encrypted": encrypted, "system": True,
                              "method": "dm-crypt" if encrypted else None}
    return {"hardening.disk_encryption": {"system_volume_encrypted": encrypted, "volumes": [volume]}}
