"""The workspace as the page sees it: a tree of files, each read and written by its path.

A path comes from the browser and is judged before anything is touched: relative, at most
``MAX_PATH`` characters and ``MAX_NAME`` bytes a part, no NUL, no ``..``, no empty or ``.``
part, no backslash; and what it names, symlinks followed, must still be inside the
workspace. Anything else is a 4xx (``RefusedError``) and nothing is read or written. A
write is at most ``MAX_FILE`` bytes, and lands whole (written beside, then renamed) so a
host running the file never sees half of it; the file belongs to the workspace's owner,
whom the hosts' ``student`` is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from lab.control import workspace
from lab.errors import RefusedError

MAX_PATH = 1024  # characters of a whole path
MAX_NAME = 255  # bytes of one part: what Linux allows a file name
MAX_FILE = 1024 * 1024  # bytes of one upload: a program, not a data set
MAX_LISTED = 2000  # entries the tree shows
HIDDEN = {workspace.RECORDS, "__pycache__", ".git"}


def _check_text(path: str) -> list[str]:
    if not path:
        raise RefusedError(400, "no path given")
    if "\x00" in path:
        raise RefusedError(400, "a path may not contain a NUL byte")
    if len(path) > MAX_PATH:
        raise RefusedError(414, f"a path is at most {MAX_PATH} characters")
    if path.startswith("/") or "\\" in path:
        raise RefusedError(403, f"{path!r}: give a path inside the workspace, relative to it, with / between parts")
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise RefusedError(403, f"{path!r}: `..`, `.` and empty parts are not allowed")
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise RefusedError(414, f"a name is at most {MAX_NAME} bytes")
    return parts


def resolve(root: Path, path: str) -> Path:
    """``root/path``, refused unless it stays inside ``root`` with every symlink followed."""
    parts = _check_text(path)
    base = root.resolve()
    target = base.joinpath(*parts)
    try:
        real = target.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise RefusedError(403, f"{path!r} cannot be followed") from None
    if real != base and base not in real.parents:
        raise RefusedError(403, f"{path!r} leads outside the workspace")
    return target


def tree(root: Path) -> list[dict[str, Any]]:
    """Every folder and file under ``root`` (sorted; hidden folders and symlinks out left out)."""
    base = root.resolve()
    found: list[dict[str, Any]] = []
    for folder, dirs, files in os.walk(base):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in HIDDEN and _inside(base, here / d))
        for name in [*dirs, *sorted(files)]:
            path = here / name
            if name in files and not _inside(base, path):
                continue
            kind = "folder" if name in dirs else "file"
            entry: dict[str, Any] = {"path": path.relative_to(base).as_posix(), "kind": kind}
            if kind == "file":
                try:
                    entry["size"] = path.stat().st_size
                except OSError:
                    continue
            found.append(entry)
            if len(found) >= MAX_LISTED:
                return found
    return found


def _inside(base: Path, path: Path) -> bool:
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return False
    return real == base or base in real.parents


def read(root: Path, path: str) -> bytes:
    target = resolve(root, path)
    if not target.is_file():
        raise RefusedError(404, f"{path!r}: no such file in the workspace")
    if target.stat().st_size > MAX_FILE:
        raise RefusedError(413, f"{path!r} is larger than {MAX_FILE} bytes: open it on a host")
    try:
        return target.read_bytes()
    except OSError as exc:
        raise RefusedError(403, f"{path!r}: {exc.strerror}") from None


def write(root: Path, path: str, data: bytes) -> Path:
    """Write ``data`` whole to ``root/path``, making its folders (inside the workspace)."""
    if len(data) > MAX_FILE:
        raise RefusedError(413, f"a file is at most {MAX_FILE} bytes")
    target = resolve(root, path)
    if target.is_dir():
        raise RefusedError(409, f"{path!r} is a folder")
    base = root.resolve()
    try:
        made = [p for p in reversed(target.parents) if base in p.parents and not p.exists()]
        for folder in made:
            folder.mkdir()
            workspace.give(folder, base)
        resolve(root, path)  # a folder swapped for a symlink meanwhile is still refused
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".saving")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        workspace.give(Path(tmp), base)
        os.replace(tmp, target)
    except OSError as exc:
        raise RefusedError(403, f"{path!r}: {exc.strerror}") from None
    return target
