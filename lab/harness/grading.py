"""Grading a class: each student's submission played in a lab of its own, against the
exercise's checks and an instructor's hidden ones, with values of its own.

A submission (``lab.harness.submissions``) is played exactly as `invoke check` plays
`work/<exercise>/`: its files are the workspace of a fresh lab (`grade-<id>-<run's mark>`, its
own subnets), its programs run as the unprivileged `student` under limits, the reference
programs play the other roles. The scenario's ``value(...)`` (port, payload) are derived
from the seed and the student's id, so a program that hard-codes the README's example fails,
and the same submission with the same seed grades the same. Every lab is removed afterwards,
whatever happens.

Every student of an exercise is scored on one fixed list (``lab.harness.scoring``): the
exercise's ``CHECKS``, then the hidden ones, then the flood check. Hidden checks
(``--checks DIR``): ``DIR/<exercise>.py`` in the form of a scenario, a ``play(stage)`` that
adds checks after the exercise's own and ``CHECKS`` that names them (a list, or {role:
names}), and ``WEIGHTS`` and ``VISIBILITY`` for any check by name (default weight 1,
"visible"; Gradescope's "hidden" and "after_due_date" are the others).

Problems of the grader's machine (no Graphviz for the pictures, a network Docker keeps)
are said to the instructor once, never written into a student's results.

A submission's lab holds only the hosts the exercise's ``NEEDS`` and ``ROLES`` name, and the
routers (echo: srv, h1, b1, router); hidden checks that use other hosts say so in a
``NEEDS`` of their own, and without one the lab is the whole default topology.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from lab.control import topologies
from lab.control.engine import Engine
from lab.control.lab import COMPOSE_FILE, Lab
from lab.control.labs import down_all
from lab.errors import GradingError, LabError
from lab.harness import exercise as exercises
from lab.harness import pages
from lab.harness import scenario as scenarios
from lab.harness.scenario import PROGRAM_LIMITS, Check, PlayOptions
from lab.harness.scoring import ANY_ROLE, Declared, declare, score, total
from lab.harness.submissions import Submission
from lab.report.grades import Scored

PREFIX = "grade-"  # every grading lab's name starts so: what cleaning up after Ctrl-C removes
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
#: A submission's programs: the usual limits, and processes (threads too) of its own uid.
GRADED_LIMITS = [*PROGRAM_LIMITS, "--nproc=128"]


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
    hidden: tuple[Declared, ...] = ()  # the hidden checks' own, in their order

    def weight(self, check: str, default: float = 1.0) -> float:
        return float(self.weights.get(check, default))

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
    plays = hasattr(module, "play")
    if plays and not getattr(module, "CHECKS", None):
        raise GradingError(f"{path}: CHECKS must name the checks its play() decides (a list of names, or "
                           "{role: names}): every student is scored on the same list")
    return Rules(module if plays else None, dict(getattr(module, "WEIGHTS", {})), visibility,
                 tuple(declare(getattr(module, "CHECKS", []))))


FLOOD = 5000  # packets one host may send in a play; an exercise's own needs a few hundred
FLOOD_CHECK = f"no flood: no host sends more than {FLOOD:,} packets"


def checks_of(exercise: str, rules: Rules) -> list[Declared]:
    """The one list every student of ``exercise`` is scored on: its checks, the hidden ones,
    the flood check; with the instructor's weights and visibility."""
    flood = Declared(FLOOD_CHECK, ANY_ROLE, alone=False)  # holds of a program that does nothing, too
    listed = [*scenarios.declared(scenarios.load(exercise)), *rules.hidden, flood]
    return [replace(d, points=rules.weight(d.name, d.points), visibility=rules.shown(d.name)) for d in listed]


# --- grading ----------------------------------------------------------------------------
@dataclass
class Graded:
    student: str
    id: str
    seed: str
    digest: str
    checks: list[Scored]  # the exercise's fixed list, scored
    problems: list[str]  # the student's: what of the submission was not graded, and why
    error: str = ""  # what stopped the play (the lab would not start, ...)
    seconds: float = 0.0
    lab: str = ""  # the lab it was played in

    @property
    def score(self) -> float:
        return total(self.checks)[0]

    @property
    def max_score(self) -> float:
        return total(self.checks)[1]

    @classmethod
    def load(cls, data: dict[str, Any]) -> Graded:
        return cls(**{**data, "checks": [Scored(**c) for c in data["checks"]]})


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
    """The topology a submission is played on: compose.yaml (or the shipped NAT topology, for
    a lesson that needs a NAT router) with only the hosts the exercise (and the hidden checks)
    name, when they name them, and the routers; all of it otherwise."""
    module = scenarios.load(exercise)
    needs = getattr(module, "NEEDS", None)
    base = topologies.with_nat() if needs is not None and needs.nat else COMPOSE_FILE
    named = scenarios.hosts_named(module, rules.extra)
    if named is None:
        return base
    return topologies.trimmed(base, named, out / "lab.compose.yaml")


@dataclass
class Grading:
    """One grading run's fixed parts: what every submission is played and scored with."""

    engine: Engine
    exercise: str
    seed: str
    rules: Rules
    out: Path
    topology: Path = COMPOSE_FILE
    labs: set[str] = field(default_factory=set)  # every lab started: what Ctrl-C removes
    # this run's mark in its labs' names: two gradings at once (two exercises, or the class
    # server's and a terminal's) never take each other's lab for a leftover
    mark: str = field(default_factory=lambda: uuid.uuid4().hex[:4])
    machine: list[str] = field(default_factory=list)  # the grader machine's problems: the instructor's

    @functools.cached_property
    def checks(self) -> list[Declared]:
        """The one list every submission is scored on (read once: the grading threads share it)."""
        return checks_of(self.exercise, self.rules)


