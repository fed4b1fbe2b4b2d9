"""Decoding a recorded pcap and drawing it; impairment settings. No Docker needed."""

from __future__ import annotations

import io
import random
import socket
from pathlib import Path

import dpkt
import pytest

from lab.control import impair_rules
from lab.errors import PcapError
from lab.proto import tftp
from lab.wire import pcap, streams
from lab.wire.flows import ladder
from lab.wire.pcap import Packet

FIXTURE = Path(__file__).parent / "fixtures" / "pcap" / "tftp-1500.pcap"
NAMES = {"10.202.1.11": "h1", "10.202.1.10": "srv"}  # the lab the fixture was recorded on
EXPECTED = """\
time       h1                                srv
0.000000   |----- TFTP RRQ f.bin octet ----->|
0.001215   |<--- TFTP DATA 1 (512 bytes) ----|
0.001282   |---------- TFTP ACK 1 ---------->|
0.001331   |<--- TFTP DATA 2 (512 bytes) ----|
0.001415   |---------- TFTP ACK 2 ---------->|
0.001466   |<--- TFTP DATA 3 (476 bytes) ----|
0.001528   |---------- TFTP ACK 3 ---------->|"""


def test_recorded_tftp_download_decodes() -> None:
    packets = pcap.read(FIXTURE, NAMES)
    assert [p.tftp() for p in packets] == [("RRQ", 0, 12), ("DATA", 1, 512), ("ACK", 1, 0), ("DATA", 2, 512),
                                           ("ACK", 2, 0), ("DATA", 3, 476), ("ACK", 3, 0)]
    assert [p.direction for p in packets] == ["out", "in", "out", "in", "out", "in", "out"]


def test_ladder_of_the_recorded_download() -> None:
    assert ladder(pcap.read(FIXTURE, NAMES)) == EXPECTED


def test_ladder_without_names_uses_addresses() -> None:
    assert ladder(pcap.read(FIXTURE)).splitlines()[0].split() == ["time", "10.202.1.11", "10.202.1.10"]


def test_retransmissions_counts_repeated_segments() -> None:
    seg = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=100, payload=b"x" * 10)
    ack = pcap.Packet(time=0, src="b", dst="a", proto="tcp", sport=2, dport=1, seq=5)
    assert streams.retransmissions([seg, ack, seg, ack, seg]) == 2
    first = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=100, payload=b"x" * 20)
    nxt = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=120, payload=b"x" * 20)
    cut = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=100, payload=b"x" * 30)
    assert streams.retransmissions([first, nxt]) == 0
    assert streams.retransmissions([first, nxt, cut]) == 1, "a resend cut differently still counts"
    wrap = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=2**32 - 5, payload=b"x" * 10)
    after = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=5, payload=b"x" * 10)
    assert streams.retransmissions([wrap, after]) == 0, "sequence numbers wrap"


@pytest.mark.parametrize(("settings", "message"), [
    ({"loss": 20, "every": 3}, "not both"),
    ({"loss": 120}, "percentage from 0 to 100"),
    ({"refuse": -1}, "--refuse is a percentage from 0 to 100"),
    ({"every": 1}, "N must be from 2 to"),
    ({"every": 2**31}, "N must be from 2 to 2147483647"),
    ({"loss": 5, "delay_ms": -5}, "--delay is milliseconds from 0 to 60000, not -5"),
    ({"delay_ms": float("nan")}, "--delay is milliseconds from 0 to 60000, not nan"),
    ({"rate": "fast"}, "not a tc rate"),
    ({"loss": 5, "direction": "sideways"}, "egress, ingress or both"),
    ({}, "nothing to do"),
])
def test_bad_impairments(settings: dict[str, object], message: str) -> None:
    with pytest.raises(impair_rules.ImpairError, match=message):
        impair_rules.Impairment(**settings).check()  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"root:x:0:0:root:/root:/bin/bash\n" * 2, b"\0" * 40,
                                  b"\x0a\x0d\x0d\x0a" + b"\0" * 60])  # text, zeros, pcapng
