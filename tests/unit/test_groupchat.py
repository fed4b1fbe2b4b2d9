"""The group chat state machine, driven line by line."""

from __future__ import annotations

from lab.proto.groupchat import GroupChat


def room(*names: str) -> GroupChat:
    chat = GroupChat()
    for cid, name in enumerate(names):
        chat.connect(cid)
        chat.line(cid, name.encode())
    return chat


def test_first_line_is_the_name() -> None:
    chat = room("alice")
    chat.connect(1)
    act = chat.line(1, b"bob")
    assert act.send == [(1, b"* welcome bob; 1 other(s) here\n"), (0, b"* bob joined\n")]


def test_messages_reach_every_other_member_once() -> None:
    chat = room("alice", "bob", "carol")
    act = chat.line(1, "hi 你好".encode())
    assert act.send == [(0, "bob: hi 你好\n".encode()), (2, "bob: hi 你好\n".encode())]


def test_every_connected_client_hears_the_others_before_it_speaks() -> None:
    chat = room("alice")
    chat.connect(7)
    assert chat.line(0, b"hello").send == [(7, b"alice: hello\n")]


def test_a_tutorial_client_needs_no_join_and_is_relayed_verbatim() -> None:
    """The tutorial's client sends `name说:text` from its first line on (tried with nc too)."""
    chat = room("alice")
    chat.connect(1)
    act = chat.line(1, "bob说:hi all".encode())
    assert act.send == [(0, "bob说:hi all\n".encode())], "the first message is not taken as a name"
    assert chat.line(0, b"hi bob").send == [(1, b"alice: hi bob\n")]
    assert chat.line(1, "bob说:bye".encode()).close == [(1, "said bye")]
    assert chat.leave(1, "said bye").send == [(0, b"* bob left (said bye)\n")]


def test_bye_closes_and_leave_announces() -> None:
    chat = room("alice", "bob")
    act = chat.line(1, b"bye")
    assert act.close == [(1, "said bye")] and act.send == []
    assert chat.leave(1, "said bye").send == [(0, b"* bob left (said bye)\n")]
    assert chat.leave(1, "again").send == [], "leaving twice announces once"


def test_non_utf8_is_an_error_to_the_sender_only() -> None:
    chat = room("alice", "bob")
    assert chat.line(0, b"\xff\xfe").send == [(0, b"ERR not UTF-8 text; message dropped\n")]


def test_bad_names_are_refused() -> None:
    chat = GroupChat()
    chat.connect(0)
    for bad in (b"", b"n" * 33, b"\x07"):
        assert chat.line(0, bad).send[0][1].startswith(b"ERR a name is")
    assert chat.clients == {0: ""}
