"""Grading a class: each student's submission played in a lab of its own, against the
exercise's checks and an instructor's hidden ones, with values of its own.

    submissions/                  one subfolder or one zip per student, as a learning-
      alice/server.py               management system's bulk download delivers them; each
      bob.zip                       holds the student's <role>.py files (in any folder)

A submission is played exactly as `invoke check` plays `work/<exercise>/`: its files are the
workspace of a fresh lab (`grade-<id>`, its own subnets), its programs run as the
unprivileged `student` under limits, the reference programs play the other roles. The
scenario's ``value(...)`` (port, payload) are derived from the seed and the student's id, so
a program that hard-codes the README's example fails, and the same submission with the same
seed grades the same. Every lab is removed afterwards, whatever happens.

Hidden checks (``--checks DIR``): ``DIR/<exercise>.py`` in the form of a scenario, a
``play(stage)`` that adds checks after the exercise's own, and ``WEIGHTS`` and
``VISIBILITY`` for any check by name (default weight 1, "visible"; Gradescope's
"hidden" and "after_due_date" are the others).

A submission's lab holds only the hosts the exercise's ``NEEDS`` and ``ROLES`` name, and the
routers (echo: srv, h1, b1, router); hidden checks that use other hosts say so in a
``NEEDS`` of their own, and without one the lab is the whole default topology.
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import io
import json
import os
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from xml.etree import ElementTree as ET

import docker.errors

from lab.control import topologies
from lab.control.engine import Engine
from lab.control.lab import COMPOSE_FILE, Lab, down_all
from lab.errors import GradingError, LabError, NetworkKeptError
from lab.harness import exercise as exercises
from lab.harness import reports
from lab.harness import scenario as scenarios
from lab.harness.scenario import LIMITS as scenario_limits
from lab.harness.scenario import Check

PREFIX = "grade-"  # every grading lab's name starts so: what cleaning up after Ctrl-C removes
MAX_FILE = 256 * 1024  # bytes of one submitted program
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
#: A submission's programs: the usual limits, and processes (threads too) of its own uid.
LIMITS = [*scenario_limits, "--nproc=128"]


# --- submissions ----------------------------------------------------------------------
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


def safe_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or "student"
    if base != name.lower() or base in taken:  # odd characters, or two names that read the same
        base = f"{base}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    return base


def collect(folder: Path, roles: Iterable[str]) -> list[Submission]:
    """One submission per subfolder or zip of ``folder``, in name order."""
    if not folder.is_dir():
        raise GradingError(f"{folder}: no such folder of submissions")
    wanted = set(roles)
    found: list[Submission] = []
    taken: set[str] = set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        student = entry.name.removesuffix(".zip") if entry.is_file() else entry.name
        sub = Submission(student, safe_id(student, taken))
        taken.add(sub.id)
        if entry.is_dir():
            programs = {p.name: p.read_bytes() for p in entry.rglob("*.py")
                        if p.is_file() and p.stat().st_size <= MAX_FILE}
        elif entry.suffix == ".zip":
            try:
                programs = _unzip(entry)
            except (zipfile.BadZipFile, OSError) as exc:
                sub.problems.append(f"{entry.name} does not open as a zip: {exc}")
                programs = {}
        else:
            sub.problems.append(f"{entry.name} is neither a folder nor a zip")
            programs = {}
        for name, data in programs.items():
            role = name.removesuffix(".py")
            if role in wanted:
                sub.files[role] = data
        extra = sorted(n for n in programs if n.removesuffix(".py") not in wanted)
        if extra:
            sub.problems.append(f"not graded (no such role): {', '.join(extra)}")
        missing = sorted(wanted - set(sub.files))
        if missing:
            sub.problems.append(f"missing: {', '.join(r + '.py' for r in missing)} (the reference program plays it)")
        found.append(sub)
    return found


def _unzip(path: Path) -> dict[str, bytes]:
    """The .py files of a zip by base name (folders inside are common); nothing is extracted."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            wanted = name.endswith(".py") and not info.is_dir() and "__MACOSX" not in info.filename
            if wanted and info.file_size <= MAX_FILE:
                out[name] = z.read(info)
    return out


def values_for(seed: str, student: str) -> dict[str, Any]:
    """The ports and payloads of this student's play: the same for the same seed and id."""
    h = int.from_bytes(hashlib.sha256(f"{seed}/{student}".encode()).digest()[:8], "big")
    return {"port": 20000 + h % 12000, "greeting": f"hello-{h % 16**6:06x}"}