def test_what_is_not_a_pcap_is_a_clear_error(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(data)
    with pytest.raises(PcapError, match=r"x.pcap: not a pcap file \(invalid tcpdump header\): give one that"):
        pcap.read(path)


def test_a_pcap_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PcapError, match=r"not a pcap file \(Is a directory\)"):
        pcap.read(tmp_path)


def test_loss_rules() -> None:
    assert impair_rules.loss_rules(impair_rules.Impairment(loss=20)) == [
        "-m statistic --mode random --probability 0.200000 -j DROP"]
    assert impair_rules.loss_rules(impair_rules.Impairment(every=4)) == [
        "-m statistic --mode nth --every 4 --packet 0 -j DROP"]


def _pcap_of(frames: list[bytes]) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_EN10MB)
    for i, frame in enumerate(frames):
        writer.writepkt(frame, ts=i)
    return out.getvalue()


def _frame(l4: object, proto: int) -> bytes:
    ip = dpkt.ip.IP(src=bytes([10, 0, 0, 1]), dst=bytes([10, 0, 0, 2]), p=proto, data=l4)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def test_sizes_come_from_the_ip_header_when_the_capture_cut_packets_short() -> None:
    udp = dpkt.udp.UDP(sport=1069, dport=50000, data=b"\x00\x03\x00\x07" + b"d" * 8192)
    udp.ulen = len(udp)
    tcp = dpkt.tcp.TCP(sport=9000, dport=40000, seq=1000, data=b"t" * 60000, flags=dpkt.tcp.TH_ACK)
    cut = [frame[:2048] for frame in (_frame(udp, dpkt.ip.IP_PROTO_UDP), _frame(tcp, dpkt.ip.IP_PROTO_TCP))]
    data, segment = pcap.parse(_pcap_of(cut))
    assert len(data.payload) < 2048 and data.tftp() == ("DATA", 7, 8192)
    assert segment.size == 60000 and len(segment.payload) < 2048
    resent = pcap.Packet(time=2, src="10.0.0.1", dst="10.0.0.2", proto="tcp", sport=9000, dport=40000, seq=30000,
                         payload=b"t" * 100)
    assert streams.retransmissions([segment, resent]) == 1, "a resend inside the cut-off part still counts"


def test_every_label_survives_any_bytes() -> None:
    """Malformed traffic is what the lessons provoke: truncated requests, random payloads,
    for every protocol, get a label and never an exception."""
    rng = random.Random(7)
    good = [tftp.rrq("f.bin", blksize=1468).encode(), tftp.wrq("f.bin").encode(), tftp.Error(1, "nope").encode(),
            tftp.OAck({"blksize": "1468"}).encode(), tftp.Data(1, b"x" * 10).encode(), tftp.Ack(3).encode()]
    payloads = [whole[:cut] for whole in good for cut in range(len(whole) + 1)]
    payloads += [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(300)]
    payloads += [b"\x00" + bytes([op]) + bytes(rng.randrange(256) for _ in range(rng.randrange(9))) for op in range(8)]
    for payload in payloads:
        for proto in ("udp", "tcp", "icmp"):
            for flag in (True, False):
                packet = Packet(0.0, "10.0.0.1", "10.0.0.2", proto, 1000, 69, payload=payload)
                assert isinstance(packet.label(tftp=flag), str)
    truncated = Packet(0.0, "a", "b", "udp", 1000, 69, payload=b"\x00\x01f.bin")
    assert truncated.label(tftp=True) == "TFTP RRQ (malformed: request: strings must end with a NUL byte)"


def test_a_capture_cut_anywhere_still_parses() -> None:
    """tcpdump stopped hard leaves a file cut mid-record, or before its header: what is whole counts."""
    data = FIXTURE.read_bytes()
    counts = [len(pcap.parse(data[:n])) for n in range(len(data) + 1)]
    assert counts[0] == 0 and counts[-1] == len(pcap.parse(data)) and counts == sorted(counts)


