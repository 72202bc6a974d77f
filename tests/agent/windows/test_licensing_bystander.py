"""A KMS emulator's artefacts taint KMS-client licences only: it cannot have produced an OEM one."""

from __future__ import annotations

import json
from pathlib import Path

from secscan.agent.windows import decode_capture

FIX = Path(__file__).parents[2] / "fixtures" / "windows"


def _capture(channel: str, description: str) -> bytes:
    cap = json.loads((FIX / "kmspico_artefacts.json").read_text())
    product = cap["sections"]["licensing"]["data"]["products"][0]
    product.update(ProductKeyChannel=channel, Description=description, GracePeriodRemaining=0,
                   PartialProductKey="7XRCQ", VLActivationInterval=4294967295, VLRenewalInterval=4294967295)
    cap["sections"]["hosts_file"]["data"]["lines"] = []  # blocking Microsoft's servers taints every licence
    return json.dumps(cap).encode()


def test_oem_licence_beside_kmspico_stays_genuine_and_says_so() -> None:
    report = decode_capture(_capture("OEM:DM", "Windows(R) Operating System, OEM_DM channel"))
    lic = report.licences.os
    assert lic is not None and lic.classification == "genuine"
    assert [e for e in lic.evidence if "cannot have activated" in e] == [
        "KMSpico found on this PC, but a KMS emulator cannot have activated this OEM:DM licence",
        "KMS activator found on this PC, but a KMS emulator cannot have activated this OEM:DM licence"]
    assert report.licences.activators  # the PC still counts as one with an activator


def test_kms_client_beside_kmspico_is_suspicious() -> None:
    report = decode_capture((FIX / "kmspico_artefacts.json").read_bytes())
    assert report.licences.os is not None and report.licences.os.classification == "suspicious"
