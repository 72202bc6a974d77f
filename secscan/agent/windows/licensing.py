"""Windows and Office licences (SoftwareLicensingProduct, OfficeSoftwareProtectionProduct) and
their classification genuine | suspicious | unlicensed | unknown, with evidence and a confidence
(facts §3-4).

Rules, in order:
  - LicenseStatus 0 or 2-6 -> unlicensed (the grace/notification state is named in the evidence);
  - crack evidence for this licence (KMS host of an activator or a public KMS, a KMS grace period
    beyond 180 days, or machine-wide activator traces that target this product) -> suspicious;
  - KMS client whose host is the organisation's (allow-list) -> genuine, high;
  - KMS client with a private host not in the allow-list, or no host seen -> unknown;
  - OEM channel -> genuine (high when the firmware OA3 key ends like the installed key);
  - MAK or a subscription -> genuine, medium (activated by Microsoft; a leaked key cannot be told from here);
  - Retail with a generic key: a genuine upgrade and the HWID activator look identical -> unknown,
    "no activator evidence found"; Retail with its own key -> genuine, medium.
HWID/TSforge leave nothing to see: this never says "genuine" only because nothing was found.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows import activators
from secscan.agent.windows.values import as_bool, as_dict, as_int, as_list, as_text

WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
OFFICE2010_APP = "59a52881-a989-479d-af46-f275c6370663"
STATUS_TEXT = {0: "Unlicensed", 1: "Licensed", 2: "Initial grace period", 3: "Additional grace period",
               4: "Non-genuine grace period", 5: "Notification", 6: "Extended grace period"}


def _channel(item: dict[str, Any]) -> str | None:
    channel = as_text(item.get("ProductKeyChannel"), "ProductKeyChannel")
    if channel:
        return channel
    # Windows 7 and Office 2010 have no ProductKeyChannel: read it from the description.
    description = (as_text(item.get("Description"), "Description") or "").upper()
    for marker, name in (("VOLUME_KMSCLIENT", "Volume:GVLK"), ("VOLUME_MAK", "Volume:MAK"), ("OEM_DM", "OEM:DM"),
                         ("OEM_SLP", "OEM:SLP"), ("OEM_COA", "OEM:COA"), ("OEM_NONSLP", "OEM:NONSLP"),
                         ("OEM", "OEM"), ("RETAIL", "Retail"), ("TIMEBASED", "Timebased"),
                         ("VIRTUAL_MACHINE_ACTIVATION", "AVMA"), ("VOLUME_KMS", "Volume:KMS host")):
        if marker in description:
            return name
    return None


def _licence(item: Any, where: str) -> dict[str, Any]:
    item = as_dict(item, where)
    name = as_text(item.get("Name"), "Name") or "?"
    partial = as_text(item.get("PartialProductKey"), "PartialProductKey")
    status = as_int(item.get("LicenseStatus"), "LicenseStatus")
    if status is not None and not 0 <= status <= 6:
        raise ValueError(f"{where}.LicenseStatus: {status} is not 0-6")
    return {
        "product": name,
        "application_id": (as_text(item.get("ApplicationID"), "ApplicationID") or "").lower() or None,
        "sku_id": as_text(item.get("ID"), "ID"),
        "description": as_text(item.get("Description"), "Description"),
        "channel": _channel(item),
        "license_status": status,
        "license_status_text": STATUS_TEXT.get(status) if status is not None else None,
        "license_status_reason": as_int(item.get("LicenseStatusReason"), "LicenseStatusReason"),
        "grace_minutes": as_int(item.get("GracePeriodRemaining"), "GracePeriodRemaining"),
        "partial_key": partial[-5:] if partial else None,  # never more than the last five
        "kms_host": as_text(item.get("KeyManagementServiceMachine"), "KeyManagementServiceMachine"),
        "kms_port": as_int(item.get("KeyManagementServicePort"), "KeyManagementServicePort") or None,
        "kms_discovered_host": as_text(item.get("DiscoveredKeyManagementServiceMachineName"),
                                       "DiscoveredKeyManagementServiceMachineName"),
        "vl_activation_interval": as_int(item.get("VLActivationInterval"), "VLActivationInterval"),
        "vl_renewal_interval": as_int(item.get("VLRenewalInterval"), "VLRenewalInterval"),
        "_addon": as_bool(item.get("LicenseIsAddon"), "LicenseIsAddon"),
        "_family": as_text(item.get("LicenseFamily"), "LicenseFamily"),
    }


def parse_products(licensing: Any, ospp: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """(Windows licence, Office licences) from the two WMI classes; None where the class was not read."""
    windows: list[dict[str, Any]] = []
    office: list[dict[str, Any]] = []
    if licensing is not None:
        for item in as_list(as_dict(licensing, "licensing").get("products")):
            lic = _licence(item, "licensing.products[]")
            if lic["application_id"] == WINDOWS_APP:
                windows.append(lic)
            elif lic["application_id"] in (OFFICE_APP, OFFICE2010_APP):
                office.append(lic)
    if ospp is not None:
        office += [_licence(i, "office_ospp.products[]") for i in as_list(as_dict(ospp, "office_ospp").get("products"))]
    os_licence = None
    if windows:
        # The base edition, preferring the licensed one, over add-ons (e.g. ESU keys).
        windows.sort(key=lambda lic: (bool(lic["_addon"]), lic["license_status"] != 1))
        os_licence = windows[0]
    return os_licence, (office if licensing is not None or ospp is not None else None)


def kms_registry_hosts(section: Any) -> dict[str, str]:
    """Registry key -> KMS host written there (SPP, per application/SKU, OSPP)."""
    hosts = {}
    for key, values in as_dict(as_dict(section, "kms_registry").get("keys"), "kms_registry.keys").items():
        host = as_text(as_dict(values, key).get("KeyManagementServiceName"), "KeyManagementServiceName")
        if host:
            hosts[key] = host
    return hosts


class KmsJudge:
    """What a KMS host says about an activation, from kms_hosts.toml and the allow-list."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        table = load("kms_hosts")
        self.allow = [a.strip().lower() for a in [*table["organisation"].get("allow", []), *allow] if a.strip()]
        self.special = table["special"]
        self.public = {h.lower() for h in table["public"]["hosts"]}
        self.public_tool = table["public"]["tool"]

    def allowed(self, host: str) -> bool:
        host = host.lower()
        return any(host == a or (a.startswith(".") and host.endswith(a)) for a in self.allow)

    def judge(self, host: str) -> tuple[str, str, str | None, str]:
        """-> (verdict allowed|crack|private|unknown, detail, tool, confidence)."""
        bare = _strip_port(host).lower()
        if self.allowed(bare):
            return "allowed", f"KMS host {bare} is in the organisation's allow-list", None, "high"
        for row in self.special:
            if bare == row.get("host") or ("prefix" in row and bare.startswith(row["prefix"])):
                return "crack", f"KMS host {bare}: {row['detail']}", row["tool"], row["confidence"]
        if bare in self.public:
            return "crack", f"KMS host {bare} is a known public piracy KMS", self.public_tool, "high"
        try:
            address = ipaddress.ip_address(bare)
        except ValueError:
            return "unknown", f"KMS host {bare} is not in the allow-list (--kms-allow)", None, "low"
        if address.is_global:
            return "crack", f"KMS host {bare} is a public IP address outside the allow-list", "public KMS", "medium"
        return "private", f"KMS host {bare} is a private address not in the allow-list (--kms-allow)", None, "low"


