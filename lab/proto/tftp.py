"""TFTP packets (RFC 1350) and options (RFC 2347 OACK, 2348 blksize, 2349 timeout and
tsize, 7440 windowsize): one class per packet, ``encode()`` to bytes and ``decode()`` back.

    2 bytes     string    1 byte  string  1 byte  [string 1 byte string 1 byte]*
   ---------------------------------------------------------------------------
   | 01/02 |  Filename  |   0  |  Mode  |   0  | opt1 | 0 | value1 | 0 | ...     RRQ/WRQ
   ---------------------------------------------------------------------------
    2 bytes  2 bytes  n bytes                2 bytes  2 bytes
   ---------------------------------        -------------------
   | 03  |  Block #  |   Data     |  DATA   | 04  |  Block #  |  ACK
   ---------------------------------        -------------------
    2 bytes  2 bytes   string  1 byte        2 bytes  [string 1 byte string 1 byte]*
   -----------------------------------       ---------------------------------------
   | 05  |  ErrorCode |  ErrMsg  |  0 | ERROR  | 06  | opt1 | 0 | value1 | 0 | ...   OACK
   -----------------------------------       ---------------------------------------

Decoding never trusts its input: anything malformed raises ``MalformedPacket`` with the
reason, which a server answers with ERROR 4 (illegal operation) instead of crashing.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6  # RFC 1350 section 5, RFC 2347
# Error codes: RFC 1350 appendix, RFC 2347 (8).
NOT_DEFINED, FILE_NOT_FOUND, ACCESS_VIOLATION, DISK_FULL, ILLEGAL_OPERATION = 0, 1, 2, 3, 4
UNKNOWN_TID, FILE_EXISTS, NO_SUCH_USER, OPTION_REFUSED = 5, 6, 7, 8
# A file that cannot take what arrives (errno): the ERROR the peer is told.
WRITE_ERRORS = {errno.ENOSPC: DISK_FULL, errno.EDQUOT: DISK_FULL, errno.EFBIG: DISK_FULL,
                errno.EACCES: ACCESS_VIOLATION, errno.EROFS: ACCESS_VIOLATION, errno.EIO: NOT_DEFINED}
DEFAULT_BLKSIZE = 512  # RFC 1350
MIN_BLKSIZE, MAX_BLKSIZE = 8, 65464  # RFC 2348
MAX_WINDOWSIZE = 65535  # RFC 7440
MAX_REQUEST = 512 + 2048  # a request longer than this is not a request
MODES = ("octet", "netascii")  # "mail" is obsolete (RFC 1350) and refused


class MalformedPacket(ValueError):
    pass


def _strings(body: bytes, what: str) -> list[str]:
    if not body.endswith(b"\0"):
        raise MalformedPacket(f"{what}: strings must end with a NUL byte")
    try:
        return body[:-1].decode("ascii").split("\0")
    except UnicodeDecodeError:
        raise MalformedPacket(f"{what}: strings must be ASCII") from None


def _options(pairs: list[str], what: str) -> dict[str, str]:
    if len(pairs) % 2:
        raise MalformedPacket(f"{what}: an option has no value")
    options: dict[str, str] = {}
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        if not name:
            raise MalformedPacket(f"{what}: empty option name")
        options[name.lower()] = value  # option names are case-insensitive (RFC 2347)
    return options


def _encode_options(options: dict[str, str]) -> bytes:
    return b"".join(f"{k}\0{v}\0".encode("ascii") for k, v in options.items())


@dataclass(frozen=True)
class Request:
    """RRQ (read) or WRQ (write), with RFC 2347 options."""

    opcode: int
    filename: str
    mode: str = "octet"
    options: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        head = struct.pack("!H", self.opcode) + f"{self.filename}\0{self.mode}\0".encode("ascii")
        return head + _encode_options(self.options)

    @classmethod
    def decode(cls, packet: bytes) -> Request:
        opcode = struct.unpack("!H", packet[:2])[0]
        if len(packet) > MAX_REQUEST:
            raise MalformedPacket(f"request longer than {MAX_REQUEST} bytes")
        fields = _strings(packet[2:], "request")
        if len(fields) < 2:
            raise MalformedPacket("request: needs a filename and a mode")
        filename, mode = fields[0], fields[1].lower()
        if not filename:
            raise MalformedPacket("request: empty filename")
        if mode not in MODES:
            raise MalformedPacket(f"request: mode {fields[1]!r} is not octet or netascii")
        return cls(opcode, filename, mode, _options(fields[2:], "request"))


@dataclass(frozen=True)
class Data:
    block: int
    data: bytes

    def encode(self) -> bytes:
        return struct.pack("!HH", DATA, self.block) + self.data

    @classmethod
    def decode(cls, packet: bytes) -> Data:
        if len(packet) < 4:
            raise MalformedPacket("DATA shorter than 4 bytes")
        return cls(struct.unpack("!H", packet[2:4])[0], packet[4:])


@dataclass(frozen=True)
class Ack:
    block: int

    def encode(self) -> bytes:
        return struct.pack("!HH", ACK, self.block)

    @classmethod
    def decode(cls, packet: bytes) -> Ack:
        if len(packet) != 4:
            raise MalformedPacket(f"ACK must be 4 bytes, not {len(packet)}")
        return cls(struct.unpack("!H", packet[2:4])[0])


@dataclass(frozen=True)
class Error:
    code: int
    message: str = ""

    def encode(self) -> bytes:
        return struct.pack("!HH", ERROR, self.code) + self.message.encode("ascii", "replace") + b"\0"

    @classmethod
    def decode(cls, packet: bytes) -> Error:
        if len(packet) < 5:
            raise MalformedPacket("ERROR shorter than 5 bytes")
        code = struct.unpack("!H", packet[2:4])[0]
        # Peers send all sorts of messages: be lenient about the text, strict about the code.
        return cls(code, packet[4:].split(b"\0", 1)[0].decode("ascii", "replace"))


@dataclass(frozen=True)
class OAck:
    options: dict[str, str]

    def encode(self) -> bytes:
        return struct.pack("!H", OACK) + _encode_options(self.options)

    @classmethod
    def decode(cls, packet: bytes) -> OAck:
        body = packet[2:]
        return cls(_options(_strings(body, "OACK"), "OACK") if body else {})


Packet = Request | Data | Ack | Error | OAck
_DECODERS: dict[int, Callable[[bytes], Packet]] = {
    RRQ: Request.decode, WRQ: Request.decode, DATA: Data.decode, ACK: Ack.decode,
    ERROR: Error.decode, OACK: OAck.decode,
}


_HEADER = struct.Struct("!HH")


def header(packet: bytes) -> tuple[int, int]:
    """(opcode, the 16-bit number after it): the block of a DATA or ACK, without building a
    packet object. The hot path of a transfer reads DATA and ACK by this alone; anything else
    goes through ``decode``. A packet shorter than 4 bytes gives opcode 0 (no such opcode)."""
    if len(packet) < 4:
        return 0, 0
    return _HEADER.unpack_from(packet)


def decode(packet: bytes) -> Packet:
    """Any TFTP packet; MalformedPacket for anything that is not one."""
    if len(packet) < 2:
        raise MalformedPacket("shorter than an opcode")
    opcode = struct.unpack("!H", packet[:2])[0]
    try:
        decoder = _DECODERS[opcode]
    except KeyError:
        raise MalformedPacket(f"unknown opcode {opcode}") from None
    return decoder(packet)


def rrq(filename: str, mode: str = "octet", **options: int | str) -> Request:
    return Request(RRQ, filename, mode, {k: str(v) for k, v in options.items()})


def wrq(filename: str, mode: str = "octet", **options: int | str) -> Request:
    return Request(WRQ, filename, mode, {k: str(v) for k, v in options.items()})


# netascii (RFC 764, as RFC 1350 uses it): CR is sent as CR NUL, LF as CR LF.
def to_netascii(data: bytes) -> bytes:
    return data.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


class NetasciiDecoder:
    """netascii back to local text, chunk by chunk: a CR at the end of one chunk waits for
    the byte after it (the next block), so a file streams through without being held whole."""

    def __init__(self) -> None:
        self._cr = b""

    def feed(self, data: bytes) -> bytes:
        data = self._cr + data
        self._cr = b"\r" if data.endswith(b"\r") else b""
        if self._cr:
            data = data[:-1]
        return data.replace(b"\r\n", b"\n").replace(b"\r\0", b"\r")

    def end(self) -> bytes:
        """What is left: a lone CR at the very end (not valid netascii) is kept as it came."""
        rest, self._cr = self._cr, b""
        return rest


def from_netascii(data: bytes) -> bytes:
    decoder = NetasciiDecoder()
    return decoder.feed(data) + decoder.end()
