"""Hostile strings through every report output, and hostile scan inputs (issue 16).

Each of the strings below is a unit name in org.yaml and the hostname of some PCs (as an agent
or an org.yaml could carry them), judged by the real policy stage, then written as every document
the report stage makes:

* HTML: escaped (no markup of ours is opened by a name, the CSP still allows only our script),
  invisible and control characters shown as their code, template syntax printed, not run;
* CSV: no cell starts like a formula, with or without leading whitespace, and no control
  character reaches a cell;
* PDF: every name printed as text (pypdf extracts it), nothing fetched, no control character;
* OCSF feed: one valid JSON document a line, each valid against OCSF, the names verbatim as
  JSON data, and no raw byte in a line that a terminal or a line splitter would act on.

The scan half: nmap XML with hosts outside the targets, repeated hosts, markup and controls in
names, oversized lists; a target list long enough to overflow the recorded command line; a
report too large for the collector; org.yaml with tags and alias graphs.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from secscan.demo import bundle
from secscan.report.csvout import write_csv
from secscan.report.feed import events, lines
from secscan.report.html import render_html
from secscan.report.inputs import ReportInput
from secscan.report.render import clean
from secscan.report.summary import Summary, summarise

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    # rich / terminal markup
    "[/bold]",
    "[link=http://127.0.0.1:9/x]click me[/link]",
    "[bold red blink]URGENT[/]",
    # terminal escape sequences (ESC, CSI, OSC 8 hyperlink, clear screen, title)
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://127.0.0.1:9/\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[2J\x1b[Hscreen",
    "\x1b]0;title\x07pc",
    "c1 csi \x9b31m and nel \x85 del \x7f",
    # spreadsheet formulas (with and without leading whitespace)
    "=cmd|' /C calc'!A0",
    " =1+1",
    "\t=HYPERLINK(\"http://127.0.0.1:9/\",\"x\")",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd",
    "\u3000\uff1d1+1",
    # HTML / script
    "<script>alert(1)</script>",
    "<img src=http://127.0.0.1:9/i.png onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "<link rel=stylesheet href=http://127.0.0.1:9/x.css>",
    "</td></tr></table><h1>forged</h1>",
    "&lt;already&gt; &amp; escaped &#x3C;",
    # template syntax (Jinja2 and others)
    "{{7*7}}",
    "{% for x in range(99999999) %}x{% endfor %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    # invisible, bidi, separators
    "gpj.\u202eexe",
    "zero\u200bwidth\u200djoin\ufeff",
    "\u2066isolated\u2069 \u061c",
    "line\u2028sep\u2029para",
    "tag\U000e0041\U000e0042chars",
    # other controls (no NUL: the contract refuses it)
    "bell\x07back\x08space\x0bvt\x0cff",
    "cr\rlf\nsplit",
    # long, Vietnamese (combining marks, as NFD), other scripts
    "Đ" * 250,
    "UBND xa\u0303 Va\u0306n La\u0300ng ngu\u031bo\u031b\u0300i du\u0300ng",
    "Ủy ban nhân dân thị trấn Hạ Hòa — Phòng Tài chính – Kế hoạch",
    "emoji \U0001f600 \U0001f4a9 and CJK 漢字",
    # paths, SQL, format strings
    "..\\..\\windows\\system32 ../../etc/passwd \\\\srv\\share",
    "'; DROP TABLE hosts; --",
    "%s%n%x%08x {0} {!r}",
]
assert len(HOSTILE) >= 30

# What must never be in a document's text (the report shows these as "[U+XXXX]").
RAW_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def hostname(i: int, text: str) -> str:
    return text[:240] + f"-{i}"  # the contract's hostname is at most 255 characters


def build() -> tuple[ReportInput, dict[str, str], list[str]]:
    """The district with HOSTILE as unit names (one each) and hostnames (cycling), judged.
    Returns (input, unit id -> hostile name, hostile hostnames)."""
    b = bundle.district(29)
    units = [u for u in b.org["units"] if u["kind"] != "district"]
    assert len(units) >= len(HOSTILE)
    names: dict[str, str] = {}
    for unit, text in zip(units, HOSTILE, strict=False):
        unit["name"] = text
        names[unit["id"]] = text
    hostnames = []
    for i, doc in enumerate(b.reports):
        doc["host"]["hostname"] = hostname(i, HOSTILE[i % len(HOSTILE)])
        hostnames.append(doc["host"]["hostname"])
    return bundle.report_input(b), names, hostnames


@pytest.fixture(scope="module")
def hostile() -> tuple[Summary, dict[str, str], list[str]]:
    inp, names, hostnames = build()
    return summarise(inp), names, hostnames


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- HTML ---------------------------------------------------------------------------------------


def test_html_escapes_every_hostile_string(hostile) -> None:
    from markupsafe import escape

    summary, names, hostnames = hostile
    page = render_html(summary, "vi")
    assert not RAW_INVISIBLE.search(page)
    for text in [*names.values(), *hostnames[: len(HOSTILE)]]:
        shown = clean(text)
        assert str(escape(shown[:40])) in page, text  # printed, escaped
        if "<" in text:
            assert text not in page
    # the markup stayed text: still exactly one script (ours) and no element from a name
    assert len(re.findall(r"<script\b", page)) == 1
    assert "<svg" not in page and "<img" not in page and "<h1>forged" not in page
    assert "<link rel=stylesheet href=http" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp[1]
    assert not re.search(r"<[a-z][^>]*\s(src|href)=[\"']?(https?:)?//", page, re.I)  # no element loads anything
    # template syntax printed, never evaluated
    assert "{{7*7}}" in page and "{% for x in range(99999999) %}" in page
    assert "[U+202E]" in page and "[U+001B][31mred" in page and "[/bold]" in page


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_cells_are_inert(hostile) -> None:
    summary, names, hostnames = hostile
    buf = io.StringIO()
    write_csv(summary, "vi", buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    cells = [c for row in rows[1:] for c in row]
    assert cells
    for cell in cells:
        assert not cell.startswith(FORMULA) and not cell.lstrip().startswith(FORMULA), repr(cell)
        assert not RAW_INVISIBLE.search(cell), repr(cell)
    shown = set(cells)
    for text in [*names.values(), *hostnames[: len(HOSTILE)]]:
        value = clean(text)
        assert value in shown or "'" + value in shown, text
    assert "'=cmd|' /C calc'!A0" in shown and "' =1+1" in shown and "'\u3000\uff1d1+1" in shown


# --- OCSF feed ----------------------------------------------------------------------------------


def test_feed_lines_are_valid_json_with_the_strings_verbatim(hostile) -> None:
    summary, names, _ = hostile
    shipped = list(lines(summary))
    assert shipped
    seen_hosts: set[str] = set()
    seen_units: set[str] = set()
    for line in shipped:
        assert line.endswith("\n") and line.count("\n") == 1
        assert len(line.splitlines()) == 1  # nothing a line splitter breaks on (U+2028, U+0085 ...)
        assert not RAW_INVISIBLE.search(line), repr(line[:200])
        event = json.loads(line)
        seen_hosts.add(event["device"]["hostname"])
        seen_units.add(event["device"]["org"]["name"])
    # every hostile string reaches the SOC verbatim, as JSON data: as a hostname and a unit name
    for text in HOSTILE:
        assert any(h.startswith(nfc(text)[:240]) for h in seen_hosts), text
    assert {nfc(n) for n in names.values()} <= seen_units


def test_feed_events_validate_against_ocsf(hostile) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    ocsf = pytest.importorskip("ocsf_json_schema")
    from secscan.report import feed

    schema = ocsf.OcsfJsonSchemaEmbedded(ocsf.get_ocsf_schema(version=feed.OCSF_VERSION)).get_class_schema(
        "compliance_finding"
    )
    validator = jsonschema.Draft202012Validator(schema)
    summary, _, _ = hostile
    shipped = list(events(summary))
    # every event carries a hostile hostname and unit name: the first few hundred and a sample
    # of the rest keep this fast (tests/report/test_feed.py validates every event of a district)
    for event in shipped[:400] + shipped[400::10]:
        errors = list(validator.iter_errors(event))
        assert not errors, [e.message[:120] for e in errors[:3]]


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_prints_every_name_as_text_and_fetches_nothing(hostile, tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    from secscan.report.config import load
    from secscan.report.pdf import printable, write_pdf

    summary, names, _ = hostile
    config = load(ROOT / "examples" / "report.yaml")
    out = tmp_path / "hostile.pdf"
    refused: list[str] = []
    write_pdf(summary, config, "vi", out, refused)
    assert refused == []  # no name made the renderer try to load anything
    text = "".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
    assert not RAW_INVISIBLE.search(text)
    page_text = flat(text)
    for name in names.values():
        # as the report prints it: invisible characters, and those the fonts cannot draw (emoji,
        # CJK), by their code
        expected = flat(printable(clean(name, 90)).rstrip("…"))[:30]
        assert expected in page_text, (name, expected)
    assert "[U+1F600]" in page_text and "[U+6F22]" in page_text


# --- scans --------------------------------------------------------------------------------------


def nmap_xml(hosts: list[tuple[str, list[str]]]) -> bytes:
    from xml.sax.saxutils import quoteattr

    body = "".join(
        f'<host><status state="up" reason="arp-response"/><address addr="{ip}" addrtype="ipv4"/><hostnames>'
        + "".join(f"<hostname name={quoteattr(n)} type=\"PTR\"/>" for n in names)
        + "</hostnames></host>\n"
        for ip, names in hosts
    )
    return (
        '<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap" version="7.93">\n'
        f'{body}<runstats><finished time="1" elapsed="1" exit="success"/></runstats></nmaprun>'
    ).encode()


XML_SAFE = [t for t in HOSTILE if not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", t)]


def test_scan_xml_keeps_hostile_names_as_data_and_only_the_targets() -> None:
    from secscan.model.scan import ScanReport
    from secscan.scan.nmap_xml import parse
    from secscan.scan.targets import parse_targets

    hosts = [(f"10.213.7.{i + 1}", [XML_SAFE[i]]) for i in range(len(XML_SAFE))]
    intruders = [("8.8.8.8", ["evil"]), ("10.213.8.5", ["neighbour"]), ("10.213.7.1", ["again"])]
    run = parse(nmap_xml(hosts + intruders), parse_targets(["10.213.7.0/24"]))
    assert [str(h.ip) for h in run.hosts] == [ip for ip, _ in hosts]
    assert [h.hostnames[0] for h in run.hosts] == [t[:511] + "…" if len(t) > 512 else nfc(t) for t in XML_SAFE]
    assert (run.outside, run.repeated) == (2, 1)
    report = ScanReport.model_validate({
        "scan_id": "0b7f3f3e-3c1e-4a57-9a53-2f1b6f0e1a01", "unit": "xa-lab", "targets": ["10.213.7.0/24"],
        "nmap": {"args": "nmap"}, "started_at": "2026-11-26T08:00:00+07:00",
        "finished_at": "2026-11-26T08:01:00+07:00", "notes": run.notes,
        "hosts": [h.model_dump(mode="json") for h in run.hosts],
    })
    assert len(report.hosts) == len(XML_SAFE)


def test_scan_xml_with_controls_is_refused_whole() -> None:
    """XML 1.0 cannot carry C0 controls: such an 'nmap output' is refused with its line, never
    half-read."""
    from secscan.scan.nmap_xml import NmapXmlError, parse

    with pytest.raises(NmapXmlError, match=r"nmap XML: line \d+"):
        parse(nmap_xml([("10.213.7.5", ["\x1b[31mred"])]))


def test_a_scan_of_a_province_is_split_not_lost() -> None:
    """A scan of 15,000 live hosts: several reports the collector each takes, every host kept."""
    from secscan.collector.intake import parse as intake
    from secscan.model.scan import ScanReport
    from secscan.scan.runner import MAX_REPORT_BYTES, split

    hosts: list[dict[str, Any]] = [
        {"ip": str(ipaddress.ip_address("10.0.0.1") + i), "hostnames": [XML_SAFE[i % len(XML_SAFE)][:200]],
         "ports": [{"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"}]}
        for i in range(15_000)
    ]
    report = ScanReport.model_validate({
        "scan_id": "0b7f3f3e-3c1e-4a57-9a53-2f1b6f0e1a02", "unit": "huyen", "targets": ["10.0.0.0/16"],
        "nmap": {"args": "nmap -oX - -- 10.0.0.0/16"}, "started_at": "2026-11-26T08:00:00+07:00",
        "finished_at": "2026-11-26T09:00:00+07:00", "hosts": hosts,
    })
    parts = split(report)
    assert len(parts) >= 2
    kept = []
    for part, text in parts:
        raw = text.encode()
        assert len(raw) <= MAX_REPORT_BYTES
        assert intake(raw).kind == "scan"
        kept += [str(h.ip) for h in part.hosts]
    assert kept == [h["ip"] for h in hosts]


@pytest.mark.parametrize(
    "text",
    [
        "units: !!python/object:os.system {cmd: ls}\n",
        "units:\n  - !!python/object/new:secscan.Evil {id: a}\n",
        "name: !!python/name:os.system ''\n",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ) + "units: *i\n",
    ],
    ids=["object-on-mapping", "object-in-list", "name", "alias-graph"],
)
def test_hostile_org_yaml_is_refused_everywhere(tmp_path: Path, text: str) -> None:
    """`secscan org lint`, the collector's org loading (load_org) and `secscan scan --org` read
    org.yaml through one reader: each refuses with file:line and reason, quickly."""
    import time

    from click.testing import CliRunner

    from secscan.policy import PolicyError, load_org
    from secscan.wiring.scan import scan

    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(PolicyError) as raised:
        load_org(path)
    assert str(raised.value).startswith(f"{path}:")
    fake = tmp_path / "nmap"  # answers -V like nmap, and would log a scan: none must happen
    log = tmp_path / "ran"
    fake.write_text(f'#!/bin/sh\n[ "$1" = -V ] && echo "Nmap version 7.93 ( https://nmap.org )" && exit 0\n'
                    f"touch {log}\nexit 1\n")
    fake.chmod(0o755)
    result = CliRunner().invoke(scan, ["10.0.0.5", "--unit", "a", "--org", str(path), "--nmap", str(fake)])
    assert result.exit_code == 1 and f"{path}:" in result.output
    assert ("is not allowed" in result.output) or ("more than 200,000 values" in result.output)
    assert not log.exists()
    assert time.monotonic() - start < 30
