"""lab tftp-server: a TFTP server (RFC 1350, 2347-2349, 7440) safe to point at a folder.

Each request gets a session of its own: a new socket (the server's transfer ID) and a
thread, so many clients are served at once and a slow one delays nobody. Safety:

- paths stay inside --root: absolute paths, ``..``, NUL bytes, over-long names and
  symlinks leading out of the root are refused with ERROR 2 (access violation);
- WRQ is refused unless --writable; a new file needs --create as well;
- an upload is written to a temporary file and renamed only when complete, so a failed
  upload leaves nothing under the final name;
- retransmissions are bounded: a client that never ACKs (or a spoofed request) costs a few
  packets and --give-up seconds; a malformed request gets ERROR 4 and the server carries on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.apps import common
from lab.apps.tftp_io import (
    MAX_CONTROL,
    FileReader,
    Link,
    PeerError,
    Stats,
    dally,
    patience,
    run_receiver,
    run_sender,
    send_once,
)
from lab.proto import tftp
from lab.proto.rto import Rto
from lab.proto.tftp_session import Reader, Receiver, Sender

MAX_NAME = 255
STRAY = b"not from this transfer "  # what a stray DATA carries (--stray-data)


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Policy:
    root: Path
    writable: bool
    create: bool
    max_blksize: int
    max_windowsize: int
    timeout: float
    give_up: float
    when_asked: bool = False  # a lesson's server: resend only when the client asks again
    stray: bool = False       # a lesson's server: a second sender's DATA 2 after each DATA 1


def resolve_path(root: Path, name: str) -> Path:
    """The file ``name`` names under ``root``, or Refused(ERROR 2) if it would leave it."""
    if "\0" in name or len(name) > MAX_NAME:
        raise Refused(tftp.ACCESS_VIOLATION, "illegal file name")
    if name.startswith("/") or "\\" in name or any(part == ".." for part in name.split("/")):
        raise Refused(tftp.ACCESS_VIOLATION, "access outside the served folder is not allowed")
    path = (root / name).resolve()
    if path != root and root not in path.parents:
        raise Refused(tftp.ACCESS_VIOLATION, "access outside the served folder is not allowed")
    return path


def negotiate(request: tftp.Request, policy: Policy, size: int | None) -> tuple[dict[str, str], int, int, float]:
    """The options we accept (for the OACK), and the resulting blksize, windowsize, timeout."""
    accepted: dict[str, str] = {}
    blksize, windowsize, timeout = tftp.DEFAULT_BLKSIZE, 1, policy.timeout
    for name, value in request.options.items():
        if not value.isdigit():
            continue  # an option we cannot read is an option we ignore (RFC 2347)
        n = int(value)
        if name == "blksize" and n >= tftp.MIN_BLKSIZE:
            blksize = min(n, policy.max_blksize)
            accepted[name] = str(blksize)
        elif name == "windowsize" and n >= 1:
            windowsize = min(n, policy.max_windowsize)
            accepted[name] = str(windowsize)
        elif name == "timeout" and 1 <= n <= 255:
            timeout = float(n)
            accepted[name] = value
        elif name == "tsize":
            accepted[name] = str(size if request.opcode == tftp.RRQ and size is not None else n)
    return accepted, blksize, windowsize, timeout


class Session(threading.Thread):
    def __init__(self, policy: Policy, request: tftp.Request, client: tuple[Any, ...], listener: socket.socket,
                 out: common.Output) -> None:
        super().__init__(daemon=True, name=f"tftp {common.endpoint(client)}")
        self.policy, self.request, self.client, self.out = policy, request, client, out
        self.peer = common.shown(client)  # as printed: fe80::1%eth0, not a scope id
        self.sock = another_port(listener)  # this session's transfer ID

    def run(self) -> None:
        kind = "RRQ" if self.request.opcode == tftp.RRQ else "WRQ"
        with self.sock:
            try:
                stats = self.read_file() if self.request.opcode == tftp.RRQ else self.write_file()
            except Refused as exc:
                send_once(self.sock, tftp.Error(exc.code, str(exc)).encode(), self.client)
                self.out.event("refused", f"{kind} {self.request.filename!r} from {self.peer[0]}: {exc}",
                               peer=self.peer, request=kind, code=exc.code, message=str(exc))
                return
            except (PeerError, OSError, tftp.MalformedPacket) as exc:
                if isinstance(exc, OSError) and exc.errno in tftp.WRITE_ERRORS:  # our disk: the client stops at once
                    error = tftp.Error(tftp.WRITE_ERRORS[exc.errno], f"server cannot write: {exc.strerror}")
                    send_once(self.sock, error.encode(), self.client)
                self.out.event("failed", f"{kind} {self.request.filename!r} from {self.peer[0]}: {exc}",
                               peer=self.peer, request=kind, message=str(exc))
                return
        self.out.event("done", f"{kind} {self.request.filename} ({stats.bytes} bytes) for "
                       f"{common.endpoint(self.peer)} in {stats.seconds:.3f}s, {stats.timeouts} timeouts, "
                       f"{stats.resent} blocks resent", peer=self.peer, request=kind, file=self.request.filename,
                       size=stats.bytes, seconds=round(stats.seconds, 4), timeouts=stats.timeouts,
                       resent=stats.resent, refused=stats.refused, **stats.timing())

    def read_file(self) -> Stats:
        path = resolve_path(self.policy.root, self.request.filename)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            raise Refused(tftp.FILE_NOT_FOUND, "file not found") from None
        except (PermissionError, IsADirectoryError):
            raise Refused(tftp.ACCESS_VIOLATION, "access violation") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            read: Reader = FileReader(f.fileno())
            if self.request.mode == "netascii":  # text grows as it converts: convert it whole
                content = tftp.to_netascii(f.read())
                read, size = (lambda off, n: content[off:off + n]), len(content)
            options, blksize, windowsize, timeout = negotiate(self.request, self.policy, size)
            timer, give_up = Rto(ceiling=timeout), patience(timeout, self.policy.give_up)
            if options:
                self.wait_ack0(timer, give_up, tftp.OAck(options).encode())
            with contextlib.ExitStack() as stack:
                started = self.stray_sender(stack) if self.policy.stray else None
                stats = run_sender(self.sock, self.client, Sender(read, blksize, windowsize), timer, give_up,
                                   when_asked=self.policy.when_asked, started=started)
        stats.bytes = size
        return stats

    def stray_sender(self, stack: contextlib.ExitStack) -> Callable[[], None]:
        """What sends, once DATA 1 is out, a DATA 2 of other bytes from a second port of this host
        (a second sender): the client must ignore it or answer ERROR 5, and the transfer goes
        on with this session's port (RFC 1350 section 4). Its socket stays open to the end, so
        the client's answer to it meets a socket, not an ICMP error."""
        stray = stack.enter_context(another_port(self.sock))

        def send() -> None:
            send_once(stray, tftp.Data(2, STRAY * (512 // len(STRAY))).encode(), self.client)
            port = stray.getsockname()[1]
            self.out.event("stray", f"sent a stray DATA 2 from port {port} (not this transfer's "
                           f"{self.sock.getsockname()[1]}) to {common.endpoint(self.client)}",
                           peer=self.peer, port=port, tid=self.sock.getsockname()[1])

        return send

    def wait_ack0(self, timer: Rto, give_up: float, oack: bytes) -> None:
        """After an OACK for RRQ, the client confirms with ACK 0 (or refuses with ERROR 8).
        The OACK goes again on the timer; an ACK of an OACK sent once times the round trip."""
        link = Link(self.sock, self.client, Stats(), MAX_CONTROL)
        start = sent_at = time.monotonic()
        link.send([oack])
        timed = True
        while True:
            link.set_timeout(sent_at + timer.value - time.monotonic())
            data = link.recv()
            if data is None:
                if time.monotonic() - start >= give_up:
                    raise PeerError(f"no ACK for the OACK in {give_up:g} s")
                timer.expired()
                link.send([oack])
                sent_at, timed = time.monotonic(), False
                continue
            opcode, block = tftp.header(data)
            if opcode == tftp.ACK and block == 0 and len(data) == 4:
                if timed:
                    timer.measured(time.monotonic() - sent_at)
                return
            if opcode == tftp.ERROR:
                raise PeerError(f"the client refused the options: {link.fail(data)}")

    def write_file(self) -> Stats:
        if not self.policy.writable:
            raise Refused(tftp.ACCESS_VIOLATION, "this server does not accept uploads")
        path = resolve_path(self.policy.root, self.request.filename)
        if not path.exists() and not self.policy.create:
            raise Refused(tftp.ACCESS_VIOLATION, "this server does not create new files")
        if path.is_dir():
            raise Refused(tftp.ACCESS_VIOLATION, "access violation")
        options, blksize, windowsize, timeout = negotiate(self.request, self.policy, None)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.upload.")
        try:
            with os.fdopen(fd, "wb", buffering=1 << 20) as f:  # streamed: the upload is never held whole
                decoder = tftp.NetasciiDecoder() if self.request.mode == "netascii" else None
                write = f.write if decoder is None else (lambda block: f.write(decoder.feed(block)))
                first = tftp.OAck(options).encode() if options else tftp.Ack(0).encode()
                send_once(self.sock, first, self.client)
                receiver = Receiver(blksize, windowsize)
                receiver.last_ack = first
                stats = run_receiver(self.sock, self.client, receiver, Rto(ceiling=timeout),
                                     patience(timeout, self.policy.give_up), write)
                f.write(decoder.end() if decoder else b"")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        dally(self.sock, self.client, receiver, timeout, stats)
        return stats


def another_port(sock: socket.socket) -> socket.socket:
    """A UDP socket bound as ``sock`` is (its family; its address, or every one) on a port the OS picks."""
    return common.udp_socket(common.shown(sock.getsockname())[0], 0, sock.family)


def serve(args: argparse.Namespace, out: common.Output) -> int:
    root = Path(args.root).resolve()
    if not root.is_dir():
        raise common.AppError(f"--root {args.root} is not a folder")
    policy = Policy(root, args.writable, args.create, args.max_blksize, args.max_windowsize, args.timeout,
                    args.give_up, args.resend_when_asked, args.stray_data)
    with common.udp_socket(args.bind, args.port, args.family) as sock:
        local = common.shown(sock.getsockname())
        out.event("listening", f"tftp server on udp {common.endpoint(local)} serving {root}", local=local)
        while True:
            data, client = sock.recvfrom(65536)
            try:
                request = tftp.decode(data)
                if not isinstance(request, tftp.Request):
                    raise tftp.MalformedPacket(f"{type(request).__name__} is not a request")
            except tftp.MalformedPacket as exc:
                send_once(sock, tftp.Error(tftp.ILLEGAL_OPERATION, str(exc)[:100]).encode(), client)
                out.event("refused", f"malformed request from {common.endpoint(client)}: {exc}",
                          peer=common.shown(client), code=tftp.ILLEGAL_OPERATION, message=str(exc))
                continue
            Session(policy, request, client, sock, out).start()


def main(argv: list[str] | None = None) -> int:
    p = common.parser("tftp-server", "a TFTP server for the files in --root")
    p.add_argument("--root", required=True, help="the folder served")
    p.add_argument("--port", type=common.port, default=69)
    p.add_argument("--bind", default="", metavar="ADDR")
    p.add_argument("--writable", action="store_true", help="accept uploads (WRQ) to existing files")
    p.add_argument("--create", action="store_true", help="with --writable, accept uploads of new files")
    p.add_argument("--max-blksize", type=int, default=tftp.MAX_BLKSIZE)
    p.add_argument("--max-windowsize", type=int, default=64)
    p.add_argument("--timeout", type=float, default=1.0, metavar="S",
                   help="the longest wait before resending (the timer adapts below it to the round trip)")
    p.add_argument("--give-up", type=float, default=5.0, metavar="S",
                   help="abandon a transfer after this many seconds without progress")
    common.family_options(p, socket.AF_INET)
    lesson = p.add_argument_group("for lessons' checks")
    lesson.add_argument("--resend-when-asked", action="store_true",
                        help="resend a DATA only when the client ACKs the previous block again, never on a timer: "
                             "a lost DATA is recovered by the client's timeout alone (RFC 1350 section 2)")
    lesson.add_argument("--stray-data", action="store_true",
                        help="after DATA 1 of a download, send one DATA 2 of other bytes from a second port: a "
                             "second sender the client must ignore or answer with ERROR 5 (RFC 1350 section 4)")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: serve(args, out), out, "tftp-server")
