"""Exercises: a lesson's scenario played with the student's own programs in its roles.

An exercise is a scenario with a ``starter/`` folder: one ``<role>.py`` skeleton per role a
student writes. ``invoke exercise NAME`` copies the starters to ``work/NAME/``; ``invoke
check NAME`` plays the scenario with every ``work/NAME/<role>.py`` in its role (as the
unprivileged ``student``, given the role's documented arguments) and the reference programs
in the others, then reports each check with its evidence.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from lab.control import workspace
from lab.control.lab import Lab
from lab.errors import NothingToCheckError, UnknownExerciseError, WorkspaceError
from lab.harness import scenario as scenarios
from lab.harness.scenario import Check, Stage, Transcript

TAIL = 15  # lines of each stream shown per program in a report
WIDE = 160  # characters shown of one line


def names() -> list[str]:
    return [n for n in scenarios.names() if (scenarios.SCENARIOS / n / "starter").is_dir()]


def starter(name: str) -> Path:
    folder = scenarios.SCENARIOS / name / "starter"
    if not folder.is_dir():
        raise UnknownExerciseError(name, names())
    return folder


def roles(name: str) -> list[str]:
    """The roles a student writes in exercise ``name`` (one starter file each)."""
    return sorted(p.stem for p in starter(name).glob("*.py"))


def student_files(name: str, work: Path, folder: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The student's programs for ``name`` in ``folder`` (default ``work/name``, inside the
    workspace): {role: path on the hosts}, and the other .py files there."""
    folder = folder or work / name
    found: dict[str, str] = {}
    others: list[str] = []
    wanted = roles(name)
    on_hosts = f"{workspace.MOUNT}/{folder.resolve().relative_to(work.resolve()).as_posix()}"
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if path.stem in wanted:
            found[path.stem] = f"{on_hosts}/{path.name}"
        else:
            others.append(path.name)
    return found, others


def state(name: str, work: Path) -> str:
    """How far the student is: not started, not checked yet, passed, or failed N of M checks."""
    if not (work / name).is_dir():
        return "not started"
    last = workspace.last_result(work, name)
    if last is None:
        return "not checked yet"
    if last.get("passed"):
        return "passed"
    return f"failed {len(last.get('failed', []))} of {last.get('checks', '?')} checks"


def mounted(lab: Lab) -> Path:
    """The workspace the running lab mounts at /work; a clear error for a lab without one."""
    work = lab.workspace()
    if work is None:
        raise WorkspaceError("(none)", f"lab `{lab.name}` was started without one",
                             f"`invoke down --name {lab.name}`, then `invoke up --name {lab.name}` mounts it")
    return work


@dataclass
class Outcome:
    exercise: str
    stage: Stage

    @property
    def passed(self) -> bool:
        return self.stage.passed

    @property
    def summary(self) -> str:
        """One line: how many of the student's checks pass, and what the reference played."""
        counted = self.stage.counted
        failed = sum(not c.ok for c in counted)
        said = f"{failed} of {len(counted)} checks failed" if failed else f"all {len(counted)} checks pass"
        if self.stage.reference:
            played = [r for r in roles(self.exercise) if r not in self.stage.own]
            said += (f"; {len(self.stage.reference)} more checks of {', '.join(p + '.py' for p in played)} "
                     "(played by the reference program: no file of yours) are not counted")
        return said

    def as_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "passed": self.passed, "summary": self.summary,
                "yours": sorted(self.stage.own),
                "checks": [{**asdict(c), "by": "reference" if c.name in self.stage.reference else "you"}
                           for c in self.stage.checks]}


def check(lab: Lab, name: str, work: Path, overrides: dict[str, list[str]] | None = None,
          say: Callable[[str], None] = print, folder: Path | None = None,
          options: scenarios.PlayOptions | None = None) -> Outcome:
    """Play exercise ``name`` with the student's files from ``folder`` (default ``work/name``)
    and ``overrides``, capturing its FLOW for the ladders of FAILs; the result is remembered
    for ``invoke exercise`` unless ``folder`` is given (grading's: ``options`` with values,
    hidden checks and limits of its own)."""
    students, others = student_files(name, work, folder)
    where = folder or work / name
    if others:
        say(f"   note: {', '.join(others)} in {where} play no role (the roles are: "
            f"{', '.join(roles(name))}); a role's program may import them")
    if not students and not overrides:
        raise NothingToCheckError(where, name, [r + ".py" for r in roles(name)])
    module = scenarios.load(name)
    broken = [c for role, path in students.items() if (c := _compiles(lab, module.ROLES[role].host, path))]
    if broken:
        stage = Stage(lab, dict(module.ROLES), say, name=name)
        for failure in broken:  # a step that failed: the role's checks were not reached
            stage.check(*failure)
            stage.checks[-1] = replace(stage.checks[-1], step=True)
        return Outcome(name, stage)
    stage = scenarios.play(lab, name, overrides, say=say, students=students,
                           options=replace(options or scenarios.PlayOptions(), capture=True))
    outcome = Outcome(name, stage)
    if folder is None:
        workspace.record(work, name, {"passed": outcome.passed, "checks": len(stage.checks),
                                      "failed": [c.name for c in stage.checks if not c.ok]})
    return outcome


def _compiles(lab: Lab, host: str, path: str) -> tuple[str, bool, str] | None:
    """A (name, False, error) check if the file is not valid Python on the lab's own interpreter."""
    probe = "import sys; compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec')"
    result = lab.exec(host, ["python3", "-c", probe, path], user=scenarios.STUDENT)
    if result.exit_code == 0:
        return None
    lines = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith(("Traceback", "  File \"<string>\""))]
    file = path.rsplit("/", 1)[-1]
    return f"{file} is valid Python", False, "\n".join(lines[-6:])


def render(outcome: Outcome) -> str:
    """The evidence of every FAIL: expected, observed, transcripts, the exchange, a hint."""
    out: list[str] = []
    for c in outcome.stage.checks:
        if not c.ok:
            out += _failure(c)
    return "\n".join(out)


def _failure(c: Check) -> list[str]:
    out = ["", f"FAIL {c.name}"]
    if c.expected:
        out.append(f"  expected: {c.expected}")
    out += _block("observed", c.observed or "(see the transcripts)")
    for t in c.transcripts:
        out += transcript_lines(t)
    if c.ladder:
        out.append("  -- the exchange on the wire, up to the failure:")
        out += [f"     {row}" for row in c.ladder.splitlines()]
    if c.hint:
        out.append(f"  hint: {c.hint}")
    return out


def _block(title: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"  {title}: {lines[0]}", *(f"    {line}" for line in lines[1:])]


def transcript_lines(t: Transcript) -> list[str]:
    """A program's command, exit, stdin, stdout and stderr (their last lines), as evidence."""
    state = "still running" if t.exit_code is None else f"exit status {t.exit_code}"
    out = [f"  -- {t.program} ({state}): $ {shlex.join(t.argv)}"]
    for title, text in (("stdin", t.stdin), ("stdout", t.stdout), ("stderr", t.stderr)):
        lines = text.rstrip("\n").splitlines()
        if not lines:
            out.append(f"     {title}: (nothing)")
            continue
        out.append(f"     {title}:" + (f" (last {TAIL} of {len(lines)} lines)" if len(lines) > TAIL else ""))
        out += [f"       | {line[:WIDE]}" + ("..." if len(line) > WIDE else "") for line in lines[-TAIL:]]
    out += [f"     {note}" for note in t.notes]
    return out
