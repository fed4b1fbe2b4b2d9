"""TFTP state machines driven by scripted packets: loss, duplicates, windows, rollover."""

from __future__ import annotations

import random
from collections import deque

import pytest

from lab.proto import tftp
from lab.proto.tftp_session import Receiver, Sender, Step, unwrap


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


def test_a_repeated_ack_asks_for_the_next_block_once_more_from_a_sender_without_a_timer() -> None:
    """--resend-when-asked: the client's timeout, repeating ACK 1, is what recovers a lost DATA 2."""
    s = Sender(source(b"x" * 1500))
    s.start()
    assert blocks(s.on_ack(1).send) == [(2, 512)]
    assert s.on_ack(1).send == [], "on_ack still never resends (RFC 1123)"
    assert blocks(s.on_repeat(1).send) == [(2, 512)]
    assert s.on_repeat(0).send == [], "an older ACK asks for nothing"
    assert blocks(s.on_ack(2).send) == [(3, 476)]
    assert s.on_ack(3).done
    assert s.on_repeat(3).send == [], "after the last block there is nothing to resend"
    assert s.resent == 1


def test_duplicate_ack_never_resends_data() -> None:
    s = Sender(source(b"x" * 2000))
    s.start()
    s.on_ack(1)
    assert s.on_ack(1).send == [], "Sorcerer's Apprentice: a duplicate ACK must not trigger DATA"
    assert s.on_ack(0).send == []


def test_timeouts_alternate_the_first_block_alone_and_the_whole_window() -> None:
    """The first block alone draws from a receiver that has it an ACK of how far it got; the
    window again serves one that kept nothing; and alternating the two breaks a loss pattern
    in step with the window (every 16th send refused, windows of 16) that would otherwise
    lose the same block in every round for ever."""
    s = Sender(source(b"x" * 5000), windowsize=4)
    first = s.start().send
    assert blocks(s.on_timeout().send) == [(1, 512)]
    assert s.on_timeout().send == first
    assert blocks(s.on_timeout().send) == [(1, 512)]
    assert s.resent == 6
    s.on_ack(4)
    assert blocks(s.on_timeout().send) == [(5, 512)], "an ACK that moves on starts the alternation again"


def test_window_of_four() -> None:
    s = Sender(source(b"x" * 512 * 10), windowsize=4)
    assert [b for b, _ in blocks(s.start().send)] == [1, 2, 3, 4]
    assert [b for b, _ in blocks(s.on_ack(4).send)] == [5, 6, 7, 8], "a window complete: the next one"
    assert [b for b, _ in blocks(s.on_ack(8).send)] == [9, 10, 11]


def test_an_ack_short_of_the_window_resends_one_block_and_goes_on() -> None:
    """ACK 2 of 1-4: the receiver lacks 3 and (if it keeps blocks) has 4. Resend 3, then send
    5 and 6, the rest of the window from ACK 2: one block resent, not three."""
    s = Sender(source(b"x" * 512 * 20), windowsize=4)
    s.start()
    assert [b for b, _ in blocks(s.on_ack(2).send)] == [3, 5, 6]
    assert [b for b, _ in blocks(s.on_ack(6).send)] == [7, 8, 9, 10]
    assert s.resent == 1


def test_a_receiver_that_kept_nothing_gets_the_whole_window() -> None:
    """After resending 3, ACK 3: the receiver took 3 and dropped what followed (RFC 7440 lets
    it): the whole window from 4 goes, as RFC 7440's sender does."""
    s = Sender(source(b"x" * 512 * 20), windowsize=4)
    s.start()
    s.on_ack(2)
    assert [b for b, _ in blocks(s.on_ack(3).send)] == [4, 5, 6, 7]


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
    assert r.on_data(5, b"a" * 512).send == [], "the rest of that window draws no more ACKs"
    for block in (3, 4, 5):  # the sender's new window is 3-6: it is counted from ACK 2
        assert r.on_data(block, b"a" * 512).send == []
    assert r.on_data(6, b"a" * 512).send == [tftp.Ack(6).encode()], "a window complete, counted from the last ACK"


