"""Listeners for the scan lab: run inside a test's network namespace with ``ip netns exec``.

``python lab_listener.py 23:telnet 80:http 445:close 9100:close`` binds each port on all
addresses of the namespace, prints ``ready`` once every socket listens, and serves until killed.
Each behaviour is just enough for nmap to see an open port and, where it probes, a service.
"""

from __future__ import annotations

import asyncio
import sys

# netkit telnetd's option negotiation, which nmap's NULL probe recognises as "Linux telnetd" at once.
TELNET_GREETING = b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"
# An HP printer's embedded web server asking for a login: nmap's GetRequest probe matches it
# ("HP LaserJet M404 printer http config", device type printer) instead of trying every probe.
HTTP_RESPONSE = (
    b"HTTP/1.1 401 Unauthorized\r\n"
    b"Server: HP HTTP Server; HP LaserJet M404 - W1A53A; Serial Number: VNB3K12345; Built: Mon Jan 01 2024\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)


async def telnet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(TELNET_GREETING)
    await _drain_and_close(reader, writer)


async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        writer.write(HTTP_RESPONSE)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        pass
    await _drain_and_close(reader, writer, wait=0)


async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Accept and hang up at once: open to a port scan, "tcpwrapped" to version detection, so
    # nmap does not spend its whole probe list waiting on a silent port.
    writer.close()


async def _drain_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wait: float = 2) -> None:
    try:
        await writer.drain()
        if wait:
            await asyncio.wait_for(reader.read(4096), timeout=wait)
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


class PtrResponder(asyncio.DatagramProtocol):
    """Answers reverse-DNS (PTR) queries from a table, NXDOMAIN otherwise, so nmap's reverse
    lookups finish at once and return the lab's hostnames."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        labels, pos = [], 12
        while pos < len(data) and data[pos]:
            labels.append(data[pos + 1 : pos + 1 + data[pos]].decode("ascii", "replace"))
            pos += 1 + data[pos]
        question = data[12 : pos + 5]
        ip = ".".join(reversed(labels[:4])) if labels[-2:] == ["in-addr", "arpa"] else ""
        name = self.names.get(ip)
        header = (
            data[:2] + (b"\x81\x80" if name else b"\x81\x83") + b"\x00\x01" + (b"\x00\x01" if name else b"\x00\x00")
        )
        answer = b""
        if name:
            rdata = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\x00"
            answer = b"\xc0\x0c\x00\x0c\x00\x01\x00\x00\x00\x3c" + len(rdata).to_bytes(2, "big") + rdata
        assert self.transport is not None
        self.transport.sendto(header + b"\x00\x00\x00\x00" + question + answer, addr)


BEHAVIOURS = {"telnet": telnet, "http": http, "close": close}


async def main(specs: list[str]) -> None:
    servers = []
    for spec in specs:
        port, behaviour = spec.split(":", 1)
        if behaviour.startswith("dns="):  # 53:dns=10.0.0.5=pc1.lan,10.0.0.6=pc2.lan
            names = dict(pair.split("=", 1) for pair in behaviour[4:].split(",") if pair)
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(lambda n=names: PtrResponder(n), local_addr=("0.0.0.0", int(port)))
            continue
        servers.append(await asyncio.start_server(BEHAVIOURS[behaviour], host="0.0.0.0", port=int(port)))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers), asyncio.Event().wait())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
