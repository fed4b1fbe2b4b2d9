"""An interactive command on a lab host: its stdin, its output as it comes, a pty, its exit status.

    with engine.open_session(host, ["bash", "-l"], tty=True) as session:
        session.resize(24, 80)
        session.write(b"ls\\n")
        while (chunk := session.read(timeout=1)) != b"":
            ...  # None: nothing within the timeout; b"": the command's output has ended
        print(session.wait())

``ExecSession`` is socklab's one exec-session type: ``HostProgram``, ``invoke shell`` and the
browser terminal use it. It knows nothing of Docker: the Engine hands it a ``Channel`` (how
bytes reach the command and come back), so it runs in unit tests over a scripted channel too.

One reader thread drains the channel into a queue from the start (a command never blocks on
output nobody reads yet); ``write`` may be called from any thread, and takes a lock so that two
writers' bytes never interleave mid-write. A session opened with ``pump=False`` reads nothing
until it is followed or read: ``follow(sink, loop)`` then reads a pty's socket in that event
loop itself, with no thread (the browser's terminals: a thread per terminal handing output to
the loop made the GIL the keystrokes' tail at 30 students, benchmarks/README.md).
"""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from lab.control.wait import wait_until
from lab.errors import LabError, SessionEndedError, WaitTimeoutError

STDOUT, STDERR = 1, 2
_EOF = (0, b"")


class Channel(Protocol):
    """The transport under a session (the Engine's: Docker's exec API)."""

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(STDOUT or STDERR, bytes) as they come, blocking; ends when the output ends."""
        ...

    def send(self, data: bytes) -> None:
        """All of ``data`` to the command's stdin; OSError once the command is gone."""
        ...

    def shutdown_write(self) -> None:
        """End of the command's input (it reads EOF); the output keeps flowing."""
        ...

    def resize(self, rows: int, cols: int) -> None: ...

    def socket(self) -> socket.socket | None:
        """The connection itself when the output comes straight off it, unframed (a pty over a
        local socket): an event loop may then read it. None otherwise."""
        ...

    def exit_code(self) -> int | None:
        """The command's exit status; None while it runs (or has not started yet)."""
        ...

    def close(self) -> None:
        """Drop the connection both ways (a blocked ``frames`` ends). Safe to call twice."""
        ...