def test_a_resent_window_draws_one_ack() -> None:
    """The ACK of a full window is lost: the sender resends the window, and hears one ACK."""
    r = Receiver(windowsize=4)
    acks = [r.on_data(b, b"a" * 512).send for b in (1, 2, 3, 4)]
    assert acks[-1] == [tftp.Ack(4).encode()]
    again = [r.on_data(b, b"a" * 512).send for b in (1, 2, 3, 4)]
    assert again == [[tftp.Ack(4).encode()], [], [], []]


def test_a_lost_gap_ack_does_not_stall_the_transfer() -> None:
    r = Receiver(windowsize=4)
    r.on_data(1, b"a" * 512)
    assert r.on_data(3, b"a" * 512).send == [tftp.Ack(1).encode()]  # ... and this ACK is lost
    r.on_data(4, b"a" * 512)
    resent = [r.on_data(b, b"a" * 512).send for b in (1, 2, 3, 4)]  # the sender times out: 1-4 again
    assert resent[0] == [tftp.Ack(1).encode()], "the first block of the resent window: say where we are"
    assert resent[1:] == [[], [], []] and r.received == 4


def test_a_block_the_wire_duplicated_mid_window_draws_nothing() -> None:
    r = Receiver(windowsize=4)
    r.on_data(1, b"a" * 512)
    r.on_data(2, b"a" * 512)
    assert r.on_data(2, b"a" * 512).send == [], "an ACK here would make the sender resend block 3"
    r.on_data(3, b"a" * 512)
    assert r.on_data(4, b"a" * 512).send == [tftp.Ack(4).encode()]
    assert r.on_data(4, b"a" * 512).send == [tftp.Ack(4).encode()], "the ACKed block again: that ACK was lost"


def test_a_wrq_server_repeats_its_oack_not_ack_0() -> None:
    """Seen on the lab under loss: the OACK lost, the server's timer sent ACK 0, and the
    client, taking it for "no options", sent 512-byte blocks; the server, at blksize 1468,
    took the first for the end of the file and stored 512 bytes."""
    oack = tftp.OAck({"blksize": "1468"}).encode()
    r = Receiver(1468)
    r.last_ack = oack
    assert r.on_timeout().send == [oack]
    r.on_data(1, b"x" * 1468)
    assert r.on_timeout().send == [tftp.Ack(1).encode()]


def test_the_receiver_keeps_blocks_past_a_gap() -> None:
    r = Receiver(windowsize=4)
    r.on_data(1, b"1" * 512)
    assert r.on_data(3, b"3" * 512).send == [tftp.Ack(1).encode()]
    assert r.on_data(4, b"4" * 512).send == []
    step = r.on_data(2, b"2" * 512)  # resent alone: 3 and 4 were kept
    assert step.write == b"2" * 512 + b"3" * 512 + b"4" * 512 and step.send == [] and r.received == 4
    assert r.on_data(5, b"5" * 512).send == [tftp.Ack(5).encode()], "the window from ACK 1 is complete"
    assert r.on_data(9, b"9" * 512).send == [tftp.Ack(5).encode()] and r.on_data(10, b"x" * 512).send == []
    assert 10 not in r.held, "nothing is kept past the window: the memory stays bounded"


def test_a_round_resent_from_a_block_we_have_draws_where_we_are() -> None:
    """The sender timed out and resent its first block, which we have (the tail of its window
    was lost, or our ACK): one ACK of how far we got, so it resends only what is missing."""
    r = Receiver(windowsize=4)
    for b in (1, 2, 3):
        r.on_data(b, b"a" * 512)
    assert r.on_data(1, b"a" * 512).send == [tftp.Ack(3).encode()]
    assert r.on_data(2, b"a" * 512).send == [], "the rest of that round: no ACK storm"


class KeepsNothing(Receiver):
    """RFC 7440's minimum receiver: drops every block past a gap (sender-side tests only)."""

    def on_data(self, wire_block: int, data: bytes) -> Step:
        step = super().on_data(wire_block, data)
        self.held.clear()
        return step


