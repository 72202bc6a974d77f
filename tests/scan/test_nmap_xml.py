"""The nmap XML reader on recorded outputs (from the namespace lab) and on hostile ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secscan.scan.nmap_xml import MAX_TEXT, NmapXmlError, NmapXmlReader, parse

NMAP = Path(__file__).parents[1] / "fixtures" / "nmap"


def recorded(name: str) -> bytes:
    return (NMAP / f"{name}.xml").read_bytes()


def one_host(host: str = "", ports: str = "", head: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>{head}
<nmaprun scanner="nmap" args="nmap -oX - 10.0.0.5" version="7.93" xmloutputversion="1.05">
<host><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="10.0.0.5" addrtype="ipv4"/><address addr="00:1B:78:AA:00:10" addrtype="mac" vendor="Hewlett Packard"/>
<hostnames>{host}</hostnames><ports>{ports}</ports></host>
<runstats><finished time="1" elapsed="0.5" exit="success"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>""".encode()


class TestRecorded:
    def test_quick_scan_of_a_24(self) -> None:
        run = parse(recorded("lab-quick-24"))
        assert run.version == "7.93"
        assert run.args is not None and run.args.startswith("nmap -oX")
        by_ip = {str(h.ip): h for h in run.hosts}
        assert sorted(by_ip) == ["10.213.7.1", "10.213.7.10", "10.213.7.11", "10.213.7.12"]
        printer = by_ip["10.213.7.10"]
        assert printer.mac == "00:1b:78:aa:00:10" and printer.vendor == "Hewlett Packard"
        assert printer.hostnames == ["may-in-tang2.ubnd.local"]
        assert printer.status_reason == "arp-response"
        assert {p.port for p in printer.ports if p.state == "open"} == {80, 9100}
        assert {p.port for p in by_ip["10.213.7.11"].ports if p.state == "open"} == {23, 445}
        assert by_ip["10.213.7.1"].mac is None  # the scanner itself: no MAC for its own address

    def test_service_versions_and_device_type(self) -> None:
        hosts = {str(h.ip): h for h in parse(recorded("lab-standard")).hosts}
        http = next(p for p in hosts["10.213.7.10"].ports if p.port == 80)
        assert http.service == "http" and http.device_type == "printer"
        assert http.product is not None and "LaserJet" in http.product
        telnet = next(p for p in hosts["10.213.7.11"].ports if p.port == 23)
        assert (telnet.service, telnet.product) == ("telnet", "Linux telnetd")

    def test_os_guess_keeps_the_best_three(self) -> None:
        host = parse(recorded("lab-os")).hosts[0]
        assert len(host.os_guess) == 3
        assert host.os_guess[0].name.startswith("Linux") and host.os_guess[0].accuracy == 96

    def test_progress_is_reported_while_feeding(self) -> None:
        seen: list[tuple[str | None, float | None, int]] = []
        reader = NmapXmlReader(lambda task, pct, hosts: seen.append((task, pct, hosts)))
        data = recorded("lab-standard")
        for i in range(0, len(data), 512):  # as nmap's stdout arrives: in pieces
            reader.feed(data[i : i + 512])
        run = reader.close()
        assert ("Service scan", 80.0, 0) in seen
        assert seen[-1] == (None, None, len(run.hosts)) and len(run.hosts) == 3

    @pytest.mark.parametrize("name", ["lab-quick-24", "lab-standard", "lab-os"])
    def test_agrees_with_python_nmap(self, name: str) -> None:
        """python-nmap's own parser, on the same real outputs, as an independent oracle."""
        import nmap

        theirs = nmap.PortScanner().analyse_nmap_xml_scan(recorded(name).decode())["scan"]
        ours = {str(h.ip): h for h in parse(recorded(name)).hosts}
        assert sorted(ours) == sorted(theirs)
        for ip, host in ours.items():
            expected = theirs[ip]
            assert (host.mac or "") == expected["addresses"].get("mac", "").lower()
            assert {(p.port, p.state) for p in host.ports} == {
                (n, v["state"]) for n, v in expected.get("tcp", {}).items()
            }
            assert [h for h in host.hostnames] == [h["name"] for h in expected["hostnames"] if h["name"]]


