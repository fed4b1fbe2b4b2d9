"""Framing messages on a TCP byte stream: one message per line.

TCP delivers a stream of bytes, not messages: one ``recv`` may return half a message, or
two and a half. A framer keeps what it has not yet seen the end of and returns only whole
messages. Lines (``\\n``-terminated) keep the protocol readable with ``nc``; a line longer
than ``max_len`` is an error instead of unbounded buffering.
"""

from __future__ import annotations


class FrameTooLong(ValueError):
    def __init__(self, max_len: int) -> None:
        super().__init__(f"message longer than {max_len} bytes")
        self.max_len = max_len


class LineFramer:
    def __init__(self, max_len: int = 4096) -> None:
        self.max_len = max_len
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message they complete (without the newline)."""
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > self.max_len or any(len(line) > self.max_len for line in lines):
            self._buffer = b""
            raise FrameTooLong(self.max_len)
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]

    @property
    def pending(self) -> int:
        """Bytes received of a message not yet complete."""
        return len(self._buffer)


def frame(message: bytes) -> bytes:
    if b"\n" in message:
        raise ValueError("a message cannot contain a newline")
    return message + b"\n"
