"""nat-client and nat-server: a server that speaks first, later, to a client behind a NAT.

``nat-client HOST PORT`` says ``hello`` and prints every datagram that comes back; with
``--keepalive S`` it sends ``keepalive`` every S seconds, so that the NAT router between
them keeps its mapping. ``nat-server --port P --push-after S`` answers each ``hello`` with
``welcome`` and, S seconds later, sends that client ``push``, to the address and port the
hello came from: the router's, for a client behind a NAT. Past the router's UDP timeout
without a datagram, the push is lost. The schedules are in ``lab.proto.keepalive``.
"""

from __future__ import annotations

import argparse
import time

from lab.apps import common
from lab.proto import keepalive


def main_nat_client(argv: list[str] | None = None) -> int:
    p = common.parser("nat-client", "say hello to a server, keep the NAT mapping alive, print what comes back")
    p.add_argument("host", help="the server's host name or IPv4 address")
    p.add_argument("port", type=common.port, help="the server's UDP port")
    p.add_argument("--keepalive", type=float, default=0, metavar="S",
                   help="send `keepalive` every S seconds (0: never)")
    p.add_argument("--bind", type=common.port, default=0, metavar="PORT", help="the local port (default: the OS picks)")
    p.add_argument("--timeout", type=float, default=0, metavar="S", help="exit after S seconds (0: run until stopped)")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: client(args, out), out, "nat-client")


def client(args: argparse.Namespace, out: common.Output) -> int:
    server = common.resolve(args.host, args.port)
    schedule = keepalive.Keepalive(args.keepalive)
    end = time.monotonic() + args.timeout if args.timeout else float("inf")
    with common.udp_socket("", args.bind) as sock:
        text = keepalive.HELLO
        while True:
            data = text.encode(out.encoding)
            sock.sendto(data, server)
            schedule.sent(time.monotonic())
            local = sock.getsockname()
            out.event("sent", f"sent {text} from port {local[1]} to {common.endpoint(server)}", local=local,
                      peer=server, data=data)
            while True:
                now = time.monotonic()
                wait = schedule.wait(now)
                limit = min(end - now, wait if wait is not None else float("inf"))
                if limit <= 0:
                    break
                sock.settimeout(None if limit == float("inf") else limit)
                try:
                    reply, peer = sock.recvfrom(common.MAX_DATAGRAM)
                except TimeoutError:
                    continue
                out.event("received", f"from {common.endpoint(peer)}: {out.decode(reply)}", local=local, peer=peer,
                          data=reply)
            if time.monotonic() >= end:
                return 0
            text = keepalive.KEEPALIVE


def main_nat_server(argv: list[str] | None = None) -> int:
    p = common.parser("nat-server", "answer hello with welcome, then push to that client S seconds later")
    p.add_argument("--port", type=common.port, required=True, help="UDP port to bind")
    p.add_argument("--push-after", type=float, default=8, metavar="S", help="seconds from a hello to its push")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: server(args, out), out, "nat-server")


def server(args: argparse.Namespace, out: common.Output) -> int:
    schedule = keepalive.Pushes(args.push_after)
    start = time.monotonic()
    with common.udp_socket("", args.port) as sock:
        local = sock.getsockname()
        out.event("listening", f"listening on udp {common.endpoint(local)}", local=local)
        while True:
            now = time.monotonic()
            wait = schedule.wait(now)
            if wait is not None and wait <= 0:  # due already (a timeout of 0 would make the socket non-blocking)
                answers = schedule.due(now)
            else:
                sock.settimeout(wait)
                try:
                    data, peer = sock.recvfrom(common.MAX_DATAGRAM)
                except TimeoutError:
                    answers = schedule.due(time.monotonic())
                else:
                    text = out.decode(data)
                    out.event("received", f"from {common.endpoint(peer)}: {text}", local=local, peer=peer,
                              data=data, at=round(time.monotonic() - start, 3))
                    answers = schedule.received(peer, text, time.monotonic())
            for to, text in answers:
                sock.sendto(text.encode(out.encoding), to)
                out.event("sent", f"sent {text} to {common.endpoint(to)}", local=local, peer=to, data=text.encode(),
                          at=round(time.monotonic() - start, 3))
