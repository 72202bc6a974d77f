"""Profiles from ports.toml become nmap arguments; targets are checked against unit networks."""

from __future__ import annotations

import ipaddress

import pytest

from secscan.scan.profiles import load_profiles, nmap_args, parse_profiles
from secscan.scan.targets import TargetError, nmap_spec, outside, parse_target, parse_targets


class TestProfiles:
    def test_issue_ports_are_in_the_quick_list(self) -> None:
        quick = load_profiles()["quick"]
        for port in (21, 22, 23, 25, 80, 135, 139, 445, 1433, 3306, 3389, 5900, 5901, 8080, 8443, 9100):
            assert port in quick.tcp, port
        assert quick.udp == () and not quick.version and not quick.os

    def test_profiles_include_the_ones_before(self) -> None:
        p = load_profiles()
        assert set(p["quick"].tcp) < set(p["standard"].tcp) < set(p["full"].tcp)
        assert {5938, 7070} <= set(p["standard"].tcp)  # TeamViewer, AnyDesk
        assert p["full"].udp == (137, 161) and p["full"].os and p["standard"].version

    def test_privileged_full_scan(self) -> None:
        args, lost = nmap_args(load_profiles()["full"], privileged=True)
        assert args[:2] == ["-sS", "-sU"]
        assert args[args.index("-p") + 1].endswith(",U:137,161")
        assert {"-sV", "-O", "-T4", "-PE"} <= set(args) and lost == []

    def test_unprivileged_scan_says_what_is_lost(self) -> None:
        args, lost = nmap_args(load_profiles()["full"], privileged=False, dns=False)
        assert args[0] == "-sT" and "-sU" not in args and "-O" not in args and "-n" in args
        assert "U:" not in args[args.index("-p") + 1]
        text = " ".join(lost)
        assert "MAC" in text and "OS guess" in text and "161" in text

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({}, "port: a list"),
            ({"port": [{"port": 70000, "proto": "tcp", "profile": "quick"}]}, r"port\[0\]\.port"),
            ({"port": [{"port": 80, "proto": "icmp", "profile": "quick"}]}, r"port\[0\]\.proto"),
            ({"port": [{"port": 80, "proto": "tcp", "profile": "huge"}]}, r"port\[0\]\.profile"),
            ({"port": [{"port": 80, "proto": "tcp", "profile": "quick"}]}, "profile.quick: missing"),
        ],
    )
    def test_bad_ports_file(self, data: dict, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_profiles(data, "ports.toml")


class TestTargets:
    def test_forms(self) -> None:
        assert parse_target("192.168.10.0/24") == [ipaddress.ip_network("192.168.10.0/24")]
        assert parse_target("192.168.10.7") == [ipaddress.ip_network("192.168.10.7/32")]
        assert parse_target("192.168.10.3/24") == [ipaddress.ip_network("192.168.10.0/24")]
        assert [str(n) for n in parse_target("10.0.0.10-13")] == ["10.0.0.10/31", "10.0.0.12/31"]

    @pytest.mark.parametrize(
        "raw", ["-sV", "--script=evil", "example.com", "10.0.0.300", "10.0.0.9-3", "", "1.2.3.4 5.6.7.8"]
    )
    def test_refused(self, raw: str) -> None:
        with pytest.raises(TargetError, match="target"):
            parse_targets([raw])

    def test_outside(self) -> None:
        unit = [ipaddress.ip_network("10.213.7.0/24")]
        inside = parse_targets(["10.213.7.0/25", "10.213.7.200", "10.213.7.10-20"])
        assert outside(inside, unit) == []
        assert [str(n) for n in outside(parse_targets(["10.213.0.0/16", "10.213.8.1"]), unit)] == [
            "10.213.0.0/16",
            "10.213.8.1/32",
        ]
        assert outside(parse_targets(["fd00::1"]), unit) == [ipaddress.ip_network("fd00::1/128")]

    def test_nmap_spec(self) -> None:
        assert nmap_spec(ipaddress.ip_network("10.0.0.5/32")) == "10.0.0.5"
        assert nmap_spec(ipaddress.ip_network("10.0.0.0/24")) == "10.0.0.0/24"
