"""The hosts' command agents (lab/control/agent.py, lab/control/agents.py), run here as local
processes: what a command answers through one, and how the pool starts, reuses and drops them.
On real lab hosts: tests/lab/test_hosts.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from lab.control import agent
from lab.control.agents import Agents
from lab.control.sessions import ExecSession
from lab.control.wait import wait_until


class LocalChannel:
    """An exec on this machine: a local process, its stdout as the session's frames."""

    def __init__(self, argv: list[str]) -> None:
        if argv[0] == "python3":
            argv = [sys.executable, *argv[1:]]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        assert self.proc.stdout is not None
        while data := self.proc.stdout.read1(65536):
            yield 1, data

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def shutdown_write(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def resize(self, rows: int, cols: int) -> None:
        raise NotImplementedError

    def socket(self) -> None:
        return None

    def exit_code(self) -> int | None:
        return self.proc.poll()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Opened:
    """What the pool is given as ``open_session``: local agents, each one kept for the test."""

    def __init__(self, argv: list[str] | None = None) -> None:
        self.argv = argv  # instead of what the pool asks for: a host without python3
        self.channels: list[LocalChannel] = []

    def __call__(self, container_id: str, argv: list[str]) -> ExecSession:
        channel = LocalChannel(self.argv or argv)
        self.channels.append(channel)
        return ExecSession(channel, label=f"agent on {container_id}")


def test_a_command_answers_through_an_agent_as_through_an_exec() -> None:
    agents = Agents(Opened())
    assert agents.run("c1", ["sh", "-c", "printf 'out\\n'; printf 'err' >&2; exit 3"]) == (3, b"out\n", b"err")
    assert agents.run("c1", ["sh", "-c", "head -c 3 /dev/zero; printf '\\377'"]) == (0, b"\0\0\0\xff", b"")
    assert agents.run("c1", ["sh", "-c", "kill -9 $$"]) == (128 + signal.SIGKILL, b"", b""), "as Docker reports it"
    code, out, _ = agents.run("c1", ["no-such-command"]) or (0, b"", b"")
    assert (code, out) == (126, b'exec: "no-such-command": executable file not found in $PATH\n')
    code, out, _ = agents.run("c1", [os.devnull]) or (0, b"", b"")
    assert (code, out) == (126, f'exec: "{os.devnull}": Permission denied\n'.encode())
    # a command that signals its own process group, and one that reads stdin, leave the agent serving
    assert agents.run("c1", ["sh", "-c", "kill -TERM 0"]) == (128 + signal.SIGTERM, b"", b"")
    assert agents.run("c1", ["cat"]) == (0, b"", b"")
    assert agents.run("c1", ["echo", "still here"]) == (0, b"still here\n", b"")


def test_one_agent_a_host_serves_commands_in_turn() -> None:
    opened = Opened()
    agents = Agents(opened)
    for n in range(5):
        assert agents.run("c1", ["echo", str(n)]) == (0, f"{n}\n".encode(), b"")
    assert agents.run("c2", ["true"]) == (0, b"", b"")
    assert len(opened.channels) == 2, "one agent for c1's five commands, one for c2"


def test_a_caller_that_finds_none_idle_gets_an_agent_of_its_own(tmp_path: Path) -> None:
    """The first command waits (at most 5 s) for a file only the second creates: through one
    agent the second would wait behind the first, which would give up and exit 1."""
    opened = Opened()
    agents = Agents(opened)
    flag = tmp_path / "flag"
    first: list[object] = []
    waiting = threading.Thread(target=lambda: first.append(agents.run("c1", [
        "sh", "-c", f"for i in $(seq 500); do [ -e {flag} ] && exit 0; sleep 0.01; done; exit 1"])))
    waiting.start()
    wait_until(lambda: opened.channels, 5, "the first caller to start its agent (and hold it)")
    assert agents.run("c1", ["touch", str(flag)]) == (0, b"", b"")
    waiting.join()
    assert first == [(0, b"", b"")]
    assert len(opened.channels) == 2


def test_an_agent_that_ends_under_a_command_hands_the_command_back() -> None:
    opened = Opened()
    agents = Agents(opened)
    assert agents.run("c1", ["true"]) == (0, b"", b"")
    pid = opened.channels[0].proc.pid
    assert agents.run("c1", ["kill", "-KILL", str(pid)]) is None, "the caller runs it otherwise"
    assert agents.run("c1", ["echo", "again"]) == (0, b"again\n", b""), "a new agent"
    assert len(opened.channels) == 2


def test_an_idle_agent_of_a_host_restarted_meanwhile_is_not_used() -> None:
    opened = Opened()
    agents = Agents(opened)
    assert agents.run("c1", ["true"]) == (0, b"", b"")
    opened.channels[0].proc.kill()  # as a restart of its host does
    opened.channels[0].proc.wait()
    wait_until(lambda: agents._idle["c1"][0].session.ended, 5, "its reader to see the end")
    assert agents.run("c1", ["echo", "fresh"]) == (0, b"fresh\n", b"")
    assert len(opened.channels) == 2


def test_a_host_without_python_is_left_to_execs() -> None:
    opened = Opened(["sh", "-c", "echo 'sh: 1: python3: not found'; exit 127"])
    agents = Agents(opened)
    assert agents.run("c1", ["true"]) is None
    assert agents.run("c1", ["true"]) is None
    assert len(opened.channels) == 1, "not tried again on that host"


def test_a_removed_host_s_agents_are_closed() -> None:
    opened = Opened()
    agents = Agents(opened)
    assert agents.run("c1", ["true"]) == (0, b"", b"")
    agents.forget("c1")
    assert opened.channels[0].proc.poll() is not None
    assert "c1" not in agents._idle


def test_the_agent_is_one_file_of_the_standard_library() -> None:
    """It runs on a lab host from its source alone: nothing of socklab's is imported there."""
    source = Path(agent.__file__).read_text()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "base64", "json", "subprocess", "sys"}, imports
