"""The socket side of a TFTP transfer, shared by the client and the server.

``run_sender`` and ``run_receiver`` drive a state machine from lab.proto.tftp_session over
a UDP socket talking to one peer (its transfer ID, TID): they send what it says, hand it
what arrives, and keep time. Packets from any other TID get ERROR 5 and change nothing.
After the final ACK the receiving side puts its file in place and then lingers (``dally``)
one timeout, to ACK again if that ACK was lost and the last DATA comes back.

This loop runs once per packet, up to ~50,000 times a second, so it avoids work that does not
show in the code. ``sock.settimeout()`` makes Python call poll() before every send and receive,
doubling the system calls; ``Link`` instead keeps the socket blocking and first just tries to
read: in a window, the next packet is usually there. Only when nothing is waiting does it
sleep, in poll() for a short timeout (poll keeps time to the microsecond), or with the kernel
timing out the receive (SO_RCVTIMEO) for a long one: SO_RCVTIMEO counts in scheduler ticks
(4 ms at HZ=250, rounded up), so a 5 ms timeout would last 12 ms. DATA and ACK, nearly every
packet, are read by their 4-byte header alone (``tftp.header``); anything else goes through
the full decoder.
"""

from __future__ import annotations

import math
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.apps import common
from lab.proto import tftp
from lab.proto.rto import Rto
from lab.proto.tftp_session import Receiver, Sender

Address = tuple[str, int]
COARSE = 0.05  # seconds: shorter timeouts are kept by poll(), longer ones by SO_RCVTIMEO
MAX_CONTROL = 1024  # receive buffer for ACK and ERROR: room for any sane error message


@dataclass
class Stats:
    bytes: int = 0
    packets_in: int = 0
    resent: int = 0
    strangers: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    refused: int = 0            # sends the local stack refused (counted as lost)
    last_refusal: str = ""
    timer: Rto | None = None    # the retransmission timer, as the transfer left it

    def timing(self) -> dict[str, Any]:
        """The smoothed round trip and the timeout it led to, in ms, for the done event."""
        if self.timer is None:
            return {}
        return {"rtt_ms": round((self.timer.srtt or 0) * 1000, 3), "rto_ms": round(self.timer.value * 1000, 3)}

    def gave_up(self, reason: str) -> PeerError:
        refused = f"; {self.refused} sends were refused locally ({self.last_refusal})" if self.refused else ""
        return PeerError(reason + refused)


class PeerError(Exception):
    """The peer sent ERROR, or the transfer gave up."""


class FileReader:
    """Blocks of an open file, read through a 1 MiB window: a session's memory stays the same
    however large the file, and a transfer costs one pread() per MiB. When a retransmission
    goes back before the window, it reads again from there."""

    def __init__(self, fd: int, chunk: int = 1 << 20) -> None:
        self.fd, self.chunk, self.start, self.buf = fd, chunk, 0, b""

    def __call__(self, offset: int, size: int) -> bytes:
        if offset < self.start or offset + size > self.start + len(self.buf):
            self.buf, self.start = os.pread(self.fd, max(self.chunk, size), offset), offset
        i = offset - self.start
        return self.buf[i:i + size]


def send_once(sock: socket.socket, packet: bytes, peer: Address, stats: Stats | None = None) -> bool:
    """``sendto``; a send the local stack refuses (a firewall's DROP, a full queue, a route or
    peer briefly gone) is a lost packet, as on the wire: False, counted in ``stats``, and the
    timer recovers it."""
    try:
        sock.sendto(packet, peer)
    except OSError as exc:
        if exc.errno not in common.TRANSIENT_SEND_ERRORS:
            raise
        if stats is not None:
            stats.refused += 1
            stats.last_refusal = exc.strerror or str(exc)
        return False
    return True