def _strip_port(host: str) -> str:
    if host.startswith("[") and "]" in host:
        return host[1:host.index("]")]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _family(lic: dict[str, Any]) -> str:
    return "windows" if lic["application_id"] == WINDOWS_APP else "office"


Verdict = tuple[str, str | None, str | None]  # (classification, confidence, reason placed first in the evidence)


@dataclass(slots=True)
class _Signs:
    """What one licence's KMS hosts, grace, intervals and the machine's activator traces showed."""

    evidence: list[str] = field(default_factory=list)
    bound: list[dict[str, Any]] = field(default_factory=list)  # licence-bound ActivatorEvidence dicts
    crack_hits: list[tuple[str, str]] = field(default_factory=list)  # (detail, confidence)
    bystanders: list[str] = field(default_factory=list)
    allowed: bool = False
    private: bool = False
    unknown_host: bool = False

    def crack(self, kind: str, detail: str, tool: str | None, confidence: str, *, bound_detail: str = "") -> None:
        self.crack_hits.append((detail, confidence))
        self.bound.append({"kind": kind, "detail": bound_detail or detail, "tool": tool, "confidence": confidence})


def classify(lic: dict[str, Any], *, judge: KmsJudge, registry_hosts: dict[str, str], oa3_last5: str | None,
             machine_evidence: list[dict[str, Any]], checks_incomplete: list[str]) -> list[dict[str, Any]]:
    """Fill classification/confidence/evidence of one licence in place; return licence-bound evidence
    (KMS host, grace) as ActivatorEvidence dicts for the machine-wide list."""
    channel = (lic["channel"] or "").lower()
    kms_client = "gvlk" in channel or "kmsclient" in (lic["description"] or "").lower().replace("_", "")
    table = load("activators")
    hosts = _kms_hosts(lic, registry_hosts)
    if lic["kms_host"] is None and len(hosts) > (1 if lic["kms_discovered_host"] else 0):
        lic["kms_host"] = hosts[-1]  # the registry override the client uses
    signs = _Signs()
    if kms_client:
        _judge_hosts(lic, hosts, judge, signs)
        _judge_kms_timers(lic, table, signs)
    _judge_machine_evidence(lic, machine_evidence, kms_client, signs)
    verdict = _verdict(lic, channel, kms_client, signs, oa3_last5, checks_incomplete, table["generic_keys"])
    _settle(lic, verdict, signs, checks_incomplete)
    return signs.bound


