"""Scenarios: one lesson each, played live on the lab, narrated, and checked.

A scenario is a folder ``scenarios/<name>/`` with a README.md (the lesson, and the exercise
if it has one) and a scenario.py that defines:

    TITLE = "one line"
    ROLES = {"server": Role("srv", ["lab", "udp-echo-server", "--port", "9001", "--json"], args=("9001",))}
    def play(stage: Stage) -> None: ...
    FLOW = ("h1", "udp port 9001")   # optional: where to capture, shown as a ladder
    NEEDS = Needs(lan=("srv", "h1"), across=("b1",))   # optional: the hosts it names

A scenario that names hosts says so in ``NEEDS``; one that runs on any topology picks its
hosts from ``stage.lab.topology()`` by role and LAN instead. A scenario played on a lab
whose topology lacks what it needs stops before it starts, saying what it needs.

``play`` starts roles on their hosts, says what is happening (``stage.say``) and records
what it observed as checks (``stage.check``). ``invoke scenario NAME`` prints the narration
and the checks; the lab tests play every scenario and assert that every check holds.

A role is played by the reference program (``Role.command``, which takes reference-only
options such as ``--json``) unless the student plays it: a file ``work/<exercise>/<role>.py``
(``invoke check``) or any command (``--role R=CMD``). A student's program gets exactly the
role's documented ``args``, nothing else, so a scenario judges it by what crosses the wire
and what the reference programs on the other side saw, never by its ``--json`` events.
A student's program that misbehaves (ends early, binds the wrong port, hangs) ends the
play with a FAIL for the step it was in, with the diagnosis: never a traceback.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import shlex
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from lab.control.capture import CaptureSet
from lab.control.lab import ROOT, Lab
from lab.control.programs import STDOUT, HostProgram
from lab.control.topology import Topology
from lab.errors import (
    CaptureIncompleteError,
    ProgramError,
    ProgramHungError,
    RoleSpecError,
    ScenarioNeedsError,
    UnknownRoleError,
    UnknownScenarioError,
    WaitTimeoutError,
)
from lab.harness.scoring import Declared, declare
from lab.wire.flows import ladder
from lab.wire.pcap import Packet

SCENARIOS = ROOT / "scenarios"
T = TypeVar("T", int, str)
STUDENT = "student"  # the unprivileged user a student's program runs as
#: A student's program also runs under limits of its own (its host has limits of processes,
#: memory and CPU for all of it, see compose.yaml): CPU seconds, address space, file size.
#: Not processes (RLIMIT_NPROC counts every process of the uid on the machine, and on a
#: laptop the workspace's owner is the person at it): grading adds that, with a uid per lab.
LIMITS = ["prlimit", "--cpu=30", "--as=1073741824", "--fsize=67108864", "--core=0"]


@dataclass(frozen=True)
class Needs:
    """The hosts a lesson names: ``lan`` share one LAN; each of ``across`` is on another LAN,
    reached through routers."""

    lan: tuple[str, ...] = ()
    across: tuple[str, ...] = ()

    def __str__(self) -> str:
        said = [f"{' and '.join(self.lan)} on one LAN"] if self.lan else []
        said += [f"{' and '.join(self.across)} on another, behind a router"] if self.across else []
        return "; ".join(said) or "nothing"

    @property
    def hosts(self) -> tuple[str, ...]:
        return (*self.lan, *self.across)

    def unmet(self, topo: Topology) -> str | None:
        """What ``topo`` lacks of this, or None."""
        missing = [h for h in self.hosts if h not in topo.hosts]
        if missing:
            return f"it has no host {', '.join(missing)}"
        apart = [h for h in self.lan[1:] if not topo.same_lan(h, self.lan[0])]
        if apart:
            return f"{', '.join(apart)} is not on {self.lan[0]}'s LAN"
        near = [h for h in self.across if self.lan and topo.same_lan(h, self.lan[0])]
        if near:
            return f"{', '.join(near)} is on {self.lan[0]}'s LAN"
        return None


@dataclass(frozen=True)
class Role:
    host: str
    command: list[str]  # the reference program, with its reference-only options
    args: tuple[str, ...] = ()  # what a student's program for this role is given (the exercise says)
    user: str = ""


@dataclass(frozen=True)
class Transcript:
    """What one program was given and said, kept as evidence for a failed check."""

    program: str
    argv: list[str]
    stdin: str
    stdout: str
    stderr: str
    exit_code: int | None
    notes: list[str]

    @classmethod
    def of(cls, program: HostProgram) -> Transcript:
        code = program.exit_code if program.exit_code is not None or not program.running else None
        return cls(program.label, program.argv, "".join(program.stdin), program.stdout, program.stderr,
                   code, program.notes())


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    observed: str = ""
    expected: str = ""
    hint: str = ""
    at: float = 0.0  # when it was decided: the ladder of a FAIL stops here
    transcripts: tuple[Transcript, ...] = ()
    ladder: str = ""  # the exchange up to ``at`` (filled in once the capture is decoded)
    step: bool = False  # a step a program failed (it ended the play), not one of the checks


@dataclass(frozen=True)
class Step:
    name: str
    expected: str = ""
    hint: str = ""


@dataclass
class Stage:
    lab: Lab
    roles: dict[str, Role]
    say: Callable[[str], None] = print
    checks: list[Check] = field(default_factory=list)
    programs: list[HostProgram] = field(default_factory=list)
    #: roles the student plays: role -> (command without the role's args, label, user)
    own: dict[str, tuple[list[str], str, str]] = field(default_factory=dict)
    current: Step = field(default_factory=lambda: Step("the scenario runs to its end"))
    scratch: str = field(default_factory=lambda: f"/tmp/socklab-run-{uuid.uuid4().hex[:8]}")
    name: str = "this"  # the scenario's
    title: str = ""
    packets: list[Packet] = field(default_factory=list)  # FLOW's capture, when one was made
    pcaps: dict[str, Path] = field(default_factory=dict)  # host -> its pcap, when kept
    #: checks of roles the reference played although the student writes them (no file of
    #: theirs): shown as "ref", not counted as the student's
    reference: frozenset[str] = frozenset()
    _scratch_on: set[str] = field(default_factory=set)

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise UnknownRoleError(self.name, name, self.roles) from None

    def mine(self, role: str) -> bool:
        """Is ``role`` played by the student's program (not the reference)?"""
        return role in self.own

    def start(self, role: str, *extra: str, host: str = "", args: Sequence[str] | None = None,
              reference: bool = False) -> HostProgram:
        """Start a role's program, optionally on another host.

        The reference program gets ``extra`` after its command; a student's program gets
        ``args`` (default: the role's documented args) and never a reference-only option.
        ``reference``: the reference program even if the student plays this role (to check
        the student's program for the other role against it).
        """
        r = self.role(role)
        where = host or r.host
        if role in self.own and not reference:
            command, label, user = self.own[role]
            argv = [*command, *(r.args if args is None else args)]
            program = HostProgram(self.lab, where, argv, user=user, workdir=self.workdir(where), label=label)
        else:
            argv = [*r.command, *extra]
            named = argv[argv.index("--name") + 1] if "--name" in argv[:-1] else ""
            label = f"{named}'s {r.command[1]}" if named else " ".join(r.command[:2])  # "bob's chat-client"
            program = HostProgram(self.lab, where, argv, user=r.user, label=label)
        self.programs.append(program.start())
        return program

    def workdir(self, host: str) -> str:
        """A fresh folder on ``host`` for this play, where students' programs run (and write files)."""
        if host not in self._scratch_on:
            self.lab.exec(host, ["install", "-d", "-o", STUDENT, "-g", STUDENT, self.scratch], check=True)
            self._scratch_on.add(host)
        return self.scratch

    def run(self, role: str, *extra: str, lines: Sequence[str] = (), host: str = "",
            timeout: float = 20, args: Sequence[str] | None = None, reference: bool = False) -> HostProgram:
        """Run a role's program to its end, typing ``lines`` into it, then EOF.

        One still running after ``timeout`` is stopped and reported (ProgramHungError)."""
        program = self.start(role, *extra, host=host, args=args, reference=reference)
        for line in lines:
            program.send_line(line)
        program.close_stdin()
        self.wait_end(program, timeout, "ending after its input ran out")
        return program

    @staticmethod
    def wait_end(program: HostProgram, timeout: float, waiting_for: str) -> int:
        """Its exit status; one still running after ``timeout`` is stopped and reported (ProgramHungError)."""
        try:
            return program.wait_exit(timeout)
        except WaitTimeoutError:
            program.stop()
            raise ProgramHungError(program.label, timeout, waiting_for) from None

    def step(self, name: str, expected: str = "", hint: str = "") -> None:
        """Name what happens next: if a program misbehaves there, this is the check that FAILs."""
        self.current = Step(name, expected, hint)

    def done(self, observed: str = "") -> None:
        """The current step went as it should: a passed check of that name."""
        self.check(self.current.name, True, observed)

    @contextmanager
    def part(self, title: str) -> Iterator[None]:
        """A part of the play that later parts do not depend on: a program misbehaving in
        it FAILs the current step, stops this part's programs, and the play goes on."""
        self.say(f"-- {title}")
        first = len(self.programs)
        try:
            yield
        except (ProgramError, WaitTimeoutError) as exc:
            self.fail_step(exc)
        finally:
            for program in reversed(self.programs[first:]):
                program.stop()

    def fail_step(self, exc: Exception) -> None:
        """A program misbehaved during the current step: that step is a FAIL, with the diagnosis."""
        step = self.current
        self.check(step.name, False, str(exc), expected=step.expected, hint=step.hint)
        self.checks[-1] = replace(self.checks[-1], step=True)

    def check(self, name: str, ok: bool, observed: str = "", *, expected: str = "", hint: str = "") -> bool:
        evidence = () if ok else tuple(Transcript.of(p) for p in self.programs)
        self.checks.append(Check(name, bool(ok), observed, expected, hint, time.time(), evidence))
        mark = "FAIL" if not ok else "ref " if name in self.reference else "ok  "
        self.say(f"  [{mark}] {name}" + (f": {observed}" if observed else ""))
        return bool(ok)

    def printed(self, program: HostProgram, text: str) -> bool:
        """Did ``program`` print a line containing ``text``? (a check the exercise documents).
        A reference program's --json event counts when its ``text`` contains it."""
        return any(_shows(line, text) for line in program.lines(STDOUT))

    def wait_printed(self, program: HostProgram, text: str, timeout: float = 5) -> None:
        """Wait until ``program`` prints a line containing ``text`` (as ``printed``)."""
        program.wait_line(lambda line: _shows(line, text), timeout, what=f"line with ‘{text}’")

    def stop_all(self) -> None:
        for program in reversed(self.programs):
            program.stop()

    @property
    def counted(self) -> list[Check]:
        """The checks that are the student's (or, with no student, everyone's): not ``reference``."""
        return [c for c in self.checks if c.name not in self.reference]

    @property
    def passed(self) -> bool:
        return bool(self.counted) and all(c.ok for c in self.checks)


