"""Every terminal session, recorded as an asciicast v2 file that the page (or `asciinema
play`) replays.

An asciicast v2 file is a header line, then one event a line, each JSON::

    {"version": 2, "width": 80, "height": 24, "timestamp": 1764450000, "title": "h1 (student)", ...}
    [0.248, "o", "student@h1:/work$ "]
    [1.032, "r", "100x30"]

``o`` is output (text: bytes decoded as UTF-8, a character cut between two reads kept for
the next), ``r`` a resize (COLSxROWS), times in seconds from the start. Files are
``<folder>/<id>.cast``, the id made of the host, the time and a random part; an id from a
request is matched against that shape before it names a file.
"""

from __future__ import annotations

import codecs
import json
import re
import secrets
import time
from pathlib import Path
from typing import IO, Any

from lab.errors import RefusedError

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}-\d{8}-\d{6}-[0-9a-f]{6}$")


class Recorder:
    """Writes one session's cast as it happens (each event flushed: a crash keeps what was seen)."""

    def __init__(self, folder: Path, host: str, cols: int, rows: int, title: str = "",
                 clock: Any = time.monotonic, now: float | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        started = time.time() if now is None else now
        self.id = f"{host}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(started))}-{secrets.token_hex(3)}"
        self.path = folder / f"{self.id}.cast"
        self._clock = clock
        self._t0 = clock()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._out: IO[str] | None = self.path.open("w", encoding="utf-8")
        header = {"version": 2, "width": cols, "height": rows, "timestamp": int(started), "title": title or host,
                  "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"}}
        self._line(header)

    def _line(self, item: Any) -> None:
        if self._out is not None:
            self._out.write(json.dumps(item, ensure_ascii=False) + "\n")
            self._out.flush()

    def _event(self, kind: str, data: str) -> None:
        self._line([round(self._clock() - self._t0, 6), kind, data])

    def output(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if text:
            self._event("o", text)

    def resize(self, cols: int, rows: int) -> None:
        self._event("r", f"{cols}x{rows}")

    def close(self) -> None:
        rest = self._decoder.decode(b"", final=True)
        if rest:
            self._event("o", rest)
        if self._out is not None:
            self._out.close()
            self._out = None


def parse(text: str) -> tuple[dict[str, Any], list[list[Any]]]:
    """A cast's header and events (what the tests and the page read)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("an empty cast")
    header = json.loads(lines[0])
    if not isinstance(header, dict) or header.get("version") != 2:
        raise ValueError("not an asciicast v2 header")
    return header, [json.loads(line) for line in lines[1:]]


def listing(folder: Path) -> list[dict[str, Any]]:
    """Every recording, newest first: id, host, title, start, duration, size."""
    found = []
    for path in folder.glob("*.cast") if folder.is_dir() else []:
        if not ID.match(path.stem):
            continue
        try:
            with path.open(encoding="utf-8") as f:
                header = json.loads(f.readline())
                last = None
                for line in f:
                    last = line
            duration = float(json.loads(last)[0]) if last else 0.0
        except (OSError, ValueError, IndexError, TypeError):
            continue
        found.append({"id": path.stem, "host": path.stem.rsplit("-", 3)[0], "title": header.get("title", ""),
                      "started": header.get("timestamp", 0), "duration": duration, "size": path.stat().st_size})
    return sorted(found, key=lambda r: (r["started"], r["id"]), reverse=True)


def path_of(folder: Path, rec_id: str) -> Path:
    if not ID.match(rec_id):
        raise RefusedError(404, "no such recording")
    path = folder / f"{rec_id}.cast"
    if not path.is_file():
        raise RefusedError(404, "no such recording")
    return path
