"""chat-load: many chat clients in one process, for load tests and benchmarks.

    lab chat-load srv 9000 --clients 10 --name h1 --messages 50 --expect 30 --wait-go --json

Opens --clients connections to a chat-server (names NAME-0, NAME-1, ...), waits until each
is welcomed, prints a ``ready`` event and (with --wait-go) waits for a ``go`` line on stdin,
so that clients spread over several hosts can start together. Then every client sends
--messages numbered, timestamped messages (at --rate per second each, or as fast as the
server takes them) while all read; each expects the messages of --expect senders in total
(itself included) and checks that every other sender's messages arrive exactly once and in
order. A ``summary`` event reports counts, violations, deliveries per second and latency.
Lab hosts share one kernel clock, so send-to-receive latency is meaningful across hosts.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.apps import common
from lab.proto.framing import LineFramer


@dataclass
class Tally:
    """What one receiving client saw, per sender: exactly once, in order?"""

    next_seq: dict[str, int] = field(default_factory=dict)
    received: int = 0
    duplicates: int = 0
    out_of_order: int = 0

    def record(self, sender: str, seq: int) -> None:
        self.received += 1
        expected = self.next_seq.get(sender, 0)
        if seq == expected:
            self.next_seq[sender] = seq + 1
        elif seq < expected:
            self.duplicates += 1
        else:
            self.out_of_order += 1
            self.next_seq[sender] = seq + 1

    def complete(self, senders: int, messages: int) -> bool:
        return self.received >= senders * messages


@dataclass
class LoadClient:
    name: str
    sock: socket.socket
    framer: LineFramer = field(default_factory=lambda: LineFramer(max_len=1 << 16))
    out: bytearray = field(default_factory=bytearray)
    tally: Tally = field(default_factory=Tally)
    sent: int = 0
    next_send: float = 0.0
    welcomed: bool = False
    writing: bool = True
    errors: list[str] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Load:
    def __init__(self, server: common.Address, args: argparse.Namespace, out: common.Output) -> None:
        self.server, self.args, self.out = server, args, out
        self.sel = selectors.DefaultSelector()
        self.clients: list[LoadClient] = []
        self.latencies: list[float] = []
        self.pad = b"x" * max(0, args.size - 30)

    def connect(self) -> None:
        for i in range(self.args.clients):
            try:
                sock = socket.create_connection(self.server, timeout=self.args.timeout)
            except OSError as exc:
                raise common.os_error(exc, self.server) from None
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = LoadClient(f"{self.args.name}-{i}", sock)
            client.out += client.name.encode() + b"\n"
            self.clients.append(client)
            self.sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)
        self.loop(lambda: all(c.welcomed for c in self.clients), "every client to be welcomed")

    def loop(self, done: Callable[[], bool], what: str, sending: bool = False) -> None:
        deadline = time.monotonic() + self.args.timeout
        while not done():
            now = time.monotonic()
            if now > deadline:
                raise common.AppError(f"timed out after {self.args.timeout:g}s waiting for {what}")
            if sending:
                self.produce(now)
            for key, mask in self.sel.select(timeout=0.005 if sending else 0.05):
                client: LoadClient = key.data
                if mask & selectors.EVENT_READ:
                    self.read(client)
                if mask & selectors.EVENT_WRITE:
                    self.write(client)
            if sending:
                for client in self.clients:
                    if client.out and not client.writing:
                        self.write(client)

    def write(self, client: LoadClient) -> None:
        """Send what the socket takes now; watch for writability only while bytes wait."""
        if client.out:
            try:
                del client.out[:client.sock.send(client.out)]
            except BlockingIOError:
                pass
            except OSError as exc:
                raise common.AppError(f"{client.name}: {exc.strerror}") from None
        client.writing = common.want_write(self.sel, client.sock, client, client.writing, bool(client.out))

    def produce(self, now: float) -> None:
        interval = 1.0 / self.args.rate if self.args.rate else 0.0
        for client in self.clients:
            while client.sent < self.args.messages and now >= client.next_send and len(client.out) < 65536:
                client.out += b"%d %.6f %s\n" % (client.sent, time.time(), self.pad)
                client.sent += 1
                client.next_send = (client.next_send or now) + interval
                if interval:
                    break

    def read(self, client: LoadClient) -> None:
        try:
            data = client.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as exc:
            raise common.AppError(f"{client.name}: {exc.strerror}") from None
        if not data:
            raise common.AppError(f"{client.name}: the server closed the connection")
        now = time.time()
        for line in client.framer.feed(data):
            if line.startswith(b"* "):
                client.welcomed = client.welcomed or line.startswith(b"* welcome ")
                continue
            if line.startswith(b"ERR"):
                client.errors.append(line.decode(errors="replace"))
                continue
            sender, _, rest = line.partition(b": ")
            seq, stamp, _ = rest.split(b" ", 2)
            client.tally.record(sender.decode(), int(seq))
            self.latencies.append(now - float(stamp))

    def run(self) -> int:
        self.connect()
        self.out.event("ready", f"{len(self.clients)} clients joined", peer=self.server, clients=len(self.clients))
        if self.args.wait_go:
            for line in common.stdin_lines():
                if line.strip() == "go":
                    break
        start = time.monotonic()
        if self.args.rate:  # spread the clients over one interval: arrivals even, not in bursts
            for i, client in enumerate(self.clients):
                client.next_send = start + i / len(self.clients) / self.args.rate
        senders, messages = self.args.expect - 1, self.args.messages
        self.loop(lambda: all(c.sent == messages and not c.out and c.tally.complete(senders, messages)
                              for c in self.clients), "every message to arrive", sending=True)
        elapsed = time.monotonic() - start
        for client in self.clients:
            client.sock.setblocking(True)
            client.sock.sendall(b"bye\n")
            client.sock.close()
        self.summary(elapsed)
        return 0

    def summary(self, elapsed: float) -> None:
        tallies = [c.tally for c in self.clients]
        received = sum(t.received for t in tallies)
        expected = len(self.clients) * (self.args.expect - 1) * self.args.messages
        complete = [c.name for c in self.clients
                    if sorted(c.tally.next_seq.values()) == [self.args.messages] * (self.args.expect - 1)]
        record = dict(
            clients=len(self.clients), sent=sum(c.sent for c in self.clients), received=received,
            expected=expected, duplicates=sum(t.duplicates for t in tallies),
            out_of_order=sum(t.out_of_order for t in tallies), complete_clients=len(complete),
            errors=sum(len(c.errors) for c in self.clients), seconds=round(elapsed, 4),
            deliveries_per_s=round(received / elapsed) if elapsed else 0,
            p50_ms=round(percentile(self.latencies, 50) * 1000, 3),
            p99_ms=round(percentile(self.latencies, 99) * 1000, 3),
        )
        self.out.event("summary", " ".join(f"{k}={v}" for k, v in record.items()), peer=self.server, **record)


def main(argv: list[str] | None = None) -> int:
    p = common.parser("chat-load", "many chat clients in one process: load tests and benchmarks")
    p.add_argument("host")
    p.add_argument("port", type=common.port)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--name", default="load", help="name prefix (unique per process)")
    p.add_argument("--messages", type=int, default=50, help="messages each client sends")
    p.add_argument("--expect", type=int, default=0, help="senders in the room in all (default: --clients)")
    p.add_argument("--rate", type=float, default=0.0, help="messages per second per client (0: as fast as possible)")
    p.add_argument("--size", type=int, default=40, help="bytes per message")
    p.add_argument("--wait-go", action="store_true", help="after joining, wait for a `go` line on stdin")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args(argv)
    args.expect = args.expect or args.clients
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: Load(common.resolve(args.host, args.port), args, out).run(), out, "chat-load")
