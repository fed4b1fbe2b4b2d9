"""The student's workspace: a folder on the Docker host, mounted at /work on every lab host.

``invoke up`` creates it (``work/`` by default, ``--workspace DIR`` for another) and hands
it to the lab as LAB_WORKSPACE. Each host's entrypoint gives its ``student`` user the uid
of the folder's owner, so a file is the same person's on both sides. A folder owned by
root (invoke run as root) is handed to the hosts' default student uid instead: root can
edit anything, and student could otherwise write nothing.

Exercises live here too: ``work/<exercise>/<role>.py`` is the student's program for a role,
and ``work/.socklab/<exercise>.json`` remembers how its last check went.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from lab.errors import WorkspaceError

MOUNT = "/work"  # where every lab host sees the workspace
STUDENT_UID = 1000  # the hosts' `student` before the entrypoint maps it
RECORDS = ".socklab"


def prepare(path: Path) -> Path:
    """Create the workspace if needed and make sure the hosts' student can write to it."""
    path = path.expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and path.stat().st_uid == 0:
            os.chown(path, STUDENT_UID, STUDENT_UID)
    except OSError as exc:
        raise WorkspaceError(path, exc.strerror or str(exc)) from None
    return path


def give(path: Path, like: Path) -> None:
    """As root, a file we create belongs to the workspace's owner (whom the hosts map to)."""
    if os.geteuid() == 0:
        owner = like.stat()
        os.chown(path, owner.st_uid, owner.st_gid)


def copy_starters(starter: Path, workspace: Path, exercise: str) -> tuple[list[str], list[str]]:
    """Copy an exercise's starter files into ``workspace/exercise``; never overwrite.

    Returns (copied, kept): the files written, and those the student already had.
    """
    target = workspace / exercise
    copied, kept = [], []
    try:
        if not target.exists():
            target.mkdir()
            give(target, workspace)
        for src in sorted(starter.iterdir()):
            if not src.is_file():
                continue
            dst = target / src.name
            if dst.exists():
                kept.append(src.name)
                continue
            shutil.copyfile(src, dst)
            give(dst, workspace)
            copied.append(src.name)
    except OSError as exc:
        raise WorkspaceError(target, exc.strerror or str(exc)) from None
    return copied, kept


def record(workspace: Path, exercise: str, result: dict[str, Any]) -> None:
    """Remember the outcome of the last check of ``exercise`` (best effort: never fails a check)."""
    folder = workspace / RECORDS
    try:
        folder.mkdir(exist_ok=True)
        (folder / f"{exercise}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    except OSError:
        pass


def last_result(workspace: Path, exercise: str) -> dict[str, Any] | None:
    try:
        data = json.loads((workspace / RECORDS / f"{exercise}.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