def _kms_hosts(lic: dict[str, Any], registry_hosts: dict[str, str]) -> list[str]:
    """The licence's own KMS hosts, then the registry's that apply to its application."""
    hosts = [h for h in (lic["kms_host"], lic["kms_discovered_host"]) if h]
    app = lic["application_id"] or ""
    for key, host in registry_hosts.items():
        low = key.lower()
        if "officesoftwareprotectionplatform" in low:
            applies = app == OFFICE2010_APP
        elif low.endswith("softwareprotectionplatform"):
            applies = app in (WINDOWS_APP, OFFICE_APP)  # the global SPP host serves every SPP product
        else:
            applies = app[:8] in low
        if applies and host not in hosts:
            hosts.append(host)
    return hosts


def _judge_hosts(lic: dict[str, Any], hosts: list[str], judge: KmsJudge, signs: _Signs) -> None:
    for host in hosts:
        verdict, detail, tool, confidence = judge.judge(host)
        if verdict == "crack":
            signs.crack("kms_host", detail, tool, confidence, bound_detail=f"{lic['product']}: {detail}")
            continue
        if verdict == "allowed":
            signs.allowed = True
        elif verdict == "private":
            signs.private = True
        else:
            signs.unknown_host = True
        signs.evidence.append(detail)


def _judge_kms_timers(lic: dict[str, Any], table: dict[str, Any], signs: _Signs) -> None:
    """A grace period longer than any KMS activation, or the intervals an activator sets."""
    grace = lic["grace_minutes"]
    if grace is not None and grace > table["grace"]["max_normal_minutes"]:
        detail = (f"{lic['product']}: KMS grace period {grace} minutes (~{grace // 525600} years) exceeds the "
                  "180 days a KMS activation lasts: KMS38 or TSforge KMS4k")
        signs.crack("grace", detail, "MAS KMS38/TSforge", "high")
    intervals = [lic["vl_activation_interval"], lic["vl_renewal_interval"]]
    for act, ren, tool in table["vl_intervals"]["known"]:
        if intervals == [act, ren]:
            detail = f"{lic['product']}: KMS intervals {act}/{ren} minutes are those set by {tool}"
            signs.crack("vl_interval", detail, tool, "medium")


