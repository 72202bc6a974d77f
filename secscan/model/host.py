"""HostReport (``secscan.host-report/1``): what one PC looked like when the agent ran.

Facts only, never verdicts about policy: the agent (or the Windows capture decoder) fills these
sections, the collector judges them. Where decoding is an interpretation, the raw value sits next
to the decoded one (``product_state`` beside ``state``; ``license_status`` beside its text).
Every fact is optional: ``None`` means it was not observed, and ``probes`` says why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from secscan.model.common import (
    AgentVersion,
    AwareDatetime,
    Bool,
    Contract,
    Date,
    Float,
    Hostname,
    Int,
    IPAddress,
    KeyId,
    Mac,
    MachineId,
    ProbeRecord,
    Raw,
    ShortText,
    StrictInt,
    Text,
    UnitId,
    Uuid,
    bounded_text,
)
from secscan.model.limits import INTERFACES, MAX_INT, SOFTWARE

HOST_REPORT_SCHEMA = "secscan.host-report/1"

# --- who collected it ------------------------------------------------------------------------


class AgentInfo(Contract):
    version: AgentVersion
    platform: Literal["linux", "windows", "macos", "other"]
    # "agent": secscan ran on the PC; "capture": a PowerShell capture decoded elsewhere.
    source: Literal["agent", "capture", "synthetic"] = "agent"
    elevated: Bool | None = None
    duration_ms: Float | None = Field(default=None, ge=0)
    # "capture" only: the version of collect.ps1 that wrote the capture (model/capture.py)
    script_version: StrictInt | None = Field(default=None, ge=1, le=10_000)


# --- identity --------------------------------------------------------------------------------


class OperatingSystem(Contract):
    family: Literal["windows", "linux", "macos", "other"]
    name: ShortText | None = None  # decoded, e.g. "Windows 11 Pro" even where ProductName says 10
    product_name_raw: ShortText | None = None  # as the OS reports it
    version: ShortText | None = None  # "10.0.22631" / "12" (os-release VERSION_ID)
    display_version: ShortText | None = None  # "23H2"
    build: Int | None = None
    ubr: Int | None = None  # Windows update build revision
    edition: ShortText | None = None  # "Professional", "Core", "ServerStandard"
    installation_type: Literal["client", "server"] | None = None
    kernel: ShortText | None = None
    arch: ShortText | None = None
    install_date: AwareDatetime | None = None


class Hardware(Contract):
    manufacturer: ShortText | None = None
    model: ShortText | None = None
    serial: ShortText | None = None
    cpu: ShortText | None = None
    cpu_count: Int | None = None
    memory_mb: Int | None = None
    is_laptop: Bool | None = None
    is_virtual: Bool | None = None


class Interface(Contract):
    name: ShortText | None = None
    mac: Mac | None = None
    ipv4: list[IPAddress] = Field(default_factory=list)
    ipv6: list[IPAddress] = Field(default_factory=list)
    up: Bool | None = None


class Host(Contract):
    hostname: Hostname
    domain: ShortText | None = None  # AD / DNS domain when joined
    workgroup: ShortText | None = None
    machine_id: MachineId | None = None  # /etc/machine-id, or Windows MachineGuid
    role: Literal["workstation", "server"] | None = None
    os: OperatingSystem
    hardware: Hardware = Field(default_factory=Hardware)
    interfaces: list[Interface] = Field(default_factory=list, max_length=INTERFACES.max)
    boot_time: AwareDatetime | None = None
    logged_in_users: list[ShortText] | None = None


# --- anti-malware ----------------------------------------------------------------------------


class AvState(StrEnum):
    on = "on"
    off = "off"
    snoozed = "snoozed"
    expired = "expired"
    unknown = "unknown"


class AntivirusProduct(Contract):
    name: ShortText
    vendor: ShortText | None = None
    # where we saw it: securitycenter2, defender (MSFT_MpComputerStatus), service, process,
    # uninstall (registry), clamav, package
    source: Literal["securitycenter2", "defender", "service", "process", "uninstall", "clamav", "package"]
    state: AvState = AvState.unknown
    enabled: Bool | None = None
    real_time: Bool | None = None
    up_to_date: Bool | None = None
    signature_age_days: Float | None = Field(default=None, ge=0)
    signature_updated_at: AwareDatetime | None = None
    signature_version: ShortText | None = None
    engine_version: ShortText | None = None
    product_version: ShortText | None = None
    microsoft: Bool | None = None  # owner nibble of productState
    centrally_managed: Bool | None = None
    tamper_protected: Bool | None = None
    running_mode: ShortText | None = None  # Defender AMRunningMode ("Normal", "Passive Mode", ...)
    product_state: Int | None = None  # raw SecurityCenter2 productState
    raw: Raw | None = None


class Antivirus(Contract):
    products: list[AntivirusProduct] | None = None  # None: not checked; []: checked, none found
    # Malware detections the AV itself reported (names only), e.g. HackTool:Win32/AutoKMS.
    detections: list[ShortText] | None = None


# --- licences and activators -----------------------------------------------------------------


PartialKey = bounded_text(5)


class LicenceClass(StrEnum):
    genuine = "genuine"
    suspicious = "suspicious"
    unlicensed = "unlicensed"
    unknown = "unknown"


class Confidence(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Licence(Contract):
    product: ShortText  # "Windows(R), Professional edition", "Office 16, Office16ProPlusVL_KMS_Client"
    application_id: ShortText | None = None
    sku_id: ShortText | None = None
    description: ShortText | None = None
    channel: ShortText | None = None  # Retail, OEM:DM, Volume:GVLK, Volume:MAK, ...
    license_status: StrictInt | None = Field(default=None, ge=0, le=6)  # raw SoftwareLicensingProduct value
    license_status_text: ShortText | None = None
    license_status_reason: Int | None = None
    grace_minutes: StrictInt | None = Field(default=None, ge=0, le=MAX_INT)
    partial_key: PartialKey | None = None  # last 5 characters only, never more
    kms_host: ShortText | None = None
    kms_port: Int | None = None
    kms_discovered_host: ShortText | None = None
    vl_activation_interval: Int | None = None
    vl_renewal_interval: Int | None = None
    classification: LicenceClass = LicenceClass.unknown
    confidence: Confidence | None = None
    evidence: list[Text] = Field(default_factory=list)
    raw: Raw | None = None


class ActivatorEvidence(Contract):
    # kms_host, grace, ifeo, file, task, service, process, defender_exclusion,
    # defender_detection, hosts_file, vl_interval
    kind: ShortText
    detail: Text
    tool: ShortText | None = None  # KMSpico, KMSAuto, KMS_VL_ALL, MAS, AAct, Ohook, ...
    # Required: a default here (it was "medium") is a guess that the policies, which read the
    # document as received, would not make (they would see no confidence at all).
    confidence: Confidence


class Licences(Contract):
    os: Licence | None = None
    office: list[Licence] | None = None  # None: not checked; []: checked, no Office found
    activators: list[ActivatorEvidence] | None = None  # None: not checked; []: checked, none found


# --- hardening -------------------------------------------------------------------------------


class FirewallProfile(Contract):
    name: ShortText
    enabled: Bool | None = None
    default_inbound: ShortText | None = None


class Firewall(Contract):
    # True only when the host firewall filters inbound traffic in every profile/backend seen.
    enabled: Bool | None = None
    backend: ShortText | None = None  # windows, nftables, ufw, firewalld, iptables
    profiles: list[FirewallProfile] = Field(default_factory=list)
    third_party: list[ShortText] = Field(default_factory=list)
    raw: Raw | None = None


class Patches(Contract):
    last_patch_at: AwareDatetime | None = None
    # Relative to collected_at, so a policy can compare it without date arithmetic.
    days_since_last_patch: Float | None = Field(default=None, ge=0)
    auto_updates: Bool | None = None
    pending_updates: StrictInt | None = Field(default=None, ge=0, le=MAX_INT)
    pending_security_updates: StrictInt | None = Field(default=None, ge=0, le=MAX_INT)
    reboot_required: Bool | None = None
    hotfixes: list[ShortText] | None = None


class OsEndOfLife(Contract):
    end_of_support: Date | None = None
    supported: Bool | None = None
    days_left: Int | None = None
    basis: ShortText | None = None  # which row of the end-of-life table matched


class Smb(Contract):
    smb1_server: Bool | None = None
    smb1_client: Bool | None = None


class Rdp(Contract):
    enabled: Bool | None = None
    nla_required: Bool | None = None
    port: Int | None = None


class Autorun(Contract):
    disabled_all_drives: Bool | None = None
    no_drive_type_autorun: Int | None = None  # raw mask
    no_autorun: Int | None = None


class Account(Contract):
    name: ShortText
    sid: ShortText | None = None
    kind: Literal["user", "group", "unknown"] = "unknown"
    source: Literal["local", "domain", "unknown"] = "unknown"
    builtin_admin: Bool | None = None  # RID 500 / uid 0
    enabled: Bool | None = None


class LocalAdmins(Contract):
    members: list[Account] = Field(default_factory=list)
    count: Int | None = None  # local human admin accounts (excludes domain groups)
    builtin_admin_enabled: Bool | None = None
    guest_enabled: Bool | None = None
    nopasswd_sudo: list[ShortText] | None = None  # Linux sudoers lines granting NOPASSWD


class PasswordPolicy(Contract):
    min_length: Int | None = None
    max_age_days: Int | None = None  # 0: never expires (None: unknown)
    min_age_days: Int | None = None
    complexity: Bool | None = None
    history: Int | None = None
    source: ShortText | None = None  # secedit, net_accounts, login.defs, pam_pwquality


class Lockout(Contract):
    threshold: Int | None = None  # 0: never locks out
    duration_minutes: Int | None = None
    reset_minutes: Int | None = None
    source: ShortText | None = None


class Volume(Contract):
    mount: ShortText
    encrypted: Bool | None = None
    method: ShortText | None = None
    protection_on: Bool | None = None
    system: Bool | None = None


class DiskEncryption(Contract):
    system_volume_encrypted: Bool | None = None
    volumes: list[Volume] = Field(default_factory=list)


class ScreenLockUser(Contract):
    user: ShortText
    enabled: Bool | None = None
    secure: Bool | None = None
    timeout_seconds: Int | None = None


class ScreenLock(Contract):
    # True when every seen user session locks with a password within the timeout below.
    enabled: Bool | None = None
    timeout_seconds: Int | None = None  # the longest among users (worst case)
    users: list[ScreenLockUser] = Field(default_factory=list)


class RemoteTool(Contract):
    name: ShortText  # TeamViewer, AnyDesk, UltraViewer, VNC, ...
    installed: Bool | None = None
    running: Bool | None = None
    source: ShortText | None = None  # process, service, uninstall, package
    detail: Text | None = None


class RemoteAccess(Contract):
    tools: list[RemoteTool] | None = None  # None: not checked; []: checked, none found


class ListeningPort(Contract):
    port: StrictInt = Field(ge=0, le=65535)
    proto: Literal["tcp", "udp"]
    address: ShortText
    process: ShortText | None = None


class Ssh(Contract):
    installed: Bool | None = None
    permit_root_login: ShortText | None = None  # yes, no, prohibit-password, forced-commands-only
    password_authentication: Bool | None = None


class Hardening(Contract):
    firewall: Firewall | None = None
    patches: Patches | None = None
    os_end_of_life: OsEndOfLife | None = None
    smb: Smb | None = None
    rdp: Rdp | None = None
    autorun: Autorun | None = None
    local_admins: LocalAdmins | None = None
    password_policy: PasswordPolicy | None = None
    lockout: Lockout | None = None
    disk_encryption: DiskEncryption | None = None
    screen_lock: ScreenLock | None = None
    remote_access: RemoteAccess | None = None
    listening_ports: list[ListeningPort] | None = None
    ssh: Ssh | None = None


# --- installed software ----------------------------------------------------------------------


class InstalledSoftware(Contract):
    """One installed program as the OS lists it (the inventory a level-proposal dossier annexes)."""

    name: ShortText
    version: ShortText | None = None
    publisher: ShortText | None = None
    installed_on: Date | None = None  # Windows: the Uninstall key's InstallDate (yyyymmdd); dpkg/rpm: None
    # where it is listed: the 64-bit, 32-bit (WOW6432Node) or per-user Uninstall key; "registry" when
    # the capture did not say which (collect.ps1 before the root was recorded); the package manager
    source: Literal["registry_64", "registry_32", "registry_user", "registry", "dpkg", "rpm"]


# --- the envelope ----------------------------------------------------------------------------


class Signature(Contract):
    alg: Literal["HMAC-SHA256"] = "HMAC-SHA256"
    key_id: KeyId
    value: Annotated[str, Strict(), Field(pattern=r"^[0-9a-f]{64}$")]


class HostReport(Contract):
    schema_: Literal["secscan.host-report/1"] = Field(default=HOST_REPORT_SCHEMA, alias="schema")
    report_id: Uuid
    collected_at: AwareDatetime
    agent: AgentInfo
    unit: UnitId | None = None
    host: Host
    antivirus: Antivirus = Field(default_factory=Antivirus)
    licences: Licences = Field(default_factory=Licences)
    hardening: Hardening = Field(default_factory=Hardening)
    # None: not collected (the probe says why); []: collected, nothing installed. An additive member
    # of /1: README "Contracts and versions".
    software: list[InstalledSoftware] | None = Field(default=None, max_length=SOFTWARE.max)
    probes: list[ProbeRecord] = Field(default_factory=list)
    signature: Signature | None = None

    def to_document(self) -> dict[str, Any]:
        """The JSON document as it travels and is signed (aliases, nulls kept: null = unknown)."""
        return self.model_dump(mode="json", by_alias=True)
