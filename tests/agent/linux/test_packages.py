"""Installed packages on Linux: the pure parsers over recorded dpkg-query / rpm output, the probe on
this machine's real package manager, and unknown (not an empty list) when there is none."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from secscan.agent import runner
from secscan.agent._exec import which
from secscan.agent.linux import PROBES, packages
from secscan.model.common import ProbeStatus
from secscan.model.limits import SOFTWARE

FIXTURES = Path(__file__).parents[2] / "fixtures" / "linux"


def test_dpkg_installed_only_maintainer_without_address() -> None:
    got = packages.parse_dpkg((FIXTURES / "dpkg-query.txt").read_text(encoding="utf-8"))
    assert [p["name"] for p in got] == ["adduser", "libreoffice-writer", "unikey-viet", "libc6:amd64"]  # rc: removed
    assert got[1] == {"name": "libreoffice-writer", "version": "4:7.4.7-1+deb12u5",
                      "publisher": "Debian LibreOffice Maintainers", "installed_on": None, "source": "dpkg"}
    assert got[2]["publisher"] == "Nhóm phát triển"


def test_rpm_skips_signing_keys_and_reads_install_day() -> None:
    got = packages.parse_rpm((FIXTURES / "rpm-qa.txt").read_text(encoding="utf-8"))
    assert [p["name"] for p in got] == ["bash", "clamav", "local-tool"]
    assert got[0] == {"name": "bash", "version": "5.1.8-9.el9", "publisher": "Red Hat, Inc.",
                      "installed_on": date(2024, 6, 4), "source": "rpm"}
    assert got[2]["publisher"] is None and got[2]["installed_on"] is None  # (none), unreadable time: unknown


@pytest.mark.parametrize("parse", [packages.parse_dpkg, packages.parse_rpm])
def test_garbage_line_is_an_error_naming_the_line(parse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="line 2: 1 fields"):
        parse("ii \ta\t1\tb\nnot a package line\n" if parse is packages.parse_dpkg else "a\t1\tb\t1700000000\nx\n")


def test_more_than_the_contract_holds_is_refused_not_cut() -> None:
    raw = "".join(f"ii \tpkg{i}\t1.0\tX\n" for i in range(SOFTWARE.max + 1))
    with pytest.raises(ValueError, match="more than the contract"):
        packages.parse_dpkg(raw)


def test_no_package_manager_is_unsupported_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # the sbin folders _exec adds hold neither tool
    if which("dpkg-query") or which("rpm"):
        pytest.skip("a package manager lives in an sbin folder here")
    probe = next(p for p in PROBES if p.name == "software")
    facts, records = runner.run_probes([probe])
    assert "software" not in facts
    assert records[0].status == ProbeStatus.unsupported and "neither dpkg-query nor rpm" in (records[0].error or "")
    report = runner.assemble(facts, records, platform="linux", elevated=False, started=0.0,
                             fallback_host={"hostname": "h", "os": {"family": "linux"}})
    assert report.software is None  # unknown, not "nothing installed"


@pytest.mark.skipif(not which("dpkg-query") and not which("rpm"), reason="no package manager on this machine")
def test_real_package_manager() -> None:
    facts = packages.collect()
    names = {p["name"].split(":")[0] for p in facts["software"]}
    assert names and ("bash" in names or "coreutils" in names)
    report = runner.assemble(facts, [], platform="linux", elevated=False, started=0.0,
                             fallback_host={"hostname": "h", "os": {"family": "linux"}})
    assert report.software and len(report.software) == len(facts["software"])
