"""Lab programs end cleanly on SIGTERM and Ctrl-C, and fail bad requests with one clear line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lab.control.lab import Lab
from lab.control.programs import HostProgram

pytestmark = pytest.mark.lab

LONG_RUNNING = {
    "udp-recv": ["lab", "udp-recv", "--port", "9301"],
    "udp-echo-server": ["lab", "udp-echo-server", "--port", "9301"],
    "udp-chatroom-server": ["lab", "udp-chatroom-server", "--port", "9301"],
    "timestamp-server udp": ["lab", "timestamp-server", "--proto", "udp", "--port", "9301"],
    "timestamp-server tcp": ["lab", "timestamp-server", "--proto", "tcp", "--port", "9301"],
    "udp-chat": ["lab", "udp-chat", "--port", "9301", "--peer", "b1:9301"],
    "tcp-server": ["lab", "tcp-server", "--port", "9301"],
    "tcp-echo-server thread": ["lab", "tcp-echo-server", "--impl", "thread", "--port", "9301"],
    "tcp-echo-server socketserver": ["lab", "tcp-echo-server", "--impl", "socketserver", "--port", "9301"],
    "tcp-echo-server selectors": ["lab", "tcp-echo-server", "--impl", "selectors", "--port", "9301"],
    "chat-server": ["lab", "chat-server", "--port", "9301"],
}
TCP = ("tcp", "chat-server")


@pytest.mark.parametrize("signal", ["TERM", "INT"])
@pytest.mark.parametrize("program", list(LONG_RUNNING))
def test_clean_exit_on_signal(run_program: Callable[..., HostProgram], program: str, signal: str) -> None:
    running = run_program("srv", LONG_RUNNING[program])
    running.wait_listening(9301, "tcp" if any(word in program for word in TCP) else "udp")
    running.signal(signal)
    assert running.wait_exit() == 0
    assert "Traceback" not in running.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (["lab", "udp-send", "nosuchhost", "9", "--message", "x"], "unknown host 'nosuchhost'"),
    (["lab", "udp-echo-client", "b9", "9"], "unknown host 'b9'"),
    (["lab", "udp-recv", "--port", "70000"], "port 70000 is outside 0-65535"),
    (["lab", "udp-chat", "--room", "srv:9"], "--room needs --name"),
])
def test_bad_requests_are_one_clear_line(lab: Lab, argv: list[str], message: str) -> None:
    done = lab.exec("h1", argv)
    assert done.exit_code in (1, 2)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_room_forgets_a_silent_member(run_program: Callable[..., HostProgram]) -> None:
    server = run_program("srv", ["lab", "udp-chatroom-server", "--port", "9302", "--member-timeout", "1.5", "--json"])
    server.wait_listening(9302)
    chatty = run_program("h1", ["lab", "udp-chat", "--room", "srv:9302", "--name", "chatty", "--keepalive", "0.3",
                                "--json"])
    chatty.wait_event("received", text="* welcome chatty; 0 other(s) here")
    silent = run_program("b1", ["lab", "udp-chat", "--room", "srv:9302", "--name", "silent", "--keepalive", "600",
                                "--json"])
    silent.wait_event("received", text="* welcome silent; 1 other(s) here")
    chatty.wait_event("received", text="* silent timed out", timeout=10)
    # Who is still a member, as the server counts them (not whether a notice came in time):
    late = run_program("h2", ["lab", "udp-chat", "--room", "srv:9302", "--name", "late", "--json"])
    late.wait_event("received", text="* welcome late; 1 other(s) here")  # chatty, who keeps pinging, stayed


def test_chat_server_shutdown_closes_every_client(run_program: Callable[..., HostProgram]) -> None:
    server = run_program("srv", ["lab", "chat-server", "--port", "9303", "--json"])
    server.wait_listening(9303, "tcp")
    clients = []
    for n, host in enumerate(("h1", "b1")):  # one after the other: the welcome counts who is connected
        clients.append(run_program(host, ["lab", "chat-client", "srv", "9303", "--name", host, "--json"]))
        clients[-1].wait_event("received", text=f"* welcome {host}; {n} other(s) here")
    server.signal("TERM")
    assert server.wait_exit() == 0
    for c in clients:
        c.wait_event("received", text="* server shutting down")
        assert c.wait_exit() == 4, "the client ends by itself, with the documented status"
        assert "closed the connection" in c.stderr


def test_stop_ends_the_whole_process_group_even_when_it_ignores_sigterm(lab: Lab) -> None:
    """A program and the one child it forks both ignore SIGTERM: stop() ends both (SIGKILL to
    the group), found by the mark in their environment."""
    stubborn = ("import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "child = os.fork()\nif child: print('ready', flush=True)\ntime.sleep(1000)\n")
    program = HostProgram(lab, "h2", ["python3", "-c", stubborn, "socklab-stubborn"]).start()
    program.wait_line("ready")
    assert lab.exec("h2", ["pgrep", "-c", "-f", "socklab-stubborn"]).stdout.strip() == "2"
    assert program.stop(timeout=1) == 137  # killed (128 + SIGKILL)
    assert lab.exec("h2", ["pgrep", "-f", "socklab-stubborn"]).exit_code == 1, "a process survived"


@pytest.mark.parametrize("server", [["lab", "udp-echo-server", "--port", "9304"],
                                    ["lab", "timestamp-server", "--proto", "udp", "--port", "9304"]])
def test_a_server_keeps_serving_while_its_own_sends_are_refused(
        lab: Lab, run_program: Callable[..., HostProgram], impair: Callable[..., None], server: list[str]) -> None:
    """20 % of srv's sends fail with EPERM (a host firewall): a refused reply is a lost one; the
    client's retries recover every line, and the server never stops."""
    program = run_program("srv", [*server, "--json"])
    program.wait_listening(9304)
    impair("srv", refuse=20)
    lines = "\n".join(f"line {n}" for n in range(30))
    done = lab.exec("h1", ["sh", "-c", f"printf '{lines}\\n' | lab udp-echo-client srv 9304 --timeout 0.2 "
                                       "--retries 10 --json"])
    replies = [line for line in done.stdout.splitlines() if '"event": "reply"' in line]
    assert done.exit_code == 0 and len(replies) == 30, done.stdout[-500:]
    assert program.running
    refused = [e for e in program.events() if e["event"] == "error"]
    assert refused and all("Operation not permitted" in e["message"] for e in refused), "the refusals were seen"


