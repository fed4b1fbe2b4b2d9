"""Stand-ins for Docker in unit tests: a scripted exec channel, and (see FakeEngine) an engine."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from lab.control.engine import ExecResult
from lab.control.records import PROJECT, SERVICE, HostContainer, LabNetwork
from lab.control.sessions import ExecSession
from lab.errors import DockerError


class FakeChannel:
    """An exec whose output the test feeds (``say``, ``end``) and whose input it reads back."""

    def __init__(self, exit_codes: list[int | None] | None = None) -> None:
        self._frames: queue.SimpleQueue[tuple[int, bytes] | None] = queue.SimpleQueue()
        self.sent: list[bytes] = []
        self.stdin_closed = False
        self.sizes: list[tuple[int, int]] = []
        self.closed = False
        self.gone = False  # the command is gone: writing fails as a closed socket does
        self.exit_codes = list(exit_codes or [])  # what exit_code() answers, in turn; the last repeats
        self.lock = threading.Lock()

    # the test's side
    def say(self, data: bytes, stream: int = 1) -> None:
        self._frames.put((stream, data))

    def end(self, code: int | None = None) -> None:
        """The output ends (and, with ``code``, Docker records that exit status)."""
        if code is not None:
            self.exit_codes = [code]
        self._frames.put(None)

    # the Channel protocol
    def frames(self) -> Iterator[tuple[int, bytes]]:
        while (item := self._frames.get()) is not None:
            yield item

    def send(self, data: bytes) -> None:
        if self.gone or self.stdin_closed:
            raise BrokenPipeError(32, "Broken pipe")
        with self.lock:
            self.sent.append(data)

    def shutdown_write(self) -> None:
        self.stdin_closed = True

    def resize(self, rows: int, cols: int) -> None:
        self.sizes.append((rows, cols))

    def socket(self) -> None:  # framed output: read by the session's thread
        return None

    def exit_code(self) -> int | None:
        if len(self.exit_codes) > 1:
            return self.exit_codes.pop(0)
        return self.exit_codes[0] if self.exit_codes else None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._frames.put(None)


def session(channel: FakeChannel, tty: bool = False) -> ExecSession:
    return ExecSession(channel, tty=tty, label="cmd on h1")


class FakeEngine:
    """An Engine over containers and networks held in memory: what ``Lab`` and ``HostProgram``
    ask of Docker, answered from ``self.hosts`` (by project) and ``self.nets``."""

    local = False
    url = "tcp://fake:2375"

    def __init__(self) -> None:
        self.hosts: dict[str, list[HostContainer]] = {}  # by project
        self.nets: list[LabNetwork] = []
        self.logged: dict[str, bytes] = {}  # container id -> its log
        self.since: list[float | None] = []  # the ``since`` of every logs() call
        self.removed_networks: list[str] = []
        self.commands: list[tuple[str, list[str]]] = []  # (container name, argv) of every exec
        self.answers: list[ExecResult] = []  # what the next execs answer, in order (then: nothing)
        self.channels: list[FakeChannel] = []

    def add(self, project: str, service: str, state: str = "running", log: bytes = b"socklab: ready\n",
            **fields: Any) -> HostContainer:
        c = HostContainer(id=f"{project}-{service}-id", name=f"{project}-{service}-1", project=project,
                          service=service, state=state,
                          labels={PROJECT: project, SERVICE: service, **fields.pop("labels", {})}, **fields)
        self.hosts.setdefault(project, []).append(c)
        self.logged[c.id] = log
        return c

    def containers(self, project: str, inspect: bool = True) -> list[HostContainer]:
        return list(self.hosts.get(project, []))

    def inspect(self, container_id: str) -> HostContainer:
        for c in (c for found in self.hosts.values() for c in found):
            if c.id == container_id:
                return c
        raise DockerError(f"No such container: {container_id}", 404)

    def lab_containers(self) -> list[HostContainer]:
        return [c for found in self.hosts.values() for c in found]

    def networks(self, project: str) -> list[LabNetwork]:
        return [n for n in self.nets if n.project == project]

    def lab_networks(self) -> list[LabNetwork]:
        return [n for n in self.nets if n.isolated]

    def remove_networks(self, networks: list[LabNetwork], timeout: float = 15) -> None:
        self.removed_networks += [n.name for n in networks]
        self.nets = [n for n in self.nets if n not in networks]

    def remove_containers(self, containers: list[HostContainer]) -> None:
        for project in self.hosts:
            self.hosts[project] = [c for c in self.hosts[project] if c not in containers]

    def subnets_in_use(self, exclude_project: str | None = None) -> dict[str, list[Any]]:
        return {}

    def logs(self, container_id: str, since: float | None = None) -> bytes:
        self.since.append(since)
        return self.logged.get(container_id, b"")

    def exec(self, container: HostContainer, cmd: list[str], user: str = "",
             environment: dict[str, str] | None = None) -> ExecResult:
        self.commands.append((container.name, list(cmd)))
        return self.answers.pop(0) if self.answers else ExecResult(0, "", "")

    def open_session(self, container: HostContainer, argv: list[str], **options: Any) -> ExecSession:
        channel = FakeChannel()
        self.channels.append(channel)
        return ExecSession(channel, tty=bool(options.get("tty")), label=options.get("label", ""),
                           pump=options.get("pump", True))
