"""What every lab program shares: options, output (prose or --json events), clean exit.

Output is either a line of prose per event for a person, or with ``--json`` one JSON object
per line with at least ``event``, ``local`` and ``peer`` (as ``[ip, port]``), ``bytes`` and
``text``, so that scripts and tests never parse prose. Bytes that do not decode in the
chosen encoding are shown (with replacement characters), never fatal.

SIGTERM is turned into KeyboardInterrupt, so Ctrl-C and ``kill`` both end a program
through the same ``finally`` blocks: sockets close, threads stop, exit status 0.
"""

from __future__ import annotations

import argparse
import codecs
import errno
import json
import selectors
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

Address = tuple[str, int]  # IPv6 too: ("fd00:10:201:2::11", 9000); a link-local one names its link: "fe80::1%eth0"
#: Errors a person can act on, mapped to one clear line each.
_HINTS = {
    errno.EADDRINUSE: "address already in use: another program is bound to {addr}",
    errno.EACCES: "permission denied binding {addr}: ports below 1024 need root",
    errno.EADDRNOTAVAIL: "{addr} is not an address of this host",
    errno.ENETUNREACH: "network unreachable sending to {addr}",
    errno.EHOSTUNREACH: "host unreachable: {addr}",
    errno.ECONNREFUSED: "connection refused by {addr}: is the server running?",
}


# A send the local stack refuses for now: a firewall's DROP (EPERM), a full queue (ENOBUFS,
# EAGAIN), a route or peer briefly gone. On a network that is a lost packet, not the end.
TRANSIENT_SEND_ERRORS = frozenset({errno.EPERM, errno.ENOBUFS, errno.EAGAIN, errno.EHOSTUNREACH,
                                   errno.ENETUNREACH, errno.ECONNREFUSED, errno.EHOSTDOWN})
MAX_DATAGRAM = 65535  # room for any UDP datagram: a smaller buffer silently cuts a bigger one


def refused(exc: OSError, out: Output, peer: Address, data: bytes) -> bool:
    """Was this failed send one a network would simply have lost? Then say so (event "lost")
    and let the caller go on as after a loss; anything else is for the caller to raise."""
    if exc.errno not in TRANSIENT_SEND_ERRORS:
        return False
    out.event("lost", f"the local stack refused a send to {endpoint(peer)} ({exc.strerror}): "
              "counted as lost", peer=peer, data=data, message=str(exc.strerror))
    return True


class AppError(Exception):
    """A failure the program reports as one line on stderr, exiting with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"lab {prog}", description=description)
    p.add_argument("--encoding", default="utf-8", type=encoding,
                   help="text encoding on the wire (utf-8, gbk, gb2312, ...); default utf-8")
    p.add_argument("--json", action="store_true", help="print one JSON object per event")
    return p


def encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {name!r}") from None


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


NO_BROADCAST6 = "IPv6 has no broadcast: send to a multicast group instead (ff02::1%eth0: every node of a link)"
FAMILIES: dict[int, str] = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6", socket.AF_UNSPEC: "IPv4 or IPv6"}


def family_options(p: argparse.ArgumentParser, default: socket.AddressFamily = socket.AF_UNSPEC) -> None:
    """``-4`` / ``-6``: the address family (AF_INET, AF_INET6) a name resolves to and the socket has."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET, help="IPv4 only (AF_INET)")
    group.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6,
                       help="IPv6 only (AF_INET6); a link-local address names its link: fe80::1%%eth0")
    p.set_defaults(family=default)


