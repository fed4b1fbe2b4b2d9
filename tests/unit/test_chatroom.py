"""The chat room state machine, driven datagram by datagram: no sockets."""

from __future__ import annotations

import pytest

from lab.proto.chatroom import MAX_TEXT, Room

A, B, C = ("10.0.0.1", 5001), ("10.0.0.2", 5002), ("10.0.0.3", 5003)


def joined(*members: tuple[tuple[str, int], str]) -> Room:
    room = Room(timeout=10)
    for addr, name in members:
        room.handle(0, addr, f"JOIN {name}".encode())
    return room


def test_join_welcomes_and_announces() -> None:
    room = joined((A, "alice"))
    assert room.handle(1, B, b"JOIN bob") == [(B, b"* welcome bob; 1 other(s) here"), (A, b"* bob joined")]


def test_message_goes_to_every_other_member_not_back() -> None:
    room = joined((A, "alice"), (B, "bob"), (C, "carol"))
    assert room.handle(1, A, "MSG 你好".encode()) == [(B, "alice: 你好".encode()), (C, "alice: 你好".encode())]


def test_leave_is_announced_and_forgotten() -> None:
    room = joined((A, "alice"), (B, "bob"))
    assert room.handle(1, B, b"LEAVE") == [(A, b"* bob left")]
    assert room.handle(2, A, b"MSG anyone?") == []
    assert room.handle(3, B, b"MSG back?") == [(B, b"ERR join first: JOIN <name>")]


def test_silent_members_time_out_and_ping_keeps_them() -> None:
    room = joined((A, "alice"), (B, "bob"))
    room.handle(8, A, b"PING")
    assert room.expire(10.5) == [(A, b"* bob timed out")]
    assert list(room.members) == [A]
    assert room.expire(17.9) == []                    # alice was heard at 8: she lasts until 18
    assert room.expire(18.1) == [] and room.members == {}


@pytest.mark.parametrize(("data", "reply"), [
    (b"", b"ERR unknown command; use JOIN, MSG, PING or LEAVE"),
    (b"\xff\xfe", b"ERR not UTF-8 text"),
    (b"HELLO there", b"ERR unknown command; use JOIN, MSG, PING or LEAVE"),
    (b"MSG before joining", b"ERR join first: JOIN <name>"),
    (b"JOIN ", b"ERR a name is 1-32 printable characters without ':'"),
    (b"JOIN a:b", b"ERR a name is 1-32 printable characters without ':'"),
    (b"JOIN " + b"n" * 33, b"ERR a name is 1-32 printable characters without ':'"),
    (b"JOIN bad\x07bell", b"ERR a name is 1-32 printable characters without ':'"),
])
def test_garbage_gets_an_error_and_changes_nothing(data: bytes, reply: bytes) -> None:
    room = joined((A, "alice"))
    assert room.handle(1, B, data) == [(B, reply)]
    assert list(room.members) == [A]


def test_oversized_message_is_refused() -> None:
    room = joined((A, "alice"), (B, "bob"))
    assert room.handle(1, A, b"MSG " + b"x" * (MAX_TEXT + 1)) == [(A, b"ERR message longer than 4096 bytes")]
