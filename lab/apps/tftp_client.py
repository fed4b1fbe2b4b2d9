"""lab tftp get|put: a TFTP client (RFC 1350 with RFC 2347-2349 and 7440 options).

    lab tftp get srv remote.bin [local.bin] [--blksize 1468 --windowsize 16 --tsize]
    lab tftp put srv local.bin [remote.bin]

The tutorial's downloader grown up: it asks for options and uses what the server accepts
(OACK), takes the transfer ID from the first answer and refuses strangers (ERROR 5),
retransmits on a timer that learns the round trip (lab.proto.rto) and backs off instead of
hanging, gives up after --give-up seconds without progress, handles ERROR packets, block
numbers past 65,535, and netascii. Exit status: 0 done, 1 failed (the reason on stderr).

Lock-step TFTP (one block, then wait for its answer) is bound by latency: every 512 bytes
cost a round trip, and a process that sleeps while it waits must be woken for each packet,
which on a virtual machine takes tens of microseconds. So while it waits, the client first
polls for up to --busy-poll microseconds (200) without sleeping, then sleeps: measured in
this lab, a 512-byte lock-step download runs about 1.5x faster, at the price of a busy CPU
during the transfer (`--busy-poll 0` turns it off). The server never busy-polls: it serves
many clients at once, and their threads would only take the CPU from each other.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from lab.apps import common
from lab.apps.tftp_io import FileReader, PeerError, Stats, dally, patience, run_receiver, run_sender, send_once
from lab.proto import tftp
from lab.proto.rto import Rto
from lab.proto.tftp_session import Reader, Receiver, Sender

WRITE_BUFFER = 1 << 20  # a write() per MiB, not one per 8 KiB


def budget(args: argparse.Namespace) -> float:
    """--give-up, but never less than three of the timeouts we asked the server for."""
    return patience(args.timeout_option or args.timeout, args.give_up)


def requested_options(args: argparse.Namespace, size: int | None) -> dict[str, str]:
    options = {}
    if args.blksize:
        options["blksize"] = str(args.blksize)
    if args.windowsize:
        options["windowsize"] = str(args.windowsize)
    if args.timeout_option:
        options["timeout"] = str(args.timeout_option)
    if args.tsize:
        options["tsize"] = str(size or 0)
    return options


def negotiated(oack: dict[str, str], asked: dict[str, str]) -> tuple[int, int, int | None]:
    """(blksize, windowsize, tsize) from the server's OACK; an option it never asked about fails."""
    unknown = set(oack) - set(asked)
    if unknown:
        raise PeerError(f"the server answered options we did not ask for: {', '.join(sorted(unknown))}")
    blksize = int(oack.get("blksize", tftp.DEFAULT_BLKSIZE))
    windowsize = int(oack.get("windowsize", 1))
    if not tftp.MIN_BLKSIZE <= blksize <= int(asked.get("blksize", blksize)):
        raise PeerError(f"the server chose an invalid blksize {blksize}")
    if not 1 <= windowsize <= int(asked.get("windowsize", windowsize)):
        raise PeerError(f"the server chose an invalid windowsize {windowsize}")
    tsize = int(oack["tsize"]) if "tsize" in oack else None
    return blksize, windowsize, tsize


class Progress:
    """Bytes so far and the rate on stderr, once per MiB, when a person watches (a TTY, not
    --json). The transfer loop calls it only if ``shown``: no per-packet cost otherwise."""

    def __init__(self, out: common.Output, total: int | None) -> None:
        self.total, self.next, self.start = total, 0, time.monotonic()
        self.shown = not out.as_json and sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if done >= self.next:
            of = f"/{self.total}" if self.total else ""
            rate = done / max(time.monotonic() - self.start, 1e-6) / 1e6
            sys.stderr.write(f"\r{done}{of} bytes, {rate:.2f} MB/s ")
            self.next = done + (1 << 20)

    def end(self) -> None:
        if self.shown and self.next:
            sys.stderr.write("\n")


