"""TFTP transfer state machines: what to send next, given what arrived. No sockets, no clock.

``Sender`` sends DATA (a server answering RRQ, a client doing WRQ); ``Receiver`` takes
DATA and ACKs it (a client doing RRQ, a server answering WRQ). Each method takes one event
(a decoded packet, or a timeout) and returns ``Step``: packets to send, bytes to write,
and whether the transfer is over. The socket loop around them only moves bytes and keeps time.

- Block numbers are 16 bits on the wire and roll over past 65,535 (files over 32 MB at 512
  bytes); internally blocks are counted without bound.
- A file whose size is a multiple of the block size ends with an empty DATA block.
- RFC 7440 windows: the sender sends up to ``windowsize`` blocks after the last ACK; the
  receiver ACKs when that window is complete (counted from its last ACK, not at multiples
  of the window size), and on a gap ACKs the last block it got in order, once, so the
  sender resends from there and both stay in step after a loss.
- Retransmission happens on timeout only: a duplicate ACK never triggers DATA (RFC 1123
  4.2.3, the Sorcerer's Apprentice bug). A round the sender resends (its blocks start lower
  again) that begins with a block we had ACKed draws one ACK of where we are: that is how a
  lost ACK is recovered; the rest of the round draws none, so a window resent costs one ACK,
  not one per block. Timeouts back off and give up after ``retries``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.proto import tftp

Reader = Callable[[int, int], bytes]  # (offset, size) -> bytes of the file


@dataclass(slots=True)
class Step:
    send: list[bytes] = field(default_factory=list)
    write: bytes = b""
    done: bool = False
    error: str = ""  # set when the transfer failed


class TransferError(Exception):
    pass


def unwrap(wire: int, near: int) -> int:
    """The absolute block number closest to ``near`` whose low 16 bits are ``wire``."""
    base = near - 32768
    return base + ((wire - base) % 65536)


@dataclass
class Sender:
    read: Reader
    blksize: int = tftp.DEFAULT_BLKSIZE
    windowsize: int = 1
    retries: int = 5
    acked: int = 0            # every block up to this one is acknowledged
    last: int | None = None   # the final (short) block, once it has been read
    sent_upto: int = 0
    tries: int = 0
    resent: int = 0           # blocks sent again after a timeout (for statistics)

    def _block(self, n: int) -> bytes:
        chunk = self.read((n - 1) * self.blksize, self.blksize)
        if len(chunk) < self.blksize:
            self.last = n
        return tftp.Data(n & 0xFFFF, chunk).encode()

    def _window(self) -> list[bytes]:
        out = []
        n = self.acked + 1
        while n <= self.acked + self.windowsize and (self.last is None or n <= self.last):
            out.append(self._block(n))
            n += 1
        self.sent_upto = n - 1
        return out

    def start(self) -> Step:
        return Step(send=self._window())

    def on_ack(self, wire_block: int) -> Step:
        block = unwrap(wire_block, self.acked)
        if block <= self.acked or block > self.sent_upto:
            return Step()  # duplicate or stale: never resend on it (RFC 1123 4.2.3)
        self.acked, self.tries = block, 0
        if self.last is not None and block >= self.last:
            return Step(done=True)
        return Step(send=self._window())

    def on_timeout(self) -> Step:
        self.tries += 1
        if self.tries > self.retries:
            return Step(done=True, error=f"no ACK after {self.retries} retransmissions")
        window = self._window()
        self.resent += len(window)
        return Step(send=window)


@dataclass
class Receiver:
    blksize: int = tftp.DEFAULT_BLKSIZE
    windowsize: int = 1
    retries: int = 5
    received: int = 0         # every block up to this one has arrived, in order
    acked: int = 0            # the last block we acknowledged: the sender's window starts after it
    last_seen: int = 0        # the block of the previous DATA: a lower one starts a round resent
    answered: int = -1        # `received` when a gap was last answered
    tries: int = 0
    finished: bool = False
    last_ack: bytes = b""

    def _ack(self) -> bytes:
        self.acked = self.received
        self.last_ack = tftp.Ack(self.received & 0xFFFF).encode()
        return self.last_ack

    def on_data(self, wire_block: int, data: bytes) -> Step:
        if len(data) > self.blksize:
            return Step(send=[tftp.Error(tftp.ILLEGAL_OPERATION, "DATA longer than the block size").encode()],
                        done=True, error=f"peer sent {len(data)} bytes in a {self.blksize}-byte block")
        block = unwrap(wire_block, self.received + 1)
        if self.finished:
            return Step(send=[self._ack()], done=True)  # our final ACK was lost: say it again
        new_round = block <= self.last_seen  # the sender went back: it timed out, or heard a gap ACK
        self.last_seen = block
        if block <= self.received:
            # A duplicate. One we had ACKed, first of a round: the sender did not hear that ACK;
            # say where we are, once per round, or a sender that retransmits faster than we
            # time out never hears it. Anything else is the rest of a round: no ACK storm.
            return Step(send=[self._ack()] if block <= self.acked and new_round else [])
        if block != self.received + 1:
            # A gap: ACK the last block in order, once per round the sender sends.
            if self.answered == self.received and not new_round:
                return Step()
            self.answered = self.received
            return Step(send=[self._ack()])
        self.received, self.tries = block, 0
        if len(data) < self.blksize:
            self.finished = True
            return Step(send=[self._ack()], write=data, done=True)
        if self.received == self.acked + self.windowsize:  # the window (RFC 7440) is complete
            return Step(send=[self._ack()], write=data)
        return Step(write=data)

    def on_timeout(self) -> Step:
        self.tries += 1
        if self.tries > self.retries:
            return Step(done=True, error=f"no DATA after {self.retries} retries")
        return Step(send=[self._ack()])
