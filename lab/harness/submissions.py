"""A class's submissions, as a learning-management system's bulk download delivers them:

    submissions/                  one subfolder or one zip per student, each holding the
      alice/server.py               student's <role>.py files (in any folder inside)
      bob.zip

Nothing is extracted to disk and nothing outside a submission is read: a zip's members are
read into memory within limits, a folder's links are not followed. What cannot be graded
is said in one line with its real reason (too large, too many files, not a zip, an odd name),
and a submission that hands in no role at all is graded as nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import GradingError

MAX_FILE = 256 * 1024  # bytes of one submitted program
MAX_TOTAL = 16 * 2**20  # bytes a submission may unpack to, all of it
MAX_FILES = 1000  # entries of one submission
ODD = re.compile(r"[\x00-\x1f\x7f]|(^|/)\.\.(/|$)")  # control characters, a step up


@dataclass
class Submission:
    student: str  # as delivered: the folder's or the zip's name
    id: str  # lower-case letters, digits and dashes: names its lab and its folder in the output
    files: dict[str, bytes] = field(default_factory=dict)  # role -> source
    problems: list[str] = field(default_factory=list)  # one clear line each

    @property
    def digest(self) -> str:
        """The source, normalised (comments, blank lines and indentation widths aside): what
        two students who handed in the same program share."""
        h = hashlib.sha256()
        for role in sorted(self.files):
            text = self.files[role].decode("utf-8", errors="replace")
            lines = [re.sub(r"\s+", " ", line.split("#", 1)[0]).strip() for line in text.splitlines()]
            h.update(role.encode() + b"\0" + "\n".join(x for x in lines if x).encode() + b"\0")
        return h.hexdigest()[:16]


class Rejected(Exception):
    """A whole submission that cannot be read, with its reason (not a LabError: one student's)."""


def safe_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or "student"
    if base != name.lower() or base in taken:  # odd characters, or two names that read the same
        base = f"{base}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    return base


def size(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.0f} {unit}"
    return f"{n} bytes"


def collect(folder: Path, roles: Iterable[str]) -> list[Submission]:
    """One submission per subfolder or zip of ``folder``, in name order."""
    if not folder.is_dir():
        raise GradingError(f"{folder}: no such folder of submissions")
    wanted = sorted(set(roles))
    found: list[Submission] = []
    taken: set[str] = set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        student = entry.name.removesuffix(".zip") if entry.is_file() else entry.name
        sub = Submission(student, safe_id(student, taken))
        taken.add(sub.id)
        rejected = False
        try:
            programs = read(entry, sub.problems)
        except Rejected as exc:
            sub.problems.append(f"not graded: {exc}")
            programs, rejected = {}, True
        for name, data in programs.items():
            if name.removesuffix(".py") in wanted:
                sub.files[name.removesuffix(".py")] = data
        extra = sorted(n for n in programs if n.removesuffix(".py") not in wanted)
        if extra:
            sub.problems.append(f"not graded (no such role): {', '.join(extra)}")
        missing = [r for r in wanted if r not in sub.files]
        if missing and not rejected:
            sub.problems.append(f"not handed in: {', '.join(r + '.py' for r in missing)} (its checks score 0; "
                                "the reference program plays it so that the others can be checked)")
        found.append(sub)
    if found and not any(s.files for s in found):
        raise GradingError(f"{folder}: no submission in it holds any of {', '.join(r + '.py' for r in wanted)}; "
                           "is this the folder of submissions?")
    return found


def read(entry: Path, problems: list[str]) -> dict[str, bytes]:
    """The .py files of one submission by base name; what is skipped goes into ``problems``."""
    if entry.is_symlink():
        raise Rejected(f"{entry.name} is a link; hand in a folder or a zip")
    if entry.is_dir():
        return _folder(entry, problems)
    if entry.suffix.lower() != ".zip":
        raise Rejected(f"{entry.name} is neither a folder nor a zip")
    try:
        with zipfile.ZipFile(entry) as z:
            return _unzip(z, entry.name, problems)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise Rejected(f"{entry.name} is not a zip that opens ({exc})") from None


def _folder(folder: Path, problems: list[str]) -> dict[str, bytes]:
    paths = []
    for n, path in enumerate(folder.rglob("*")):
        if n >= MAX_FILES:
            raise Rejected(f"{folder.name} holds more than {MAX_FILES:,} files")
        paths.append(path)
    out: dict[str, bytes] = {}
    for path in sorted(paths):
        if path.suffix != ".py":
            continue
        where = path.relative_to(folder).as_posix()
        if path.is_symlink():
            problems.append(f"not graded: {where} is a link, not a file")
        elif path.is_file() and _fits(where, path.stat().st_size, problems):
            out[path.name] = path.read_bytes()
    return out


def _unzip(z: zipfile.ZipFile, name: str, problems: list[str]) -> dict[str, bytes]:
    infos = z.infolist()
    if len(infos) > MAX_FILES:
        raise Rejected(f"{name} holds {len(infos):,} files, more than {MAX_FILES:,}")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_TOTAL:
        raise Rejected(f"{name} unpacks to {size(unpacked)}, over the {size(MAX_TOTAL)} a submission may")
    out: dict[str, bytes] = {}
    for info in infos:
        path = info.filename.replace("\\", "/")
        if info.is_dir() or "__MACOSX" in path or not path.endswith(".py"):
            continue
        if ODD.search(path) or path.startswith("/"):
            problems.append(f"not graded: a file name with odd characters or an absolute path: {path!r}")
        elif _fits(path, info.file_size, problems):
            out[path.rsplit("/", 1)[-1]] = z.read(info)
    return out


def _fits(where: str, n: int, problems: list[str]) -> bool:
    if n <= MAX_FILE:
        return True
    problems.append(f"not graded: {where} is {n:,} bytes, over the {MAX_FILE:,} a program may be")
    return False


def zipped(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (name -> bytes): what tests and the benchmark hand in."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()