# --- checks, weights, visibility ------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    extra: ModuleType | None = None
    weights: dict[str, float] = field(default_factory=dict)
    visibility: dict[str, str] = field(default_factory=dict)

    def weight(self, check: str) -> float:
        return float(self.weights.get(check, 1))

    def shown(self, check: str) -> str:
        return self.visibility.get(check, "visible")


def load_rules(folder: Path | None, exercise: str) -> Rules:
    if folder is None:
        return Rules()
    path = folder / f"{exercise}.py"
    if not path.is_file():
        raise GradingError(f"{path}: no hidden checks for `{exercise}` there")
    spec = importlib.util.spec_from_file_location(f"socklab_hidden_{exercise.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001  (an instructor's file: whatever is wrong, one line)
        raise GradingError(f"{path}: {type(exc).__name__}: {exc}") from None
    visibility = dict(getattr(module, "VISIBILITY", {}))
    bad = {k: v for k, v in visibility.items() if v not in VISIBILITIES}
    if bad:
        raise GradingError(f"{path}: VISIBILITY must be one of {', '.join(VISIBILITIES)}: {bad}")
    return Rules(module if hasattr(module, "play") else None, dict(getattr(module, "WEIGHTS", {})), visibility)


# --- grading ----------------------------------------------------------------------------
@dataclass
class Graded:
    student: str
    id: str
    seed: str
    digest: str
    checks: list[dict[str, Any]]  # name, ok, score, max_score, visibility, and the evidence
    problems: list[str]
    error: str = ""  # what stopped the play (the lab would not start, ...)
    seconds: float = 0.0
    lab: str = ""  # the lab it was played in

    @property
    def score(self) -> float:
        return sum(c["score"] for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c["max_score"] for c in self.checks)


def _scored(c: Check, rules: Rules) -> dict[str, Any]:
    """A check with its score; a failed step is evidence (why the checks after it were not
    reached), worth nothing itself."""
    weight = 0.0 if c.step else rules.weight(c.name)
    return {**asdict(c), "score": weight if c.ok else 0.0, "max_score": weight, "visibility": rules.shown(c.name)}


def student_uid(sub_id: str) -> int:
    """A uid of its own for each submission's `student`: the kernel counts processes per uid
    (RLIMIT_NPROC, which a student's program runs under), so one student's fork bomb runs
    out of processes without touching another's lab."""
    return 20000 + int(hashlib.sha256(sub_id.encode()).hexdigest()[:8], 16) % 20000


def _own(folder: Path, uid: int) -> None:
    """The workspace (whose owner the hosts' `student` becomes) to ``uid``, when we may."""
    if os.geteuid() != 0:
        return
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, uid)


def default_parallel() -> int:
    """Labs at once: one per core, at most one per 2 GiB of memory, at least one."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30
    except (ValueError, OSError):
        memory = 4
    return max(1, min(os.cpu_count() or 1, memory // 2))


def lab_file(exercise: str, rules: Rules, out: Path) -> Path:
    """The topology a submission is played on: compose.yaml with only the hosts the exercise
    (and the hidden checks) name, when they name them, and the routers; all of it otherwise."""
    named = scenarios.hosts_named(scenarios.load(exercise), rules.extra)
    if named is None:
        return COMPOSE_FILE
    return topologies.trimmed(COMPOSE_FILE, named, out / "lab.compose.yaml")


def grade_one(engine: Engine, exercise: str, sub: Submission, seed: str, rules: Rules, out: Path,
              labs: set[str] | None = None, topology: Path = COMPOSE_FILE) -> Graded:
    """Play one submission in a fresh lab of its own (of ``topology``), then remove the lab
    (always). The lab's name goes into ``labs`` before it starts (what Ctrl-C removes)."""
    folder = out / sub.id
    work = folder / "work"
    mine = work / exercise
    mine.mkdir(parents=True, exist_ok=True)
    for old in mine.glob("*.py"):
        old.unlink()
    for role, data in sub.files.items():
        (mine / f"{role}.py").write_bytes(data)
    _own(work, student_uid(sub.id))
    graded = Graded(sub.student, sub.id, seed, sub.digest, [], list(sub.problems))
    started = time.monotonic()
    lab = Lab(engine, f"{PREFIX}{sub.id}", topology)
    said: list[str] = []
    try:
        if not sub.files:
            raise GradingError("nothing to grade: " + "; ".join(sub.problems))
        try:
            lab.down()  # a leftover of an interrupted run
        except NetworkKeptError:  # a network Docker keeps (its fault): grade under another name
            lab = Lab(engine, f"{PREFIX}{sub.id}-{uuid.uuid4().hex[:4]}", topology)
        graded.lab = lab.name
        if labs is not None:
            labs.add(lab.name)
        lab.up(workspace_dir=work, read_only=True)
        before = sent(lab)
        outcome = exercises.check(lab, exercise, work, say=said.append, folder=mine, pcap_folder=folder / "pcaps",
                                  values=values_for(seed, sub.id), extra=rules.extra, limits=LIMITS)
        outcome.stage.checks.append(flood_check(before, sent(lab)))
        graded.checks = [_scored(c, rules) for c in outcome.stage.checks]
        reports.write_stage(folder, outcome.stage, said, lab.topology())
    except LabError as exc:
        graded.error = str(exc)
    except docker.errors.DockerException as exc:  # this student's lab, not the class: grading goes on
        graded.error = f"Docker refused: {getattr(exc, 'explanation', None) or exc}"
    finally:
        try:
            lab.down()
        except LabError as exc:  # the grade stands; what is left is Docker's, and named
            graded.problems.append(f"its lab was not removed whole: {exc}")
    graded.seconds = time.monotonic() - started
    (folder / "graded.json").write_text(json.dumps(asdict(graded), indent=1, default=str))
    return graded