def grade_one(run: Grading, sub: Submission) -> Graded:
    """Play one submission in a fresh lab of its own, then remove the lab (always). The lab's
    name goes into ``run.labs`` before it starts."""
    folder = run.out / sub.id
    work = folder / "work"
    mine = work / run.exercise
    mine.mkdir(parents=True, exist_ok=True)
    for old in mine.glob("*.py"):
        old.unlink()
    for role, data in sub.files.items():
        (mine / f"{role}.py").write_bytes(data)
    _own(work, student_uid(sub.id))
    graded = Graded(sub.student, sub.id, run.seed, sub.digest, [], list(sub.problems))
    started = time.monotonic()
    observed: list[Check] = []
    lab = Lab(run.engine, f"{PREFIX}{sub.id}-{run.mark}", run.topology)
    try:
        if sub.files:
            graded.lab = lab.name
            run.labs.add(lab.name)
            observed = play(run, lab, sub, folder)
    except LabError as exc:
        graded.error = str(exc)
    finally:
        try:
            lab.down()
        except LabError as exc:  # the grade stands; what is left is Docker's, and the instructor's
            run.machine.append(f"lab {lab.name} was not removed whole: {exc}")
    graded.checks = score(run.checks, observed, sub.files, stopped=graded.error)
    graded.seconds = time.monotonic() - started
    (folder / "graded.json").write_text(json.dumps(asdict(graded), indent=1, default=str))
    return graded


def play(run: Grading, lab: Lab, sub: Submission, folder: Path) -> list[Check]:
    """The exercise (and hidden checks) on ``lab`` with ``sub``'s programs; its page in ``folder``."""
    said: list[str] = []
    lab.up(workspace_dir=folder / "work", read_only=True)
    before = sent(lab)
    work = folder / "work"
    options = PlayOptions(pcap_folder=folder / "pcaps", values=values_for(run.seed, sub.id), extra=run.rules.extra,
                          limits=GRADED_LIMITS)
    outcome = exercises.check(lab, run.exercise, work, say=said.append, folder=work / run.exercise, options=options)
    outcome.stage.checks.append(flood_check(before, sent(lab)))
    pages.write_stage(folder, outcome.stage, said, lab.topology(), missing=run.machine.append)
    return outcome.stage.checks


def sent(lab: Lab) -> dict[str, int]:
    """Packets each host has sent, all interfaces together (the kernel's counters)."""
    count = "cat /sys/class/net/*/statistics/tx_packets | awk '{n += $1} END {print n}'"
    return {h: int(lab.exec(h, ["sh", "-c", count], check=True, prints=True).stdout.strip() or 0)
            for h in lab.topology().hosts}


def flood_check(before: dict[str, int], after: dict[str, int]) -> Check:
    counts = {h: after.get(h, 0) - before.get(h, 0) for h in after}
    worst = max(counts, key=lambda h: counts[h])
    return Check(FLOOD_CHECK, counts[worst] <= FLOOD, f"{worst} sent {counts[worst]:,} packets",
                 expected=f"at most {FLOOD:,} from any host", hint="send what the exercise asks for, nothing more")


def previous(run: Grading, sub: Submission) -> Graded | None:
    """The grade of an earlier run with the same seed, source and checks, if there is one."""
    path = run.out / sub.id / "graded.json"
    try:
        kept = Graded.load(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    same = kept.seed == run.seed and kept.digest == sub.digest and not kept.error
    return kept if same and [c.name for c in kept.checks] == [d.name for d in run.checks] else None


def grade(run: Grading, subs: list[Submission], parallel: int, force: bool = False,
          say: Callable[[str], None] = print) -> list[Graded]:
    """Every submission, ``parallel`` labs at once; Ctrl-C removes the labs this grading
    started (not another grading's running beside it). The machine's problems are said once."""
    results: dict[str, Graded] = {}
    todo = []
    for sub in subs:
        kept = None if force else previous(run, sub)
        if kept is not None:
            say(f"{sub.student}: graded before with this seed ({kept.score:g}/{kept.max_score:g}); "
                "--force grades again")
            results[sub.id] = kept
        else:
            todo.append(sub)
    run.topology = lab_file(run.exercise, run.rules, run.out)
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="grade")
    futures: dict[Future[Graded], Submission] = {}
    try:
        futures = {pool.submit(grade_one, run, sub): sub for sub in todo}
        for future, sub in futures.items():
            results[sub.id] = g = future.result()
            say(f"{sub.student}: {g.score:g}/{g.max_score:g} points" + (f"  ({g.error})" if g.error else ""))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        remove_labs(run.engine, run.labs)
        pool.shutdown(wait=True)
        remove_labs(run.engine, run.labs)  # what a play that was still starting made meanwhile
        raise
    pool.shutdown()
    for problem in dict.fromkeys(run.machine):
        say(f"note (this machine, not the students): {problem}")
    return [results[s.id] for s in subs]


def remove_labs(engine: Engine, names: Iterable[str] | None = None) -> int:
    """The grading labs ``names`` (default: every grading lab on this machine); how many."""
    wanted = set(names) if names is not None else None
    removed, _ = down_all(engine, lambda name: name.startswith(PREFIX) and (wanted is None or name in wanted))
    return len(removed)
