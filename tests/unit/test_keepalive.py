"""The NAT lesson's schedules without sockets: a client's keepalives, a server's pushes."""

from __future__ import annotations

from lab.proto.keepalive import Keepalive, Pushes

A, B = ("10.201.2.254", 40000), ("10.201.2.254", 40001)


def test_a_keepalive_is_due_an_interval_after_the_last_send() -> None:
    k = Keepalive(2.0)
    k.sent(10.0)
    assert k.wait(10.5) == 1.5 and k.wait(13.0) == 0.0
    assert Keepalive(0).wait(99.0) is None, "0: never"


def test_each_hello_gets_welcome_at_once_and_one_push_later_to_its_address() -> None:
    p = Pushes(8.0)
    assert p.received(A, "hello", 0.0) == [(A, "welcome")]
    assert p.received(A, "keepalive", 1.0) == []
    assert p.received(B, "hello", 2.0) == [(B, "welcome")]
    assert p.wait(3.0) == 5.0
    assert p.due(7.9) == [] and p.due(8.0) == [(A, "push")]
    assert p.due(10.0) == [(B, "push")] and p.due(20.0) == [], "each push once"
    assert p.received(A, "hello", 21.0) == [(A, "welcome")] and p.due(40.0) == [], "a second hello: no second push"
    assert p.wait(40.0) is None
