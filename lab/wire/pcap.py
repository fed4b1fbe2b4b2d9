"""Decoding captures into packets a test can assert on (dpkt does the parsing).

Each packet becomes a ``Packet`` with the fields a lesson talks about: time, addresses
with lab host names, ports, TCP flags, the payload, and a short protocol-aware label
(TFTP opcodes and block numbers, TCP flags, UDP payload previews) for flow diagrams.
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import dpkt

from lab.errors import PcapError
from lab.proto import tftp as codec

PCAP_HEADER = 24  # bytes of the file header
TFTP_OPS = {1: "RRQ", 2: "WRQ", 3: "DATA", 4: "ACK", 5: "ERROR", 6: "OACK"}
#: IGMP message types (RFC 3376 section 4; 0x16 and 0x17 from IGMPv2, RFC 2236 section 2.1).
IGMP_QUERY, IGMP_V2_REPORT, IGMP_V2_LEAVE, IGMP_V3_REPORT = 0x11, 0x16, 0x17, 0x22
#: An IGMPv3 group record's type (RFC 3376 section 4.2.12) as a join or a leave: a change to
#: EXCLUDE {} ("every source") is a join, and being in it (a reply to a query) a member;
#: a change to INCLUDE {} is a leave.
IGMP_RECORDS = {1: "include", 2: "member", 3: "leave", 4: "join", 5: "allow", 6: "block"}
#: MLD, IPv6's IGMP, in ICMPv6 (RFC 2710 for MLDv1, RFC 3810 for MLDv2): a query, an MLDv1
#: report and done (a leave), an MLDv2 report whose records read as IGMPv3's do.
MLD_QUERY, MLD_V1_REPORT, MLD_V1_DONE, MLD_V2_REPORT = 130, 131, 132, 143
TCP_FLAGS = [(dpkt.tcp.TH_SYN, "SYN"), (dpkt.tcp.TH_FIN, "FIN"), (dpkt.tcp.TH_RST, "RST"),
             (dpkt.tcp.TH_PUSH, "PSH"), (dpkt.tcp.TH_ACK, "ACK")]


@dataclass(frozen=True)
class Packet:
    time: float
    src: str
    dst: str
    proto: str  # "udp", "tcp", "icmp", ...
    sport: int = 0
    dport: int = 0
    flags: tuple[str, ...] = ()
    seq: int = 0
    payload: bytes = b""
    size: int = 0  # payload bytes on the wire (the capture may have kept fewer: its snapshot length)
    src_name: str = ""
    dst_name: str = ""
    direction: str = ""  # "in" or "out" as the capturing host saw it (cooked captures)
    ttl: int = 0  # the IPv4 TTL or IPv6 hop limit it arrived (or left) with: 64 less the routers crossed

    def __post_init__(self) -> None:
        if not self.size and self.payload:  # built by hand, not from a capture: all of it was kept
            object.__setattr__(self, "size", len(self.payload))

    @property
    def tcp_flags(self) -> str:
        return ",".join(self.flags)

    def touches(self, endpoints: Collection[tuple[str, int]]) -> bool:
        """From or to one of ``endpoints`` (address, port), e.g. the TFTP clients of ``tftp_ports``."""
        return (self.src, self.sport) in endpoints or (self.dst, self.dport) in endpoints

    def tftp(self) -> tuple[str, int, int] | None:
        """(opcode name, block number or 0, data length) when the payload parses as TFTP."""
        if self.proto != "udp" or len(self.payload) < 4:
            return None
        op = struct.unpack("!H", self.payload[:2])[0]
        if op not in TFTP_OPS:
            return None
        if op in (3, 4):
            return TFTP_OPS[op], struct.unpack("!H", self.payload[2:4])[0], self.size - 4
        return TFTP_OPS[op], 0, self.size - 2

    def label(self, tftp: bool = False) -> str:
        if self.proto == "tcp":
            extra = f" len={self.size}" if self.size else ""
            return f"[{self.tcp_flags}] {self.sport}->{self.dport}{extra}"
        if self.proto == "udp":
            parsed = self.tftp() if tftp else None
            if parsed:
                return self._tftp_label(*parsed)
            preview = self.payload[:24].decode("utf-8", errors="replace").replace("\n", "\\n").replace("\t", "\\t")
            more = "..." if self.size > 24 else ""
            return f"UDP {self.sport}->{self.dport} {self.size}B '{preview}{more}'"
        if self.proto == "igmp":
            return igmp_label(self.payload)
        if self.proto == "mld":
            return mld_label(self.payload)
        return self.proto.upper()

    def _tftp_label(self, op: str, number: int, size: int) -> str:
        """DATA and ACK by their header (the capture may keep only part of a block); the rest
        through the codec, and what it refuses shown as malformed: any bytes get a label."""
        if op == "DATA":
            return f"TFTP DATA {number} ({size} bytes)"
        if op == "ACK":
            return f"TFTP ACK {number}"
        try:
            packet = codec.decode(self.payload)
        except codec.MalformedPacket as exc:
            return f"TFTP {op} (malformed: {exc})"
        if isinstance(packet, codec.Request):
            options = "".join(f" {k}={v}" for k, v in packet.options.items())
            return f"TFTP {op} {packet.filename} {packet.mode}{options}"
        if isinstance(packet, codec.Error):
            return f"TFTP ERROR {packet.code}: {packet.message}"
        if isinstance(packet, codec.OAck):
            return "TFTP OACK" + "".join(f" {k}={v}" for k, v in packet.options.items())
        return f"TFTP {op}"


def igmp_label(message: bytes) -> str:
    """An IGMP message in words: ``IGMP join 239.1.2.3``, ``IGMP leave 239.1.2.3``,
    ``IGMP query``; any bytes get a label."""
    if len(message) < 8:
        return "IGMP (cut short)"
    kind = message[0]
    group = socket.inet_ntoa(message[4:8])
    if kind == IGMP_QUERY:
        return "IGMP query" + (f" {group}" if group != "0.0.0.0" else "")
    if kind in (IGMP_V2_REPORT, 0x12):
        return f"IGMP join {group}"
    if kind == IGMP_V2_LEAVE:
        return f"IGMP leave {group}"
    if kind != IGMP_V3_REPORT:
        return f"IGMP type 0x{kind:02x}"
    return "IGMP " + _records(message, socket.AF_INET)


def mld_label(message: bytes) -> str:
    """An MLD message (the whole ICMPv6 message) in words: ``MLD join ff05::1:2:3``,
    ``MLD leave ff05::1:2:3``, ``MLD query``; any bytes get a label."""
    if len(message) < 8:
        return "MLD (cut short)"
    kind = message[0]
    if kind == MLD_V2_REPORT:
        return "MLD " + _records(message, socket.AF_INET6)
    if len(message) < 24:
        return "MLD (cut short)"
    group = socket.inet_ntop(socket.AF_INET6, message[8:24])
    if kind == MLD_QUERY:
        return "MLD query" + (f" {group}" if group != "::" else "")
    if kind == MLD_V1_REPORT:
        return f"MLD join {group}"
    if kind == MLD_V1_DONE:
        return f"MLD leave {group}"
    return f"MLD type {kind}"


def _records(message: bytes, family: int) -> str:
    """The group records of an IGMPv3 or MLDv2 report (the count at byte 6, the records from
    byte 8): each a type, an aux data length in words, a number of sources and the group,
    then the sources; "join 239.1.2.3, member 239.9.9.9"."""
    size = 4 if family == socket.AF_INET else 16  # an address
    records, at, said = struct.unpack("!H", message[6:8])[0], 8, []
    for _ in range(records):
        if at + 4 + size > len(message):
            said.append("(cut short)")
            break
        rtype, aux, sources = message[at], message[at + 1], struct.unpack("!H", message[at + 2:at + 4])[0]
        word = IGMP_RECORDS.get(rtype, f"record {rtype}")
        if rtype in (1, 3) and sources:
            word = f"{word} ({sources} sources)"  # INCLUDE with sources: a source-specific join
        said.append(f"{word} {socket.inet_ntop(family, message[at + 4:at + 4 + size])}")
        at += 4 + size + size * sources + 4 * aux
    return ", ".join(said) if said else "report (no records)"


def _link_decode(linktype: int, buf: bytes) -> tuple[object | None, str]:
    """The IP packet in a record, and its direction; None for another protocol or a cut record."""
    try:
        return _link_layer(linktype, buf)
    except dpkt.UnpackError:
        return None, ""


def _link_layer(linktype: int, buf: bytes) -> tuple[object | None, str]:
    if linktype == dpkt.pcap.DLT_LINUX_SLL:
        sll = dpkt.sll.SLL(buf)
        return sll.data, ("out" if sll.type == 4 else "in")
    if linktype == 276:  # DLT_LINUX_SLL2
        sll2 = dpkt.sll2.SLL2(buf)
        return sll2.data, ("out" if sll2.type == 4 else "in")
    if linktype == dpkt.pcap.DLT_EN10MB:
        return dpkt.ethernet.Ethernet(buf).data, ""
    return None, ""


def _whole_records(reader: dpkt.pcap.Reader) -> Iterator[tuple[float, bytes]]:
    """The records of a pcap, up to a last one cut short (tcpdump stopped while writing it)."""
    try:
        yield from reader
    except dpkt.NeedData:
        return


def read(path: Path, names: Mapping[str, str] | None = None) -> list[Packet]:
    """IPv4 and IPv6 packets of a pcap file, oldest first; ``names`` maps addresses to host names."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PcapError(path, exc.strerror or str(exc)) from None
    return parse(data, names, source=path)


