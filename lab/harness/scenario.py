"""Scenarios: one lesson each, played live on the lab, narrated, and checked.

A scenario is a folder ``scenarios/<name>/`` with a README.md (the exercise for a person)
and a scenario.py that defines:

    TITLE = "one line"
    ROLES = {"server": Role("srv", ["lab", "udp-echo-server", "--port", "9000", "--json"]), ...}
    def play(stage: Stage) -> None: ...
    FLOW = ("h1", "udp port 9000")   # optional: where to capture, shown as a ladder afterwards

``play`` starts roles on their hosts, says what is happening (``stage.say``) and records
what it observed as checks (``stage.check``). ``invoke scenario NAME`` prints the narration
and the checks; the lab tests play every scenario and assert that every check holds.

A role's command can be replaced (``invoke scenario echo --role server="python3 my_echo.py"``)
to run a student's program in the lab's place; the checks then grade it.
"""

from __future__ import annotations

import importlib.util
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType

from lab.control.flows import ladder
from lab.control.lab import ROOT, Lab
from lab.errors import LabError
from lab.harness.capture import CaptureSet
from lab.harness.programs import HostProgram

SCENARIOS = ROOT / "scenarios"


@dataclass(frozen=True)
class Role:
    host: str
    command: list[str]
    user: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Stage:
    lab: Lab
    roles: dict[str, Role]
    say: Callable[[str], None] = print
    checks: list[Check] = field(default_factory=list)
    programs: list[HostProgram] = field(default_factory=list)

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise LabError(f"this scenario has no role `{name}`; its roles are: {', '.join(self.roles)}") from None

    def start(self, role: str, *extra: str, host: str = "") -> HostProgram:
        """Start a role's program (optionally with extra arguments, or on another host)."""
        r = self.role(role)
        program = HostProgram(self.lab, host or r.host, [*r.command, *extra], user=r.user).start()
        self.programs.append(program)
        return program

    def run(self, role: str, *extra: str, lines: Sequence[str] = (), host: str = "",
            timeout: float = 20) -> HostProgram:
        """Run a role's program to its end, typing ``lines`` into it, then EOF."""
        program = self.start(role, *extra, host=host)
        for line in lines:
            program.send_line(line)
        program.close_stdin()
        program.wait_exit(timeout)
        return program

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        mark = "ok  " if ok else "FAIL"
        self.say(f"  [{mark}] {name}" + (f": {detail}" if detail else ""))
        return bool(ok)

    def stop_all(self) -> None:
        for program in reversed(self.programs):
            program.stop()

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.py").is_file())


def load(name: str) -> ModuleType:
    path = SCENARIOS / name / "scenario.py"
    if not path.is_file():
        raise LabError(f"no scenario `{name}`; the scenarios are: {', '.join(names())}")
    spec = importlib.util.spec_from_file_location(f"socklab_scenario_{name.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_overrides(items: Sequence[str]) -> dict[str, list[str]]:
    """``ROLE=COMMAND`` strings -> {role: argv}."""
    out = {}
    for item in items:
        role, sep, command = item.partition("=")
        if not sep or not role or not command.strip():
            raise LabError(f"--role takes ROLE=COMMAND, not {item!r}")
        out[role] = shlex.split(command)
    return out


def play(lab: Lab, name: str, overrides: dict[str, list[str]] | None = None,
         say: Callable[[str], None] = print, flows: bool = False, max_rows: int = 40) -> Stage:
    module = load(name)
    roles: dict[str, Role] = dict(module.ROLES)
    for role, argv in (overrides or {}).items():
        if role not in roles:
            raise LabError(f"scenario `{name}` has no role `{role}`; its roles are: {', '.join(roles)}")
        roles[role] = replace(roles[role], command=argv)
    stage = Stage(lab, roles, say)
    say(f"== {name}: {module.TITLE}")
    for role_name, spec in roles.items():
        say(f"   role {role_name:<10} on {spec.host:<6} {shlex.join(spec.command)}")
    flow = getattr(module, "FLOW", None) if flows else None
    cap = CaptureSet(lab, [flow[0]], flow[1]) if flow else None
    try:
        if cap is not None:
            with cap:
                module.play(stage)
        else:
            module.play(stage)
    finally:
        stage.stop_all()
    if cap is not None and flow is not None:
        packets = cap.packets[flow[0]]
        say(f"-- the wire as {flow[0]} saw it ({flow[1]}), {len(packets)} packets:")
        rows = ladder(packets[:max_rows]).splitlines()
        for row in rows:
            say(row)
        if len(packets) > max_rows:
            say(f"   ... {len(packets) - max_rows} more (`invoke capture` keeps them all)")
    return stage
