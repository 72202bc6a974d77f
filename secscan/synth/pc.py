"""One synthetic office PC: what it is (identity, system, anti-virus, licences, hardening), as
facts. The renderers turn the same ``Pc`` into the HostReport a Python agent sends
(``secscan.synth.report``) and into the capture ``collect.ps1`` prints (``secscan.synth.capture``);
whatever either document says about the PC comes from here, so a decoded capture and a report
judge alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

# The day the demo's reporting period ends: "supported" is judged against it.
PERIOD_END = date(2026, 11, 26)

# OUIs of the PC makers common in Vietnamese offices (IEEE registry), with a typical model.
MAKERS = {
    "f8:bc:12": ("Dell Inc.", "OptiPlex 3080"),
    "3c:52:82": ("HP", "ProDesk 400 G7"),
    "54:ee:75": ("LENOVO", "ThinkCentre M70t"),
    "04:d4:c4": ("ASUSTeK COMPUTER INC.", "ExpertCenter D5"),
}

OS = {
    "win7": {"name": "Windows 7 Professional", "version": "6.1.7601", "build": 7601, "ubr": 24546,
             "display_version": None, "eos": "2020-01-14"},
    "win10": {"name": "Windows 10 Pro", "version": "10.0.19045", "build": 19045, "ubr": 5737,
              "display_version": "22H2", "eos": "2025-10-14"},
    "win11": {"name": "Windows 11 Pro", "version": "10.0.26200", "build": 26200, "ubr": 7171,
              "display_version": "25H2", "eos": "2027-10-12"},
}
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"  # SoftwareLicensingProduct.ApplicationID of Windows
OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"  # ... and of Office 2013 and later
PUBLIC_KMS = ["kms.03k.org", "kms8.msguides.com", "42.193.139.78", "kms.digiboy.ir"]
OFFICE_PUBLIC_KMS = "kms.03k.org"
# How each Windows licence state is activated: the KMS host it names (None: not a KMS client).
KMS_HOST = {"kms38": "127.0.0.2", "kmspico": "127.0.0.1"}
GENUINE_WINDOWS = ("oem", "retail", "mak")
ANTIVIRUS = ("Bkav Pro", "Kaspersky Endpoint Security for Windows", "Windows Defender")
# The management agent each anti-virus reports to its console through (windows_av.toml): Defender
# for Endpoint's sensor, the Kaspersky Security Center Network Agent; Bkav shows none.
MANAGEMENT_AGENT = {"Windows Defender": "MsSense.exe", "Kaspersky Endpoint Security for Windows": "klnagent.exe"}
REMOTE_TOOL = "UltraViewer"
BUILTIN_ADMIN = "Administrator"
OFFICER = "quantri"  # the IT officer's local administrator account on every PC


@dataclass(frozen=True)
class Local:
    """The PC's local settings that no headline counts: how an officer left it configured."""

    partial_key: str = "7XRCQ"  # last five characters of the Windows product key
    public_kms: str = PUBLIC_KMS[0]  # the public KMS host a ``kms_public`` crack points at
    rdp_nla: bool = True
    autorun_off: bool = True  # AutoRun off on every drive type (NoDriveTypeAutoRun 255)
    admins: tuple[str, ...] = (BUILTIN_ADMIN, OFFICER)  # members of the local Administrators group
    builtin_admin_enabled: bool = False
    password_min_length: int = 8
    password_max_age: int = 90  # days, 0 = never expires
    password_complexity: bool = True
    lockout_threshold: int = 5  # 0 = never locks out
    screen_lock_seconds: int | None = 600  # a password-protected screen saver after this long; None = none
    remote_tool: bool = False  # UltraViewer installed
    # Not drawn (commune PCs have neither): a fleet drawn before these existed stays the same.
    disk_encrypted: bool = False  # BitLocker on the system drive, fully encrypted
    av_managed: bool = False  # the anti-virus enrolled in the agency's console (its agent runs)


