"""Pictures and counts per transfer and per connection: several clean TFTP transfers or TCP
connections between the same two hosts are each their own series, and nothing in them is
marked sent again; a block or segment really sent again still is (issue 22)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lab.proto import tftp
from lab.report import draw, page
from lab.wire import pictures, streams
from lab.wire.pcap import Packet

SRV, B1, H1 = "10.201.1.10", "10.201.2.11", "10.201.1.11"
NAMES = {SRV: "srv", B1: "b1", H1: "h1"}


def udp(t: float, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> Packet:
    return Packet(t, src[0], dst[0], "udp", src[1], dst[1], payload=payload, src_name=NAMES[src[0]],
                  dst_name=NAMES[dst[0]])


def download(t: float, client_port: int, server_port: int, blocks: int = 3, again: int = 0) -> list[Packet]:
    """b1 reads a file from srv in lock step: RRQ, then DATA n and ACK n; block ``again`` is
    sent twice (the server's timer ran out before its ACK came)."""
    client, server = (B1, client_port), (SRV, server_port)
    out = [udp(t, client, (SRV, 69), tftp.rrq("f.bin").encode())]
    for block in range(1, blocks + 1):
        size = 512 if block < blocks else 100
        data = udp(t + block * 0.01, server, client, tftp.Data(block, b"d" * size).encode())
        out += [data, udp(t + block * 0.01 + 0.001, client, server, tftp.Ack(block).encode())]
        if block == again:
            out.insert(-1, replace(data, time=data.time + 0.0005))
    return out


def three_downloads(again: int = 0) -> list[Packet]:
    """As a green `invoke check tftp-download` captures them: each from a new client port and
    answered from a new server port; the second one with block ``again`` sent twice."""
    return download(0.0, 41000, 50001) + download(1.0, 41002, 50002, again=again) + download(2.0, 41004, 50003)


def segment(t: float, src: tuple[str, int], dst: tuple[str, int], seq: int, size: int = 0,
            flags: tuple[str, ...] = ("ACK",)) -> Packet:
    return Packet(t, src[0], dst[0], "tcp", src[1], dst[1], flags, seq, b"x" * size, src_name=NAMES[src[0]],
                  dst_name=NAMES[dst[0]])


def connection(t: float, client_port: int, isn: int, again: bool = False) -> list[Packet]:
    """h1 connects to srv:9011 and sends 300 bytes in three segments; the second sent twice
    when ``again``. The server's ISN is the client's plus one million (and wraps)."""
    client, server = (H1, client_port), (SRV, 9011)
    server_isn = (isn + 10**6) % 2**32
    out = [segment(t, client, server, isn, flags=("SYN",)),
           segment(t + 0.001, server, client, server_isn, flags=("SYN", "ACK")),
           segment(t + 0.002, client, server, isn + 1)]
    for i in range(3):
        out.append(segment(t + 0.01 * (i + 1), client, server, isn + 1 + 100 * i, 100))
        if again and i == 1:
            out.append(segment(t + 0.015 + 0.01 * i, client, server, isn + 1 + 100 * i, 100))
    out.append(segment(t + 0.05, server, client, server_isn + 1, 20))  # the server's reply
    return out


def two_connections(again: bool = False) -> list[Packet]:
    """Two clients on h1 at once, the second's ISN a little above the first's: the first
    one's later bytes are below the highest the second sent, but not the same bytes."""
    both = connection(0.0, 50100, 3_000_000_000) + connection(0.005, 50102, 3_000_010_000, again=again)
    return sorted(both, key=lambda p: p.time)


def test_three_clean_tftp_downloads_between_the_same_hosts_mark_no_retransmission() -> None:
    series = pictures.timeline(three_downloads())
    assert [s.name for s in series] == [f"srv → b1 DATA, transfer {n}" for n in (1, 2, 3)]
    assert [[p.number for p in s.points] for s in series] == [[1, 2, 3]] * 3
    assert [s.resent for s in series] == [[], [], []]
    (_, timeline), _ = page.figures(three_downloads(), None)
    assert timeline.caption == "Over time, each transfer and connection on its own (0 retransmissions marked in red)"


def test_a_block_sent_again_in_the_second_transfer_is_still_marked() -> None:
    series = pictures.timeline(three_downloads(again=2))
    assert [[(p.number, p.resent) for p in s.resent] for s in series] == [[], [(2, True)], []]
    assert [p.number for p in series[1].points] == [1, 2, 2, 3]
    (_, timeline), _ = page.figures(three_downloads(again=2), None)
    assert timeline.caption == "Over time, each transfer and connection on its own (1 retransmission marked in red)"


def test_two_clean_tcp_connections_between_the_same_hosts_mark_no_retransmission() -> None:
    series = {s.name: s for s in pictures.timeline(two_connections())}
    assert list(series) == ["h1 → srv TCP data, connection 1", "h1 → srv TCP data, connection 2",
                            "srv → h1 TCP data, connection 1", "srv → h1 TCP data, connection 2"]
    assert [[p.number for p in s.points] for s in series.values()] == [[0, 100, 200]] * 2 + [[0]] * 2, \
        "bytes counted from each connection's own ISN"
    assert [s.resent for s in series.values()] == [[]] * 4
    assert streams.retransmissions(two_connections()) == 0


def test_a_segment_sent_again_in_the_second_connection_is_still_marked() -> None:
    series = {s.name: s for s in pictures.timeline(two_connections(again=True))}
    assert {name: [p.number for p in s.resent] for name, s in series.items() if s.resent} == {
        "h1 → srv TCP data, connection 2": [100]}
    assert streams.retransmissions(two_connections(again=True)) == 1


def test_a_new_connection_on_the_same_ports_starts_from_its_own_isn() -> None:
    """A client that binds the same port again (after TIME_WAIT): its SYN starts a new stream."""
    packets = connection(0.0, 50100, 5_000) + connection(1.0, 50100, 2_000)
    series = pictures.timeline(packets)
    assert [(s.name, [p.number for p in s.points]) for s in series][::2] == [
        ("h1 → srv TCP data, connection 1", [0, 100, 200]), ("h1 → srv TCP data, connection 2", [0, 100, 200])]
    assert streams.retransmissions(packets) == 0


def test_one_transfer_keeps_its_short_name() -> None:
    (series,) = pictures.timeline(download(0.0, 41000, 50001))
    assert series.name == "srv → b1 DATA"


@pytest.mark.parametrize("blocks", [3, 7])
def test_the_block_axis_shows_whole_numbers(blocks: int) -> None:
    fig = draw.timeline_figure(pictures.timeline(download(0.0, 41000, 50001, blocks=blocks)))
    ticks = fig.axes[0].get_yticks()
    draw.figure_bytes(fig, "png")  # and closes it
    assert all(float(t).is_integer() for t in ticks), ticks