def parse(data: bytes, names: Mapping[str, str] | None = None, source: object = "the capture") -> list[Packet]:
    """IPv4 and IPv6 packets of pcap data, oldest first; ``names`` maps addresses to host names."""
    names = names or {}
    packets: list[Packet] = []
    if len(data) < PCAP_HEADER:  # a capture stopped before tcpdump wrote anything
        return packets
    with io.BytesIO(data) as f:
        try:
            reader = dpkt.pcap.Reader(f)
        except ValueError as exc:  # dpkt: "invalid tcpdump header"
            raise PcapError(source, str(exc)) from None
        linktype = reader.datalink()
        for ts, buf in _whole_records(reader):
            ip, direction = _link_decode(linktype, buf)
            if isinstance(ip, dpkt.ip.IP):
                src, dst, ttl, payload_len = socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst), ip.ttl, \
                    ip.len - ip.hl * 4
            elif isinstance(ip, dpkt.ip6.IP6):
                src, dst = socket.inet_ntop(socket.AF_INET6, ip.src), socket.inet_ntop(socket.AF_INET6, ip.dst)
                ttl, payload_len = ip.hlim, ip.plen  # (extension headers aside: the lab sends none)
            else:
                continue
            base = Packet(time=float(ts), src=src, dst=dst, proto="ip", src_name=names.get(src, src),
                          dst_name=names.get(dst, dst), direction=direction, ttl=ttl)
            l4 = ip.data
            if isinstance(l4, dpkt.udp.UDP):
                packets.append(replace(base, proto="udp", sport=l4.sport, dport=l4.dport, payload=bytes(l4.data),
                                       size=max(l4.ulen - 8, 0)))
            elif isinstance(l4, dpkt.tcp.TCP):
                flags = tuple(name for bit, name in TCP_FLAGS if l4.flags & bit)
                packets.append(replace(base, proto="tcp", sport=l4.sport, dport=l4.dport, flags=flags, seq=l4.seq,
                                       payload=bytes(l4.data), size=max(payload_len - l4.off * 4, 0)))
            elif isinstance(l4, dpkt.icmp.ICMP):
                packets.append(replace(base, proto="icmp"))
            elif isinstance(l4, dpkt.icmp6.ICMP6):
                if l4.type in (MLD_QUERY, MLD_V1_REPORT, MLD_V1_DONE, MLD_V2_REPORT):
                    packets.append(replace(base, proto="mld", payload=bytes(l4)))
                else:
                    packets.append(replace(base, proto="icmp6"))
            elif getattr(ip, "p", None) == dpkt.ip.IP_PROTO_IGMP:  # IPv4 only: MLD (IPv6) is ICMPv6, above
                packets.append(replace(base, proto="igmp", payload=bytes(l4)))
    return packets


def tftp_ports(packets: Iterable[Packet]) -> set[tuple[str, int]]:
    """Endpoints that speak TFTP: each client that sent an RRQ/WRQ to port 69, and its server."""
    found: set[tuple[str, int]] = set()
    for p in packets:
        parsed = p.tftp() if p.dport == 69 else None
        if parsed and parsed[0] in ("RRQ", "WRQ"):
            found.add((p.src, p.sport))
    return found

