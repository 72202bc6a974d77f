"""Host identity from the ``system`` section: names, OS (with the Windows 11 naming fix), hardware
and interfaces."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from secscan.agent.windows.values import as_bool, as_dict, as_int, as_list, as_text, parse_date

WINDOWS_11_FIRST_BUILD = 22000
# Win32_ComputerSystem.PCSystemType: 2 mobile, 8 slate, 9-10 laptop/notebook types (approximate)
_LAPTOP_TYPES = {2, 8}


def os_name(product_name: str | None, build: int | None) -> str | None:
    """ProductName says "Windows 10 ..." on Windows 11 too: name the OS from the build."""
    if product_name and build and build >= WINDOWS_11_FIRST_BUILD and product_name.startswith("Windows 10"):
        return "Windows 11" + product_name[len("Windows 10"):]
    return product_name


_VIRTUAL = re.compile(r"virtual machine|vmware|virtualbox|kvm|qemu|xen|parallels|bochs", re.IGNORECASE)


def _is_virtual(comp: dict[str, Any]) -> bool:
    return bool(_VIRTUAL.search(f"{comp.get('manufacturer') or ''} {comp.get('model') or ''}"))


def _mac(value: Any) -> str | None:
    text = as_text(value, "mac")
    if not text:
        return None
    text = text.replace("-", ":").lower()
    return text if re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", text) else None


def parse(system: Any) -> dict[str, Any]:
    data = as_dict(system, "system")
    hostname = as_text(data.get("hostname"), "hostname")
    if not hostname:
        raise ValueError("system.hostname: missing")
    os_ = as_dict(data.get("os"), "system.os")
    cv = as_dict(data.get("current_version"), "system.current_version")
    comp = as_dict(data.get("computer"), "system.computer")

    build = as_int(cv.get("CurrentBuild") or cv.get("CurrentBuildNumber") or os_.get("build_number"), "CurrentBuild")
    product_name = as_text(cv.get("ProductName"), "ProductName") or as_text(os_.get("caption"), "caption")
    install_type = (as_text(cv.get("InstallationType"), "InstallationType") or "").lower()
    product_type = as_int(os_.get("product_type"), "product_type")
    if install_type in ("client", "server"):
        installation: str | None = install_type
    elif product_type is not None:
        installation = "client" if product_type == 1 else "server"
    else:
        installation = None
    # Server Core reports "Server Core"; Windows 7 has no InstallationType: fall back to ProductType.
    if install_type.startswith("server"):
        installation = "server"

    domain, workgroup = None, None
    part_of_domain = as_bool(comp.get("part_of_domain"), "part_of_domain")
    if part_of_domain:
        domain = as_text(comp.get("domain"), "domain")
    else:
        workgroup = as_text(comp.get("workgroup"), "workgroup") or as_text(comp.get("domain"), "domain")

    interfaces = []
    for nic in as_list(data.get("interfaces")):
        nic = as_dict(nic, "interfaces[]")
        v4, v6 = [], []
        for ip in as_list(nic.get("ip")):
            try:
                addr = ipaddress.ip_address(str(ip).split("%")[0])
            except ValueError:
                continue
            (v4 if addr.version == 4 else v6).append(str(addr))
        interfaces.append({"name": as_text(nic.get("description"), "description"), "mac": _mac(nic.get("mac")),
                           "ipv4": v4, "ipv6": v6})

    memory = as_int(comp.get("total_memory"), "total_memory")
    pc_type = as_int(comp.get("pc_system_type"), "pc_system_type")
    version = as_text(os_.get("version"), "version")
    return {
        "hostname": hostname,
        "domain": domain,
        "workgroup": workgroup,
        "machine_id": as_text(data.get("machine_guid"), "machine_guid"),
        "role": {"client": "workstation", "server": "server"}.get(installation or ""),
        "os": {
            "family": "windows",
            "name": os_name(product_name, build),
            "product_name_raw": product_name,
            "version": version,
            "display_version": as_text(cv.get("DisplayVersion") or cv.get("ReleaseId") or cv.get("CSDVersion"),
                                       "DisplayVersion"),
            "build": build,
            "ubr": as_int(cv.get("UBR"), "UBR"),
            "edition": as_text(cv.get("EditionID"), "EditionID"),
            "installation_type": installation,
            "arch": as_text(os_.get("architecture"), "architecture"),
            "install_date": parse_date(os_.get("install_date"), "install_date"),
        },
        "hardware": {
            "manufacturer": as_text(comp.get("manufacturer"), "manufacturer"),
            "model": as_text(comp.get("model"), "model"),
            "serial": as_text(data.get("bios_serial"), "bios_serial"),
            "cpu": as_text(data.get("cpu"), "cpu"),
            "cpu_count": as_int(comp.get("logical_processors"), "logical_processors"),
            "memory_mb": memory // (1024 * 1024) if memory else None,
            "is_laptop": (pc_type in _LAPTOP_TYPES) if pc_type else None,
            # Not HypervisorPresent: that is also true on a physical PC running Hyper-V or VBS.
            "is_virtual": _is_virtual(comp) if comp.get("model") or comp.get("manufacturer") else None,
        },
        "interfaces": interfaces,
        "boot_time": parse_date(os_.get("last_boot"), "last_boot"),
    }
