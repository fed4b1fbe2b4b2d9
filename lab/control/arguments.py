"""A task's arguments, checked before anything starts: numbers in range, files it can write.
Each says what is wrong in one ArgumentError line; tests/unit/test_task_edges.py runs them."""

from __future__ import annotations

from pathlib import Path

from lab.errors import ArgumentError


def within(option: str, value: float, low: float, high: float, unit: str = "") -> None:
    """Checked before anything starts (NaN is out of every range)."""
    if not low <= value <= high:
        raise ArgumentError(option, value, f"give {unit or 'a number'} from {low:g} to {high:g}")


def output_file(option: str, path: str, suffixes: tuple[str, ...]) -> Path:
    """A file to write: of a kind we write, in a folder that exists."""
    out = Path(path)
    if out.suffix not in suffixes:
        raise ArgumentError(option, path, f"give a file name ending {' or '.join(suffixes)}")
    if not out.parent.is_dir():
        raise ArgumentError(option, path, f"no folder {out.parent or '.'}: create it first")
    return out


def output_folder(option: str, path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(option, str(path), f"cannot be a folder to write in ({exc.strerror or exc})") from None
    return path