FLOOD = 5000  # packets one host may send in a play; an exercise's own needs a few hundred


def sent(lab: Lab) -> dict[str, int]:
    """Packets each host has sent, all interfaces together (the kernel's counters)."""
    count = "cat /sys/class/net/*/statistics/tx_packets | awk '{n += $1} END {print n}'"
    return {h: int(lab.exec(h, ["sh", "-c", count], check=True).stdout.strip() or 0) for h in lab.topology().hosts}


def flood_check(before: dict[str, int], after: dict[str, int]) -> Check:
    counts = {h: after.get(h, 0) - before.get(h, 0) for h in after}
    worst = max(counts, key=lambda h: counts[h])
    return Check(f"no flood: no host sends more than {FLOOD:,} packets", counts[worst] <= FLOOD,
                 f"{worst} sent {counts[worst]:,} packets", expected=f"at most {FLOOD:,} from any host",
                 hint="send what the exercise asks for, nothing more")


def previous(out: Path, sub: Submission, seed: str) -> Graded | None:
    """The grade of an earlier run with the same seed and the same source, if there is one."""
    path = out / sub.id / "graded.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("seed") != seed or data.get("digest") != sub.digest or data.get("error"):
        return None
    return Graded(**data)


def grade(engine: Engine, exercise: str, subs: list[Submission], seed: str, rules: Rules, out: Path,
          parallel: int, force: bool = False, say: Callable[[str], None] = print) -> list[Graded]:
    """Every submission, ``parallel`` labs at once; Ctrl-C removes the labs this grading
    started (not another grading's running beside it)."""
    results: dict[str, Graded] = {}
    todo = []
    for sub in subs:
        kept = None if force else previous(out, sub, seed)
        if kept is not None:
            say(f"{sub.student}: graded before with this seed ({kept.score:g}/{kept.max_score:g}); "
                "--force grades again")
            results[sub.id] = kept
        else:
            todo.append(sub)
    topology = lab_file(exercise, rules, out)
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="grade")
    made: set[str] = set()
    futures: dict[Future[Graded], Submission] = {}
    try:
        futures = {pool.submit(grade_one, engine, exercise, sub, seed, rules, out, made, topology): sub
                   for sub in todo}
        for future, sub in futures.items():
            results[sub.id] = future.result()
            g = results[sub.id]
            say(f"{sub.student}: {g.score:g} points" + (f"  ({g.error})" if g.error else ""))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        remove_labs(engine, made)
        pool.shutdown(wait=True)
        remove_labs(engine, made)  # what a play that was still starting made meanwhile
        raise
    pool.shutdown()
    return complete([results[s.id] for s in subs], rules)


def complete(graded: list[Graded], rules: Rules) -> list[Graded]:
    """Every submission scored out of the same checks: one a play never reached (it stopped at
    an earlier failure) counts as failed."""
    names = [n for n in columns(graded) if not any(c["name"] == n and c.get("step") for g in graded for c in g.checks)]
    for g in graded:
        have = {c["name"] for c in g.checks}
        g.checks += [{"name": n, "ok": False, "observed": "not reached: the play stopped at an earlier failure",
                      "expected": "", "hint": "", "score": 0.0, "max_score": rules.weight(n),
                      "visibility": rules.shown(n)} for n in names if n not in have]
        order = {n: i for i, n in enumerate(columns(graded))}
        g.checks.sort(key=lambda c: order[c["name"]])
    return graded