def listed(items: Iterable[object], empty: str = "nothing") -> str:
    """Items as evidence reads them: ‘a’, ‘b’ (no Python lists or reprs); ``empty`` for none."""
    return ", ".join(f"‘{item}’" for item in items) or empty


def names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.py").is_file())


_VALUES: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("scenario_values", default=None)


def value(key: str, default: T) -> T:
    """A value a scenario's play may be given instead of its example (``PORT = value("port",
    9001)``): grading gives each student other ports and payloads, so a program that
    hard-codes the README's example fails. Read while the scenario module loads."""
    given = (_VALUES.get() or {}).get(key, default)
    return type(default)(given)


def load(name: str, values: Mapping[str, Any] | None = None) -> ModuleType:
    """A fresh module of scenario ``name``, its ``value(...)`` taken from ``values``."""
    path = SCENARIOS / name / "scenario.py"
    if not path.is_file():
        raise UnknownScenarioError(name, names())
    spec = importlib.util.spec_from_file_location(f"socklab_scenario_{name.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    token = _VALUES.set(dict(values or {}))
    try:
        spec.loader.exec_module(module)
    finally:
        _VALUES.reset(token)
    return module


def hosts_named(*modules: ModuleType | None) -> set[str] | None:
    """Every host these scenarios (and hidden checks) name in NEEDS and ROLES: a lab of only
    those (and the routers) plays them. None when one of them names none: it picks its hosts
    from whatever topology runs."""
    named: set[str] = set()
    for module in filter(None, modules):
        needs = getattr(module, "NEEDS", None)
        if not isinstance(needs, Needs):
            return None
        named |= {*needs.hosts, *(r.host for r in getattr(module, "ROLES", {}).values())}
    return named


def declared(module: ModuleType) -> list[Declared]:
    """A lesson's fixed list of checks (``CHECKS``, {role: names}; ``POINTS``, {name: points}
    where a check is worth other than 1): what a student of its exercise is scored on."""
    return declare(getattr(module, "CHECKS", {}), getattr(module, "POINTS", {}))


def parse_overrides(items: Sequence[str]) -> dict[str, list[str]]:
    """``ROLE=COMMAND`` strings -> {role: argv}."""
    out = {}
    for item in items:
        role, sep, command = item.partition("=")
        if not sep or not role or not command.strip():
            raise RoleSpecError(item)
        out[role] = shlex.split(command)
    return out


def checked_overrides(name: str, items: Sequence[str]) -> dict[str, list[str]]:
    """``--role ROLE=COMMAND`` strings for scenario ``name``, each a role it has: said before a lab starts."""
    overrides = parse_overrides(items)
    roles = load(name).ROLES
    for role in overrides:
        if role not in roles:
            raise UnknownRoleError(name, role, roles)
    return overrides


def play(lab: Lab, name: str, overrides: dict[str, list[str]] | None = None,
         say: Callable[[str], None] = print, flows: bool = False, max_rows: int = 40,
         students: dict[str, str] | None = None, capture: bool | None = None,
         pcap_folder: Path | None = None, values: Mapping[str, Any] | None = None,
         extra: ModuleType | None = None, limits: Sequence[str] = LIMITS) -> Stage:
    """Play scenario ``name``.

    ``overrides``: role -> a command played as root (``--role``); ``students``: role -> the
    path on the hosts of the student's own ``<role>.py``, run as ``student``. Both get the
    role's args. ``capture`` (default: ``flows``) records FLOW for the ladders of FAILs (and
    keeps the pcap in ``pcap_folder``). ``values``: the scenario's ``value(...)`` (grading's
    per-student ports and payloads); ``extra``: a module whose ``play(stage)`` adds checks
    after the scenario's own, on the same stage (grading's hidden checks).
    """
    module = load(name, values)
    needs = getattr(module, "NEEDS", Needs())
    unmet = needs.unmet(lab.topology())
    if unmet:
        raise ScenarioNeedsError(name, str(needs), lab.compose_file.name, unmet)
    roles: dict[str, Role] = dict(module.ROLES)
    stage = Stage(lab, roles, say, name=name, title=module.TITLE)
    for role, argv in (overrides or {}).items():
        if role not in roles:
            raise UnknownRoleError(name, role, roles)
        stage.own[role] = (argv, f"role {role} ({shlex.join(argv)[:40]})", roles[role].user)
    for role, path in (students or {}).items():
        if role not in roles:
            raise UnknownRoleError(name, role, roles)
        stage.own.setdefault(role, ([*limits, "python3", path], path.rsplit("/", 1)[-1], STUDENT))
    if stage.own:
        stage.reference = frozenset(d.name for d in declared(module) if d.role not in stage.own)
    say(f"== {name}: {module.TITLE}")
    for role_name, spec in roles.items():
        if role_name in stage.own:
            shown = shlex.join([*stage.own[role_name][0], *spec.args]) + "   (yours)"
        else:
            shown = shlex.join(spec.command)
        say(f"   role {role_name:<10} on {spec.host:<6} {shown}")
    flow = getattr(module, "FLOW", None) if (flows if capture is None else capture) else None
    cap = CaptureSet(lab, [flow[0]], flow[1], folder=pcap_folder) if flow else None
    plays = [module, *([extra] if extra is not None else [])]
    try:
        with cap if cap is not None else contextlib.nullcontext():
            for each in plays:
                _play(each, stage)
    except CaptureIncompleteError as exc:
        say(f"   note: {exc}")
    finally:
        stage.stop_all()
        if stage.own:
            for host in stage._scratch_on:
                lab.exec(host, ["rm", "-rf", stage.scratch])
    if cap is not None and flow is not None:
        packets = stage.packets = cap.packets.get(flow[0], [])
        stage.pcaps = dict(cap.files)
        for i, c in enumerate(stage.checks):
            if not c.ok:
                stage.checks[i] = replace(c, ladder=elided([p for p in packets if p.time <= c.at + 0.05]))
        if flows:
            say(f"-- the wire as {flow[0]} saw it ({flow[1]}), {len(packets)} packets:")
            for row in elided(packets, max_rows).splitlines():
                say(row)
    return stage


def _play(module: ModuleType, stage: Stage) -> None:
    """Run the scenario; a misbehaving program ends it with a FAIL for the step it was in."""
    try:
        module.play(stage)
    except (ProgramError, WaitTimeoutError) as exc:
        stage.fail_step(exc)


def elided(packets: Sequence[Packet], max_rows: int = 40) -> str:
    """A ladder of at most ``max_rows`` packets: the start, then the last ones (nearest the end)."""
    if len(packets) <= max_rows:
        return ladder(packets)
    head, tail = max_rows // 4, max_rows - max_rows // 4
    rows = ladder([*packets[:head], *packets[-tail:]]).splitlines()
    return "\n".join([*rows[: head + 1], f"   ... {len(packets) - max_rows} packets not shown ...", *rows[head + 1:]])


def _shows(line: str, text: str) -> bool:
    if text in line:
        return True
    if line.startswith("{"):
        try:
            return text in str(json.loads(line).get("text", ""))
        except (ValueError, AttributeError):
            return False
    return False
