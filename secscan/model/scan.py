"""ScanReport (``secscan.scan-report/1``): what nmap saw on one unit's LAN."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from secscan.model.common import AwareDatetime, Bool, Contract, IPAddress, Mac, ShortText, StrictInt, Text, UnitId, Uuid

SCAN_REPORT_SCHEMA = "secscan.scan-report/1"


class Port(Contract):
    port: StrictInt = Field(ge=0, le=65535)
    proto: Literal["tcp", "udp", "sctp"]
    state: ShortText  # open, open|filtered, ...
    service: ShortText | None = None
    product: ShortText | None = None
    version: ShortText | None = None
    extrainfo: ShortText | None = None
    device_type: ShortText | None = None  # nmap's guess from the service: printer, webcam, router, ...


class OsGuess(Contract):
    name: ShortText
    accuracy: StrictInt | None = Field(default=None, ge=0, le=100)


class ScannedHost(Contract):
    ip: IPAddress
    mac: Mac | None = None
    vendor: ShortText | None = None
    hostnames: list[ShortText] = Field(default_factory=list)
    status_reason: ShortText | None = None  # arp-response, syn-ack, echo-reply, user-set
    os_guess: list[OsGuess] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)


class NmapRun(Contract):
    version: ShortText | None = None
    args: Text
    privileged: Bool | None = None  # raw-socket scan (MACs, OS guess) or TCP connect fallback


class ScanReport(Contract):
    schema_: Literal["secscan.scan-report/1"] = Field(default=SCAN_REPORT_SCHEMA, alias="schema")
    scan_id: Uuid
    unit: UnitId | None = None
    targets: list[ShortText]
    profile: ShortText | None = None
    nmap: NmapRun
    started_at: AwareDatetime
    finished_at: AwareDatetime
    hosts: list[ScannedHost] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)  # what was lost (e.g. no MACs without root)
