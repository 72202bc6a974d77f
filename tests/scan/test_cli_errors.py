"""`secscan scan` refuses clearly before nmap runs: bad targets, targets outside the unit's
networks, a missing org.yaml or unit, a missing nmap. None of these scans anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.wiring.scan import scan

ORG = str(Path(__file__).parents[1] / "fixtures" / "scan" / "org.yaml")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(scan, list(args), env=env)


@pytest.mark.parametrize("target", ["example.com", "-sV", "10.213.7.300"])
def test_bad_target(target: str) -> None:
    result = run("--unit", "xa-lab", "--org", ORG, "--", target)  # after "--": "-sV" must not reach nmap either
    assert result.exit_code == 2 and f"target {target!r}" in result.output


def test_outside_the_unit_is_refused() -> None:
    result = run("10.213.7.0/24", "10.213.9.5", "--unit", "xa-lab", "--org", ORG)
    assert result.exit_code == 1
    assert "targets outside unit 'xa-lab''s networks (10.213.7.0/24): 10.213.9.5/32" in result.output
    assert "--force" in result.output


def test_unit_without_networks_is_refused() -> None:
    result = run("10.213.7.5", "--unit", "xa-trong", "--org", ORG)
    assert result.exit_code == 1 and "declares no networks" in result.output


def test_unknown_unit() -> None:
    result = run("10.213.7.5", "--unit", "nowhere", "--org", ORG)
    assert result.exit_code == 1 and "unit 'nowhere' is not in org.yaml" in result.output


def test_missing_org(tmp_path: Path) -> None:
    result = run("10.213.7.5", "--unit", "xa-lab", "--org", str(tmp_path / "org.yaml"))
    assert result.exit_code == 1 and "no such file" in result.output


def test_broken_org(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text("name: X\nunits:\n  - id: a\n    name: A\n    kind: commune\n    networks: [10.0.0.0/33]\n")
    result = run("10.0.0.5", "--unit", "a", "--org", str(bad))
    assert result.exit_code == 1 and "units.0.networks.0" in result.output


def test_nmap_missing_says_how_to_install(tmp_path: Path) -> None:
    result = run("10.213.7.5", "--unit", "xa-lab", "--org", ORG, env={"PATH": str(tmp_path), "SECSCAN_NMAP": ""})
    assert result.exit_code == 1
    assert "nmap is not installed" in result.output and "apt-get install nmap" in result.output


def test_a_program_that_is_not_nmap(tmp_path: Path) -> None:
    fake = tmp_path / "nmap"
    fake.write_text("#!/bin/sh\necho 'I am not nmap'\n")
    fake.chmod(0o755)
    result = run("10.213.7.5", "--unit", "xa-lab", "--org", ORG, "--nmap", str(fake))
    assert result.exit_code == 1 and f"{fake} is not an nmap program" in result.output