def _judge_machine_evidence(lic: dict[str, Any], machine_evidence: list[dict[str, Any]], kms_client: bool,
                            signs: _Signs) -> None:
    """Machine-wide activator traces: a crack hit where the tool can have activated this licence,
    otherwise a note that it was seen but cannot have."""
    family = _family(lic)
    for ev in machine_evidence:
        if activators.applies(ev.get("tool"), family, kms_client):
            signs.crack_hits.append((ev["detail"], ev["confidence"]))
        elif family in activators.targets(ev.get("tool")) and f"{ev.get('tool')} found" not in str(signs.bystanders):
            signs.bystanders.append(f"{ev.get('tool')} found on this PC, but a KMS emulator cannot have activated "
                                    f"this {lic['channel'] or 'non-KMS'} licence")


def _verdict(lic: dict[str, Any], channel: str, kms_client: bool, signs: _Signs, oa3_last5: str | None,
             checks_incomplete: list[str], generic_keys: dict[str, str]) -> Verdict:
    """The rules of the module docstring, in their order."""
    status = lic["license_status"]
    if status is None:
        return "unknown", None, "LicenseStatus missing"
    if status != 1:
        return "unlicensed", "high", f"LicenseStatus {status} ({lic['license_status_text']})"
    if signs.crack_hits:
        signs.evidence += [d for d, _ in signs.crack_hits if d not in signs.evidence]
        return "suspicious", "high" if any(c == "high" for _, c in signs.crack_hits) else "medium", None
    if kms_client:
        return _kms_verdict(signs, checks_incomplete)
    return _channel_verdict(lic, channel, oa3_last5, generic_keys)


def _kms_verdict(signs: _Signs, checks_incomplete: list[str]) -> Verdict:
    if signs.allowed:
        return "genuine", "high" if not checks_incomplete else "medium", "KMS activation by the organisation"
    if signs.private or signs.unknown_host:
        return "unknown", "low", "KMS activation by a host the allow-list does not name"
    return "unknown", "low", "KMS client without a KMS host on record"


# Channels whose verdict is the channel alone (checked after OEM, before Retail): marker -> verdict
_CHANNEL_VERDICTS: tuple[tuple[str, Verdict], ...] = (
    ("timebased", ("genuine", "medium", "subscription (time-based) licence activated by Microsoft")),
    ("mak", ("genuine", "medium", "MAK activated by Microsoft; whether the key was leaked cannot be seen")),
)


def _channel_verdict(lic: dict[str, Any], channel: str, oa3_last5: str | None,
                     generic_keys: dict[str, str]) -> Verdict:
    """A licence that is not a KMS client, judged by its channel."""
    partial = lic["partial_key"]
    if channel.startswith("oem"):
        if oa3_last5 and partial and oa3_last5.upper() == partial.upper():
            return "genuine", "high", "OEM licence; the key matches the one in the firmware (OA3)"
        return "genuine", "medium", "OEM licence"
    for marker, verdict in _CHANNEL_VERDICTS:
        if marker in channel:
            return verdict
    if "retail" in channel:
        generic = generic_keys.get((partial or "").upper())
        if generic:
            return "unknown", "low", (f"digital licence with the {generic} (…{partial}): a genuine upgrade and "
                                      "the HWID activator look the same; no activator evidence found")
        return "genuine", "medium", "retail key activated by Microsoft"
    return "unknown", "low", f"channel {lic['channel'] or 'unknown'}"


def _settle(lic: dict[str, Any], verdict: Verdict, signs: _Signs, checks_incomplete: list[str]) -> None:
    """Write the verdict and its evidence into the licence; incomplete activator checks lower a
    genuine verdict's confidence by one step and are named."""
    classification, confidence, reason = verdict
    evidence = signs.evidence
    if reason:
        evidence.insert(0, reason)
    if classification == "unlicensed":
        evidence += [d for d, _ in signs.crack_hits if d not in evidence]
    if classification == "genuine" and checks_incomplete:
        confidence = "low" if confidence == "medium" else "medium"
    evidence += signs.bystanders
    if classification in ("genuine", "unknown") and checks_incomplete:
        evidence.append("activator checks incomplete: " + ", ".join(checks_incomplete))
    lic["classification"] = classification
    lic["confidence"] = confidence
    lic["evidence"] = evidence


def finish(lic: dict[str, Any]) -> dict[str, Any]:
    """The Licence dict for the model (private keys removed, the raw facts kept)."""
    family = lic.pop("_family", None)
    lic.pop("_addon", None)
    lic["raw"] = {"license_family": family}
    return lic
