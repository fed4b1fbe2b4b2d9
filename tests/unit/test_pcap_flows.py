"""Decoding a recorded pcap and drawing it; impairment settings. No Docker needed."""

from __future__ import annotations

import io
from pathlib import Path

import dpkt
import pytest

from lab.control import impair, pcap
from lab.control.flows import ladder

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
    assert pcap.retransmissions([seg, ack, seg, ack, seg]) == 2
    first = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=100, payload=b"x" * 20)
    nxt = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=120, payload=b"x" * 20)
    cut = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=100, payload=b"x" * 30)
    assert pcap.retransmissions([first, nxt]) == 0
    assert pcap.retransmissions([first, nxt, cut]) == 1, "a resend cut differently still counts"
    wrap = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=2**32 - 5, payload=b"x" * 10)
    after = pcap.Packet(time=0, src="a", dst="b", proto="tcp", sport=1, dport=2, seq=5, payload=b"x" * 10)
    assert pcap.retransmissions([wrap, after]) == 0, "sequence numbers wrap"


@pytest.mark.parametrize(("settings", "message"), [
    ({"loss": 20, "every": 3}, "not both"),
    ({"loss": 120}, "percentage from 0 to 100"),
    ({"every": 1}, "N must be 2 or more"),
    ({"rate": "fast"}, "not a tc rate"),
    ({"loss": 5, "direction": "sideways"}, "egress, ingress or both"),
    ({}, "nothing to do"),
])
def test_bad_impairments(settings: dict[str, object], message: str) -> None:
    with pytest.raises(impair.ImpairError, match=message):
        impair.Impairment(**settings).check()  # type: ignore[arg-type]


def test_loss_rules() -> None:
    assert impair.loss_rules(impair.Impairment(loss=20)) == [
        "-m statistic --mode random --probability 0.200000 -j DROP"]
    assert impair.loss_rules(impair.Impairment(every=4)) == ["-m statistic --mode nth --every 4 --packet 0 -j DROP"]


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
    assert pcap.retransmissions([segment, resent]) == 1, "a resend inside the cut-off part still counts"
