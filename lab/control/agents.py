"""Short commands on lab hosts through a helper each host keeps running (``lab.control.agent``).

The Engine runs a command to its end (``Engine.exec``) by handing it to an idle agent of that
host, started on first use with one exec and kept for the next command: a `docker exec`
costs the machine ~64 ms of CPU, a command through an agent ~5 ms (benchmarks/bench_exec.py), and
a lab test makes thousands. Commands asked at once on one host go to agents of their own
(one is started for each caller that finds none idle), so one slow command never holds up
another.

An agent that cannot start (a host without python3) leaves that host to plain execs; one
that ends under a command (the host stopped or restarted) is dropped and the command is
answered None: the Engine runs it with an exec of its own, which also tells a host that is
gone. Knows nothing of Docker: it opens agents through the Engine's ``open_session``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from lab.control import agent
from lab.control.sessions import STDOUT, ExecSession
from lab.errors import SessionEndedError

SOURCE = Path(agent.__file__).read_bytes()
READY = b'{"ready": 1}'

#: (exit status, stdout, stderr) of a command run to its end
Answer = tuple[int, bytes, bytes]


class Agent:
    """One helper on one host: a command at a time."""

    def __init__(self, session: ExecSession) -> None:
        self.session = session
        self._buffer = b""

    def line(self) -> bytes | None:
        """The next line it printed; None once it has ended."""
        while b"\n" not in self._buffer:
            stream, data = self.session.read_frame() or (0, b"")
            if not data:
                return None
            if stream == STDOUT:  # its stderr holds nothing but its own complaints
                self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def ask(self, argv: Sequence[str]) -> Answer | None:
        """Run ``argv`` to its end; None if the agent ended first."""
        try:
            self.session.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
        except SessionEndedError:
            return None
        line = self.line()
        if line is None:
            return None
        reply = json.loads(line)
        return int(reply["code"]), base64.b64decode(reply["out"]), base64.b64decode(reply["err"])

    def close(self) -> None:
        self.session.close()


class Agents:
    """The idle agents of every host, by container id."""

    def __init__(self, open_session: Callable[[str, list[str]], ExecSession]) -> None:
        self._open = open_session
        self._idle: dict[str, list[Agent]] = {}
        self._without: set[str] = set()  # containers where no agent starts
        self._lock = threading.Lock()

    def run(self, container_id: str, argv: Sequence[str]) -> Answer | None:
        """``argv`` run to its end on the container by an agent; None: run it otherwise."""
        helper = self._take(container_id)
        if helper is None:
            return None
        try:
            answer = helper.ask(argv)
        except BaseException:  # interrupted mid-command (Ctrl-C): its agent is in no state to reuse
            helper.close()
            raise
        if answer is None:
            helper.close()
            return None
        with self._lock:
            self._idle.setdefault(container_id, []).append(helper)
        return answer

    def forget(self, container_id: str) -> None:
        """The container is gone: drop its agents."""
        with self._lock:
            idle = self._idle.pop(container_id, [])
            self._without.discard(container_id)
        for helper in idle:
            helper.close()

    def _take(self, container_id: str) -> Agent | None:
        with self._lock:
            if container_id in self._without:
                return None
            idle = self._idle.get(container_id, [])
            while idle:
                helper = idle.pop()
                if not helper.session.ended:
                    return helper
                helper.close()
        return self._start(container_id)

    def _start(self, container_id: str) -> Agent | None:
        """A new agent on the container (a DockerError, such as a container gone, is the caller's)."""
        helper = Agent(self._open(container_id, ["python3", "-c", agent.BOOT, str(len(SOURCE))]))
        try:
            helper.session.write(SOURCE)
        except SessionEndedError:
            pass
        if helper.line() == READY:
            return helper
        helper.close()
        with self._lock:
            self._without.add(container_id)
        return None
