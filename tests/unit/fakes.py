"""Stand-ins for Docker in unit tests: a scripted exec channel, and (see FakeEngine) an engine."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from lab.control.sessions import ExecSession


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
