"""Grading the class from its workspaces, as `invoke grade` grades a folder of submissions.

What each student has in ``work/<student>/<exercise>/`` is copied (regular files only, each
at most the grader's size limit) into ``DIR/grades/<exercise>/handed-in/<student>/`` when
grading starts: what was graded stays, whatever is edited afterwards. The grader writes its
outputs beside it (grades.csv, junit.xml, index.html, each student's results.json), which
the instructor's page offers for download.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from lab.control.engine import Engine
from lab.errors import LabError, RefusedError
from lab.harness import exercise as exercises
from lab.harness.submissions import MAX_FILE

# exercise, the handed-in folder (a subfolder per student), the output folder, a progress line -> files written
Grader = Callable[[str, Path, Path, Callable[[str], None]], list[Path]]
OUTPUTS = ("grades.csv", "junit.xml", "index.html")


def snapshot(workspaces: Path, students: list[str], exercise: str, into: Path) -> Path:
    """Each student's ``<exercise>/`` files, copied into ``into/<student>/`` (afresh)."""
    shutil.rmtree(into, ignore_errors=True)
    for student in students:
        mine = into / student
        mine.mkdir(parents=True)
        folder = workspaces / student / exercise
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_FILE:
                shutil.copyfile(path, mine / path.name)
    return into


def docker_grader(engine: Engine, seed: str = "socklab") -> Grader:
    """The grading of `invoke grade` (a lab per submission, the exercise's checks)."""

    def run(exercise: str, handed_in: Path, out: Path, say: Callable[[str], None]) -> list[Path]:
        from lab.control.lab import Lab
        from lab.harness import grading
        from lab.harness.submissions import collect
        from lab.report import grades

        subs = collect(handed_in, exercises.roles(exercise))
        Lab(engine).build(say=say)
        plan = grading.Grading(engine, exercise, seed, grading.Rules(), out)
        graded = grading.grade(plan, subs, grading.default_parallel(), True, say)
        return grades.write(out, exercise, graded)

    return run


class Gradings:
    """One grading at a time per exercise, on a thread; its state for the page."""

    def __init__(self, folder: Path, grader: Grader) -> None:
        self.folder, self.grader = folder, grader
        self.lock = threading.Lock()
        self.state: dict[str, dict[str, Any]] = {}

    def out(self, exercise: str) -> Path:
        exercises.roles(exercise)  # an unknown exercise: 404
        return self.folder / "grades" / exercise

    def start(self, exercise: str, students: list[str], pool: Executor) -> dict[str, Any]:
        out = self.out(exercise)
        with self.lock:
            if self.state.get(exercise, {}).get("state") == "running":
                raise RefusedError(409, f"{exercise} is being graded: wait for its result")
            self.state[exercise] = {"exercise": exercise, "state": "running", "said": [], "files": []}
        try:
            handed_in = snapshot(self.folder / "work", students, exercise, out / "handed-in")
        except OSError as exc:
            self.state[exercise].update(state="failed", error=f"copying the workspaces: {exc}")
            raise RefusedError(500, f"copying the workspaces: {exc.strerror}") from None
        pool.submit(self._run, exercise, handed_in, out)
        return self.status(exercise)

    def _run(self, exercise: str, handed_in: Path, out: Path) -> None:
        said: list[str] = self.state[exercise]["said"]
        try:
            written = self.grader(exercise, handed_in, out, said.append)
            self.state[exercise].update(state="done", files=[p.name for p in written if p.name in OUTPUTS])
        except Exception as exc:  # noqa: BLE001  (said on the page)
            self.state[exercise].update(state="failed",
                                        error=str(exc) if isinstance(exc, LabError) else type(exc).__name__)

    def status(self, exercise: str) -> dict[str, Any]:
        out = self.out(exercise)
        found = self.state.get(exercise)
        if found is None:
            done = [n for n in OUTPUTS if (out / n).is_file()]  # graded before this server started
            return {"exercise": exercise, "state": "done" if done else "never", "said": [], "files": done}
        return {**found, "said": list(found["said"][-20:])}

    def output(self, exercise: str, name: str) -> Path:
        path = self.out(exercise) / name
        if name not in OUTPUTS or not path.is_file():
            raise RefusedError(404, "not found")
        return path
