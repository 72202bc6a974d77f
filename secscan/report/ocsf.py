"""The OCSF 1.5.0 Compliance Finding (class 2003) as typed structures: the attributes the feed
uses, in the order they are written. The names an id implies (activity, type, severity, status,
compliance status, confidence) are filled in from the id, so an event cannot carry a name that
contradicts its id. The tests validate the events against the OCSF JSON Schema itself."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from secscan import __version__

OCSF_VERSION = "1.5.0"
CLASS_UID = 2003
CATEGORY_UID = 2
ACTIVITY = {1: "Create", 2: "Update", 3: "Close"}
STATUS = {1: "New", 2: "In Progress", 4: "Resolved"}
SEVERITY = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
COMPLIANCE_STATUS = {0: "Unknown", 1: "Pass", 3: "Fail"}
CONFIDENCE = {1: "Low", 2: "Medium", 3: "High"}
OS_TYPE = {"windows": 100, "linux": 200, "macos": 300}  # anything else: 99, Other


class _Object(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _named(data: Any, id_field: str, name_field: str, names: dict[int, str]) -> Any:
    """Fill ``name_field`` from ``id_field``; refuse a name that is not the id's."""
    if isinstance(data, dict) and data.get(id_field) in names:  # an unknown id fails the field's own check
        data = dict(data)  # the caller's dict stays as given
        name = names[data[id_field]]
        if data.setdefault(name_field, name) != name:
            raise ValueError(f"{name_field} {data[name_field]!r} is not the name of {id_field} {data[id_field]}")
    return data


class Product(_Object):
    name: str = "secscan"
    vendor_name: str = "secscan"
    version: str = __version__


class Metadata(_Object):
    version: str = OCSF_VERSION
    product: Product = Product()


class Compliance(_Object):
    control: str
    status_id: Literal[0, 1, 3]
    status: str
    standards: list[str] | None = None
    requirements: list[str] | None = None
    status_details: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _status_name(cls, data: Any) -> Any:
        return _named(data, "status_id", "status", COMPLIANCE_STATUS)


class Remediation(_Object):
    desc: str
    references: list[str] | None = None


class FindingInfo(_Object):
    uid: str
    title: str
    types: list[str]
    desc: str | None = None
    first_seen_time: int | None = None
    last_seen_time: int | None = None
    related_events_count: int | None = None


class Organization(_Object):
    name: str
    uid: str


class OperatingSystem(_Object):
    name: str
    type_id: int
    version: str | None = None
    build: str | None = None


class NetworkInterface(_Object):
    type_id: int = 0  # Unknown: an agent does not say wired or wireless
    name: str | None = None
    mac: str | None = None
    ip: str | None = None


class Device(_Object):
    hostname: str
    type_id: Literal[0, 1, 2, 3]  # unknown, server, desktop, laptop
    org: Organization
    uid: str | None = None
    domain: str | None = None
    os: OperatingSystem | None = None
    ip: str | None = None
    mac: str | None = None
    network_interfaces: list[NetworkInterface] | None = None


class Evidence(_Object):
    data: dict[str, Any]


class ComplianceFinding(_Object):
    class_uid: Literal[2003] = CLASS_UID
    class_name: Literal["Compliance Finding"] = "Compliance Finding"
    category_uid: Literal[2] = CATEGORY_UID
    category_name: Literal["Findings"] = "Findings"
    activity_id: Literal[1, 2, 3]
    activity_name: str
    type_uid: int
    type_name: str
    severity_id: Literal[1, 2, 3, 4, 5]
    severity: str
    status_id: Literal[1, 2, 4]
    status: str
    metadata: Metadata = Metadata()
    compliance: Compliance
    remediation: Remediation | None = None
    confidence_id: Literal[1, 2, 3] | None = None
    confidence: str | None = None
    time: int
    finding_info: FindingInfo
    device: Device
    evidences: list[Evidence] | None = None
    unmapped: dict[str, dict[str, Any]]  # {"secscan": {...}}: what OCSF has no attribute for

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("activity_id") in ACTIVITY:
            data = dict(data)  # the caller's dict stays as given
            activity = data["activity_id"]
            for key, value in (("type_uid", CLASS_UID * 100 + activity),
                               ("type_name", f"Compliance Finding: {ACTIVITY[activity]}")):
                if data.setdefault(key, value) != value:
                    raise ValueError(f"{key} {data[key]!r} does not follow activity_id {activity}")
        for id_field, name_field, names in (("activity_id", "activity_name", ACTIVITY),
                                            ("severity_id", "severity", SEVERITY), ("status_id", "status", STATUS),
                                            ("confidence_id", "confidence", CONFIDENCE)):
            data = _named(data, id_field, name_field, names)
        return data
