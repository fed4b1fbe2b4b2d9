"""Bad input to every UDP server: each answers what it should and keeps serving."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.probes.raw import send_datagram

pytestmark = pytest.mark.lab

rng = random.Random(1350)
BAD = {
    "empty": b"",
    "oversized": b"A" * 65507,                     # the largest UDP payload over IPv4
    "non-utf8": b"\xff\xfe\xc3\x28 bad \xa0\xa1",
    "random": bytes(rng.randrange(256) for _ in range(512)),
}
STAMP = rb"^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\]"


SERVERS = {
    "udp-echo-server": ["lab", "udp-echo-server", "--port", "9101", "--quiet"],
    "timestamp-server": ["lab", "timestamp-server", "--proto", "udp", "--port", "9101"],
    "udp-chatroom-server": ["lab", "udp-chatroom-server", "--port", "9101"],
    "udp-recv": ["lab", "udp-recv", "--port", "9101"],
}


def check_reply(server: str, name: str, payload: bytes, replies: list[bytes]) -> None:
    if server == "udp-echo-server":
        assert replies == [payload], name
    elif server == "timestamp-server":
        assert len(replies) == 1, name
        if len(payload) > 65507 - 26:
            assert replies[0].startswith(b"ERR ") and b"no room for the timestamp" in replies[0]
        else:
            assert re.match(STAMP, replies[0]) and replies[0].endswith(payload), (name, replies[0][:60])
    elif server == "udp-chatroom-server":
        assert len(replies) == 1 and replies[0].startswith(b"ERR "), (name, replies)
    else:
        assert replies == [], "a receiver answers nothing"


@pytest.mark.parametrize("server", list(SERVERS))
def test_server_survives_bad_datagrams(lab: Lab, run_program: Callable[..., HostProgram], server: str) -> None:
    program = run_program("srv", SERVERS[server])
    program.wait_listening(9101)
    for name, payload in BAD.items():
        check_reply(server, name, payload, send_datagram(lab, "b1", "srv", 9101, payload, wait=1.0))
        assert program.running, f"{server} died on the {name} datagram:\n{program.transcript(tail=10)}"
    # and it still does its job for a well-behaved client
    good = send_datagram(lab, "h1", "srv", 9101, b"JOIN ok" if "chatroom" in server else b"ok", wait=1.0)
    if server == "udp-recv":
        program.wait_line(r"from .* \(2 bytes\): ok$")
    elif server == "udp-chatroom-server":
        assert good == [b"* welcome ok; 0 other(s) here"]
    else:
        assert good and good[0].endswith(b"ok")