def test_what_the_kernel_reports_is_read_back_per_owner() -> None:
    out = """Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination
     120     9000 SOCKLAB-IN  0    --  *      *       0.0.0.0/0            0.0.0.0/0
Chain SOCKLAB-IN (1 references)
    pkts      bytes target     prot opt in     out     source               destination
  24 1800 DROP 0 -- !lo * 0.0.0.0/0 0.0.0.0/0 statistic mode random probability 0.20000000019
Chain SOCKLAB-FROM-h1 (1 references)
  10 700 DROP 0 -- * * 0.0.0.0/0 0.0.0.0/0 MAC 02:42:0a:c9:01:0b statistic mode nth every 5
== tc
qdisc noqueue 0: dev lo root refcnt 2
qdisc tbf 8001: dev eth0 root refcnt 2 rate 1Mbit burst 4Kb lat 400ms
"""
    rules, qdiscs = impair_rules.parse("b1", out.replace("== tc", """Chain SOCKLAB-OUT (1 references)
  7 500 DROP 0 -- * !lo 0.0.0.0/0 0.0.0.0/0 statistic mode random probability 0.20000000019
== tc"""))
    assert rules == [("in:b1", "random probability 0.20000000019", 24), ("out:h1", "nth every 5", 10),
                     ("refuse:b1", "random probability 0.20000000019", 7)]
    assert impair_rules.refuse_rules(impair_rules.Impairment(refuse=20)) == [
        "-m statistic --mode random --probability 0.200000 -j DROP"]
    assert qdiscs == ["qdisc tbf eth0 root refcnt 2 rate 1Mbit burst 4Kb lat 400ms"]


def _igmp_pcap(*messages: tuple[str, bytes]) -> bytes:
    """A pcap of IGMP messages (destination, message) from 10.202.2.11, as Ethernet frames."""
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out)
    for i, (dst, message) in enumerate(messages):
        ip = dpkt.ip.IP(src=bytes([10, 202, 2, 11]), dst=bytes(map(int, dst.split("."))), p=dpkt.ip.IP_PROTO_IGMP,
                        ttl=1, hl=6, opts=b"\x94\x04\x00\x00", data=message)  # Router Alert, as Linux sends it
        ip.len = len(bytes(ip))
        writer.writepkt(bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip)), ts=float(i))
    return out.getvalue()


def _v3_report(*records: tuple[int, str, int]) -> bytes:
    """An IGMPv3 membership report (RFC 3376 4.2) of (record type, group, number of sources)."""
    source = bytes([10, 202, 1, 11])
    body = b"".join(bytes([kind, 0]) + n.to_bytes(2, "big") + bytes(map(int, group.split("."))) + source * n
                    for kind, group, n in records)
    return bytes([0x22, 0]) + b"\x00\x00" + b"\x00\x00" + len(records).to_bytes(2, "big") + body


def test_igmp_joins_and_leaves_are_labelled() -> None:
    data = _igmp_pcap(("224.0.0.22", _v3_report((4, "239.1.2.3", 0))),
                      ("224.0.0.22", _v3_report((3, "239.1.2.3", 0), (2, "239.9.9.9", 0))),
                      ("239.1.2.3", bytes([0x16, 0, 0, 0, 239, 1, 2, 3])),
                      ("224.0.0.2", bytes([0x17, 0, 0, 0, 239, 1, 2, 3])),
                      ("224.0.0.1", bytes([0x11, 100, 0, 0, 0, 0, 0, 0])),
                      ("224.0.0.22", _v3_report((1, "239.4.4.4", 1))),
                      ("224.0.0.22", _v3_report((4, "239.1.2.3", 0))[:14]))
    packets = pcap.parse(data, {"10.202.2.11": "b1"})
    assert [p.proto for p in packets] == ["igmp"] * 7
    assert [p.label() for p in packets] == ["IGMP join 239.1.2.3", "IGMP leave 239.1.2.3, member 239.9.9.9",
                                            "IGMP join 239.1.2.3", "IGMP leave 239.1.2.3", "IGMP query",
                                            "IGMP include (1 sources) 239.4.4.4", "IGMP (cut short)"]
    assert "IGMP join 239.1.2.3" in ladder(packets[:1])


