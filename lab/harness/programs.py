"""Run a program on a lab host in the background and drive it from a test.

    with HostProgram(lab, "srv", ["lab", "udp-recv", "--port", "9000", "--json"]) as recv:
        recv.wait_listening(9000, "udp")
        ...
        event = recv.wait_event("received", peer_ip="10.201.1.11")
    # leaving the block stops it (SIGTERM, then SIGKILL) and keeps its transcript

The program runs through the Docker exec API with stdin attached, so a test can type into
it (``send_line``), close its stdin (EOF), read stdout and stderr as lines, wait for a line
or a ``--json`` event with a timeout, and stop it by signal. Nothing here sleeps to
synchronise: every wait is on a condition.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from docker.utils.socket import frames_iter

from lab.control.lab import Lab
from lab.control.wait import wait_until
from lab.errors import LabError, WaitTimeoutError

STDOUT, STDERR = 1, 2


class HostProgram:
    def __init__(self, lab: Lab, host: str, argv: Sequence[str], user: str = "") -> None:
        self.lab = lab
        self.host = host
        self.argv = list(argv)
        self.user = user
        self._pidfile = f"/tmp/socklab-{uuid.uuid4().hex[:12]}.pid"
        self._out: dict[int, list[str]] = {STDOUT: [], STDERR: []}
        self._partial = {STDOUT: b"", STDERR: b""}
        self._changed = threading.Condition()
        self._eof = False
        self._exec_id: str | None = None
        self._sock: Any = None
        self._reader: threading.Thread | None = None
        self.exit_code: int | None = None

    def __repr__(self) -> str:
        return f"HostProgram({self.host}: {' '.join(self.argv)})"

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> HostProgram:
        container = self.lab.container(self.host)
        wrapped = ["sh", "-c", f'echo $$ > {self._pidfile}; exec "$@"', "sh", *self.argv]
        api = self.lab.engine.api
        self._exec_id = api.exec_create(container.id, wrapped, stdin=True, stdout=True, stderr=True,
                                        tty=False, user=self.user)["Id"]
        self._sock = api.exec_start(self._exec_id, socket=True)
        self._reader = threading.Thread(target=self._read, name=f"read {self!r}", daemon=True)
        self._reader.start()
        return self

    def __enter__(self) -> HostProgram:
        return self.start() if self._exec_id is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read(self) -> None:
        try:
            for stream, chunk in frames_iter(self._sock, tty=False):
                with self._changed:
                    data = self._partial[stream] + chunk
                    *lines, self._partial[stream] = data.split(b"\n")
                    self._out[stream].extend(line.decode(errors="replace") for line in lines)
                    self._changed.notify_all()
        except OSError:
            pass  # the connection closed under us: the program is gone
        finally:
            with self._changed:
                for stream, rest in self._partial.items():
                    if rest:
                        self._out[stream].append(rest.decode(errors="replace"))
                self._partial = {STDOUT: b"", STDERR: b""}
                self._eof = True
                self._changed.notify_all()

    @property
    def running(self) -> bool:
        if self._exec_id is None:
            return False
        info = self.lab.engine.api.exec_inspect(self._exec_id)
        if not info["Running"] and info["ExitCode"] is not None:
            self.exit_code = info["ExitCode"]
        return bool(info["Running"])

    def wait_exit(self, timeout: float = 10) -> int:
        """Wait until the program ends by itself; return its exit status."""
        __tracebackhide__ = True
        wait_until(lambda: not self.running, timeout, f"{self!r} to exit", interval=0.05)
        with self._changed:
            self._changed.wait_for(lambda: self._eof, timeout=5)
        assert self.exit_code is not None
        return self.exit_code

    def signal(self, sig: str = "TERM") -> None:
        self.lab.exec(self.host, ["sh", "-c", f"kill -{sig} $(cat {self._pidfile})"])

    def stop(self, timeout: float = 5) -> int | None:
        """SIGTERM, then SIGKILL if it does not end within ``timeout``. Safe to call twice."""
        if self._exec_id is None:
            return None
        try:
            if self.running:
                self.signal("TERM")
                try:
                    return self.wait_exit(timeout)
                except WaitTimeoutError:
                    self.signal("KILL")
                    return self.wait_exit(timeout)
            return self.wait_exit(timeout)
        except LabError:
            return self.exit_code  # the host itself is gone: so is the program
        finally:
            self._close()

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass

    # --- input -----------------------------------------------------------------------
    def send(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self._sock._sock.sendall(data)  # the raw socket under docker-py's SocketIO

    def send_line(self, line: str) -> None:
        self.send(line + "\n")

    def close_stdin(self) -> None:
        """End of input: the program reads EOF."""
        self._sock._sock.shutdown(socket.SHUT_WR)

    # --- output ----------------------------------------------------------------------
    def lines(self, stream: int = STDOUT) -> list[str]:
        with self._changed:
            return list(self._out[stream])

    @property
    def stdout(self) -> str:
        return "\n".join(self.lines(STDOUT))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines(STDERR))

    def events(self) -> list[dict[str, Any]]:
        """stdout lines that are JSON objects (a program run with --json)."""
        found = []
        for line in self.lines(STDOUT):
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def wait_line(self, match: str | Callable[[str], bool], timeout: float = 10,
                  stream: int = STDOUT) -> str:
        """The first line (already printed or still to come) that matches."""
        __tracebackhide__ = True
        test = (lambda line: re.search(match, line) is not None) if isinstance(match, str) else match

        def found() -> str | None:
            with self._changed:
                hit = next((line for line in self._out[stream] if test(line)), None)
                if hit is None and not self._eof:
                    self._changed.wait(timeout=0.2)
                return hit

        try:
            return wait_until(found, timeout, f"a line matching {match!r} from {self!r}", interval=0)
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(exc.what, timeout, self.transcript(tail=20)) from None

    def wait_event(self, event: str, timeout: float = 10, count: int = 1, **fields: Any) -> list[dict[str, Any]]:
        """Wait until ``count`` --json events named ``event`` (with these field values) arrived."""
        __tracebackhide__ = True

        def matching() -> list[dict[str, Any]]:
            return [e for e in self.events()
                    if e.get("event") == event and all(e.get(k) == v for k, v in fields.items())]

        def enough() -> list[dict[str, Any]] | None:
            hits = matching()
            if len(hits) >= count:
                return hits
            with self._changed:
                if not self._eof:
                    self._changed.wait(timeout=0.2)
            return None

        try:
            return wait_until(enough, timeout, f"{count} `{event}` event(s) {fields or ''} from {self!r}", interval=0)
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(exc.what, timeout, self.transcript(tail=20)) from None

    def wait_listening(self, port: int, proto: str = "udp", timeout: float = 10) -> None:
        """Wait until a socket on this host listens on ``port`` (checked with ``ss``)."""
        __tracebackhide__ = True
        flag = {"udp": "-u", "tcp": "-t"}[proto]

        def listening() -> bool:
            if self._eof:
                raise LabError(f"{self!r} ended before listening:\n{self.transcript(tail=10)}")
            out = self.lab.exec(self.host, ["ss", "-Hln", flag, f"sport = :{port}"]).stdout
            return bool(out.strip())

        wait_until(listening, timeout, f"{proto} port {port} to listen on {self.host}")

    def transcript(self, tail: int = 0) -> str:
        out = [f"out| {line}" for line in self.lines(STDOUT)] + [f"err| {line}" for line in self.lines(STDERR)]
        return "\n".join(out[-tail:] if tail else out)

