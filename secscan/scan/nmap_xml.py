"""Read nmap's XML output (``-oX``) into ScanReport hosts, incrementally and defensively.

nmap's XML is input like any other: a hostile device can put markup in its reverse-DNS name or
a megabyte in a service banner, and a killed nmap leaves the document cut off. So:

* expat, fed chunk by chunk (the same parser reads a live nmap's stdout and a saved file), with
  entity declarations refused outright: no entity expansion, no external entities, no DTD;
* text fields are clipped to the contract's limits instead of failing the whole scan, and a host's
  hostnames and ports, and the run's notes, are bounded (``MAX_HOSTNAMES``, ``MAX_PORTS``,
  ``MAX_NOTES``), so one host always fits in a ScanReport the collector takes;
* given the scan's targets, a host outside them is dropped, counted and noted: nmap reports only
  the hosts it was asked to scan, so such a host can only come from a hostile or confused output,
  and must not put other addresses (another unit's, the Internet's) into this unit's report; a host
  reported twice is kept once;
* a cut-off document, a document that is not nmap's, an nmap that reported an error, or an
  address that is not an address is a :class:`NmapXmlError` naming the line and the reason.

``parse(xml_bytes)`` is the pure entry point; :class:`NmapXmlReader` is the streaming one and
reports progress (``<taskprogress>``, emitted under ``--stats-every``) and finished hosts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from pydantic import ValidationError

from secscan.model.scan import OsGuess, Port, ScannedHost
from secscan.scan.targets import Network, TargetSet

MAX_TEXT = 512  # ShortText's bound in the contract
MAX_OS_GUESSES = 3  # nmap lists up to ~10 guesses; the best three say enough
MAX_HOSTNAMES = 16  # nmap writes one or two (user, PTR)
MAX_PORTS = 1024  # per host; a profile scans ~50 (ports.toml), so only a hostile output has more
MAX_NOTES = 50  # then one line saying how many more
EXAMPLES = 5  # dropped addresses named in a note


class NmapXmlError(ValueError):
    """The XML is not a complete, successful nmap run."""


@dataclass
class ParsedRun:
    version: str | None = None
    args: str | None = None
    hosts: list[ScannedHost] = field(default_factory=list)
    elapsed: float | None = None
    notes: list[str] = field(default_factory=list)
    notes_left_off: int = 0
    outside: int = 0  # hosts dropped: not inside the scan's targets
    repeated: int = 0  # hosts dropped: an address already reported
    dropped: list[str] = field(default_factory=list)  # the notes saying so (also in ``notes``)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self.notes_left_off += 1


# (task name, or None when a host was finished; percent done, None at a task's start/end;
#  hosts found up so far)
ProgressFn = Callable[[str | None, float | None, int], None]


def parse(xml: bytes, targets: Sequence[Network] | None = None) -> ParsedRun:
    """The hosts nmap found up in ``xml`` (a whole ``-oX`` document); with ``targets``, only those
    inside them."""
    reader = NmapXmlReader(targets=targets)
    reader.feed(xml)
    return reader.close()


def _clip(value: str | None, what: str, run: ParsedRun) -> str | None:
    if value is None or len(value) <= MAX_TEXT:
        return value
    run.note(f"{what}: {len(value)} characters clipped to {MAX_TEXT}")
    return value[: MAX_TEXT - 1] + "…"


class NmapXmlReader:
    def __init__(self, progress: ProgressFn | None = None, targets: Sequence[Network] | None = None) -> None:
        self.run = ParsedRun()
        self._progress = progress
        self._targets = TargetSet(targets) if targets is not None else None
        self._seen: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
        self._outside_examples: list[str] = []
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.UnparsedEntityDeclHandler = self._refuse_entity
        self._parser.ExternalEntityRefHandler = self._refuse_entity
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._stack: list[str] = []
        self._host: dict[str, Any] | None = None
        self._port: dict[str, Any] | None = None
        self._finished: dict[str, str] | None = None
        self._seen_root = False

    # --- feeding --------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise self._error(expat.ErrorString(exc.code)) from None

    def close(self) -> ParsedRun:
        try:
            self._parser.Parse(b"", True)
        except expat.ExpatError as exc:
            reason = expat.ErrorString(exc.code)
            if self._seen_root and exc.code in (
                expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
                expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
                expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
            ):
                reason = f"document ends early ({reason}): nmap was stopped or its output was cut off"
            raise self._error(reason) from None
        if not self._seen_root:
            raise NmapXmlError("nmap XML: empty document (no <nmaprun>)")
        if self._finished is None:
            raise NmapXmlError("nmap XML: no <runstats><finished>: nmap did not finish the scan")
        if self._finished.get("exit", "success") != "success":
            raise NmapXmlError(f"nmap reported an error: {self._finished.get('errormsg') or 'no message'}")
        run = self.run
        if run.notes_left_off:
            run.notes.append(f"… and {run.notes_left_off} more notes like these")
            run.notes_left_off = 0
        if run.outside:
            named = ", ".join(self._outside_examples) + (", …" if run.outside > len(self._outside_examples) else "")
            run.dropped.append(
                f"{run.outside} hosts in nmap's output outside the scan's targets were dropped ({named}): "
                "nmap reports only the hosts it was asked to scan, so that output was not this scan's alone"
            )
        if run.repeated:
            run.dropped.append(f"{run.repeated} hosts reported twice in nmap's output were dropped (the first kept)")
        run.notes += run.dropped
        return run

    def _error(self, reason: str) -> NmapXmlError:
        p = self._parser
        return NmapXmlError(
            f"nmap XML: line {p.ErrorLineNumber or p.CurrentLineNumber}, "
            f"column {p.ErrorColumnNumber or p.CurrentColumnNumber}: {reason}"
        )

    def _refuse_entity(self, *_: object) -> None:
        raise NmapXmlError(
            f"nmap XML: line {self._parser.CurrentLineNumber}: entity declarations are not allowed "
            "(nmap never writes them; refusing a possible entity-expansion attack)"
        )

    # --- elements -------------------------------------------------------------------------------

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self._stack[-1] if self._stack else None
        self._stack.append(name)
        if parent is None:
            if name != "nmaprun":
                raise self._error(f"root element is <{name}>, not <nmaprun>: not nmap XML output")
            self._seen_root = True
            self.run.version = _clip(attrs.get("version"), "nmap version", self.run)
            self.run.args = attrs.get("args")
        elif parent == "nmaprun":
            self._start_top(name, attrs)
        elif name == "finished" and parent == "runstats":
            self._finished = attrs
            try:
                self.run.elapsed = float(attrs.get("elapsed", ""))
            except ValueError:
                self.run.elapsed = None
        elif self._host is not None:
            self._start_in_host(name, parent, attrs)

    def _start_top(self, name: str, attrs: dict[str, str]) -> None:
        if name == "host":
            self._host = {"addresses": {}, "hostnames": [], "ports": [], "os": [], "state": None}
        elif name in ("taskbegin", "taskend"):
            self._report(attrs.get("task", ""), None)
        elif name == "taskprogress":
            try:
                percent = float(attrs.get("percent", ""))
            except ValueError:
                percent = None
            self._report(attrs.get("task", ""), percent)

    def _start_in_host(self, name: str, parent: str, attrs: dict[str, str]) -> None:
        host = self._host
        assert host is not None
        if name == "status" and parent == "host":
            host["state"] = attrs.get("state")
            host["reason"] = attrs.get("reason")
        elif name == "address" and parent == "host":
            kind = attrs.get("addrtype", "")
            host["addresses"].setdefault(kind, (attrs.get("addr", ""), attrs.get("vendor")))
        elif name == "hostname" and parent == "hostnames":
            hostname = attrs.get("name")
            if hostname and hostname not in host["hostnames"]:
                if len(host["hostnames"]) < MAX_HOSTNAMES:
                    host["hostnames"].append(hostname)
                else:
                    host["hostnames_over"] = host.get("hostnames_over", 0) + 1
        elif name == "port" and parent == "ports":
            self._port = {"port": attrs.get("portid"), "proto": attrs.get("protocol")}
            host["port_count"] = host.get("port_count", 0) + 1
        elif name == "state" and parent == "port" and self._port is not None:
            self._port["state"] = attrs.get("state")
        elif name == "service" and parent == "port" and self._port is not None:
            self._port.update(
                service=attrs.get("name"),
                product=attrs.get("product"),
                version=attrs.get("version"),
                extrainfo=attrs.get("extrainfo"),
                device_type=attrs.get("devicetype"),
            )
        elif name == "osmatch" and parent == "os" and len(host["os"]) < MAX_OS_GUESSES:
            host["os"].append((attrs.get("name", ""), attrs.get("accuracy")))

    def _end(self, name: str) -> None:
        self._stack.pop()
        depth = len(self._stack)
        if name == "port" and self._port is not None:
            assert self._host is not None
            if len(self._host["ports"]) < MAX_PORTS:
                self._host["ports"].append(self._port)
            self._port = None
        elif name == "host" and depth == 1:
            host, self._host = self._host, None
            if host is not None and host["state"] == "up" and self._wanted(host):
                self.run.hosts.append(self._build_host(host))
                self._report(None, None)

    def _wanted(self, raw: dict[str, Any]) -> bool:
        """False for a host outside the targets or already reported (counted; noted at close). An
        address that is not one is kept here, for _build_host to refuse with its line."""
        addresses = raw["addresses"]
        text, _ = addresses.get("ipv4") or addresses.get("ipv6") or ("", None)
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return True
        if self._targets is not None and ip not in self._targets:
            self.run.outside += 1
            if len(self._outside_examples) < EXAMPLES:
                self._outside_examples.append(str(ip))
            return False
        if ip in self._seen:
            self.run.repeated += 1
            return False
        self._seen.add(ip)
        return True

    def _report(self, task: str | None, percent: float | None) -> None:
        if self._progress is not None:
            self._progress(task, percent, len(self.run.hosts))

    def _build_host(self, raw: dict[str, Any]) -> ScannedHost:
        run = self.run
        addresses = raw["addresses"]
        ip, _ = addresses.get("ipv4") or addresses.get("ipv6") or ("", None)
        mac, vendor = addresses.get("mac") or (None, None)
        where = f"host {ip[:64] or '?'}"
        if raw.get("port_count", 0) > MAX_PORTS:
            run.note(f"{where}: {raw['port_count']} ports listed, the first {MAX_PORTS} kept")
        if raw.get("hostnames_over"):
            listed = MAX_HOSTNAMES + raw["hostnames_over"]
            run.note(f"{where}: {listed} hostnames listed, the first {MAX_HOSTNAMES} kept")
        try:
            ports = [
                Port(
                    port=int(p["port"]),
                    proto=p["proto"],
                    state=_clip(p.get("state") or "unknown", where, run),
                    **{
                        k: _clip(p.get(k), f"{where} port {p['port']} {k}", run)
                        for k in ("service", "product", "version", "extrainfo", "device_type")
                    },
                )
                for p in raw["ports"]
            ]
            guesses = [
                OsGuess(name=_clip(name, f"{where} OS guess", run), accuracy=int(acc) if acc else None)
                for name, acc in raw["os"][:MAX_OS_GUESSES]
            ]
            return ScannedHost(
                ip=ip,
                mac=mac.lower() if mac else None,
                vendor=_clip(vendor, f"{where} MAC vendor", run),
                hostnames=[h for h in (_clip(n, f"{where} hostname", run) for n in raw["hostnames"]) if h],
                status_reason=_clip(raw.get("reason"), f"{where} status reason", run),
                os_guess=guesses,
                ports=ports,
            )
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            raise self._error(f"{where}: {_first_error(exc)}") from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"])
        return f"{loc}: {err['msg']} (got {str(err.get('input'))[:60]!r})"
    return str(exc)
