"""What a program on a lab host printed, kept as lines within a budget: a program that
floods its output is cut, and its transcript says so. ``HostProgram`` keeps its output so.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from lab.control.sessions import STDERR, STDOUT

# Kept of each stream: a program that floods its output is cut there, and the transcript says
# so. A budget of bytes and lines, not a cut of each line: harness programs print long lines.
MAX_BYTES = 4 * 1024 * 1024
MAX_LINES = 20_000


class Output:
    """A mixin: the lines of a program's stdout and stderr, its --json events, its transcript."""

    def __init__(self) -> None:
        self.cut = {STDOUT: 0, STDERR: 0}  # bytes of output dropped past the budget
        self._kept = {STDOUT: 0, STDERR: 0}
        self._out: dict[int, list[str]] = {STDOUT: [], STDERR: []}
        self._partial = {STDOUT: b"", STDERR: b""}
        self._changed = threading.Condition()

    def _keep(self, stream: int, chunk: bytes) -> None:
        if self._kept[stream] >= MAX_BYTES or len(self._out[stream]) >= MAX_LINES:
            self.cut[stream] += len(chunk)
            return
        self._kept[stream] += len(chunk)
        *lines, self._partial[stream] = (self._partial[stream] + chunk).split(b"\n")
        self._out[stream].extend(line.decode(errors="replace") for line in lines)

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

    def last_said(self) -> str:
        """The last line it printed, in words (a --json event as its name and fields)."""
        lines = self.lines(STDOUT) or self.lines(STDERR)
        return in_words(lines[-1]) if lines else ""

    def transcript(self, tail: int = 0) -> str:
        out = [f"out| {line}" for line in self.lines(STDOUT)] + [f"err| {line}" for line in self.lines(STDERR)]
        out += [f"...| {note}" for note in self.notes()]
        return "\n".join(out[-tail:] if tail else out)

    def notes(self) -> list[str]:
        """What the transcript leaves out: output past the budget (a flood)."""
        return [f"output cut: {n} more bytes on {name} (a flood of output)"
                for name, n in (("stdout", self.cut[STDOUT]), ("stderr", self.cut[STDERR])) if n]


def quoted(text: object) -> str:
    return f"‘{text}’"


def in_words(line: str) -> str:
    """A line of output as a person reads it: a --json event ``{"event": "connected", "peer":
    "srv:9030"}`` as ``connected (peer srv:9030)``, any other line quoted as it is."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        return quoted(line[:160])
    text = f" {quoted(event['text'])}" if "text" in event else ""
    rest = ", ".join(f"{k} {v}" for k, v in event.items() if k not in ("event", "text", "t", "time"))
    return f"{event['event']}{text}" + (f" ({rest})" if rest else "")
