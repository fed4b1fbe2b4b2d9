"""TFTP transfer state machines: what to send next, given what arrived. No sockets, no clock.

``Sender`` sends DATA (a server answering RRQ, a client doing WRQ); ``Receiver`` takes
DATA and ACKs it (a client doing RRQ, a server answering WRQ). Each method takes one event
(a decoded packet, or a timeout) and returns ``Step``: packets to send, bytes to write,
and whether the transfer is over. The socket loop around them moves bytes, keeps time and
decides when to give up (lab.apps.tftp_io).

- Block numbers are 16 bits on the wire and roll over past 65,535 (files over 32 MB at 512
  bytes); internally blocks are counted without bound.
- A file whose size is a multiple of the block size ends with an empty DATA block.
- RFC 7440 windows: the sender sends up to ``windowsize`` blocks after the last ACK; the
  receiver ACKs when that window is complete (counted from its last ACK, not at multiples
  of the window size), and on a gap ACKs the last block it got in order, once, so the
  sender goes on from there and both stay in step after a loss.
- Recovery costs one block per loss, not a window. The receiver keeps the blocks of the
  window that arrive after a gap, and ACKs at once when the missing block fills it, with how
  far it now has. A sender that hears an ACK short of what it sent (the receiver lacks the
  next block) resends that one block and waits for the ACK that says how far the receiver
  got. A receiver that keeps nothing (RFC 7440 does not ask it to) stays silent instead,
  the sender times out, and a timeout resends the whole window from the last ACK.
- Retransmission of a window happens on timeout only: a duplicate ACK never triggers DATA
  (RFC 1123 4.2.3, the Sorcerer's Apprentice bug). A round the sender resends (its blocks
  start lower again) that begins with a block we had ACKed draws one ACK of where we are:
  that is how a lost ACK is recovered; the rest of the round draws none.
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


def unwrap(wire: int, near: int) -> int:
    """The absolute block number closest to ``near`` whose low 16 bits are ``wire``."""
    base = near - 32768
    return base + ((wire - base) % 65536)


@dataclass
class Sender:
    read: Reader
    blksize: int = tftp.DEFAULT_BLKSIZE
    windowsize: int = 1
    acked: int = 0            # every block up to this one is acknowledged
    last: int | None = None   # the final (short) block, once it has been read
    sent_upto: int = 0        # the end of the window last sent
    resent: int = 0           # blocks sent again (for statistics)
    stalled: int = 0          # timeouts since the last ACK that moved us on
    resending: int = 0        # the block last resent on an ACK short of the window

    def _block(self, n: int) -> bytes:
        chunk = self.read((n - 1) * self.blksize, self.blksize)
        if len(chunk) < self.blksize:
            self.last = n
        return tftp.Data(n & 0xFFFF, chunk).encode()

    def _blocks(self, first: int, upto: int) -> tuple[list[bytes], int]:
        """DATA for blocks first..upto (fewer at the end of the file), and the last one made."""
        out = []
        n = first
        while n <= upto and (self.last is None or n <= self.last):
            out.append(self._block(n))
            n += 1
        return out, max(n - 1, first - 1)

    def _window(self) -> list[bytes]:
        out, self.sent_upto = self._blocks(self.acked + 1, self.acked + self.windowsize)
        return out

    def start(self) -> Step:
        return Step(send=self._window())

    def on_ack(self, wire_block: int) -> Step:
        block = unwrap(wire_block, self.acked)
        if block <= self.acked or block > self.sent_upto:
            return Step()  # duplicate or stale: never resend on it (RFC 1123 4.2.3)
        self.acked, self.stalled = block, 0
        if self.last is not None and block >= self.last:
            return Step(done=True)
        if block < self.sent_upto and block != self.resending:
            # Short of what we sent: the receiver lacks the next block. Resend it, and go on with
            # new blocks to the end of the window this ACK opens; the blocks in between were sent
            # once, and a receiver that keeps them has them. (If its next ACK is just the block
            # resent, it kept nothing: then the whole window goes again, as RFC 7440 has it.)
            self.resending = block + 1
            self.resent += 1
            new, self.sent_upto = self._blocks(self.sent_upto + 1, block + self.windowsize)
            return Step(send=[self._block(block + 1), *new])
        return Step(send=self._window())

    def on_repeat(self, wire_block: int) -> Step:
        """The receiver ACKed again the block it had ACKed: the next DATA was lost, and its
        timer asks for it (RFC 1350 section 2: the recipient times out and sends its last packet
        again). Only for a sender that never resends on a timer of its own (a lesson's server
        that checks a client recovers a loss itself): a sender with a timer must ignore it (RFC
        1123 4.2.3.1, the Sorcerer's Apprentice)."""
        if unwrap(wire_block, self.acked) != self.acked or (self.last is not None and self.acked >= self.last):
            return Step()
        self.resent += 1
        return Step(send=[self._block(self.acked + 1)])

    def on_timeout(self) -> Step:
        self.stalled += 1
        if self.stalled % 2:  # the first block after the last ACK, alone: the receiver answers how far it got
            self.resent += 1
            return Step(send=[self._block(self.acked + 1)])
        window = self._window()  # the whole window again: for a receiver that kept nothing
        self.resent += len(window)
        return Step(send=window)


@dataclass
class Receiver:
    blksize: int = tftp.DEFAULT_BLKSIZE
    windowsize: int = 1
    received: int = 0         # every block up to this one has arrived, in order
    acked: int = 0            # the last block we acknowledged: the sender's window starts after it
    last_seen: int = 0        # the block of the previous DATA: a lower one starts a round resent
    answered: int = -1        # `received` when a gap was last answered
    held: dict[int, bytes] = field(default_factory=dict)  # blocks past a gap, within the window
    finished: bool = False
    last_ack: bytes = b""      # what we last answered (a WRQ server's first answer: its OACK)

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
        # The sender went back (it timed out, or heard a gap ACK): a lower block than the last,
        # or the block we just ACKed once more (lock-step: our ACK was lost). The same block
        # twice mid-window is the wire duplicating a packet: not a round.
        new_round = block < self.last_seen or block == self.last_seen == self.acked
        self.last_seen = block
        if block <= self.received:
            # A duplicate. First of a round, it is the sender going back (it timed out: our ACK
            # was lost, or the end of its window): say where we are, once per round, so it
            # resends only what we lack. The rest of a round draws nothing: no ACK storm.
            return Step(send=[self._ack()] if new_round else [])
        if block != self.received + 1:
            # A gap: keep the block (the sender never sends past a window from our ACK), and
            # ACK the last block in order, once per round the sender sends.
            if block <= self.received + self.windowsize and len(self.held) < self.windowsize:
                self.held[block] = data
            if self.answered == self.received and not new_round:
                return Step()
            self.answered = self.received
            return Step(send=[self._ack()])
        out = [data]
        while len(out[-1]) == self.blksize and self.received + len(out) + 1 in self.held:
            out.append(self.held.pop(self.received + len(out) + 1))
        self.received += len(out)
        if self.held:
            self.held = {b: d for b, d in self.held.items() if b > self.received}
        if len(out[-1]) < self.blksize:
            self.finished, self.held = True, {}
            return Step(send=[self._ack()], write=b"".join(out), done=True)
        if self.received >= self.acked + self.windowsize:  # the window (RFC 7440) is complete
            return Step(send=[self._ack()], write=b"".join(out))
        return Step(write=b"".join(out))

    def on_timeout(self) -> Step:
        if self.received == 0 and self.last_ack:
            # Our answer to the request went unanswered: say it again. For a WRQ with options
            # that is the OACK: an ACK 0 instead would tell the client we took no options, and
            # it would send 512-byte blocks that we take for the end of the file.
            return Step(send=[self.last_ack])
        return Step(send=[self._ack()])
