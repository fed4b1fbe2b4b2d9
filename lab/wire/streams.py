"""Data sent, stream by stream: each TFTP transfer and each TCP connection on its own.

A TFTP transfer is known by its TIDs (RFC 1350 section 4): the server's transfer port and the
client's port, so its DATA carry one address and port pair. A TCP connection is known by its
4-tuple, its bytes numbered from its own initial sequence number; a SYN with another initial
sequence number on the same ports (a client that bound its port again) starts a new one.

Within a stream, what starts below the highest already sent is *resent*: sent again, or late
(a gap filled), as Wireshark marks TCP retransmissions. Three downloads between the same two
hosts are three streams, each starting at block 1: never compared with each other.

Pure: the timeline (``lab.wire.pictures``) and the checks count with the same ``sends``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lab.wire.pcap import Packet, tftp_ports

Endpoint = tuple[str, int]  # address, port
SEQ = 2**32  # TCP sequence numbers wrap here (RFC 9293 section 3.4)
BLOCKS = 65536  # TFTP block numbers wrap here


@dataclass(frozen=True)
class Stream:
    """One direction of a transfer or a connection: who sends the data, to whom."""

    kind: str  # "TFTP" (DATA blocks) or "TCP" (bytes)
    src: Endpoint
    dst: Endpoint
    src_name: str
    dst_name: str
    opened: int = 0  # TCP: connections on these ports before this one

    @property
    def exchange(self) -> tuple[str, frozenset[Endpoint], int]:
        """The transfer or connection, the same for both of its directions."""
        return self.kind, frozenset((self.src, self.dst)), self.opened


@dataclass(frozen=True)
class Sent:
    time: float
    stream: Stream
    number: int  # TFTP block (unwrapped past 65535), or TCP byte offset from the connection's start
    resent: bool  # starts below the highest its stream already sent


@dataclass
class _Progress:
    stream: Stream
    base: int = 0  # TCP: the sequence number of the connection's first byte (its ISN + 1)
    highest: int | None = None  # TFTP: the highest block sent; TCP: the sequence number after it
    wraps: int = 0  # TFTP: times the block number rolled over


def _block(state: _Progress, block: int) -> tuple[int, bool]:
    number = block + BLOCKS * state.wraps
    if state.highest is not None and number < state.highest - BLOCKS // 2:  # 65535 -> 0: a rollover
        state.wraps += 1
        number += BLOCKS
    resent = state.highest is not None and number <= state.highest
    state.highest = number if state.highest is None else max(state.highest, number)
    return number, resent


def _ahead(a: int, b: int) -> bool:
    """Sequence number ``a`` is after ``b`` (within half the space, as TCP compares them)."""
    return 0 < (a - b) % SEQ < SEQ // 2


def _bytes(state: _Progress, seq: int, size: int) -> tuple[int, bool]:
    """Comparing ranges, not exact segments, also counts a resend cut or joined differently."""
    end = (seq + size) % SEQ
    resent = state.highest is not None and _ahead(state.highest, seq)
    if state.highest is None or _ahead(end, state.highest):
        state.highest = end
    offset = (seq - state.base) % SEQ
    return (offset - SEQ if offset >= SEQ // 2 else offset), resent  # before the base: sent before the capture


class _Tcp:
    """TCP streams by 4-tuple and connection: which one a segment belongs to."""

    def __init__(self) -> None:
        self.opened: dict[frozenset[Endpoint], int] = {}  # connections seen on a pair of endpoints, less one
        self.states: dict[tuple[Endpoint, Endpoint, int], _Progress] = {}

    def state(self, p: Packet) -> _Progress:
        src, dst = (p.src, p.sport), (p.dst, p.dport)
        pair = frozenset((src, dst))
        now = self.opened.get(pair, 0)
        if p.flags == ("SYN",):  # a client opens: a new connection unless this is its SYN sent again
            mine, theirs = self.states.get((src, dst, now)), self.states.get((dst, src, now))
            if (mine or theirs) and not (mine and mine.base == (p.seq + 1) % SEQ):
                now = self.opened[pair] = now + 1
        if (src, dst, now) not in self.states:
            start = p.seq + 1 if "SYN" in p.flags else p.seq  # a SYN takes one sequence number
            stream = Stream("TCP", src, dst, p.src_name, p.dst_name, now)
            self.states[src, dst, now] = _Progress(stream, base=start % SEQ)
        return self.states[src, dst, now]


def sends(packets: Sequence[Packet]) -> list[Sent]:
    """Every TFTP DATA and every TCP segment with data, in its stream, oldest first."""
    clients = tftp_ports(packets)
    tftp: dict[tuple[Endpoint, Endpoint], _Progress] = {}
    tcp = _Tcp()
    found: list[Sent] = []
    for p in packets:
        if p.proto == "udp" and p.touches(clients):
            parsed = p.tftp()
            if not parsed or parsed[0] != "DATA":
                continue
            src, dst = (p.src, p.sport), (p.dst, p.dport)
            state = tftp.setdefault((src, dst), _Progress(Stream("TFTP", src, dst, p.src_name, p.dst_name)))
            number, resent = _block(state, parsed[1])
        elif p.proto == "tcp":
            state = tcp.state(p)
            if not p.size:
                continue
            number, resent = _bytes(state, p.seq + ("SYN" in p.flags), p.size)
        else:
            continue
        found.append(Sent(p.time, state.stream, number, resent))
    return found


def retransmissions(packets: Sequence[Packet]) -> int:
    """TFTP blocks and TCP segments that start below what their stream had already sent."""
    return sum(s.resent for s in sends(packets))
