"""Scoring: a pure function from what a play observed to a grade, the same list for everyone.

Every exercise declares its checks up front (``CHECKS`` in its scenario, role by role, with
``POINTS`` where a check is worth other than 1), and hidden checks add theirs. A student
is scored on exactly that list, in that order, whatever the play reached:

- a check the play decided scores its points or 0;
- a check of a role the student did not hand in scores 0, "not handed in: client.py"
  (the reference program played that role so that the other could be checked);
- a check the play never reached (it stopped at an earlier failure) scores 0 and says
  which failure stopped it.

So every student of an exercise has the same maximum, and every column of the grades
is filled. Nothing here touches Docker: tests score made-up outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from lab.report.grades import FAILED, NOT_HANDED_IN, NOT_REACHED, PASSED, Scored

ANY_ROLE = ""  # a check that belongs to every role handed in (the flood check, a role-less hidden check)


class Observed(Protocol):
    """What a play decided about one check (the scenario's ``Check``)."""

    @property
    def name(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def observed(self) -> str: ...
    @property
    def expected(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def step(self) -> bool: ...


@dataclass(frozen=True)
class Declared:
    """One check of an exercise's fixed list."""

    name: str
    role: str = ANY_ROLE
    points: float = 1.0
    visibility: str = "visible"
    #: a check that holds of a program that does nothing (sending no flood): its points only
    #: go with at least one other check passed, or print(1) would earn them
    alone: bool = True


def declare(checks: Mapping[str, Iterable[str]] | Iterable[str], points: Mapping[str, float] | None = None,
            visibility: Mapping[str, str] | None = None) -> list[Declared]:
    """A scenario's ``CHECKS`` ({role: names}, or names that belong to any role) as a list."""
    pairs = ([(role, name) for role, names in checks.items() for name in names] if isinstance(checks, Mapping)
             else [(ANY_ROLE, name) for name in checks])
    points, visibility = points or {}, visibility or {}
    return [Declared(name, role, float(points.get(name, 1)), visibility.get(name, "visible")) for role, name in pairs]


def score(declared: Sequence[Declared], observed: Sequence[Observed], handed_in: Iterable[str],
          stopped: str = "") -> list[Scored]:
    """``declared`` scored from ``observed`` for a student who handed in the roles
    ``handed_in``; ``stopped``: why nothing was played at all (the lab would not start)."""
    handed = set(handed_in)
    by_name = {o.name: o for o in observed}
    out = []
    for d in declared:
        o = by_name.get(d.name)
        if d.role != ANY_ROLE and d.role not in handed:
            status, why = NOT_HANDED_IN, f"not handed in: {d.role}.py (the reference program played it)"
        elif not handed:
            status, why = NOT_HANDED_IN, "not handed in: no program of any role"
        elif o is None:
            status, why = NOT_REACHED, f"not reached: {stopped or _stopper(d, declared, observed)}"
        else:
            status, why = (PASSED if o.ok else FAILED), o.observed
        ok = status == PASSED
        out.append(Scored(d.name, d.role, status, d.points if ok else 0.0, d.points, d.visibility, why,
                          o.expected if o else "", o.hint if o else ""))
    if not any(s.ok for s, d in zip(out, declared, strict=True) if d.alone):
        out = [replace(s, status=NOT_REACHED, score=0.0,
                       observed="earns nothing by itself: no other check passed (a program that does nothing "
                                "sends no flood either)") if s.ok else s for s in out]
    return out


def _stopper(check: Declared, declared: Sequence[Declared], observed: Sequence[Observed]) -> str:
    """The failure that ended the part of the play ``check`` was in: the first failed step of
    its role (by its declared name, or a name that starts with the role), else the first of all."""
    failed = [o for o in observed if o.step and not o.ok]
    mine = {d.name for d in declared if d.role == check.role}
    for o in failed:
        if o.name in mine or (check.role and o.name.startswith((f"{check.role}:", f"{check.role}.py"))):
            return _said(o)
    return _said(failed[0]) if failed else "the play ended before it"


def _said(o: Observed) -> str:
    first = o.observed.strip().splitlines()[0] if o.observed.strip() else "it failed"
    return f"{o.name} failed ({first})"


def total(scored: Iterable[Scored]) -> tuple[float, float]:
    """(score, maximum)."""
    items = list(scored)
    return sum(s.score for s in items), sum(s.max_score for s in items)
