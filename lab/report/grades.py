"""What grading writes for a class: grades.csv (one row per student, one column per check),
Gradescope's results.json per student, junit.xml and the class page (index.html, which
flags students who handed in the same source).

Every student of an exercise has the same checks in the same order (grading scores the
exercise's fixed list), so every column is filled for everyone.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from xml.etree import ElementTree as ET

PASSED, FAILED, NOT_REACHED, NOT_HANDED_IN = "passed", "failed", "not reached", "not handed in"


@dataclass(frozen=True)
class Scored:
    """One check of an exercise's fixed list as one student scored it (``lab.harness.scoring``)."""

    name: str
    role: str
    status: str  # PASSED, FAILED, NOT_REACHED or NOT_HANDED_IN
    score: float
    max_score: float
    visibility: str = "visible"
    observed: str = ""
    expected: str = ""
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.status == PASSED


class Grade(Protocol):
    @property
    def student(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def checks(self) -> Sequence[Scored]: ...
    @property
    def problems(self) -> list[str]: ...
    @property
    def error(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def max_score(self) -> float: ...


def notes(g: Grade) -> str:
    return "; ".join([*g.problems, *([g.error] if g.error else [])])


def evidence(c: Scored) -> str:
    lines = [c.status] if c.status in (NOT_REACHED, NOT_HANDED_IN) else []
    return "\n".join(lines + [f"{key}: {said}" for key, said in (("expected", c.expected), ("observed", c.observed),
                                                                  ("hint", c.hint)) if said])


def gradescope(g: Grade) -> dict[str, Any]:
    """Gradescope's autograder results.json: `score`, and `tests` with name, score, max_score,
    status, output and visibility."""
    tests = [{"name": c.name, "score": c.score, "max_score": c.max_score,
              "status": PASSED if c.ok else FAILED, "visibility": c.visibility,
              "output": "" if c.ok else evidence(c)} for c in g.checks]
    return {"score": g.score, "output": notes(g).replace("; ", "\n"), "visibility": "visible", "tests": tests}


def write(out: Path, exercise: str, graded: Sequence[Grade]) -> list[Path]:
    """grades.csv, per student results.json, junit.xml and the class page (index.html)."""
    out.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in graded[0].checks] if graded else []
    with (out / "grades.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "id", "score", "max_score", *names, "problems"])
        for g in graded:
            w.writerow([g.student, g.id, f"{g.score:g}", f"{g.max_score:g}", *[f"{c.score:g}" for c in g.checks],
                        notes(g)])
    for g in graded:
        (out / g.id).mkdir(parents=True, exist_ok=True)
        (out / g.id / "results.json").write_text(json.dumps(gradescope(g), indent=1, ensure_ascii=False))
    _junit(out / "junit.xml", exercise, graded)
    (out / "index.html").write_text(_page(out, exercise, graded, names))
    return [out / "grades.csv", out / "junit.xml", out / "index.html"]


def _junit(path: Path, exercise: str, graded: Sequence[Grade]) -> None:
    suite = ET.Element("testsuite", name=f"grade {exercise}", tests=str(sum(len(g.checks) for g in graded)))
    for g in graded:
        for c in g.checks:
            case = ET.SubElement(suite, "testcase", classname=g.id, name=c.name)
            if not c.ok:
                ET.SubElement(case, "failure", message=(c.observed or c.status)[:200]).text = evidence(c)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


STYLE = ("body{font-family:system-ui,sans-serif;margin:2em} td,th{border:1px solid #ddd;padding:.3em;"
         "font-size:.85em;vertical-align:top} table{border-collapse:collapse}")


def _page(out: Path, exercise: str, graded: Sequence[Grade], names: list[str]) -> str:
    twins: dict[str, list[str]] = {}
    for g in graded:
        if any(c.status != NOT_HANDED_IN for c in g.checks):
            twins.setdefault(g.digest, []).append(g.student)
    rows = []
    for g in graded:
        same = [s for s in twins.get(g.digest, []) if s != g.student]
        flag = f"<br><b>same source as</b> {html.escape(', '.join(same))}" if same else ""
        cells = "".join(f"<td title=\"{html.escape(c.status)}\">{'✔' if c.ok else '✘'}</td>" for c in g.checks)
        link = f'<a href="{g.id}/index.html">{html.escape(g.student)}</a>' if (out / g.id / "index.html").exists() \
            else html.escape(g.student)
        rows.append(f"<tr><td>{link}{flag}</td><td>{g.score:g}/{g.max_score:g}</td>{cells}"
                    f"<td>{html.escape(notes(g))}</td></tr>")
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>grades: {html.escape(exercise)}'
            f"</title><style>{STYLE}</style></head><body><h1>{html.escape(exercise)}: {len(graded)} submissions</h1>"
            f"<table><tr><th>student</th><th>score</th>{head}<th>notes</th></tr>{''.join(rows)}</table>"
            "</body></html>\n")
