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
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from lab.control.capture import CaptureSet
from lab.control.lab import ROOT, Lab
from lab.errors import (
    CaptureIncompleteError,
    ProgramError,
    RoleSpecError,
    ScenarioNeedsError,
    UnknownRoleError,
    UnknownScenarioError,
    WaitTimeoutError,
)
from lab.harness.scoring import Declared, declare
from lab.harness.stage import PROGRAM_LIMITS, STUDENT, Check, Needs, Role, Stage, Step, Transcript, listed
from lab.wire.flows import ladder
from lab.wire.pcap import Packet

__all__ = ["PROGRAM_LIMITS", "STUDENT", "Check", "Needs", "Role", "Stage", "Step", "Transcript", "listed", "value",
           "play", "load", "names", "declared", "PlayOptions"]

SCENARIOS = ROOT / "scenarios"
T = TypeVar("T", int, str)


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


@dataclass(frozen=True)
class PlayOptions:
    """How a play is watched and bounded, beyond who plays which role.

    ``flows``: print the captured exchange as a ladder afterwards (``max_rows`` at most);
    ``capture`` (default: ``flows``) records FLOW for the ladders of FAILs, keeping the pcap
    in ``pcap_folder``; ``values``: the scenario's ``value(...)`` (grading's per-student
    ports and payloads); ``extra``: a module whose ``play(stage)`` adds checks after the
    scenario's own, on the same stage (grading's hidden checks); ``limits``: what a student's
    program runs under.
    """

    flows: bool = False
    max_rows: int = 40
    capture: bool | None = None
    pcap_folder: Path | None = None
    values: Mapping[str, Any] | None = None
    extra: ModuleType | None = None
    limits: Sequence[str] = tuple(PROGRAM_LIMITS)


def play(lab: Lab, name: str, overrides: dict[str, list[str]] | None = None, say: Callable[[str], None] = print,
         students: dict[str, str] | None = None, options: PlayOptions | None = None) -> Stage:
    """Play scenario ``name``.

    ``overrides``: role -> a command played as root (``--role``); ``students``: role -> the
    path on the hosts of the student's own ``<role>.py``, run as ``student``. Both get the
    role's args.
    """
    o = options or PlayOptions()
    module = load(name, o.values)
    needs = getattr(module, "NEEDS", Needs())
    unmet = needs.unmet(lab.topology())
    if unmet:
        raise ScenarioNeedsError(name, str(needs), lab.compose_file.name, unmet, "nat" if needs.nat else "")
    roles: dict[str, Role] = dict(module.ROLES)
    stage = Stage(lab, roles, say, name=name, title=module.TITLE)
    for role, argv in (overrides or {}).items():
        if role not in roles:
            raise UnknownRoleError(name, role, roles)
        stage.own[role] = (argv, f"role {role} ({shlex.join(argv)[:40]})", roles[role].user)
    for role, path in (students or {}).items():
        if role not in roles:
            raise UnknownRoleError(name, role, roles)
        stage.own.setdefault(role, ([*o.limits, "python3", path], path.rsplit("/", 1)[-1], STUDENT))
    if stage.own:
        stage.reference = frozenset(d.name for d in declared(module) if d.role not in stage.own)
    say(f"== {name}: {module.TITLE}")
    for role_name, spec in roles.items():
        if role_name in stage.own:
            shown = shlex.join([*stage.own[role_name][0], *spec.args]) + "   (yours)"
        else:
            shown = shlex.join(spec.command)
        say(f"   role {role_name:<10} on {spec.host:<6} {shown}")
    flow = getattr(module, "FLOW", None) if (o.flows if o.capture is None else o.capture) else None
    cap = CaptureSet(lab, [flow[0]], flow[1], folder=o.pcap_folder) if flow else None
    plays = [module, *([o.extra] if o.extra is not None else [])]
    try:
        with cap if cap is not None else contextlib.nullcontext():
            for each in plays:
                _play(each, stage)
    except CaptureIncompleteError as exc:
        say(f"   note: {exc}")
    finally:
        stage.stop_all()
        stage.remove_scratch()
    if cap is not None and flow is not None:
        packets = stage.packets = cap.packets.get(flow[0], [])
        stage.pcaps = dict(cap.files)
        for i, c in enumerate(stage.checks):
            if not c.ok:
                stage.checks[i] = replace(c, ladder=elided([p for p in packets if p.time <= c.at + 0.05]))
        if o.flows:
            say(f"-- the wire as {flow[0]} saw it ({flow[1]}), {len(packets)} packets:")
            for row in elided(packets, o.max_rows).splitlines():
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


