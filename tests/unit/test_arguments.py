"""A task's arguments, checked before anything starts (lab/control/arguments.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.control.arguments import output_file, output_folder, within
from lab.errors import ArgumentError


@pytest.mark.parametrize("value", [-1, 86401, float("nan"), float("inf"), -0.001, 1e300])
def test_a_number_out_of_range_is_refused(value: float) -> None:
    with pytest.raises(ArgumentError, match=r"^--seconds .*: give seconds from 0 to 86400$"):
        within("--seconds", value, 0, 86400, "seconds")


@pytest.mark.parametrize("value", [0, 86400, 1.5])
def test_the_ends_of_a_range_are_in_it(value: float) -> None:
    within("--seconds", value, 0, 86400, "seconds")


@pytest.mark.parametrize(("name", "said"), [
    ("x.gif", r"^--out '.*x.gif': give a file name ending .svg or .png$"),
    ("x", r"give a file name ending .svg or .png"),
    ("", r"^--out '': give a file name ending"),
    ("missing/x.svg", r"no folder .*missing: create it first$"),
])
def test_a_file_to_write_has_a_kind_we_write_and_a_folder(name: str, said: str, tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match=said):
        output_file("--out", str(tmp_path / name) if name else name, (".svg", ".png"))
    assert output_file("--out", str(tmp_path / "x.svg"), (".svg", ".png")) == tmp_path / "x.svg"


def test_a_folder_to_write_in_is_made_or_refused(tmp_path: Path) -> None:
    assert output_folder("--out", tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(ArgumentError, match=r"^--out '.*file': cannot be a folder to write in \(File exists\)$"):
        output_folder("--out", tmp_path / "file")
