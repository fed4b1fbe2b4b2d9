"""TFTP state machines driven by scripted packets: loss, duplicates, windows, rollover."""

from __future__ import annotations

from lab.proto import tftp
from lab.proto.tftp_session import Receiver, Sender, unwrap


def source(content: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, size: content[offset:offset + size]


def blocks(packets: list[bytes]) -> list[tuple[int, int]]:
    decoded = [tftp.decode(p) for p in packets]
    return [(d.block, len(d.data)) for d in decoded if isinstance(d, tftp.Data)]


def test_1500_bytes_is_three_blocks_the_last_short() -> None:
    s = Sender(source(b"x" * 1500))
    assert blocks(s.start().send) == [(1, 512)]
    assert blocks(s.on_ack(1).send) == [(2, 512)]
    assert blocks(s.on_ack(2).send) == [(3, 476)]
    assert s.on_ack(3).done


def test_a_multiple_of_the_block_size_ends_with_an_empty_block() -> None:
    s = Sender(source(b"x" * 1024))
    s.start()
    s.on_ack(1)
    assert blocks(s.on_ack(2).send) == [(3, 0)]
    assert s.on_ack(3).done


def test_empty_file_is_one_empty_block() -> None:
    s = Sender(source(b""))
    assert blocks(s.start().send) == [(1, 0)]
    assert s.on_ack(1).done


def test_duplicate_ack_never_resends_data() -> None:
    s = Sender(source(b"x" * 2000))
    s.start()
    s.on_ack(1)
    assert s.on_ack(1).send == [], "Sorcerer's Apprentice: a duplicate ACK must not trigger DATA"
    assert s.on_ack(0).send == []


def test_timeout_resends_then_gives_up() -> None:
    s = Sender(source(b"x" * 2000), retries=2)
    first = s.start().send
    assert s.on_timeout().send == first
    assert s.on_timeout().send == first
    step = s.on_timeout()
    assert step.done and "no ACK after 2" in step.error
    assert s.resent == 2


def test_window_of_four() -> None:
    s = Sender(source(b"x" * 512 * 10), windowsize=4)
    assert [b for b, _ in blocks(s.start().send)] == [1, 2, 3, 4]
    assert [b for b, _ in blocks(s.on_ack(2).send)] == [3, 4, 5, 6], "an ACK mid-window slides it"
    assert [b for b, _ in blocks(s.on_ack(6).send)] == [7, 8, 9, 10]


def test_receiver_acks_each_block_and_writes_in_order() -> None:
    r = Receiver()
    out = b""
    for n, size in ((1, 512), (2, 512), (3, 476)):
        step = r.on_data(n, b"y" * size)
        out += step.write
        assert step.send == [tftp.Ack(n).encode()]
    assert step.done and len(out) == 1500


def test_receiver_reacks_duplicates_without_writing_them_again() -> None:
    r = Receiver()
    r.on_data(1, b"a" * 512)
    dup = r.on_data(1, b"a" * 512)
    assert dup.write == b"" and dup.send == [tftp.Ack(1).encode()], "a lost ACK is recovered by re-ACKing"
    r.on_data(2, b"b")
    again = r.on_data(2, b"b")
    assert again.send == [tftp.Ack(2).encode()] and again.write == b""


def test_receiver_window_and_gap() -> None:
    r = Receiver(windowsize=4)
    assert r.on_data(1, b"a" * 512).send == []
    assert r.on_data(2, b"a" * 512).send == []
    assert r.on_data(4, b"a" * 512).send == [tftp.Ack(2).encode()], "block 3 lost: ACK 2 to resume"
    r.on_data(3, b"a" * 512)
    assert r.on_data(4, b"a" * 512).send == [tftp.Ack(4).encode()], "a full window is ACKed"


def test_oversized_block_is_an_error() -> None:
    step = Receiver().on_data(1, b"z" * 513)
    assert step.done and step.error and tftp.decode(step.send[0]) == tftp.Error(4, "DATA longer than the block size")


def test_block_numbers_roll_over() -> None:
    assert unwrap(0, 65535) == 65536
    assert unwrap(65535, 65536) == 65535
    assert unwrap(5, 10) == 5
    size = 512 * 65540 + 7  # past 65,535 blocks
    s = Sender(source(b"q" * size))
    r = Receiver()
    written = 0
    packets = s.start().send
    while packets:
        data = tftp.decode(packets[0])
        assert isinstance(data, tftp.Data)
        step = r.on_data(data.block, data.data)
        written += len(step.write)
        ack = tftp.decode(step.send[0])
        assert isinstance(ack, tftp.Ack)
        sent = s.on_ack(ack.block)
        if sent.done:
            break
        packets = sent.send
    assert written == size and r.received == 65541
