"""A browser terminal: a websocket joined to an interactive exec session on a lab host.

The session is the Engine's (the one exec-session type that programs, `invoke shell` and
the page share: Docker's exec API with a pty, no listener on the host, so captures stay
clean). Messages on the websocket:

- browser -> server: binary frames are keystrokes (bytes for the pty); text frames are JSON
  controls, ``{"type": "resize", "cols": C, "rows": R}``;
- server -> browser: binary frames are the pty's output; at the end one text frame
  ``{"type": "exit", "code": N}``, then the socket closes.

The event loop reads each terminal's session itself (no thread per terminal: at 30 students
sixty reader threads waiting on the GIL made the keystrokes' tail, benchmarks/README.md), sends
each chunk and records it (lab.web.recordings). Keystrokes are written from the loop, pastes
from a worker thread, in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from lab.control.lab import Lab
from lab.control.workspace import MOUNT
from lab.errors import LabError
from lab.web.recordings import Recorder

log = logging.getLogger(__name__)
USERS = ("student", "root")
MAX_COLS, MAX_ROWS = 500, 200
MARK = "SOCKLAB_TERMINAL"
# SIGHUP to every process whose environment holds the mark ($1): the terminal's shell and its children.
HANG_UP = (
    'for e in /proc/[0-9]*/environ; do '
    'if tr "\\0" "\\n" < "$e" 2>/dev/null | grep -qxF "$1"; then '
    'p=${e#/proc/}; kill -HUP "${p%/environ}" 2>/dev/null; fi; '
    'done; exit 0')


class Session(Protocol):
    """What a terminal needs of the Engine's exec session."""

    def write(self, data: bytes) -> None: ...

    def follow(self, sink: Callable[[int, bytes], None], loop: asyncio.AbstractEventLoop | None = None) -> None: ...

    def resize(self, rows: int, cols: int) -> None: ...

    def close(self) -> None: ...

    @property
    def exit_code(self) -> int | None: ...


#: Keystrokes up to this many bytes are written from the event loop itself (one thread hop
#: fewer per key: benchmarks/README.md, web terminal); a paste goes through a worker thread.
INLINE = 512


def size(cols: Any, rows: Any) -> tuple[int, int] | None:
    """A terminal size from the browser, or None when it is not two sane whole numbers."""
    try:
        c, r = int(cols), int(rows)
    except (TypeError, ValueError):
        return None
    return (c, r) if 2 <= c <= MAX_COLS and 1 <= r <= MAX_ROWS else None


def open_shell(lab: Lab, host: str, user: str, cols: int, rows: int) -> tuple[Session, Callable[[], None]]:
    """A login shell on ``host`` as ``user`` in the workspace, in a pty of this size; and what
    ends it. Closing the connection leaves an exec running on the host, so every process of
    the terminal carries a mark in its environment, and the end sends SIGHUP to exactly those
    (as closing a terminal window does), from the same user (who alone may read their environment)."""
    mark = uuid.uuid4().hex
    session: Session = lab.open_session(host, ["bash", "-l"], user=user, workdir=MOUNT, tty=True,
                                        env={"TERM": "xterm-256color", MARK: mark}, label=f"terminal on {host}",
                                        pump=False)  # read by the server's event loop: bridge()
    session.resize(rows, cols)

    def hang_up() -> None:
        session.close()
        try:
            lab.exec(host, ["sh", "-c", HANG_UP, "sh", f"{MARK}={mark}"], user=user)
        except LabError as exc:  # the host is gone: so is the shell
            log.info("terminal on %s: %s", host, exc)

    return session, hang_up


async def bridge(ws: web.WebSocketResponse, session: Session, recorder: Recorder,
                 hang_up: Callable[[], None], read_only: bool = False,
                 touch: Callable[[], None] = lambda: None) -> None:
    """Carry keystrokes, output and resizes until either side ends; then close both.
    ``read_only``: the output is shown, keystrokes and resizes dropped (an instructor looking
    on); ``touch`` is told of every keystroke."""
    loop = asyncio.get_running_loop()
    out: asyncio.Queue[bytes] = asyncio.Queue()

    session.follow(lambda _stream, chunk: out.put_nowait(chunk), loop)  # each chunk as it comes; b"" at the end

    async def forward() -> None:
        try:
            while (chunk := await out.get()) != b"":
                recorder.output(chunk)
                await ws.send_bytes(chunk)
            code = await loop.run_in_executor(None, lambda: session.exit_code)
            await ws.send_str(json.dumps({"type": "exit", "code": code}))
            await ws.close()
        except ConnectionError:  # the page went away first
            pass

    sender = asyncio.create_task(forward())
    try:
        async for msg in ws:
            if read_only:
                continue
            if msg.type == WSMsgType.BINARY:
                touch()
                if len(msg.data) <= INLINE:  # a keystroke: the socket takes it at once
                    session.write(msg.data)
                else:  # a paste may wait on a full socket: not on the loop every terminal shares
                    await loop.run_in_executor(None, session.write, msg.data)
            elif msg.type == WSMsgType.TEXT:
                await _control(loop, session, recorder, msg.data)
    finally:
        await loop.run_in_executor(None, hang_up)
        if not sender.done():
            sender.cancel()
        recorder.close()


async def _control(loop: asyncio.AbstractEventLoop, session: Session, recorder: Recorder, text: str) -> None:
    try:
        message = json.loads(text)
    except ValueError:
        return  # a page of ours sends JSON; anything else is ignored, not fatal
    if isinstance(message, dict) and message.get("type") == "resize":
        wanted = size(message.get("cols"), message.get("rows"))
        if wanted:
            cols, rows = wanted
            await loop.run_in_executor(None, session.resize, rows, cols)
            recorder.resize(cols, rows)
