"""The programs that run on lab hosts: ``lab PROGRAM [ARGS]``.

Standard library only (a unit test enforces it): students read these. Each program is a
module with ``main(argv: list[str] | None = None) -> int``; this table maps the name a
person types to that module, imported only when it runs.
"""

from __future__ import annotations

import importlib
import sys

PROGRAMS: dict[str, tuple[str, str]] = {
    # name: (module under lab.apps, one-line summary)
    "udp-send": ("udp_send", "send stdin lines (or --message) as UDP datagrams"),
    "udp-recv": ("udp_recv", "print every UDP datagram received, with its source"),
    "udp-echo-server": ("udp_echo", "return every UDP datagram to its sender"),
    "udp-echo-client": ("udp_echo", "send lines to a UDP echo server, report replies and losses"),
    "udp-chat": ("udp_chat", "full-duplex UDP chat with a peer or in a room"),
    "udp-chatroom-server": ("udp_chatroom", "UDP chat room: relay messages to every other member"),
    "broadcast-send": ("broadcast", "send UDP broadcasts (<broadcast> or a subnet's)"),
    "broadcast-listen": ("broadcast", "print every broadcast datagram received"),
    "mcast-send": ("multicast", "send UDP datagrams to a multicast group (239.0.0.0/8, ff05::/16), with a TTL"),
    "mcast-recv": ("multicast", "join a multicast group, print what it receives, leave at the end"),
    "nat-client": ("nat", "say hello to a server through a NAT, keep the mapping alive, print its pushes"),
    "nat-server": ("nat", "answer hello with welcome, push to that client seconds later"),
    "tcp-server": ("tcp_chat", "one-to-one TCP chat, server side (`bye` ends it)"),
    "tcp-client": ("tcp_chat", "one-to-one TCP chat, client side (`bye` ends it)"),
    "tcp-echo-server": ("tcp_echo", "TCP echo server three ways: thread, socketserver, selectors"),
    "chat-server": ("chat_server", "TCP group chat server: framed, robust, one thread"),
    "chat-client": ("chat_client", "join a TCP group chat"),
    "chat-load": ("chat_load", "many chat clients in one process: load tests and benchmarks"),
    "tftp": ("tftp_client", "TFTP client: get and put, with blksize, windowsize, tsize options"),
    "tftp-server": ("tftp_server", "TFTP server: safe paths, options, many clients at once"),
    "timestamp-server": ("timestamp", "reply [time]data to every message, over UDP or TCP"),
    "timestamp-client": ("timestamp", "send lines to a timestamp server, print replies"),
    "boundary-send": ("boundaries", "send messages joined, split and oversized: where boundaries go"),
    "boundary-recv": ("boundaries", "show what each recv() returns; --framed answers each line"),
}


def usage() -> str:
    width = max(map(len, PROGRAMS))
    rows = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in PROGRAMS.items())
    return f"usage: lab PROGRAM [ARGS...]   (lab PROGRAM --help for its options)\n\nprograms:\n{rows}\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in PROGRAMS:
        sys.stderr.write(f"lab: unknown program {name!r}\n\n{usage()}")
        return 2
    module = importlib.import_module(f"lab.apps.{PROGRAMS[name][0]}")
    entry = getattr(module, "main_" + name.replace("-", "_"), None) or module.main
    result: int = entry(rest)
    return result
