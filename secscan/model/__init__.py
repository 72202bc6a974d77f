"""The contracts between stages. Imports only the standard library and pydantic."""

from secscan.model.common import ProbeRecord, ProbeStatus
from secscan.model.host import HOST_REPORT_SCHEMA, HostReport
from secscan.model.scan import SCAN_REPORT_SCHEMA, ScanReport

__all__ = ["HOST_REPORT_SCHEMA", "SCAN_REPORT_SCHEMA", "HostReport", "ProbeRecord", "ProbeStatus", "ScanReport"]