def transfer(loss: float, windowsize: int, seed: int, blocks: int = 701, every: int = 0,
             receiver: type[Receiver] = Receiver, duplicate: float = 0.0, reorder: float = 0.0) -> float:
    """A whole transfer through both state machines over a wire that loses ``loss`` of the
    packets each way at random, or (``every``) each Nth DATA sent, delivers ``duplicate`` of
    them twice and lets ``reorder`` of them overtake the packet ahead; timeouts fire when
    nothing is in flight, the sender's and the receiver's in turn. DATA sent per block
    delivered."""
    rng = random.Random(seed)
    content = rng.randbytes(blocks * 1468 - 100)
    sender = Sender(source(content), 1468, windowsize)
    r = receiver(1468, windowsize)
    wire: deque[tuple[str, bytes]] = deque()
    sent, timeouts, got = 0, 0, bytearray()

    def put(to: str, packets: list[bytes]) -> None:
        nonlocal sent
        for packet in packets:
            sent += to == "receiver"
            lost = sent % every == 0 if every and to == "receiver" else rng.random() < loss
            if lost:
                continue
            wire.append((to, packet))
            if rng.random() < duplicate:
                wire.append((to, packet))
            if len(wire) > 1 and rng.random() < reorder:
                wire[-1], wire[-2] = wire[-2], wire[-1]

    put("receiver", sender.start().send)
    while True:
        if not wire:
            timeouts += 1
            assert timeouts < 20 * blocks, "stuck: no progress however often the timers fire"
            if timeouts % 2:
                put("receiver", sender.on_timeout().send)
            else:
                put("sender", r.on_timeout().send)
            continue
        to, packet = wire.popleft()
        if to == "receiver":
            step = r.on_data(tftp.header(packet)[1], packet[4:])
            got += step.write
            put("sender", step.send)
        else:
            step = sender.on_ack(tftp.header(packet)[1])
            if step.done:
                break
            put("receiver", step.send)
    assert bytes(got) == content
    return sent / blocks


@pytest.mark.parametrize("windowsize", [1, 16])
@pytest.mark.parametrize("loss", [0.0, 0.01, 0.05, 0.2])
def test_transfers_under_loss_complete_and_stay_in_step(loss: float, windowsize: int) -> None:
    """Before the windows were counted from the last ACK, a window of 16 sent 2.15x the DATA
    needed at 1 % loss and 3.77x at 5 %; before the receiver kept blocks past a gap and the
    sender resent only the missing one, 1.63-1.75x at 5 %. Issue 13's target: 1.3 at 5 %."""
    ratios = [transfer(loss, windowsize, seed) for seed in range(5)]
    bound = {0.0: 1.0, 0.01: 1.05, 0.05: 1.3, 0.2: 2.0}[loss] if windowsize > 1 else 1 + 2 * loss
    assert max(ratios) <= bound, ratios


@pytest.mark.parametrize("windowsize", [2, 4, 8, 16])
@pytest.mark.parametrize("every", [2, 3, 4, 5, 8, 15, 16, 17])
def test_a_loss_pattern_in_step_with_the_window_never_stalls(every: int, windowsize: int) -> None:
    """Every Nth send refused (iptables' `--mode nth`): with timeouts that always resent the
    same window, a period dividing it lost the same block in every round, for ever."""
    transfer(0.0, windowsize, 1, blocks=200, every=every)


@pytest.mark.parametrize("windowsize", [1, 16])
def test_duplicated_and_reordered_packets_in_both_directions(windowsize: int) -> None:
    """5 % lost, 5 % delivered twice, 5 % overtaking the packet ahead, each way: the file
    arrives whole and in order, and duplicates never snowball into resends. (Before a block
    repeated mid-window stopped counting as a round resent, 5 % duplication alone took a
    window of 16 from 1.08 to 1.25-1.45 DATA per block.)"""
    ratios = [transfer(0.05, windowsize, seed, duplicate=0.05, reorder=0.05) for seed in range(5)]
    assert max(ratios) <= (1.2 if windowsize == 1 else 1.4), ratios


@pytest.mark.parametrize("loss", [0.01, 0.05, 0.2])
def test_a_receiver_that_keeps_nothing_still_gets_everything(loss: float) -> None:
    """Against RFC 7440's minimum receiver our sender falls back to whole windows: slower
    (measured: 1.11-1.21x the DATA at 1 %, 1.79-1.97x at 5 %), never stuck."""
    assert max(transfer(loss, 16, seed, receiver=KeepsNothing) for seed in range(3)) <= 1 + 25 * loss


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