@dataclass
class Pc:
    """One PC. ``os`` is a key of ``OS``; ``windows`` one of oem, retail, mak, kms_public, kms38,
    kmspico, unlicensed; ``office`` one of c2r_retail, vl_public_kms, vl_kmspico or None."""

    unit: str | None  # None: a PC whose agent is not told its unit
    hostname: str
    os: str
    mac: str
    ip: str
    av: str | None  # one of ANTIVIRUS, or None
    sig_age_days: float
    windows: str
    office: str | None
    firewall: bool
    smb1: bool
    rdp: bool
    patch_age_days: float
    machine_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    local: Local = field(default_factory=Local)

    @property
    def has_av(self) -> bool:
        return self.av is not None

    @property
    def av_current(self) -> bool:
        return self.av is not None and self.sig_age_days <= 3

    @property
    def av_managed(self) -> bool | None:
        """Central management as the management agent shows it: seen, managed; Kaspersky has no
        other way, so without it not managed; Defender may be managed by policy alone, and Bkav
        shows no agent, so for them it stays unknown."""
        if self.av not in MANAGEMENT_AGENT:
            return None
        if self.local.av_managed:
            return True
        return False if self.av.startswith("Kaspersky") else None

    @property
    def windows_licensed(self) -> bool:
        return self.windows in GENUINE_WINDOWS

    @property
    def office_licensed(self) -> bool | None:
        return None if self.office is None else self.office == "c2r_retail"

    @property
    def activator(self) -> bool:
        return self.windows in ("kms_public", "kms38", "kmspico") or self.office in ("vl_public_kms", "vl_kmspico")

    @property
    def kms_host(self) -> str | None:
        """The KMS host Windows is activated by, when it is a KMS client."""
        return self.local.public_kms if self.windows == "kms_public" else KMS_HOST.get(self.windows)

    @property
    def office_kms_host(self) -> str | None:
        return {"vl_public_kms": OFFICE_PUBLIC_KMS, "vl_kmspico": "127.0.0.1"}.get(self.office or "")

    @property
    def end_of_support(self) -> date:
        return date.fromisoformat(OS[self.os]["eos"])

    @property
    def os_supported(self) -> bool:
        return self.end_of_support >= PERIOD_END

    @property
    def auto_updates(self) -> bool:
        # Not drawn on its own: patch ages are drawn 3-40 days (updates run by themselves) or 60+ days.
        return self.patch_age_days <= 40

    def last_patch(self, now: datetime) -> datetime:
        """Midnight of the day the last update was installed: Windows keeps the day, not the time."""
        day = (now - timedelta(days=self.patch_age_days)).date()
        return datetime.combine(day, time(), tzinfo=now.tzinfo)

    @property
    def enabled_admins(self) -> int:
        """Members of the Administrators group that can log on (a disabled built-in one cannot)."""
        disabled = BUILTIN_ADMIN in self.local.admins and not self.local.builtin_admin_enabled
        return len(self.local.admins) - disabled

    @property
    def maker(self) -> tuple[str, str]:
        return MAKERS.get(self.mac[:8], MAKERS["f8:bc:12"])

    @property
    def listeners(self) -> list[tuple[str, int, str, int, str]]:
        """(proto, port, address, pid, process) of the usual Windows listeners; RDP when it is on.
        No insecure service (Telnet, FTP, ...) is drawn."""
        rows = [("tcp", 135, "0.0.0.0", 1044, "svchost.exe"), ("tcp", 139, self.ip, 4, "System"),
                ("tcp", 445, "0.0.0.0", 4, "System"), ("udp", 137, self.ip, 4, "System"),
                ("udp", 1900, "127.0.0.1", 1388, "svchost.exe")]
        if self.rdp:
            rows.append(("tcp", 3389, "0.0.0.0", 1160, "svchost.exe"))
        return rows
