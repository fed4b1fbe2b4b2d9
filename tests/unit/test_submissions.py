"""Submissions: what is read of a class's folder, and the real reason for what is not."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from lab.errors import GradingError
from lab.harness.submissions import MAX_FILE, MAX_FILES, collect, zipped

ROLES = ["client", "server"]
GOOD = b"print('a program')\n"


def by_student(folder: Path) -> dict[str, list[str]]:
    return {s.student: s.problems for s in collect(folder, ROLES)}


def test_folders_and_zips_give_their_roles(tmp_path: Path) -> None:
    (tmp_path / "alice" / "hw").mkdir(parents=True)
    (tmp_path / "alice" / "hw" / "server.py").write_bytes(GOOD)
    (tmp_path / "alice" / "client.py").write_bytes(GOOD)
    (tmp_path / "bob.zip").write_bytes(zipped({"hw1/server.py": GOOD, "hw1/notes.py": b"#\n"}))
    subs = {s.student: s for s in collect(tmp_path, ROLES)}
    assert sorted(subs["alice"].files) == ROLES and subs["alice"].problems == []
    assert sorted(subs["bob"].files) == ["server"]
    assert subs["bob"].problems == ["not graded (no such role): notes.py",
                                    "not handed in: client.py (its checks score 0; the reference program plays it "
                                    "so that the others can be checked)"]


def test_a_zip_that_unpacks_too_large_says_so(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "server.py").write_bytes(GOOD)
    big = b"#" * (300 * 2**20)  # 300 MiB of one byte: a few hundred KiB zipped
    (tmp_path / "bomb.zip").write_bytes(zipped({"server.py": big, "client.py": GOOD}))
    assert by_student(tmp_path)["bomb"] == ["not graded: bomb.zip unpacks to 300 MiB, over the 16 MiB a submission may"]


def test_one_program_too_large_is_named(tmp_path: Path) -> None:
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "server.py").write_bytes(b"#" * (MAX_FILE + 1))
    (tmp_path / "carol" / "client.py").write_bytes(GOOD)
    problems = by_student(tmp_path)["carol"]
    assert problems[0] == "not graded: server.py is 262,145 bytes, over the 262,144 a program may be"
    assert problems[1].startswith("not handed in: server.py")


def test_too_many_files(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as z:
        z.writestr("server.py", GOOD)
        for i in range(MAX_FILES):
            z.writestr(f"junk/{i}.txt", b"")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "server.py").write_bytes(GOOD)
    assert by_student(tmp_path)["many"] == [f"not graded: many.zip holds {MAX_FILES + 1:,} files, more than 1,000"]


def test_not_a_zip_and_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "server.py").write_bytes(GOOD)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    (tmp_path / "essay.docx").write_bytes(b"words")
    said = by_student(tmp_path)
    assert said["broken"][0].startswith("not graded: broken.zip is not a zip that opens (")
    assert said["essay.docx"] == ["not graded: essay.docx is neither a folder nor a zip"]


def test_odd_names_in_a_zip_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "dan.zip").write_bytes(zipped({"../../server.py": GOOD, "hw/client\x07.py": GOOD}))
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "server.py").write_bytes(GOOD)
    sub = next(s for s in collect(tmp_path, ROLES) if s.student == "dan")
    assert sub.files == {}
    assert sub.problems[:2] == ["not graded: a file name with odd characters or an absolute path: '../../server.py'",
                                "not graded: a file name with odd characters or an absolute path: 'hw/client\\x07.py'"]


def test_a_link_out_of_the_submission_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "eve").mkdir()
    os.symlink("/etc/passwd", tmp_path / "eve" / "server.py")
    (tmp_path / "eve" / "client.py").write_bytes(GOOD)
    sub = collect(tmp_path, ROLES)[0]
    assert list(sub.files) == ["client"] and sub.problems[0] == "not graded: server.py is a link, not a file"


def test_a_folder_of_no_submissions_is_refused(tmp_path: Path) -> None:
    for name in ("apt", "cron.d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "sources.list").write_text("x")
    with pytest.raises(GradingError, match=r"no submission in it holds any of client.py, server.py"):
        collect(tmp_path, ROLES)
    with pytest.raises(GradingError, match=r"no such folder of submissions"):
        collect(tmp_path / "missing", ROLES)