def test_the_chat_room_keeps_relaying_while_its_own_sends_are_refused(
        run_program: Callable[..., HostProgram], impair: Callable[..., None]) -> None:
    """A relay the stack refuses is one member's lost datagram, not the end of the room."""
    server = run_program("srv", ["lab", "udp-chatroom-server", "--port", "9305", "--json"])
    server.wait_listening(9305)
    impair("srv", refuse=20)
    members = {name: run_program(host, ["lab", "udp-chat", "--room", "srv:9305", "--name", name, "--json"])
               for name, host in (("alice", "h1"), ("bob", "b1"))}
    server.wait_event("received", count=2)  # both JOINs are in (they travel towards srv: never refused)
    for n in range(40):
        members["alice"].send_line(f"line {n}")
    relayed = members["bob"].wait_event("received", count=20, timeout=20)
    assert all(e["text"].startswith(("alice: line", "* ")) for e in relayed)
    assert server.running
    refusals = [e for e in server.events() if e["event"] == "error"]
    assert refusals and all("Operation not permitted" in e["message"] for e in refusals)


def test_a_broadcast_sender_counts_refused_sends_as_lost_and_goes_on(
        lab: Lab, run_program: Callable[..., HostProgram], impair: Callable[..., None]) -> None:
    listener = run_program("h2", ["lab", "broadcast-listen", "--port", "9306", "--json"])
    listener.wait_listening(9306)
    impair("h1", refuse=20)
    lan = str(lab.topology().lans[lab.topology().host("h1").lans[0]].broadcast)
    sender = run_program("h1", ["lab", "broadcast-send", "9306", "--to", lan, "--message", "hello",
                                "--count", "40", "--json"])
    assert sender.wait_exit() == 0, sender.stderr
    lost = [e for e in sender.events() if e["event"] == "lost"]
    sent = [e for e in sender.events() if e["event"] == "sent"]
    assert lost and len(lost) + len(sent) == 40
    listener.wait_event("received", count=len(sent))


def test_tcp_chat_recovers_whatever_the_stacks_refuse(
        run_program: Callable[..., HostProgram], impair: Callable[..., None]) -> None:
    """TCP retransmits what a stack refused to put on the wire (the server's, and the sending
    client's): every line arrives, in order."""
    server = run_program("srv", ["lab", "chat-server", "--port", "9307", "--json"])
    server.wait_listening(9307, "tcp")
    impair("srv", refuse=20)
    impair("h1", refuse=20)
    bob = run_program("b1", ["lab", "chat-client", "srv", "9307", "--name", "bob", "--json"])
    bob.wait_event("received", text="* welcome bob; 0 other(s) here", timeout=30)
    alice = run_program("h1", ["lab", "chat-client", "srv", "9307", "--name", "alice", "--json"])
    alice.wait_event("received", text="* welcome alice; 1 other(s) here", timeout=30)
    for n in range(10):
        alice.send_line(f"line {n}")
    got = bob.wait_event("received", count=12, timeout=60)  # welcome, "* alice joined", her ten lines
    assert [e["text"] for e in got[2:]] == [f"alice: line {n}" for n in range(10)]
    assert server.running
