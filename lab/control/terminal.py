"""This process's own stdin and stdout joined to an ExecSession: `invoke shell` and `invoke exec`.

On a terminal (``tty``): the local terminal goes into raw mode (every key, Ctrl-C included,
goes to the remote pty, which echoes and edits lines itself), a window resize (SIGWINCH) is
passed on as the pty's new size, and the terminal is restored however the session ends.
Without one (piped commands, a script): stdin is copied to the command until EOF, which the
command then reads; its stdout and stderr stay apart. Either way: the remote exit status.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import termios
import threading
import tty as ttymode
from types import FrameType

from lab.control.sessions import STDERR, ExecSession
from lab.errors import SessionEndedError

EXIT_TIMEOUT = 10  # seconds for Docker to record the exit status once the output has ended


def attach(session: ExecSession, stdin: int = 0, stdout: int = 1, stderr: int = 2) -> int:
    """Join the file descriptors to ``session`` until its output ends; its exit status."""
    reader = threading.Thread(target=_copy_input, args=(session, stdin), name="stdin", daemon=True)
    if not session.tty:
        reader.start()
        _copy_output(session, stdout, stderr)
        return session.wait(EXIT_TIMEOUT)
    saved = termios.tcgetattr(stdin)
    previous = signal.getsignal(signal.SIGWINCH)

    def resized(_sig: int = 0, _frame: FrameType | None = None) -> None:
        size = shutil.get_terminal_size()
        session.resize(size.lines, size.columns)

    try:
        ttymode.setraw(stdin, termios.TCSANOW)  # not the default TCSAFLUSH: it drops what was typed ahead
        signal.signal(signal.SIGWINCH, resized)
        resized()
        reader.start()  # in raw mode already: no line typed ahead is read (and echoed) as cooked
        _copy_output(session, stdout, stderr)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
    return session.wait(EXIT_TIMEOUT)


def _copy_output(session: ExecSession, stdout: int, stderr: int) -> None:
    # Short waits, not one long one: a signal handler (SIGWINCH) runs between them.
    while (frame := session.read_frame(timeout=0.2)) != (0, b""):
        if frame is not None:
            stream, data = frame
            _write_all(stderr if stream == STDERR else stdout, data)


def _copy_input(session: ExecSession, stdin: int) -> None:
    try:
        while data := os.read(stdin, 4096):
            session.write(data)
    except (OSError, SessionEndedError):
        return  # the command reads no more (it ended), or stdin is unreadable
    session.close_stdin()


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def is_terminal(fd: int = 0) -> bool:
    return os.isatty(fd) and sys.platform != "win32"
