"""TFTP packets round-trip; malformed input is refused with a reason, never a crash."""

from __future__ import annotations

import random
import re
import struct

import pytest

from lab.proto import tftp

PACKETS = [
    tftp.rrq("hello.txt"),
    tftp.rrq("dir/file.bin", "netascii"),
    tftp.rrq("big", blksize=1468, tsize=0, timeout=2, windowsize=16),
    tftp.wrq("up.bin", tsize=40_000_000),
    tftp.Data(1, b"x" * 512),
    tftp.Data(65535, b""),
    tftp.Ack(0),
    tftp.Ack(65535),
    tftp.Error(tftp.FILE_NOT_FOUND, "File not found"),
    tftp.Error(tftp.OPTION_REFUSED, ""),
    tftp.OAck({"blksize": "1468", "tsize": "1500"}),
]


@pytest.mark.parametrize("packet", PACKETS, ids=lambda p: type(p).__name__)
def test_round_trip(packet: tftp.Packet) -> None:
    assert tftp.decode(packet.encode()) == packet


def test_wire_format_matches_rfc1350() -> None:
    assert tftp.rrq("a", "octet").encode() == b"\x00\x01a\x00octet\x00"
    assert tftp.Data(3, b"hi").encode() == b"\x00\x03\x00\x03hi"
    assert tftp.Ack(7).encode() == b"\x00\x04\x00\x07"
    assert tftp.Error(1, "nope").encode() == b"\x00\x05\x00\x01nope\x00"


def test_option_names_are_case_insensitive() -> None:
    req = tftp.decode(b"\x00\x01f\x00OCTET\x00BlkSize\x001024\x00")
    assert isinstance(req, tftp.Request) and req.mode == "octet" and req.options == {"blksize": "1024"}


MALFORMED = {  # name: (packet, what the error says)
    "empty": (b"", "shorter than an opcode"),
    "one byte": (b"\x00", "shorter than an opcode"),
    "unknown opcode": (b"\x00\x09abc", "unknown opcode 9"),
    "opcode zero": (b"\x00\x00", "unknown opcode 0"),
    "rrq no nul": (b"\x00\x01file\x00octet", "strings must end with a NUL byte"),
    "rrq no mode": (b"\x00\x01file\x00", "needs a filename and a mode"),
    "rrq empty name": (b"\x00\x01\x00octet\x00", "empty filename"),
    "rrq bad mode": (b"\x00\x01f\x00mail\x00", "mode 'mail' is not octet or netascii"),
    "rrq option without value": (b"\x00\x01f\x00octet\x00blksize\x00", "an option has no value"),
    "rrq non-ascii": (b"\x00\x01f\xff\x00octet\x00", "strings must be ASCII"),
    "rrq too long": (b"\x00\x01" + b"a" * 3000 + b"\x00octet\x00", "request longer than 2560 bytes"),
    "data short": (b"\x00\x03\x00", "DATA shorter than 4 bytes"),
    "ack short": (b"\x00\x04\x00", "ACK must be 4 bytes, not 3"),
    "ack long": (b"\x00\x04\x00\x01\x00", "ACK must be 4 bytes, not 5"),
    "error short": (b"\x00\x05\x00\x01", "ERROR shorter than 5 bytes"),
    "oack no nul": (b"\x00\x06blksize\x00512", "OACK: strings must end with a NUL byte"),
}


@pytest.mark.parametrize(("packet", "says"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_packets_are_refused(packet: bytes, says: str) -> None:
    with pytest.raises(tftp.MalformedPacket, match=re.escape(says)):
        tftp.decode(packet)


def test_random_bytes_never_crash_the_decoder() -> None:
    rng = random.Random(1350)
    decoded = refused = 0
    for _ in range(5000):
        packet = struct.pack("!H", rng.randrange(8)) + bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        try:
            tftp.decode(packet)
            decoded += 1
        except tftp.MalformedPacket:
            refused += 1
    assert decoded and refused, "the table must exercise both outcomes"


@pytest.mark.parametrize("packet, expected", [
    (tftp.Data(65535, b"abc").encode(), (tftp.DATA, 65535)),
    (tftp.Ack(7).encode(), (tftp.ACK, 7)),
    (tftp.Error(tftp.UNKNOWN_TID, "x").encode(), (tftp.ERROR, tftp.UNKNOWN_TID)),
    (b"\x00\x04\x00", (0, 0)),  # too short to hold a block number: no such opcode
    (b"", (0, 0)),
])
def test_header_reads_opcode_and_number_alone(packet: bytes, expected: tuple[int, int]) -> None:
    assert tftp.header(packet) == expected


def test_netascii_decodes_the_same_whatever_the_blocks() -> None:
    """An upload streams through the decoder block by block: a CR at a block's end waits for
    the next block, and the result equals decoding the file whole."""
    text = b"line one\r\nbare CR\r and LF\n\r\r\n\n\rend\r"
    wire = tftp.to_netascii(text)
    assert tftp.from_netascii(wire) == text
    for size in range(1, len(wire) + 1):
        decoder = tftp.NetasciiDecoder()
        out = b"".join(decoder.feed(wire[i:i + size]) for i in range(0, len(wire), size)) + decoder.end()
        assert out == text, size
    assert tftp.from_netascii(b"a\r") == b"a\r", "a lone CR at the end is kept as it came"
