"""What the pictures of an exchange show, as data: pure, so tests can assert on it.

- ``diagram``: a sequence diagram like Wireshark's flow graph: one lane per host (names,
  not bare addresses), one arrow per packet labelled as the terminal ladder labels it,
  time down the side; a long exchange keeps its start and its end with the middle elided.
- ``timeline``: block number (TFTP DATA) or relative sequence number (TCP data) over time,
  one series per direction, retransmissions marked, like Wireshark's stream graphs.

Drawing them is ``lab.report.draw``'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.wire.pcap import Packet, tftp_ports


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


def diagram(packets: Sequence[Packet], hosts: Sequence[str] = (), max_rows: int = 40) -> Diagram:
    """At most ``max_rows`` arrows: a quarter from the start, the rest from the end."""
    clients = tftp_ports(packets)
    start = packets[0].time if packets else 0.0

    def arrow(p: Packet) -> Arrow:
        is_tftp = (p.src, p.sport) in clients or (p.dst, p.dport) in clients
        return Arrow(p.time - start, p.src_name, p.dst_name, p.label(tftp=is_tftp))

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
    number: int  # TFTP block (unwrapped past 65535) or TCP relative sequence number
    resent: bool  # below the highest already sent: sent again, or late (a gap filled), as Wireshark marks it


@dataclass
class Series:
    name: str  # "srv → b1 DATA"
    unit: str  # "block" or "byte"
    points: list[Point] = field(default_factory=list)

    @property
    def resent(self) -> list[Point]:
        return [p for p in self.points if p.resent]


def timeline(packets: Sequence[Packet]) -> list[Series]:
    """TFTP DATA blocks and TCP data over time, one series per direction."""
    start = packets[0].time if packets else 0.0
    clients = tftp_ports(packets)
    found: dict[tuple[str, str, str], Series] = {}
    highest: dict[tuple[str, str, str], int] = {}
    base: dict[tuple[str, str, str], int] = {}  # TCP: the first sequence number seen
    wraps: dict[tuple[str, str, str], int] = {}  # TFTP: times the block number rolled over
    for p in packets:
        t = p.time - start
        if p.proto == "udp" and ((p.src, p.sport) in clients or (p.dst, p.dport) in clients):
            parsed = p.tftp()
            if not parsed or parsed[0] != "DATA":
                continue
            key = (p.src_name, p.dst_name, "DATA")
            block = parsed[1] + 65536 * wraps.get(key, 0)
            if key in highest and block < highest[key] - 32768:  # 65535 -> 0: a rollover
                wraps[key] = wraps.get(key, 0) + 1
                block += 65536
            series = found.setdefault(key, Series(f"{p.src_name} → {p.dst_name} DATA", "block"))
            resent = key in highest and block <= highest[key]  # below the highest sent: again, or late
            series.points.append(Point(t, block, resent))
            highest[key] = max(highest.get(key, block), block)
        elif p.proto == "tcp" and p.size:
            key = (p.src_name, p.dst_name, "TCP")
            first = base.setdefault(key, p.seq)
            offset = (p.seq - first) % 2**32
            end = offset + p.size
            series = found.setdefault(key, Series(f"{p.src_name} → {p.dst_name} TCP data", "byte"))
            resent = key in highest and offset < highest[key]
            series.points.append(Point(t, offset, resent))
            highest[key] = max(highest.get(key, end), end)
    return list(found.values())
