"""The org.yaml check of `secscan scan`, split around nmap's start (docs/scan.md, "Speed").

Before nmap starts, the unit's networks are read from the YAML data without the org model
(importing pydantic is most of the start-up) and every target must lie inside them; the full
validation runs while nmap does. These tests hold the early reading beside the model, so that it
can only ever allow what the model allows, and show that a refused scan never starts nmap.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from secscan.model.org import Organisation
from secscan.scan.cli import _declared_networks
from secscan.wiring.scan import scan


def org(*units: dict[str, Any]) -> dict[str, Any]:
    return {"name": "UBND huyện Thử", "units": list(units)}


def unit(uid: str = "a", **fields: Any) -> dict[str, Any]:
    return {"id": uid, "name": "UBND xã A", "kind": "commune", **fields}


def model_networks(data: dict[str, Any], uid: str) -> list[Any] | None:
    """What the full validation gives for the unit, or None if it refuses the document."""
    try:
        found = Organisation.model_validate(data).unit_index.get(uid)
    except ValidationError:
        return None
    return None if found is None else list(found.networks)


def assert_early_reading_never_widens(data: dict[str, Any], uid: str = "a") -> None:
    early = _declared_networks(data, uid)
    if early is not None:  # used before nmap starts: must be exactly what the model gives
        assert early == model_networks(data, uid)
        assert [type(n) for n in early] == [type(n) for n in model_networks(data, uid) or []]


NETWORKS = [
    "10.213.7.0/24",
    "10.213.7.5",
    "10.213.7.5/24",  # host bits set: the model refuses it
    "10.0.0.0/33",
    "10.0.0.0/255.255.255.0",
    "10.0.0.0/0.0.0.255",
    "010.0.0.0/8",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "0.0.0.0/0",
    "2001:db8::/32",
    "2001:db8::1/64",
    "::ffff:10.0.0.0/120",
    "fe80::%eth0/64",
    "::/0",
    "",
    "example.com",
    167772160,  # YAML reads some addresses as numbers (1:2:3 is base 60); the model takes ints
    None,
    ["10.0.0.0/8"],
]


@pytest.mark.parametrize("value", NETWORKS, ids=repr)
def test_early_reading_matches_the_model(value: Any) -> None:
    assert_early_reading_never_widens(org(unit(networks=[value])))
    assert_early_reading_never_widens(org(unit(networks=["192.168.1.0/24", value])))


@given(st.lists(st.text(alphabet="0123456789abcdef.:/% ", max_size=24), max_size=3))
def test_early_reading_matches_the_model_on_any_text(values: list[str]) -> None:
    assert_early_reading_never_widens(org(unit(networks=values)))


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"units": "a"},
        org(),
        org(unit("b", networks=["10.0.0.0/8"])),
        org(unit(networks="10.0.0.0/8")),
        org(unit(networks=None)),
        org(unit(networks=["10.0.0.0/8"]), unit(networks=["10.1.0.0/16"])),  # the model keeps the last
    ],
    ids=repr,
)
def test_unusual_shapes_are_left_to_the_model(data: Any) -> None:
    assert _declared_networks(data, "a") is None


def test_the_plain_shape_is_read_early() -> None:
    data = org(unit("b", networks=["10.1.0.0/16"]), unit(networks=["10.213.7.0/24", "2001:db8::/32"]))
    assert [str(n) for n in _declared_networks(data, "a") or []] == ["10.213.7.0/24", "2001:db8::/32"]
    assert_early_reading_never_widens(data)


def test_an_error_elsewhere_is_left_to_the_validation_while_nmap_runs() -> None:
    # The unit's own networks are read early; the broken entry beside it is the model's to find
    # (test_lab_scan.py: it then stops nmap and nothing is written).
    data = org("not a unit", unit(networks=["10.0.0.0/8"]), unit("b", name=None))
    assert [str(n) for n in _declared_networks(data, "a") or []] == ["10.0.0.0/8"]
    assert model_networks(data, "a") is None


# --- refused scans never start nmap ---------------------------------------------------------


@pytest.fixture
def logging_nmap(tmp_path: Path) -> tuple[Path, Path]:
    """An nmap whose `-V` (the is-it-nmap check) is the real one's, and which logs any other run
    and fails it instead of scanning: a regression here must not send packets from the host."""
    real = shutil.which("nmap")
    if real is None:
        pytest.skip("nmap is not installed (scripts/system-deps.sh installs it)")
    log = tmp_path / "nmap-runs.log"
    wrapper = tmp_path / "nmap"
    wrapper.write_text(f'#!/bin/sh\n[ "$1" = -V ] && exec {real} -V\necho "$*" >> {log}\nexit 1\n')
    wrapper.chmod(0o755)
    return wrapper, log


ORG_LINES = "name: UBND huyện Thử\nunits:\n"
A_LAB = "  - {id: a, name: UBND xã A, kind: commune, networks: [10.213.7.0/24]}\n"


@pytest.mark.nmap
@pytest.mark.parametrize(
    ("units", "target", "said"),
    [
        (A_LAB, "10.213.9.5", "targets outside unit 'a''s networks (10.213.7.0/24): 10.213.9.5/32"),
        (A_LAB, "10.213.6.0/23", "targets outside unit 'a''s networks"),
        (A_LAB.replace("id: a", "id: b"), "10.213.7.5", "unit 'a' is not in org.yaml"),
        (A_LAB.replace("[10.213.7.0/24]", "[]"), "10.213.7.5", "unit 'a' declares no networks"),
        (A_LAB.replace("/24", "/33"), "10.213.7.5", "org.yaml: units.0.networks.0:"),
        # two units 'a': the model keeps the second, whose network does not hold the target
        (A_LAB + A_LAB.replace("7.0", "8.0"), "10.213.7.5", "targets outside unit 'a''s networks (10.213.8.0/24)"),
    ],
)
def test_a_refused_scan_never_starts_nmap(
    logging_nmap: tuple[Path, Path], tmp_path: Path, units: str, target: str, said: str
) -> None:
    wrapper, log = logging_nmap
    path = tmp_path / "org.yaml"
    path.write_text(ORG_LINES + units, encoding="utf-8")
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(
        scan, [target, "--unit", "a", "--org", str(path), "--nmap", str(wrapper), "--out", str(out)]
    )
    assert result.exit_code == 1 and said in result.output
    assert not log.exists(), f"nmap ran: {log.read_text()}"
    assert not out.exists()


# --- org.yaml is read as every other command reads it (secscan.policy.source) -----------------


def alias_bomb(levels: int = 9) -> str:
    """A few hundred bytes that a naive walk expands into 10**levels values."""
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.nmap
@pytest.mark.parametrize(
    ("text", "said"),
    [
        # Issue 16: an 8.7 KB alias graph took 3 GB in `secscan scan --org` (its own YAML reading
        # had no node limit); the shared reader counts each alias once per use.
        (alias_bomb() + ORG_LINES.replace("name: UBND huyện Thử\n", "") + A_LAB.replace("}", ", contacts: *l8}"),
         "more than 200,000 values (alias expansion?)"),
        (ORG_LINES + "  - !!python/object:secscan.Evil {id: a, name: A, kind: commune, networks: [10.213.7.0/24]}\n",
         "org.yaml:3: units[0]: tag !!python/object:secscan.Evil is not allowed"),
        (ORG_LINES + A_LAB + "extra: !!binary aGk=\n", "org.yaml:4: extra: tag !!binary is not allowed"),
        (ORG_LINES + A_LAB + "units: []\n", "org.yaml:4: units: duplicate key"),
    ],
    ids=["alias-bomb", "python-object-on-a-mapping", "binary", "duplicate-key"],
)
def test_org_yaml_is_read_with_the_shared_limits(logging_nmap: tuple[Path, Path], tmp_path: Path, text: str,
                                                 said: str) -> None:
    import time

    wrapper, log = logging_nmap
    path = tmp_path / "org.yaml"
    path.write_text("name: UBND huyện Thử\n" + text if not text.startswith("name:") else text, encoding="utf-8")
    start = time.monotonic()
    result = CliRunner().invoke(
        scan, ["10.213.7.5", "--unit", "a", "--org", str(path), "--nmap", str(wrapper), "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 1 and said in result.output, result.output
    assert time.monotonic() - start < 20
    assert not log.exists(), f"nmap ran: {log.read_text()}"