def test_ipv6_packets_decode_with_their_hop_limit_and_names() -> None:
    """A UDP datagram over IPv6 that crossed one router (hop limit 63), and an ICMPv6 echo."""
    src, dst = "fd00:10:201:1::11", "fd00:10:201:2::11"
    udp = dpkt.udp.UDP(sport=40000, dport=9010, data=b"hello over IPv6")
    udp.ulen = len(udp)
    frames = []
    for l4, nxt in ((udp, dpkt.ip.IP_PROTO_UDP), (dpkt.icmp6.ICMP6(type=128, data=b"\x00" * 8), 58)):
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src), dst=socket.inet_pton(socket.AF_INET6, dst),
                           nxt=nxt, hlim=63, data=l4)
        ip6.plen = len(l4)
        frames.append(bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6,
                                                   type=dpkt.ethernet.ETH_TYPE_IP6, data=ip6)))
    datagram, echo = pcap.parse(_pcap_of(frames), {src: "h1", dst: "b1"})
    assert (datagram.proto, datagram.src_name, datagram.dst_name, datagram.dport) == ("udp", "h1", "b1", 9010)
    assert datagram.payload == b"hello over IPv6" and datagram.size == 15 and datagram.ttl == 63
    assert (echo.proto, echo.src, echo.ttl) == ("icmp6", src, 63)


def _mld_pcap(*messages: tuple[str, bytes]) -> bytes:
    """A pcap of MLD messages (destination, ICMPv6 message) from b1's link-local address, as
    Linux sends them: hop limit 1, behind a Hop-by-Hop header with the Router Alert option."""
    frames = []
    for dst, message in messages:
        hop_by_hop = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # next: ICMPv6; Router Alert (MLD); PadN
        header = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, "fe80::42:aff:feca:20b"),
                              dst=socket.inet_pton(socket.AF_INET6, dst), nxt=0, hlim=1,
                              plen=len(hop_by_hop) + len(message))
        ip6 = bytes(header)[:40] + hop_by_hop + message
        frames.append(bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x33\x33\x00\x00\x00\x16",
                                                   type=dpkt.ethernet.ETH_TYPE_IP6)) + ip6)
    return _pcap_of(frames)


def _mld_v2_report(*records: tuple[int, str, int]) -> bytes:
    """An MLDv2 report (RFC 3810 5.2) of (record type, group, number of sources)."""
    source = socket.inet_pton(socket.AF_INET6, "fd00:10:202:1::11")
    body = b"".join(bytes([kind, 0]) + n.to_bytes(2, "big") + socket.inet_pton(socket.AF_INET6, group) + source * n
                    for kind, group, n in records)
    return bytes([143, 0, 0, 0, 0, 0]) + len(records).to_bytes(2, "big") + body


def _mld_v1(kind: int, group: str) -> bytes:
    return bytes([kind, 0, 0, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, group)


def test_mld_joins_and_leaves_are_labelled() -> None:
    data = _mld_pcap(("ff02::16", _mld_v2_report((4, "ff05::1:2:3", 0))),
                     ("ff02::16", _mld_v2_report((3, "ff05::1:2:3", 0), (2, "ff15::9", 0))),
                     ("ff05::1:2:3", _mld_v1(131, "ff05::1:2:3")),
                     ("ff02::2", _mld_v1(132, "ff05::1:2:3")),
                     ("ff02::1", _mld_v1(130, "::")),
                     ("ff02::16", _mld_v2_report((1, "ff05::4", 1))),
                     ("ff02::16", _mld_v2_report((4, "ff05::1:2:3", 0))[:20]),
                     ("ff02::1", bytes([128, 0, 0, 0, 0, 1, 0, 1])))  # an echo request stays ICMPv6
    packets = pcap.parse(data, {"fe80::42:aff:feca:20b": "b1"})
    assert [p.proto for p in packets] == ["mld"] * 7 + ["icmp6"]
    assert [p.label() for p in packets[:7]] == [
        "MLD join ff05::1:2:3", "MLD leave ff05::1:2:3, member ff15::9", "MLD join ff05::1:2:3",
        "MLD leave ff05::1:2:3", "MLD query", "MLD include (1 sources) ff05::4", "MLD (cut short)"]
    assert packets[0].src_name == "b1" and packets[0].ttl == 1
    assert "MLD join ff05::1:2:3" in ladder(packets[:1])