def get(args: argparse.Namespace, out: common.Output) -> Stats:
    server = common.resolve(args.host, args.port, args.family)
    local = Path(args.local or Path(args.remote).name)
    asked = requested_options(args, None)
    request = tftp.Request(tftp.RRQ, args.remote, args.mode, asked).encode()
    # Write to a temporary file beside the target: a failed download leaves nothing behind,
    # and a folder we cannot write to fails here, before the server is asked for anything.
    try:
        fd, tmp = tempfile.mkstemp(dir=local.absolute().parent, prefix=f".{local.name}.")
    except OSError as exc:
        raise common.AppError(f"cannot write {local}: {exc.strerror}") from None
    f = os.fdopen(fd, "wb", buffering=WRITE_BUFFER)
    with socket.socket(common.family_of(server[0]), socket.SOCK_DGRAM) as sock:
        try:
            timer = Rto(ceiling=args.timeout)
            stats, receiver, peer = receive(sock, server, request, asked, args, out, f, timer)
            f.close()
            os.replace(tmp, local)
        except BaseException:
            with contextlib.suppress(OSError):  # what is still buffered would fail the same way
                f.close()
            os.unlink(tmp)
            raise
        dally(sock, peer, receiver, timer.ceiling, stats)
    return stats


def receive(sock: socket.socket, server: common.Address, request: bytes, asked: dict[str, str],
            args: argparse.Namespace, out: common.Output, f: BinaryIO,
            timer: Rto) -> tuple[Stats, Receiver, common.Address]:
    """RRQ to the end of the file, written to ``f``; what goes wrong here is told to the server."""
    first, peer = first_answer(sock, server, request, timer, budget(args))
    blksize, windowsize, total = tftp.DEFAULT_BLKSIZE, 1, None
    if isinstance(first, tftp.OAck):
        try:
            blksize, windowsize, total = negotiated(first.options, asked)
        except PeerError as exc:
            send_once(sock, tftp.Error(tftp.OPTION_REFUSED, str(exc)).encode(), peer)  # RFC 2347
            raise
        send_once(sock, tftp.Ack(0).encode(), peer)
        first_packet = None
    elif isinstance(first, tftp.Data):
        first_packet = first
    else:
        raise PeerError(f"expected DATA or OACK, got {type(first).__name__}")
    decoder = tftp.NetasciiDecoder() if args.mode == "netascii" else None
    write = f.write if decoder is None else (lambda block: f.write(decoder.feed(block)))
    receiver = Receiver(blksize, windowsize)
    progress = Progress(out, total)
    try:
        stats = run_receiver(sock, peer, receiver, timer, budget(args), write,
                             progress=progress if progress.shown else None, first=first_packet,
                             spin=args.busy_poll / 1e6)
        f.write(decoder.end() if decoder else b"")
        f.flush()
    except OSError as exc:
        code = tftp.WRITE_ERRORS.get(exc.errno or 0)
        if code is None:
            raise
        send_once(sock, tftp.Error(code, f"client cannot write: {exc.strerror}").encode(), peer)
        local = args.local or Path(args.remote).name
        raise common.AppError(f"cannot write {local}: {exc.strerror} (the server was told: ERROR "
                                  f"{code})") from None
    progress.end()
    return stats, receiver, peer


def first_answer(sock: socket.socket, server: common.Address, request: bytes, timer: Rto,
                 give_up: float) -> tuple[tftp.Packet, common.Address]:
    """Send the request; the server's first packet, from its new TID. The request goes again
    on the timer; a first answer to a request sent once times the round trip."""
    start = sent_at = time.monotonic()
    to = common.sockaddr(server)  # fe80::1%eth0: its link as a scope id
    send_once(sock, request, to)
    timed = True
    while True:
        sock.settimeout(max(sent_at + timer.value - time.monotonic(), 0.001))
        try:
            data, addr = sock.recvfrom(65536)
        except TimeoutError:
            if time.monotonic() - start >= give_up:
                raise PeerError(f"no answer from {common.endpoint(server)} in {give_up:g} s: is a TFTP server "
                                "running?") from None
            timer.expired()
            send_once(sock, request, to)
            sent_at, timed = time.monotonic(), False
            continue
        if common.shown(addr)[0] != server[0]:
            continue
        if timed:
            timer.measured(time.monotonic() - sent_at)
        try:
            packet = tftp.decode(data)
        except tftp.MalformedPacket as exc:
            raise PeerError(f"the server answered garbage: {exc}") from None
        if isinstance(packet, tftp.Error):
            raise PeerError(f"the server refused: ERROR {packet.code}: {packet.message}")
        return packet, addr


