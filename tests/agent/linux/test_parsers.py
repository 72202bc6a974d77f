"""The pure decoders of the Linux probes, on recorded inputs for branches this machine lacks and on
hostile inputs (truncated, binary garbage, huge, non-UTF-8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from secscan.agent.errors import ProbeUnsupported
from secscan.agent.linux import accounts, antivirus, disk, eol, firewall, identity, network, ssh, updates

FIX = Path(__file__).parents[2] / "fixtures" / "linux"


def read(name: str) -> str:
    return (FIX / name).read_text()


# --- ClamAV ----------------------------------------------------------------------------------


def test_cvd_header_decodes_build_time_version_and_count() -> None:
    head = antivirus.parse_cvd_header((FIX / "daily.cvd.header").read_bytes())
    assert head["version"] == 27400
    assert head["signatures"] == 2067543
    assert head["built_at"] == datetime(2024, 9, 17, 10, 25, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ClamAV-VDB:17 Sep", "too short"),
        (b"\x00\xff" * 300, "no ClamAV-VDB: magic"),
        (b"ClamAV-VDB:" + "Tháng 9".encode() + b":1:2:3:4:5:6:7" + b" " * 40, "not ASCII"),
        (b"ClamAV-VDB:17 Sep 2024:27400:2067543:90:md5:sig:builder:notanumber" + b" " * 40, "not a number"),
        (b"ClamAV-VDB:17 Sep 2024:27400:2067543:90:md5:sig:builder:99" + b" " * 40, "out of range"),
        (b"ClamAV-VDB:a:b:c" + b" " * 60, "fields"),
    ],
)
def test_cvd_header_garbage_is_an_error_with_reason(data: bytes, message: str) -> None:
    with pytest.raises(antivirus.HeaderError, match=message):
        antivirus.parse_cvd_header(data)


def test_clamav_product_reads_age_from_database(tmp_path: Path) -> None:
    (tmp_path / "daily.cvd").write_bytes((FIX / "daily.cvd.header").read_bytes())
    now = datetime(2024, 9, 27, 10, 25, 2, tzinfo=UTC)
    product = antivirus.clamav_product(now, db_dirs=(str(tmp_path),), running={"clamd", "freshclam"})
    assert product is not None
    assert product["signature_age_days"] == 10.0
    assert product["signature_version"] == "27400"
    assert product["enabled"] is True and product["real_time"] is False  # no clamonacc


def test_clamav_unreadable_database_leaves_age_unknown(tmp_path: Path) -> None:
    (tmp_path / "daily.cld").write_bytes(b"\x89PNG garbage" * 10)
    product = antivirus.clamav_product(datetime.now(UTC), db_dirs=(str(tmp_path),), running=set())
    assert product is not None
    assert "signature_age_days" not in product
    assert product["raw"]["errors"] and "magic" in product["raw"]["errors"][0]


def test_clamav_absent_is_no_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(antivirus, "which", lambda tool: None)
    assert antivirus.clamav_product(datetime.now(UTC), db_dirs=(str(tmp_path),), running=set()) is None


def test_other_linux_av_by_process_name() -> None:
    found = antivirus.other_products({"bash", "kesl", "sshd"})
    assert [p["vendor"] for p in found] == ["Kaspersky"]


# --- firewall --------------------------------------------------------------------------------


def test_ufw_active_and_inactive() -> None:
    active = firewall.parse_ufw_status(read("ufw_status_active.txt"))
    assert active["enabled"] is True and active["profiles"][0]["default_inbound"] == "deny (incoming)"
    assert firewall.parse_ufw_status(read("ufw_status_inactive.txt"))["enabled"] is False
    with pytest.raises(ValueError, match="unexpected ufw output"):
        firewall.parse_ufw_status("ERROR: You need to be root to run this script")


def test_ufw_conf() -> None:
    assert firewall.parse_ufw_conf('ENABLED="yes"\nLOGLEVEL=low\n') is True
    assert firewall.parse_ufw_conf("ENABLED=no\n") is False
    assert firewall.parse_ufw_conf("") is None


@pytest.mark.parametrize(("name", "enabled"), [("nft_ruleset_drop.json", True), ("nft_ruleset_accept.json", False),
                                               ("nft_ruleset_reject_rule.json", True)])
def test_nft_ruleset(name: str, enabled: bool) -> None:
    assert firewall.parse_nft_json(read(name))["enabled"] is enabled


def test_nft_garbage() -> None:
    with pytest.raises(ValueError):
        firewall.parse_nft_json('{"something": 1}')
    with pytest.raises(ValueError):
        firewall.parse_nft_json("Error: Operation not permitted")


def test_iptables() -> None:
    assert firewall.parse_iptables_s(read("iptables_drop.txt"))["enabled"] is True
    assert firewall.parse_iptables_s(read("iptables_open.txt"))["enabled"] is False
    assert firewall.parse_iptables_s("-P INPUT ACCEPT\n-A INPUT -p tcp --dport 23 -j REJECT\n")["enabled"] is True
    with pytest.raises(ValueError):
        firewall.parse_iptables_s("iptables: Permission denied (you must be root)")


# --- updates ---------------------------------------------------------------------------------


def test_apt_periodic_later_files_win() -> None:
    values = updates.parse_apt_periodic([read("20auto-upgrades"), 'APT::Periodic::Unattended-Upgrade "0";'])
    assert values == {"Update-Package-Lists": 1, "Unattended-Upgrade": 0}


def test_dpkg_log_newest_upgrade() -> None:
    stamp = updates.parse_dpkg_log(read("dpkg.log"))
    assert stamp is not None and stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S") == "2026-10-02 11:12:13"
    assert updates.parse_dpkg_log("garbage\n\x00\x01") is None


def test_apt_simulation_counts_security() -> None:
    assert updates.parse_apt_simulation(read("apt-simulate.txt")) == (2, 1)


def test_apt_cache_disabled_detection() -> None:
    assert updates.apt_cache_disabled('Dir::Cache "var/cache/apt";\nDir::Cache::pkgcache "";\n')
    assert not updates.apt_cache_disabled('Dir::Cache::pkgcache "pkgcache.bin";\n')


# --- accounts and policies -------------------------------------------------------------------


def test_login_defs_debian_never_expires() -> None:
    policy = accounts.password_policy(read("login.defs.debian"), read("common-password.debian"), None)
    assert policy["max_age_days"] == 0  # 99999 = never expires
    assert policy["complexity"] is False and policy["min_length"] is None


def test_login_defs_hardened_with_pwquality() -> None:
    policy = accounts.password_policy(read("login.defs.hardened"), read("common-password.pwquality"),
                                      "minlen = 8\nminclass = 0\n")
    assert policy["max_age_days"] == 90 and policy["min_age_days"] == 1
    assert policy["min_length"] == 12  # the PAM line overrides pwquality.conf
    assert policy["complexity"] is True
    assert policy["history"] == 5


def test_login_defs_garbage_values_are_unknown() -> None:
    policy = accounts.password_policy("PASS_MAX_DAYS abc\n\x00\x01\n", None, None)
    assert policy["max_age_days"] is None


def test_lockout_faillock_and_absent() -> None:
    lock = accounts.lockout(read("common-auth.faillock"), None)
    assert lock == {"threshold": 5, "duration_minutes": 15, "reset_minutes": 15, "source": "pam_faillock"}
    assert accounts.lockout("auth required pam_unix.so\n", None)["threshold"] == 0
    assert accounts.lockout(None, None) == {}


def test_sudoers_nopasswd() -> None:
    text = ("Defaults env_reset\n# admin ALL=(ALL) NOPASSWD: ALL\n%sudo ALL=(ALL:ALL) ALL\n"
            "deploy ALL=(ALL) NOPASSWD: ALL\n")
    assert accounts.parse_sudoers_nopasswd(text) == ["deploy ALL=(ALL) NOPASSWD: ALL"]


# --- ssh -------------------------------------------------------------------------------------


def test_sshd_first_value_wins_and_match_ignored() -> None:
    values = ssh.effective([str(FIX / "sshd_config")])
    assert ssh.parse(values) == {"installed": True, "permit_root_login": "no", "password_authentication": True}


def test_sshd_defaults_when_unset(tmp_path: Path) -> None:
    (tmp_path / "sshd_config").write_text("Port 22\n")
    assert ssh.parse(ssh.effective([str(tmp_path / "sshd_config")]))["permit_root_login"] == "prohibit-password"


def test_sshd_include(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "10-hard.conf").write_text("PasswordAuthentication no\n")
    (tmp_path / "sshd_config").write_text(f"Include {tmp_path}/d/*.conf\nPasswordAuthentication yes\n")
    assert ssh.parse(ssh.effective([str(tmp_path / "sshd_config")]))["password_authentication"] is False


# --- disk encryption -------------------------------------------------------------------------


def _sys_tree(root: Path, crypt: bool) -> None:
    """A /sys/dev/block tree: 253:1 (LVM) on 253:0 (dm-crypt or plain dm) on 8:2."""
    lvm = root / "253:1"
    (lvm / "dm").mkdir(parents=True)
    (lvm / "dm" / "uuid").write_text("LVM-abc\n")
    (lvm / "slaves" / "dm-0").mkdir(parents=True)
    (lvm / "slaves" / "dm-0" / "dev").write_text("253:0\n")
    luks = root / "253:0"
    (luks / "dm").mkdir(parents=True)
    (luks / "dm" / "uuid").write_text(("CRYPT-LUKS2-1234-root" if crypt else "LVM-xyz") + "\n")
    (root / "8:2").mkdir()


@pytest.mark.parametrize("crypt", [True, False])
def test_dm_crypt_under_lvm(tmp_path: Path, crypt: bool) -> None:
    _sys_tree(tmp_path, crypt)
    devno, fstype, _ = disk.parse_root_mount(read("mountinfo.crypt"))
    assert (devno, fstype) == ("253:1", "ext4")
    assert disk.is_crypt(devno, str(tmp_path)) is crypt


def test_container_root_has_no_block_device() -> None:
    assert disk.parse_root_mount(read("mountinfo.container"))[0].startswith("0:")
    with pytest.raises(ValueError):
        disk.parse_root_mount("garbage")


# --- identity, EOL, remote tools -------------------------------------------------------------


def test_os_release_quoting_and_bad_lines() -> None:
    osr = identity.parse_os_release(read("os-release.quoted"))
    assert osr == {"PRETTY_NAME": "Ubuntu 22.04.4 LTS", "NAME": "Ubuntu", "VERSION_ID": "22.04", "ID": "ubuntu"}


def test_eol_lookup() -> None:
    row = eol.lookup("debian", "11", date(2026, 11, 26))
    assert row["supported"] is False and row["days_left"] < 0 and "unverified" in row["basis"]
    assert eol.lookup("ubuntu", "24.04", date(2026, 11, 26))["supported"] is True
    with pytest.raises(ProbeUnsupported, match="not in the end-of-life table"):
        eol.lookup("gentoo", "2.17", date(2026, 11, 26))


def test_remote_tools_by_process_and_path() -> None:
    found = network.remote_tools({"anydesk", "bash"}, exists=lambda p: p == "/opt/teamviewer")
    assert {t["name"]: (t["running"], t["installed"]) for t in found} == {
        "TeamViewer": (False, True), "AnyDesk": (True, None)}


# --- hostile file sizes ----------------------------------------------------------------------


def test_huge_file_is_refused(tmp_path: Path) -> None:
    from secscan.agent._exec import read_text

    big = tmp_path / "login.defs"
    big.write_bytes(b"A" * (2 * 1024 * 1024))
    with pytest.raises(ValueError, match="larger than"):
        read_text(str(big))


def test_non_utf8_is_decoded_not_raised(tmp_path: Path) -> None:
    from secscan.agent._exec import read_text

    f = tmp_path / "os-release"
    f.write_bytes(b'NAME="Deb\xff\xfeian"\nVERSION_ID=12\n')
    osr = identity.parse_os_release(read_text(str(f)))
    assert osr["VERSION_ID"] == "12" and "\ufffd" in osr["NAME"]
