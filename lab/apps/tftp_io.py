"""The socket side of a TFTP transfer, shared by the client and the server.

``run_sender`` and ``run_receiver`` drive a state machine from lab.proto.tftp_session over
a UDP socket already talking to one peer (its transfer ID, TID): they send what it says,
hand it what arrives, and keep time. Packets from any other TID get ERROR 5 and change
nothing. After the final ACK the receiving side puts its file in place and then lingers
(``dally``) one timeout, to ACK again if that ACK was lost and the last DATA comes back.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.proto import tftp
from lab.proto.tftp_session import Receiver, Sender, Step

Address = tuple[str, int]


@dataclass
class Stats:
    bytes: int = 0
    packets_in: int = 0
    resent: int = 0
    strangers: int = 0
    seconds: float = 0.0


class PeerError(Exception):
    """The peer sent ERROR, or the transfer gave up."""


def _recv(sock: socket.socket, peer: Address, stats: Stats) -> tftp.Packet | None:
    """The next packet from ``peer``; None on timeout. Strangers get ERROR 5."""
    while True:
        data, addr = sock.recvfrom(65536)
        if addr != peer:
            stats.strangers += 1
            sock.sendto(tftp.Error(tftp.UNKNOWN_TID, "unknown transfer ID").encode(), addr)
            continue
        stats.packets_in += 1
        try:
            return tftp.decode(data)
        except tftp.MalformedPacket as exc:
            sock.sendto(tftp.Error(tftp.ILLEGAL_OPERATION, str(exc)).encode(), peer)
            raise PeerError(f"malformed packet from the peer: {exc}") from None


def _send(sock: socket.socket, peer: Address, step: Step) -> None:
    for packet in step.send:
        sock.sendto(packet, peer)


def run_sender(sock: socket.socket, peer: Address, sender: Sender, timeout: float,
               progress: Callable[[int], None] | None = None, first: Step | None = None) -> Stats:
    stats, start = Stats(), time.monotonic()
    step = first or sender.start()
    _send(sock, peer, step)
    wait = timeout
    while not step.done:
        sock.settimeout(wait)
        try:
            packet = _recv(sock, peer, stats)
        except TimeoutError:
            step, wait = sender.on_timeout(), min(wait * 2, timeout * 8)  # back off
            _send(sock, peer, step)
            continue
        if isinstance(packet, tftp.Ack):
            step, wait = sender.on_ack(packet.block), timeout
            _send(sock, peer, step)
            if progress:
                progress(min(sender.acked, sender.last or sender.acked) * sender.blksize)
        elif isinstance(packet, tftp.Error):
            raise PeerError(f"the peer sent ERROR {packet.code}: {packet.message}")
        elif isinstance(packet, tftp.OAck | tftp.Data | tftp.Request):
            continue  # a retransmitted OACK/DATA/request from a slow peer: nothing to do
    if step.error:
        raise PeerError(step.error)
    stats.resent, stats.seconds = sender.resent, time.monotonic() - start
    return stats


def run_receiver(sock: socket.socket, peer: Address | None, receiver: Receiver, timeout: float,
                 write: Callable[[bytes], object], request: tuple[bytes, Address] | None = None,
                 progress: Callable[[int], None] | None = None, first: tftp.Packet | None = None) -> Stats:
    """Receive a file. ``peer`` None: the first answer fixes the TID (a client after its RRQ,
    which is ``request`` and is sent again if nothing answers)."""
    stats, start = Stats(), time.monotonic()
    pending = first
    step = Step()
    while True:
        if pending is None:
            sock.settimeout(timeout)
            try:
                if peer is None:
                    data, peer = sock.recvfrom(65536)
                    stats.packets_in += 1
                    pending = tftp.decode(data)
                else:
                    pending = _recv(sock, peer, stats)
            except TimeoutError:
                if peer is None:
                    receiver.tries += 1
                    if request is None or receiver.tries > receiver.retries:
                        raise PeerError(f"no answer after {receiver.retries} retries") from None
                    sock.sendto(*request)
                    continue
                assert peer is not None
                step = receiver.on_timeout()
                _send(sock, peer, step)
                if step.error:
                    raise PeerError(step.error) from None
                continue
        packet, pending = pending, None
        assert peer is not None
        if isinstance(packet, tftp.Data):
            step = receiver.on_data(packet.block, packet.data)
            if step.write:
                write(step.write)
                stats.bytes += len(step.write)
                if progress:
                    progress(stats.bytes)
            _send(sock, peer, step)
            if step.error:
                raise PeerError(step.error)
            if step.done:
                break
        elif isinstance(packet, tftp.Error):
            raise PeerError(f"the peer sent ERROR {packet.code}: {packet.message}")
        elif isinstance(packet, tftp.OAck) and receiver.received == 0:
            sock.sendto(tftp.Ack(0).encode(), peer)  # our ACK of its OACK was lost: again
    stats.seconds = time.monotonic() - start
    return stats  # the caller puts the file in place, then dallies


def dally(sock: socket.socket, peer: Address, receiver: Receiver, timeout: float, stats: Stats) -> None:
    """Linger after the final ACK: if the last DATA comes again, our ACK was lost: ACK again."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            packet = _recv(sock, peer, stats)
        except (TimeoutError, PeerError):
            return
        if isinstance(packet, tftp.Data):
            sock.sendto(receiver.last_ack, peer)
