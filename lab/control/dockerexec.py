"""The Engine's helper: an exec's connection as a ``Channel`` for ``ExecSession``.

Only the Engine imports this module (and only these two import ``docker``). ``exec_start(...,
socket=True)`` answers with whatever carries the HTTP connection: a ``socket.SocketIO`` over a
unix socket or plain TCP, an SSL socket over TLS, a paramiko channel over ssh://. Reading goes
through the SDK's public ``docker.utils.socket.frames_iter``; writing and half-closing need the
socket itself, which a SocketIO does not expose publicly: a duplicate of its file descriptor is
a socket of the same connection (``shutdown`` acts on the connection, not on the descriptor).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

from docker.utils.socket import frames_iter


class DockerChannel:
    def __init__(self, api: Any, exec_id: str, conn: Any, tty: bool,
                 translated: Callable[[Callable[[], Any]], Any]) -> None:
        self.api = api
        self.exec_id = exec_id
        self.conn = conn
        self.tty = tty
        self._translated = translated  # the Engine's one translation of docker SDK errors
        # The object to write to and shut down: the connection's socket (a duplicate of a
        # SocketIO's descriptor), or the SSL socket or paramiko channel itself.
        self._raw: Any = conn
        self._dup: socket.socket | None = None
        if isinstance(conn, socket.SocketIO):
            self._dup = socket.socket(fileno=os.dup(conn.fileno()))
            self._raw = self._dup

    def frames(self) -> Iterator[tuple[int, bytes]]:
        yield from frames_iter(self.conn, self.tty)

    def send(self, data: bytes) -> None:
        self._raw.sendall(data)

    def shutdown_write(self) -> None:
        if hasattr(self._raw, "shutdown_write"):  # paramiko's channel (ssh://)
            self._raw.shutdown_write()
        else:
            self._raw.shutdown(socket.SHUT_WR)

    def resize(self, rows: int, cols: int) -> None:
        self._translated(lambda: self.api.exec_resize(self.exec_id, height=rows, width=cols))

    def exit_code(self) -> int | None:
        info = self._translated(lambda: self.api.exec_inspect(self.exec_id))
        # Not Running and no exit code: not started yet. Docker sets the code once it has ended.
        code = info.get("ExitCode")
        return None if info.get("Running") or code is None else int(code)

    def close(self) -> None:
        if self._dup is not None:
            try:
                self._dup.shutdown(socket.SHUT_RDWR)  # a reader blocked in poll() wakes to EOF
            except OSError:
                pass
            self._dup.close()
            self._dup = None
        self.conn.close()
