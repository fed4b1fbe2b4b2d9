"""What the pictures of an exchange show, as data: pure, so tests can assert on it.

- ``diagram``: a sequence diagram like Wireshark's flow graph: one lane per host (names,
  not bare addresses), one arrow per packet labelled as the terminal ladder labels it,
  time down the side; a long exchange keeps its start and its end with the middle elided.
  With ``addresses`` each label starts with the address and port pairs (a NAT's rewrite,
  IPv6 addresses) and ends with the TTL or hop limit the packet had where it was captured.
- ``timeline``: block number (TFTP DATA) or relative sequence number (TCP data) over time,
  one series per direction of each transfer and each connection, retransmissions marked, like
  Wireshark's stream graphs. Which packet belongs to which transfer, and what was sent again,
  is ``lab.wire.streams``'s business: three downloads between the same hosts are three series.

Drawing them is ``lab.report.draw``'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.wire.pcap import Packet, tftp_ports
from lab.wire.streams import Stream, sends


@dataclass(frozen=True)
class Arrow:
    time: float  # seconds since the first packet
    src: str
    dst: str
    label: str


@dataclass(frozen=True)
class Elided:
    count: int  # packets not shown here


@dataclass(frozen=True)
class Diagram:
    lanes: list[str]
    rows: list[Arrow | Elided]

    def arrows(self) -> list[Arrow]:
        return [r for r in self.rows if isinstance(r, Arrow)]


def lanes(packets: Sequence[Packet], hosts: Sequence[str] = ()) -> list[str]:
    order = list(hosts)
    for p in packets:
        for name in (p.src_name, p.dst_name):
            if name not in order:
                order.append(name)
    return order


def endpoint(address: str, port: int) -> str:
    """``10.201.1.11:40000``, ``[fd00:10:201:1::10]:9010``; an address alone without a port."""
    if not port:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def diagram(packets: Sequence[Packet], hosts: Sequence[str] = (), max_rows: int = 40,
            addresses: bool = False) -> Diagram:
    """At most ``max_rows`` arrows: a quarter from the start, the rest from the end."""
    clients = tftp_ports(packets)
    start = packets[0].time if packets else 0.0

    def arrow(p: Packet) -> Arrow:
        label = p.label(tftp=p.touches(clients))
        if addresses:  # the ports once, with their addresses
            label = label.replace(f" {p.sport}->{p.dport}", "", 1) if p.proto in ("udp", "tcp") else label
            ttl = f", {'hop limit' if ':' in p.src else 'TTL'} {p.ttl}" if p.ttl else ""
            label = f"{endpoint(p.src, p.sport)} → {endpoint(p.dst, p.dport)}  {label}{ttl}"
        return Arrow(p.time - start, p.src_name, p.dst_name, label)

    rows: list[Arrow | Elided]
    if len(packets) <= max_rows:
        rows = [arrow(p) for p in packets]
    else:
        head, tail = max_rows // 4, max_rows - max_rows // 4
        rows = [*map(arrow, packets[:head]), Elided(len(packets) - max_rows), *map(arrow, packets[-tail:])]
    return Diagram(lanes(packets, hosts), rows)


@dataclass(frozen=True)
class Point:
    time: float  # seconds since the first packet of the capture
    number: int  # TFTP block (unwrapped past 65535) or TCP sequence number relative to its connection's
    resent: bool  # below the highest its transfer or connection already sent: again, or late (a gap filled)


@dataclass
class Series:
    name: str  # "srv → b1 DATA", "srv → b1 DATA, transfer 2"
    unit: str  # "block" or "byte"
    points: list[Point] = field(default_factory=list)

    @property
    def resent(self) -> list[Point]:
        return [p for p in self.points if p.resent]


def _names(found: Sequence[Stream]) -> dict[Stream, str]:
    """"srv → b1 DATA"; with several transfers (connections) between the same two hosts,
    "srv → b1 DATA, transfer 2": numbered in the order their data began."""
    between: dict[tuple[str, frozenset[str]], list[object]] = {}
    for s in found:
        seen = between.setdefault((s.kind, frozenset((s.src_name, s.dst_name))), [])
        if s.exchange not in seen:
            seen.append(s.exchange)
    names = {}
    for s in found:
        what, each = ("DATA", "transfer") if s.kind == "TFTP" else ("TCP data", "connection")
        seen = between[s.kind, frozenset((s.src_name, s.dst_name))]
        more = f", {each} {seen.index(s.exchange) + 1}" if len(seen) > 1 else ""
        names[s] = f"{s.src_name} → {s.dst_name} {what}{more}"
    return names


def timeline(packets: Sequence[Packet]) -> list[Series]:
    """TFTP DATA blocks and TCP data over time, one series per direction of each transfer and
    each connection (``lab.wire.streams``)."""
    start = packets[0].time if packets else 0.0
    points: dict[Stream, list[Point]] = {}
    for sent in sends(packets):
        points.setdefault(sent.stream, []).append(Point(sent.time - start, sent.number, sent.resent))
    names = _names(list(points))
    return [Series(names[s], "block" if s.kind == "TFTP" else "byte", found) for s, found in points.items()]
