"""The stage a lesson is played on: its roles and programs, the steps it takes, and the
checks it decides, each with its evidence (what every program was given and said).

``lab.harness.scenario`` loads a lesson and plays it on a ``Stage``; a scenario's ``play``
starts roles (``stage.start``, ``stage.run``), names what happens next (``stage.step``) and
records what it observed (``stage.check``). A program that misbehaves FAILs the step it was
in, with the diagnosis.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from lab.control.lab import Lab
from lab.control.programs import STDOUT, HostProgram, stop_all
from lab.control.topology import Topology
from lab.errors import ProgramError, ProgramHungError, UnknownRoleError, WaitTimeoutError
from lab.wire.pcap import Packet

STUDENT = "student"  # the unprivileged user a student's program runs as
#: A student's program also runs under limits of its own (its host has limits of processes,
#: memory and CPU for all of it, see compose.yaml): CPU seconds, address space, file size.
#: Not processes (RLIMIT_NPROC counts every process of the uid on the machine, and on a
#: laptop the workspace's owner is the person at it): grading adds that, with a uid per lab.
PROGRAM_LIMITS = ["prlimit", "--cpu=30", "--as=1073741824", "--fsize=67108864", "--core=0"]


@dataclass(frozen=True)
class Needs:
    """The hosts a lesson names: ``lan`` share one LAN; each of ``across`` is on another LAN,
    reached through routers."""

    lan: tuple[str, ...] = ()
    across: tuple[str, ...] = ()
    nat: bool = False  # the router between them translates addresses (`invoke up --topology nat`)

    def __str__(self) -> str:
        said = [f"{' and '.join(self.lan)} on one LAN"] if self.lan else []
        said += [f"{' and '.join(self.across)} on another, behind a router"] if self.across else []
        said[-1:] = [f"{said[-1]} that translates addresses (NAT)"] if self.nat and said else said[-1:]
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
        if self.nat and not topo.nat_routers():
            return "no router of it translates addresses (NAT)"
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
            stop_all(self.programs[first:])

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
        stop_all(self.programs)

    def remove_scratch(self) -> None:
        """The play's folders on the hosts, where students' programs ran."""
        for host in self._scratch_on:
            self.lab.exec(host, ["rm", "-rf", self.scratch])

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




def _shows(line: str, text: str) -> bool:
    if text in line:
        return True
    if line.startswith("{"):
        try:
            return text in str(json.loads(line).get("text", ""))
        except (ValueError, AttributeError):
            return False
    return False