def remove_labs(engine: Engine, names: Iterable[str] | None = None) -> int:
    """The grading labs ``names`` (default: every grading lab on this machine); how many."""
    wanted = set(names) if names is not None else None
    removed, _ = down_all(engine, lambda name: name.startswith(PREFIX) and (wanted is None or name in wanted))
    return len(removed)


def zipped(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (name -> bytes): what tests and the benchmark hand in."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


# --- what grading writes ------------------------------------------------------------------
def columns(graded: list[Graded]) -> list[str]:
    """Every check any submission met, in the order first met."""
    seen: dict[str, None] = {}
    for g in graded:
        for c in g.checks:
            seen.setdefault(c["name"], None)
    return list(seen)


def gradescope(g: Graded) -> dict[str, Any]:
    """Gradescope's autograder results.json: `score`, and `tests` with name, score, max_score,
    status, output and visibility."""
    tests = [{"name": c["name"], "score": c["score"], "max_score": c["max_score"],
              "status": "passed" if c["ok"] else "failed", "visibility": c["visibility"],
              "output": "" if c["ok"] else _evidence(c)} for c in g.checks]
    out = "\n".join([*g.problems, *([g.error] if g.error else [])])
    return {"score": g.score, "output": out, "visibility": "visible", "tests": tests}


def _evidence(c: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {c[key]}" for key in ("expected", "observed", "hint") if c.get(key))


def write_outputs(out: Path, exercise: str, graded: list[Graded]) -> list[Path]:
    """grades.csv, per student results.json, junit.xml and the class page (index.html)."""
    out.mkdir(parents=True, exist_ok=True)
    names = columns(graded)
    with (out / "grades.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "id", "score", "max_score", *names, "problems"])
        for g in graded:
            by = {c["name"]: c["score"] for c in g.checks}
            w.writerow([g.student, g.id, f"{g.score:g}", f"{g.max_score:g}", *[by.get(n, "") for n in names],
                        "; ".join([*g.problems, *([g.error] if g.error else [])])])
    for g in graded:
        (out / g.id).mkdir(parents=True, exist_ok=True)
        (out / g.id / "results.json").write_text(json.dumps(gradescope(g), indent=1, ensure_ascii=False))
    suite = ET.Element("testsuite", name=f"grade {exercise}", tests=str(sum(len(g.checks) or 1 for g in graded)))
    for g in graded:
        for c in g.checks or [{"name": "(graded)", "ok": False, "observed": g.error}]:
            case = ET.SubElement(suite, "testcase", classname=g.id, name=c["name"])
            if not c["ok"]:
                ET.SubElement(case, "failure", message=str(c.get("observed", ""))[:200]).text = _evidence(c) \
                    if "expected" in c else str(c.get("observed", ""))
    ET.ElementTree(suite).write(out / "junit.xml", encoding="utf-8", xml_declaration=True)
    twins: dict[str, list[str]] = {}
    for g in graded:
        if g.checks or g.error:
            twins.setdefault(g.digest, []).append(g.student)
    rows = []
    for g in graded:
        same = [s for s in twins.get(g.digest, []) if s != g.student]
        flag = f"<br><b>same source as</b> {html.escape(', '.join(same))}" if same and len(g.problems) < 2 else ""
        cells = "".join(f"<td>{'✔' if c['ok'] else '✘'}</td>" for c in _in_order(g, names))
        link = f'<a href="{g.id}/index.html">{html.escape(g.student)}</a>' if (out / g.id / "index.html").exists() \
            else html.escape(g.student)
        notes = html.escape("; ".join([*g.problems, *([g.error] if g.error else [])]))
        rows.append(f"<tr><td>{link}{flag}</td><td>{g.score:g}/{g.max_score:g}</td>{cells}<td>{notes}</td></tr>")
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    (out / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>grades: {html.escape(exercise)}</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em} td,th{border:1px solid #ddd;padding:.3em;"
        "font-size:.85em;vertical-align:top} table{border-collapse:collapse}</style></head><body>"
        f"<h1>{html.escape(exercise)}: {len(graded)} submissions</h1><table><tr><th>student</th><th>score</th>"
        f"{head}<th>notes</th></tr>{''.join(rows)}</table></body></html>\n")
    return [out / "grades.csv", out / "junit.xml", out / "index.html"]


def _in_order(g: Graded, names: list[str]) -> list[dict[str, Any]]:
    by = {c["name"]: c for c in g.checks}
    return [by.get(n, {"ok": False}) for n in names]