def put(args: argparse.Namespace, out: common.Output) -> Stats:
    server = common.resolve(args.host, args.port, args.family)
    local = Path(args.local)
    try:
        f = local.open("rb")
    except OSError as exc:
        raise common.AppError(f"cannot read {local}: {exc.strerror}") from None
    with f, socket.socket(common.family_of(server[0]), socket.SOCK_DGRAM) as sock:
        size = os.fstat(f.fileno()).st_size
        read: Reader = FileReader(f.fileno())
        if args.mode == "netascii":  # text grows as it converts: convert it whole
            content = tftp.to_netascii(f.read())
            size, read = len(content), lambda off, n: content[off:off + n]
        asked = requested_options(args, size)
        request = tftp.Request(tftp.WRQ, args.remote or local.name, args.mode, asked).encode()
        timer = Rto(ceiling=args.timeout)
        first, peer = first_answer(sock, server, request, timer, budget(args))
        blksize, windowsize = tftp.DEFAULT_BLKSIZE, 1
        if isinstance(first, tftp.OAck):
            blksize, windowsize, _ = negotiated(first.options, asked)
        elif not (isinstance(first, tftp.Ack) and first.block == 0):
            raise PeerError(f"expected ACK 0 or OACK, got {type(first).__name__}")
        sender = Sender(read, blksize, windowsize)
        progress = Progress(out, size)
        stats = run_sender(sock, peer, sender, timer, budget(args), progress=progress if progress.shown else None,
                           spin=args.busy_poll / 1e6)
        progress.end()
        stats.bytes = size
    return stats


def main(argv: list[str] | None = None) -> int:
    p = common.parser("tftp", "a TFTP client: get or put a file")
    p.add_argument("action", choices=("get", "put"))
    p.add_argument("host")
    p.add_argument("first", metavar="REMOTE|LOCAL", help="get: the remote file; put: the local file")
    p.add_argument("second", nargs="?", metavar="LOCAL|REMOTE", help="get: local name; put: remote name")
    p.add_argument("--port", type=common.port, default=69)
    p.add_argument("--mode", choices=tftp.MODES, default="octet")
    p.add_argument("--blksize", type=int, default=0, help="ask for this block size (RFC 2348)")
    p.add_argument("--windowsize", type=int, default=0, help="ask for this window (RFC 7440)")
    p.add_argument("--timeout", type=float, default=1.0, metavar="S",
                   help="the longest wait before resending (the timer adapts below it to the round trip)")
    p.add_argument("--timeout-option", type=int, default=0, metavar="S", help="ask the server for this timeout")
    p.add_argument("--tsize", action="store_true", help="ask for / announce the transfer size (RFC 2349)")
    p.add_argument("--give-up", type=float, default=5.0, metavar="S",
                   help="abandon the transfer after this many seconds without progress")
    p.add_argument("--busy-poll", type=float, default=200, metavar="US",
                   help="wait for the next packet this many microseconds without sleeping (0: sleep at once)")
    common.family_options(p)
    args = p.parse_args(argv)
    if args.action == "get":
        args.remote, args.local = args.first, args.second
    else:
        args.local, args.remote = args.first, args.second
    if args.blksize and not tftp.MIN_BLKSIZE <= args.blksize <= tftp.MAX_BLKSIZE:
        p.error(f"--blksize must be {tftp.MIN_BLKSIZE}-{tftp.MAX_BLKSIZE}")
    if not 0 <= args.busy_poll <= 1_000_000:
        p.error("--busy-poll must be 0-1000000 microseconds")
    if args.windowsize and not 1 <= args.windowsize <= tftp.MAX_WINDOWSIZE:
        p.error(f"--windowsize must be 1-{tftp.MAX_WINDOWSIZE}")
    out = common.Output(args.json, args.encoding)

    def transfer() -> int:
        try:
            stats = (get if args.action == "get" else put)(args, out)
        except PeerError as exc:
            raise common.AppError(str(exc)) from None
        rate = stats.bytes / stats.seconds / 1e6 if stats.seconds else 0.0
        out.event("done", f"{args.action} {stats.bytes} bytes in {stats.seconds:.3f}s ({rate:.2f} MB/s), "
                  f"{stats.timeouts} timeouts, {stats.resent} blocks resent",
                  peer=common.resolve(args.host, args.port, args.family),
                  size=stats.bytes, seconds=round(stats.seconds, 4), timeouts=stats.timeouts, resent=stats.resent,
                  strangers=stats.strangers, refused=stats.refused, **stats.timing())
        return 0

    return common.run(transfer, out, "tftp")
