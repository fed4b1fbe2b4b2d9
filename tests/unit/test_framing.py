"""Framing: a TCP read is not a message."""

from __future__ import annotations

import pytest

from lab.proto.framing import FrameTooLong, LineFramer, frame


def test_split_reads_make_one_message() -> None:
    f = LineFramer()
    assert f.feed(b"hel") == []
    assert f.pending == 3
    assert f.feed(b"lo wor") == []
    assert f.feed(b"ld\n") == [b"hello world"]
    assert f.pending == 0


def test_merged_reads_make_several_messages() -> None:
    assert LineFramer().feed(b"one\ntwo\r\nthree\n") == [b"one", b"two", b"three"]


def test_partial_frame_stays_until_its_end() -> None:
    f = LineFramer()
    assert f.feed(b"a\nb\nhalf") == [b"a", b"b"]
    assert f.feed(b"-done\n") == [b"half-done"]


def test_byte_by_byte() -> None:
    f = LineFramer()
    out = [m for byte in b"x\ny\n" for m in f.feed(bytes([byte]))]
    assert out == [b"x", b"y"]


def test_empty_lines_are_messages() -> None:
    assert LineFramer().feed(b"\n\n") == [b"", b""]


@pytest.mark.parametrize("data", [b"x" * 11, b"x" * 11 + b"\n", b"ok\n" + b"y" * 20 + b"\nok\n"])
def test_oversized_frames_are_refused(data: bytes) -> None:
    f = LineFramer(max_len=10)
    with pytest.raises(FrameTooLong, match="longer than 10 bytes"):
        f.feed(data)
    assert f.pending == 0, "nothing of an oversized frame is kept"


def test_exactly_max_is_fine() -> None:
    assert LineFramer(max_len=3).feed(b"abc\n") == [b"abc"]


def test_frame_rejects_embedded_newlines() -> None:
    assert frame(b"hi") == b"hi\n"
    with pytest.raises(ValueError, match="a message cannot contain a newline"):
        frame(b"a\nb")