def family_of(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def shown(sockaddr: tuple[Any, ...]) -> Address:
    """(address, port) of a socket address: an IPv6 one is (host, port, flowinfo, scope_id), and
    a link-local address is only meaningful with its link, written fe80::1%eth0 (RFC 4007)."""
    host, port_ = str(sockaddr[0]), int(sockaddr[1])
    if len(sockaddr) == 4 and sockaddr[3] and "%" not in host:
        try:
            host = f"{host}%{socket.if_indextoname(sockaddr[3])}"
        except OSError:
            host = f"{host}%{sockaddr[3]}"
    return host, port_


def sockaddr(address: Address) -> tuple[Any, ...]:
    """What sendto and connect take: a scoped IPv6 address (fe80::1%eth0, ff02::1%eth0) as
    (host, port, flowinfo, scope_id), since Python reads no zone out of the host string."""
    host, port_ = address
    if "%" not in host:
        return address
    host, zone = host.split("%", 1)
    try:
        scope = int(zone) if zone.isdigit() else socket.if_nametoindex(zone)
    except OSError:
        raise AppError(f"{address[0]}: this host has no link {zone!r} (see `ip link`)") from None
    return host, port_, 0, scope


def resolve(host: str, port_: int, family: int = socket.AF_INET) -> Address:
    """An (address, port) for a host name or address (getaddrinfo: ``family`` AF_INET, AF_INET6 or
    AF_UNSPEC, where a lab name gives IPv4 first, RFC 6724); '<broadcast>' stays as it is."""
    if host == "<broadcast>":
        if family == socket.AF_INET6:
            raise AppError(NO_BROADCAST6)
        return host, port_
    sockaddr((host, port_))  # fe80::1%eth0: a link this host has, or one clear line
    try:
        info = socket.getaddrinfo(host, port_, family, socket.SOCK_DGRAM)
    except socket.gaierror:
        literal = literal_family(host)
        if literal and family != socket.AF_UNSPEC:  # -6 with 10.0.0.1, -4 with fd00::1
            flag = "-6" if family == socket.AF_INET6 else "-4"
            raise AppError(f"{host} is an {FAMILIES[literal]} address, but {flag} asks for "
                           f"{FAMILIES[family]}") from None
        raise AppError(f"unknown host {host!r}: not a lab host name or an {FAMILIES[family]} address") from None
    return shown(info[0][4])


def literal_family(host: str) -> int | None:
    """AF_INET or AF_INET6 if ``host`` is an address written out (a zone aside), else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.split("%", 1)[0])
            return family
        except OSError:
            continue
    return None


def endpoint(address: tuple[Any, ...]) -> str:
    """host:port for a person; an IPv6 address in brackets, [fd00:10:201:2::11]:9000 (RFC 3986),
    so that its colons do not run into the port's."""
    host, port_ = shown(address)
    return f"[{host}]:{port_}" if ":" in host else f"{host}:{port_}"


def split_endpoint(text: str) -> Address:
    """"HOST:PORT" into (host, port): h2:9000, 10.0.1.2:9000, [fd00::2]:9000, [fe80::1%eth0]:9000.
    An IPv6 address needs its brackets: in fd00::2:9000 the port could be the address's end."""
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise argparse.ArgumentTypeError(f"{text!r}: write an IPv6 address in brackets, [ADDRESS]:PORT")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, port(port_text)


def os_error(exc: OSError, addr: Address | str) -> AppError:
    said = endpoint(addr) if isinstance(addr, tuple) else addr
    hint = _HINTS.get(exc.errno or 0)
    return AppError(hint.format(addr=said) if hint else f"{said}: {exc.strerror or exc}")


def udp_socket(bind: str, port_: int, family: int = socket.AF_INET, reuse: bool = False) -> socket.socket:
    """A UDP socket bound to (bind, port_), or one clear line saying why it cannot be. An IPv6
    one (``family`` AF_INET6, or an IPv6 ``bind``) is IPv6 only: IPv4 stays IPv4's. ``reuse``:
    SO_REUSEADDR, so that several receivers of a multicast group share the port."""
    return bound(socket.SOCK_DGRAM, bind, port_, family, reuse)


def tcp_listen(bind: str, port_: int, backlog: int = 512, family: int = socket.AF_INET) -> socket.socket:
    """A listening TCP socket on (bind, port), SO_REUSEADDR on, of one family as udp_socket's;
    a failure is one clear AppError."""
    sock = bound(socket.SOCK_STREAM, bind, port_, family, reuse=True)
    sock.listen(backlog)  # on a bound socket it fails only as bind would have
    return sock


def bound(kind: int, bind: str, port_: int, family: int, reuse: bool) -> socket.socket:
    """A socket of ``kind`` bound to (bind, port_): AF_INET6 (IPv6 only) for ``family`` AF_INET6
    or an IPv6 ``bind`` (fe80::1%eth0 too), else AF_INET."""
    family = family_of(bind) if bind else family
    address = sockaddr((bind or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port_))
    sock = socket.socket(family, kind)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise os_error(exc, address) from None
    return sock


def want_write(sel: selectors.BaseSelector, sock: socket.socket, data: Any, writing: bool, pending: bool) -> bool:
    """Ask the selector for EVENT_WRITE only while output is pending; returns the new state."""
    if pending != writing:
        sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0), data)
    return pending


def tcp_connect(host: str, port_: int, timeout: float, out: Output,
                family: int = socket.AF_UNSPEC) -> tuple[socket.socket, Address, Address]:
    """Connect to host:port (a name's first address of ``family``) and say so (event "connected"):
    the socket (blocking, no timeout once connected), its local address and the server's."""
    server = resolve(host, port_, family)
    sock = socket.socket(family_of(server[0]), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr(server))
    except OSError as exc:
        sock.close()
        raise os_error(exc, server) from None
    sock.settimeout(None)
    local = shown(sock.getsockname())
    out.event("connected", f"connected {endpoint(local)} -> {endpoint(server)}", local=local, peer=server)
    return sock, local, server


class Output:
    """Prints events for a person or, with --json, for a program. Thread-safe."""

    def __init__(self, as_json: bool, encoding_: str = "utf-8", stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.encoding = encoding_
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def decode(self, data: bytes) -> str:
        return data.decode(self.encoding, errors="replace")

    def event(self, event: str, prose: str, *, local: Address | None = None,
              peer: Address | None = None, data: bytes | None = None, **extra: Any) -> None:
        if self.as_json:
            record: dict[str, Any] = {
                "event": event, "local": list(local) if local else None, "peer": list(peer) if peer else None,
                "bytes": len(data) if data is not None else 0, "text": self.decode(data) if data else "",
            }
            record.update(extra)
            line = json.dumps(record, ensure_ascii=False)
        else:
            line = prose
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def error(self, message: str) -> None:
        self.event("error", f"error: {message}", message=message) if self.as_json else None
        sys.stderr.write(f"{message}\n")
        sys.stderr.flush()


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(body: Callable[[], int], out: Output, prog: str) -> int:
    """Run a program body: SIGTERM and Ctrl-C end it cleanly (0); a AppError is one line on
    stderr and its exit status, any other OSError one line and exit status 1."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        return body()
    except KeyboardInterrupt:
        return 0
    except AppError as exc:
        out.error(f"lab {prog}: {exc}")
        return exc.code
    except BrokenPipeError:
        return 0
    except OSError as exc:  # what the program met at the edge (a folder, a disk, the network): one line
        where = f" ({exc.filename})" if exc.filename else ""
        out.error(f"lab {prog}: {exc.strerror or exc}{where}")
        return 1


def stdin_lines(stream: TextIO | None = None) -> Any:
    """stdin lines without their newline; ends at EOF. Works without a TTY."""
    for line in stream or sys.stdin:
        yield line.rstrip("\r\n")