class TestHostile:
    def test_markup_in_a_hostname_is_kept_as_text(self) -> None:
        run = parse(one_host('<hostname name="&lt;script&gt;alert(1)&lt;/script&gt;.lan" type="PTR"/>'))
        assert run.hosts[0].hostnames == ["<script>alert(1)</script>.lan"]

    def test_raw_markup_breaking_the_document_is_an_error(self) -> None:
        with pytest.raises(NmapXmlError, match=r"line \d+, column \d+: "):
            parse(one_host('<hostname name="a"b" type="PTR"/>'))

    def test_entity_expansion_is_refused(self) -> None:
        bomb = '<!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        data = one_host('<hostname name="&b;" type="PTR"/>').replace(b"<!DOCTYPE nmaprun>", bomb.encode())
        with pytest.raises(NmapXmlError, match="entity declarations are not allowed"):
            parse(data)

    def test_external_entity_is_refused(self) -> None:
        xxe = '<!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        data = one_host('<hostname name="&x;" type="PTR"/>').replace(b"<!DOCTYPE nmaprun>", xxe.encode())
        with pytest.raises(NmapXmlError, match="entity declarations are not allowed"):
            parse(data)

    @pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
    def test_truncated_output_is_a_clear_error(self, cut: float) -> None:
        data = recorded("lab-quick-24")
        with pytest.raises(NmapXmlError, match=r"(ends early|no <runstats>)"):
            parse(data[: int(len(data) * cut)])

    def test_complete_document_without_runstats(self) -> None:
        data = re.sub(rb"<runstats>.*</runstats>", b"", recorded("lab-quick-24"), flags=re.S)
        with pytest.raises(NmapXmlError, match="did not finish"):
            parse(data)

    def test_nmap_error_exit_is_reported(self) -> None:
        data = one_host().replace(b'exit="success"', b'exit="error" errormsg="Failed to open device eth9"')
        with pytest.raises(NmapXmlError, match="Failed to open device eth9"):
            parse(data)

    def test_not_nmap_xml(self) -> None:
        with pytest.raises(NmapXmlError, match="not nmap XML"):
            parse(b"<?xml version='1.0'?><html><body/></html>")

    @pytest.mark.parametrize("data", [b"", b"   ", b"\x00\xff garbage"])
    def test_empty_or_binary(self, data: bytes) -> None:
        with pytest.raises(NmapXmlError):
            parse(data)

    def test_an_address_that_is_not_one(self) -> None:
        with pytest.raises(NmapXmlError, match=r"host 999\.1\.2\.3: ip"):
            parse(one_host().replace(b'10.0.0.5" addrtype', b'999.1.2.3" addrtype'))

    def test_bad_port_number(self) -> None:
        ports = '<port protocol="tcp" portid="99999"><state state="open"/></port>'
        with pytest.raises(NmapXmlError, match="port"):
            parse(one_host(ports=ports))

    def test_megabyte_banner_is_clipped_and_noted(self) -> None:
        product = "A" * 1_000_000
        ports = (
            f'<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="{product}"/></port>'
        )
        run = parse(one_host(ports=ports))
        assert len(run.hosts[0].ports[0].product or "") == MAX_TEXT
        assert any("product: 1000000 characters clipped" in note for note in run.notes)

    def test_huge_output_many_hosts(self) -> None:
        """Thousands of live hosts parse, streamed, with every host kept."""
        head, _, rest = recorded("lab-quick-24").partition(b"<host ")
        block = b"<host " + rest.split(b"</host>")[0] + b"</host>\n"
        tail = b"<runstats>" + rest.split(b"<runstats>")[1]
        reader = NmapXmlReader()
        reader.feed(head)
        n = 3_000
        for i in range(n):
            reader.feed(block.replace(b'10.213.7.10"', f'10.{i // 250}.{i % 250}.1"'.encode()))
        reader.feed(tail)
        run = reader.close()
        assert len(run.hosts) == n
        assert str(run.hosts[-1].ip) == f"10.{(n - 1) // 250}.{(n - 1) % 250}.1"

    def test_down_hosts_and_hosthints_are_not_hosts(self) -> None:
        data = one_host().replace(b'<status state="up"', b'<status state="down"')
        assert parse(data).hosts == []
        assert len(parse(recorded("lab-standard")).hosts) == 3  # it has 3 <hosthint> too
