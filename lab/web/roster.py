"""A class: its roster, each student's secret token, and the links that carry them.

    roster.csv                    student,name          (name optional; one row a student)
                                  alice,Alice Liddell
    DIR/state.json                the tokens' SHA-256, by student, and the instructor's (0600)
    DIR/links.csv                 student,name,link: the personal links to hand out (0600)
    DIR/instructor.txt            the instructor's link (0600)

A token is ``secrets.token_urlsafe(32)`` (256 bits). The server keeps only its SHA-256 in
state.json; the plain token exists in the link files alone, which the instructor hands
out. A student already in state.json keeps their token across restarts, so a roster grown by
one adds one link and the others stay valid. ``rotate`` gives a student a new token: their
old link and cookie then fail. A student whose link is no longer in links.csv (the file was
deleted) is given a new token too, since the old one can no longer be handed out.

A token's hash is looked up directly: a 256-bit secret's hash leaks nothing by timing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from lab.errors import RosterError

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # names a lab (class-<id>) and folders: as a lab name allows
INSTRUCTOR = "*"  # who the instructor's token names (no student id can be it)


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""


def read_roster(path: Path) -> list[Student]:
    """The roster's students, in its order; any problem is one line naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(path, f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RosterError(path, "not UTF-8 text: save it as CSV (UTF-8)") from None
    rows = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in rows.fieldnames or []]
    if "student" not in fields:
        raise RosterError(path, "its first line must name the columns: student (and name, if you like)", 1)
    rows.fieldnames = fields
    students: list[Student] = []
    seen: set[str] = set()
    for row in rows:
        sid = (row.get("student") or "").strip()
        if not sid and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        if not ID.match(sid):
            raise RosterError(path, f"student {sid!r}: an id is 1-40 lowercase letters, digits, '-' or '_', "
                              "starting with a letter or digit", rows.line_num)
        if sid in seen:
            raise RosterError(path, f"student {sid!r} is listed twice", rows.line_num)
        seen.add(sid)
        students.append(Student(sid, (row.get("name") or "").strip()))
    if not students:
        raise RosterError(path, "no students listed")
    return students


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """Written whole (beside, then renamed), readable by its owner only."""
    spare = path.with_name(path.name + ".new")
    fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(spare, path)


class Class:
    """The roster's students and their tokens, kept in ``folder``."""

    def __init__(self, folder: Path, students: list[Student]) -> None:
        self.folder = folder
        self.students = {s.id: s for s in students}
        self._hashes: dict[str, str] = {}  # who -> sha256 of their token
        self._plain: dict[str, str] = {}  # who -> token, as far as the link files know it
        self._load()

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    def _load(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RosterError(self.folder, f"cannot create it ({exc.strerror})") from None
        if self.state_file.exists():
            try:
                data = json.loads(self.state_file.read_text())
                self._hashes = {str(k): str(v) for k, v in data["tokens"].items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                raise RosterError(self.state_file, "not a state file of `invoke serve`: move it away") from None
        for who, link in self._links().items():
            token = link.rpartition("token=")[2]
            if self._hashes.get(who) == digest(token):  # a link of a token since changed is no link
                self._plain[who] = token

    def _links(self) -> dict[str, str]:
        found: dict[str, str] = {}
        links = self.folder / "links.csv"
        if links.exists():
            with links.open(encoding="utf-8", newline="") as f:
                found = {r.get("student", ""): r.get("link", "") for r in csv.DictReader(f)}
        instructor = self.folder / "instructor.txt"
        if instructor.exists():
            found[INSTRUCTOR] = instructor.read_text().strip()
        return found

    def issue(self, rotate: tuple[str, ...] = ()) -> list[str]:
        """A token for everyone without one (or whose link is lost), and a new one for those in
        ``rotate``; saved. Returns who got a new token."""
        unknown = [s for s in rotate if s not in self.students and s != INSTRUCTOR]
        if unknown:
            raise RosterError("--rotate", f"not in the roster: {', '.join(unknown)}")
        fresh = []
        for who in [INSTRUCTOR, *self.students]:
            if who in rotate or who not in self._plain:
                self._plain[who] = secrets.token_urlsafe(32)
                self._hashes[who] = digest(self._plain[who])
                fresh.append(who)
        _write_private(self.state_file, json.dumps({"tokens": self._hashes}, indent=1) + "\n")
        return fresh

    def who(self, token: str | None) -> str | None:
        """Whose token this is (a student id, or INSTRUCTOR), or None."""
        if not token or len(token) > 200:
            return None
        wanted = digest(token)
        for who, hashed in self._hashes.items():
            if secrets.compare_digest(hashed, wanted):
                return who if who == INSTRUCTOR or who in self.students else None
        return None

    def write_links(self, base: str) -> Path:
        """links.csv (each student's link, at ``base``) and instructor.txt; returns links.csv."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["student", "name", "link"])
        for s in self.students.values():
            writer.writerow([s.id, s.name, f"{base}/?token={self._plain[s.id]}"])
        _write_private(self.folder / "links.csv", out.getvalue())
        _write_private(self.folder / "instructor.txt", self.instructor_link(base) + "\n")
        return self.folder / "links.csv"

    def instructor_link(self, base: str) -> str:
        return f"{base}/?token={self._plain[INSTRUCTOR]}"