class Link:
    """A UDP socket bound to one peer: receives with a timeout, answers strangers with ERROR 5."""

    def __init__(self, sock: socket.socket, peer: Address, stats: Stats, bufsize: int = 65536,
                 spin: float = 0.0) -> None:
        sock.settimeout(None)  # blocking: we keep the time (see recv)
        self.sock, self.peer, self.stats, self.bufsize = sock, peer, stats, bufsize
        self.timeout = self.kernel_timeout = -1.0
        self.spin_ns = int(spin * 1e9)
        self.poller = select.poll()
        self.poller.register(sock, select.POLLIN)

    def set_timeout(self, seconds: float) -> None:
        self.timeout = max(seconds, 0.001)  # to the kernel, 0 means no timeout at all
        if self.timeout >= COARSE and self.timeout != self.kernel_timeout:
            whole = int(self.timeout)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                 struct.pack("ll", whole, int((self.timeout - whole) * 1e6)))
            self.kernel_timeout = self.timeout

    def recv(self) -> bytes | None:
        """The next datagram from the peer; None when the timeout passes first."""
        while True:
            try:
                data, addr = self._receive()
            except BlockingIOError:  # EAGAIN: the timeout passed
                return None
            except ConnectionRefusedError:  # an ICMP error for an earlier send: that one was lost
                continue
            if addr == self.peer:
                self.stats.packets_in += 1
                return data
            self.stats.strangers += 1
            send_once(self.sock, tftp.Error(tftp.UNKNOWN_TID, "unknown transfer ID").encode(), addr)

    def _receive(self) -> tuple[bytes, Address]:
        recvfrom, bufsize = self.sock.recvfrom, self.bufsize
        try:
            return recvfrom(bufsize, socket.MSG_DONTWAIT)
        except BlockingIOError:
            pass
        if self.spin_ns:  # busy-poll a while before sleeping (see lab.apps.tftp_client)
            deadline = time.perf_counter_ns() + self.spin_ns
            while time.perf_counter_ns() < deadline:
                try:
                    return recvfrom(bufsize, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    pass
        if self.timeout >= COARSE:
            return recvfrom(bufsize)  # SO_RCVTIMEO
        if not self.poller.poll(math.ceil(self.timeout * 1000)):
            raise BlockingIOError
        return recvfrom(bufsize, socket.MSG_DONTWAIT)

    def send(self, packets: list[bytes]) -> None:
        for packet in packets:
            send_once(self.sock, packet, self.peer, self.stats)

    def fail(self, data: bytes) -> PeerError:
        """The error for a packet the transfer cannot go on with: ERROR from the peer, or garbage."""
        try:
            packet = tftp.decode(data)
        except tftp.MalformedPacket as exc:
            send_once(self.sock, tftp.Error(tftp.ILLEGAL_OPERATION, str(exc)).encode(), self.peer)
            return PeerError(f"malformed packet from the peer: {exc}")
        if isinstance(packet, tftp.Error):
            return PeerError(f"the peer sent ERROR {packet.code}: {packet.message}")
        return PeerError(f"unexpected {type(packet).__name__} from the peer")


def patience(timeout: float, give_up: float) -> float:
    """Seconds without progress before a transfer is abandoned: ``give_up``, but never less
    than three of the peer's own timeouts (a client that asked for timeout=10 resends every
    10 s, and is not given up on after one)."""
    return max(give_up, 3 * timeout)


def run_sender(sock: socket.socket, peer: Address, sender: Sender, timer: Rto, budget: float,
               progress: Callable[[int], None] | None = None, spin: float = 0.0, when_asked: bool = False,
               started: Callable[[], None] | None = None) -> Stats:
    """Send a file to ``peer``. ``timer`` says when to retransmit and learns the round trip;
    the transfer gives up after ``budget`` seconds without an ACK that moves it on.
    ``when_asked``: resend only when the peer repeats its last ACK, never on the timer (a
    lesson's server: the client must recover a lost DATA itself). ``started``: called once the
    first DATA is sent."""
    stats, start = Stats(), time.monotonic()
    link = Link(sock, peer, stats, MAX_CONTROL, spin)
    step = sender.start()
    link.send(step.send)
    if started:
        started()
    sent_at = moved = time.monotonic()  # when what is in flight was sent; the last progress
    timed = True  # nothing in flight was resent, so its ACK times a round trip (Karn)
    deadline = sent_at + timer.value  # the retransmission timer: only progress restarts it
    while not step.done:
        link.set_timeout(deadline - time.monotonic())
        data = link.recv()
        now = time.monotonic()
        if data is None:
            if now - moved >= budget:
                raise stats.gave_up(f"no ACK for {budget:g} s ({stats.timeouts} retransmissions)")
            if when_asked:  # the peer's timer, not ours, recovers a loss
                deadline = now + timer.value
                continue
            stats.timeouts += 1
            timer.expired()
            step = sender.on_timeout()
            link.send(step.send)
            timed, deadline = False, now + timer.value
            continue
        opcode, block = tftp.header(data)
        if opcode == tftp.ACK and len(data) == 4:
            acked, resent = sender.acked, sender.resent
            step = sender.on_ack(block)
            if sender.acked > acked:  # progress: a fresh timer (a duplicate ACK leaves it running: RFC 1123)
                if timed:
                    timer.measured(now - sent_at)
                else:
                    timer.progressed()
                link.send(step.send)
                sent_at = moved = time.monotonic()
                timed, deadline = sender.resent == resent, sent_at + timer.value
                if progress:
                    progress(min(sender.acked, sender.last or sender.acked) * sender.blksize)
            elif when_asked:
                step = sender.on_repeat(block)
                link.send(step.send)
                timed = timed and not step.send
        elif opcode not in (tftp.OACK, tftp.DATA, tftp.RRQ, tftp.WRQ):
            raise link.fail(data)
        # else: a retransmitted OACK/DATA/request from a slow peer: nothing to do
    stats.resent, stats.seconds, stats.timer = sender.resent, time.monotonic() - start, timer
    return stats


def run_receiver(sock: socket.socket, peer: Address, receiver: Receiver, timer: Rto, budget: float,
                 write: Callable[[bytes], object], progress: Callable[[int], None] | None = None,
                 first: tftp.Data | None = None, spin: float = 0.0) -> Stats:
    """Receive a file from ``peer``, which has just been sent our request's answer (or the
    request itself). ``first``: a DATA already received (the answer to an RRQ without options
    is block 1 itself). On ``timer`` we ACK again; after ``budget`` seconds without new DATA
    we give up."""
    stats, start = Stats(), time.monotonic()
    link = Link(sock, peer, stats, max(receiver.blksize + 5, MAX_CONTROL), spin)  # a byte more than DATA
    acked_at = moved = time.monotonic()
    timed = first is None  # the next new DATA answers what we sent once: it times a round trip
    deadline = moved + timer.value
    pending = tftp.Data(first.block, first.data).encode() if first else None
    while True:
        if pending is None:
            link.set_timeout(deadline - time.monotonic())
        data, pending = pending or link.recv(), None
        now = time.monotonic()
        if data is None:
            if now - moved >= budget:
                raise stats.gave_up(f"no DATA for {budget:g} s ({stats.timeouts} ACKs repeated)")
            stats.timeouts += 1
            timer.expired()
            link.send(receiver.on_timeout().send)
            timed, deadline = False, now + timer.value
            continue
        opcode, block = tftp.header(data)
        if opcode == tftp.DATA:
            received = receiver.received
            step = receiver.on_data(block, data[4:])
            if receiver.received > received:
                if timed:
                    timer.measured(now - acked_at)
                else:
                    timer.progressed()
                timed, moved, deadline = False, now, now + timer.value
            if step.write:
                write(step.write)
                stats.bytes += len(step.write)
                if progress:
                    progress(stats.bytes)
            link.send(step.send)
            if step.error:
                raise PeerError(step.error)
            if step.done:
                break
            if step.send and receiver.received > received:  # a window's ACK: the sender answers it
                acked_at, timed = time.monotonic(), True
        elif opcode == tftp.OACK and receiver.received == 0:
            link.send([tftp.Ack(0).encode()])  # our ACK of its OACK was lost: again
        elif opcode not in (tftp.OACK, tftp.ACK, tftp.RRQ, tftp.WRQ):
            raise link.fail(data)
    stats.seconds, stats.timer = time.monotonic() - start, timer
    return stats  # the caller puts the file in place, then dallies


def dally(sock: socket.socket, peer: Address, receiver: Receiver, timeout: float, stats: Stats) -> None:
    """Linger after the final ACK: if the last DATA comes again, our ACK was lost: ACK again."""
    link = Link(sock, peer, stats, max(receiver.blksize + 5, MAX_CONTROL))
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        link.set_timeout(left)
        data = link.recv()
        if data is None:
            return
        if tftp.header(data)[0] == tftp.DATA:
            link.send([receiver.last_ack])