class ExecSession:
    def __init__(self, channel: Channel, tty: bool = False, label: str = "", pump: bool = True) -> None:
        self.channel = channel
        self.tty = tty
        self.label = label
        self._queue: queue.SimpleQueue[tuple[int, bytes]] = queue.SimpleQueue()
        self._write_lock = threading.Lock()
        self._ended = threading.Event()  # the output has ended (the reader saw EOF)
        self._eof_read = False  # a reader took the EOF marker off the queue: every read after is EOF
        self._exit_code: int | None = None
        self._sink: Callable[[int, bytes], None] | None = None  # see ``follow``
        self._sink_lock = threading.Lock()
        self._reader = threading.Thread(target=self._pump, name=f"exec {label}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that reads, without a thread
        if pump:
            self._reader.start()

    def __repr__(self) -> str:
        return f"ExecSession({self.label!r}, tty={self.tty})"

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pump(self) -> None:
        try:
            for item in self.channel.frames():
                if item[1]:
                    self._deliver(item)
        except (OSError, ValueError):  # ValueError: closed under us by close()
            pass  # the connection ended: so has the command's output
        finally:
            self._ended.set()
            self._deliver(_EOF)

    def _deliver(self, item: tuple[int, bytes]) -> None:
        with self._sink_lock:
            if self._sink is not None:
                self._sink(*item)
            else:
                self._queue.put(item)

    def follow(self, sink: Callable[[int, bytes], None], loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Hand every output to ``sink`` as it comes instead of queueing it for ``read``:
        (STDOUT or STDERR, bytes), then (0, b"") at the end. What was queued before comes first;
        ``sink`` must not block. Without ``loop``: called from the reader thread (one thread hop
        fewer than ``read`` in another thread). With ``loop`` (called from within it): called in
        the loop, which reads the socket itself when the session was opened with ``pump=False``
        on a pty over a plain socket, and is handed each output from the reader thread otherwise."""
        if loop is None:
            self._follow(sink)
            return
        sock = self.channel.socket() if self.tty and not (self._reader.is_alive() or self._ended.is_set()) else None
        if sock is None:
            def hand_over(stream: int, data: bytes) -> None:
                try:
                    loop.call_soon_threadsafe(sink, stream, data)
                except RuntimeError:  # the loop has closed: nobody is reading any more
                    pass
            self._follow(hand_over)
            self._start()
            return
        self._sink, self._loop = sink, loop
        loop.add_reader(sock.fileno(), self._readable, sock)

    def _follow(self, sink: Callable[[int, bytes], None]) -> None:
        with self._sink_lock:
            while True:
                try:
                    sink(*self._queue.get_nowait())
                except queue.Empty:
                    break
            self._sink = sink

    def _start(self) -> None:
        if not self._reader.is_alive() and not self._ended.is_set():
            try:
                self._reader.start()
            except RuntimeError:  # started meanwhile (and ended): nothing to do
                pass

    def _readable(self, sock: socket.socket) -> None:  # in the loop: the socket has something
        try:
            data = sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._sink(STDOUT, data)  # type: ignore[misc]
        else:
            self._stop_reading()

    def _stop_reading(self) -> None:  # in the loop
        if self._loop is None or self._ended.is_set():
            return
        sock = self.channel.socket()
        if sock is not None and sock.fileno() != -1:
            self._loop.remove_reader(sock.fileno())
        self._ended.set()
        self._sink(*_EOF)  # type: ignore[misc]

    # --- output ----------------------------------------------------------------------
    def read_frame(self, timeout: float | None = None) -> tuple[int, bytes] | None:
        """The next output as (STDOUT or STDERR, bytes); (0, b"") once it has ended (and after);
        None if nothing came within ``timeout`` seconds (None: wait as long as it takes)."""
        if self._eof_read:
            return _EOF
        self._start()
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item == _EOF:
            self._eof_read = True
        return item

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next output bytes of either stream (a tty has one); b"" once it has ended; None if
        nothing came within ``timeout``."""
        item = self.read_frame(timeout)
        return None if item is None else item[1]

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """Every (stream, bytes) until the output ends."""
        while (item := self.read_frame()) != _EOF:
            assert item is not None
            yield item

    @property
    def ended(self) -> bool:
        """The output has ended (the command exited, or closed both its stdout and stderr)."""
        return self._ended.is_set()

    # --- input and control -----------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Type ``data`` into the command (SessionEndedError once it reads no more)."""
        with self._write_lock:
            try:
                self.channel.send(data)
            except OSError as exc:
                raise SessionEndedError(self.label, f"cannot write to it ({exc.strerror or exc})") from None

    def close_stdin(self) -> None:
        """End of input: the command reads EOF. Nothing happens if it has ended already."""
        with self._write_lock:
            try:
                self.channel.shutdown_write()
            except OSError:
                pass

    def resize(self, rows: int, cols: int) -> None:
        """Tell the command's pty its new size (a terminal window resized)."""
        if not self.tty:
            raise LabError(f"{self.label} has no pty to resize: open the session with tty=True")
        self.channel.resize(rows, cols)

    @property
    def exit_code(self) -> int | None:
        """Its exit status; None while it runs."""
        if self._exit_code is None:
            self._exit_code = self.channel.exit_code()
        return self._exit_code

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the command ends; its exit status (WaitTimeoutError if it runs on). The end
        of its output says when; Docker records the status a moment later: asked until it is there."""
        __tracebackhide__ = True
        start = time.monotonic()
        if not self._ended.wait(timeout):
            raise WaitTimeoutError(f"{self.label} to end", timeout or 0)
        left = 1.0 if timeout is None else max(timeout - (time.monotonic() - start), 1.0)
        status = wait_until(lambda: None if self.exit_code is None else (self.exit_code,), left,
                            f"Docker to record the exit status of {self.label}", interval=0.02)
        return status[0]

    def close(self) -> None:
        """Drop the connection (the command itself may go on: stop it first). Safe to call twice.
        A session its loop reads is closed in that loop (from another thread: soon, not at once)."""
        loop = self._loop
        if loop is not None:
            if not _running(loop):
                try:
                    loop.call_soon_threadsafe(self.close)
                    return
                except RuntimeError:  # the loop has closed: nobody reads in it any more
                    pass
            else:
                self._stop_reading()
        try:
            self.channel.close()
        except OSError:
            pass


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    """This thread is running ``loop``."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
