"""The group chat under load and abuse, on the real lab."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lab.control.lab import Lab
from lab.control.programs import HostProgram

pytestmark = pytest.mark.lab

PORT = 9400
LOAD_HOSTS = ("h1", "h2", "b1")


@pytest.fixture
def server(run_program: Callable[..., HostProgram]) -> Iterator[HostProgram]:
    program = run_program("srv", ["lab", "chat-server", "--port", str(PORT), "--json", "--max-buffer", "65536"])
    program.wait_listening(PORT, "tcp")
    yield program
    assert program.running, f"the chat server died:\n{program.transcript(tail=20)}"


def load(run_program: Callable[..., HostProgram], hosts: tuple[str, ...], clients: int, messages: int,
         extra: tuple[str, ...] = ()) -> list[dict[str, object]]:
    """chat-load on each host; all join, then all start together; their summaries."""
    loads = [run_program(h, ["lab", "chat-load", "srv", str(PORT), "--clients", str(clients), "--name", h,
                             "--messages", str(messages), "--expect", str(clients * len(hosts)),
                             "--wait-go", "--json", *extra]) for h in hosts]
    for program in loads:
        program.wait_event("ready", timeout=30)
    for program in loads:
        program.send_line("go")
    return [program.wait_event("summary", timeout=120)[0] for program in loads]


def test_thirty_clients_get_every_message_once_in_order(
        server: HostProgram, run_program: Callable[..., HostProgram]) -> None:
    summaries = load(run_program, LOAD_HOSTS, clients=10, messages=50)
    for s in summaries:
        assert s["received"] == s["expected"] == 10 * 29 * 50, s
        assert (s["duplicates"], s["out_of_order"], s["errors"]) == (0, 0, 0), s
        assert s["complete_clients"] == 10, s


MISBEHAVE = r"""
import os, socket, struct, sys, time
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "reset":          # half a message, then a reset instead of a close
    s = socket.create_connection((host, port)); s.sendall(b"rudy\nhalf a mess")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
elif kind == "garbage":      # binary junk, bad UTF-8, then a line far over the limit
    s = socket.create_connection((host, port)); s.sendall(b"gary\n" + os.urandom(300).replace(b"\n", b"") + b"\n")
    s.sendall(b"\xff\xfe\xfd\n"); s.sendall(b"y" * 10000 + b"\n")
    print(s.recv(65536)); s.close()
elif kind == "flood":        # many connections at once that never say a word
    socks = [socket.create_connection((host, port)) for _ in range(300)]
    print(len(socks), flush=True); sys.stdin.readline()
elif kind == "sleeper":      # joins, then never reads a byte
    s = socket.create_connection((host, port)); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"sleepy\n"); print("joined", flush=True); sys.stdin.readline()
"""


def misbehave(run_program: Callable[..., HostProgram], host: str, kind: str) -> HostProgram:
    return run_program(host, ["python3", "-c", MISBEHAVE, kind, "srv", str(PORT)])


def test_abrupt_disconnects_and_garbage_leave_the_rest_serving(
        server: HostProgram, run_program: Callable[..., HostProgram]) -> None:
    assert misbehave(run_program, "h3", "reset").wait_exit() == 0
    garbage = misbehave(run_program, "b2", "garbage")
    assert garbage.wait_exit() == 0
    assert "ERR" in garbage.stdout, garbage.transcript()
    reasons = [e["reason"] for e in server.wait_event("left", count=2)]
    assert "connection reset" in reasons
    assert "sent an oversized message" in reasons
    summaries = load(run_program, ("h1", "b1"), clients=3, messages=20)
    assert all(s["received"] == s["expected"] and s["duplicates"] == s["out_of_order"] == 0 for s in summaries)


def test_a_client_that_never_reads_cannot_stall_the_others(
        server: HostProgram, run_program: Callable[..., HostProgram]) -> None:
    sleeper = misbehave(run_program, "h3", "sleeper")
    sleeper.wait_line("joined")
    summaries = load(run_program, ("h1", "b1"), clients=5, messages=300, extra=("--size", "200", "--rate", "100"))
    # The sleeper counts as a member until it is dropped, so the others' tallies ignore it.
    for s in summaries:
        assert s["received"] == s["expected"] and s["duplicates"] == s["out_of_order"] == 0, s
    left = [e for e in server.events() if e["event"] == "left" and str(e["reason"]).startswith("too slow")]
    assert len(left) == 1, "the sleeper (and only it) was disconnected for not reading"


def test_a_connection_flood_does_not_stop_the_chat(
        server: HostProgram, run_program: Callable[..., HostProgram]) -> None:
    flood = misbehave(run_program, "h3", "flood")
    flood.wait_line("300", timeout=30)
    summaries = load(run_program, ("h1", "b1"), clients=3, messages=20)
    assert all(s["received"] == s["expected"] for s in summaries), summaries
    flood.close_stdin()
    assert flood.wait_exit() == 0


def test_a_host_that_vanishes_is_dropped(
        lab: Lab, server: HostProgram, run_program: Callable[..., HostProgram]) -> None:
    """b2 drops every packet (as if unplugged): no FIN, no RST; the server notices by itself."""
    ghost = run_program("b2", ["lab", "chat-client", "srv", str(PORT), "--name", "ghost", "--json"])
    ghost.wait_event("received", text="* welcome ghost; 0 other(s) here")
    alice = run_program("h1", ["lab", "chat-client", "srv", str(PORT), "--name", "alice", "--json"])
    alice.wait_event("received", text="* welcome alice; 1 other(s) here")
    cut = ["iptables", "-w", "-I", "INPUT", "-p", "tcp", "--sport", str(PORT), "-j", "DROP"]
    lab.exec("b2", cut, check=True)
    try:
        alice.send_line("are you there?")  # data the ghost never acknowledges
        alice.wait_event("received", text="* ghost left (timed out (peer unreachable))", timeout=30)
    finally:
        lab.exec("b2", ["iptables", "-w", "-D", *cut[3:]], check=True)
    alice.send_line("bye")
    assert alice.wait_exit() == 0
