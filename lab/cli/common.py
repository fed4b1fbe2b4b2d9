"""What every task shares: its console, its one-line errors, number options, the lab it works on.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke import Exit

from lab.control.defaults import DEFAULT_NAME
from lab.errors import LabError

if TYPE_CHECKING:
    from rich.console import Console

    from lab.control.engine import Engine
    from lab.control.lab import Lab
    from lab.harness.scenario import Stage


REPORT_HELP = "write an HTML page of the run (checks, evidence, pictures, pcaps) into this folder"


NAME_HELP = f"lab name, i.e. its compose project (default {DEFAULT_NAME}); labs run side by side"


TOPOLOGY_HELP = "a shipped topology (`invoke topologies` lists them) or a Compose file (default compose.yaml)"


@functools.cache
def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def say(message: str) -> None:
    console().print(f"[dim]socklab:[/] {message}")


def narrate(text: str) -> None:
    """A scenario's narration, as it comes (no markup: it shows program output)."""
    console().print(text, markup=False, soft_wrap=True)


def reports_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """LabError (Docker's refusals too: DockerError) -> `Exit(message, 1)`; Ctrl-C -> how to clean up."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except LabError as exc:
            raise Exit(f"socklab: {exc}", code=1) from None
        except KeyboardInterrupt:
            raise Exit("socklab: interrupted; `invoke down` removes a half-started lab", code=130) from None

    return wrapper


class _ShownAsInt(type):
    """invoke's --help names a value only for str and int kinds (INT); a number kind of ours
    compares equal to int for that lookup alone, so `--seconds=INT` still shows it takes one."""

    def __eq__(cls, other: object) -> bool:
        return other is int or cls is other

    def __hash__(cls) -> int:
        return hash(int)


class Number(float, metaclass=_ShownAsInt):
    """A number option's kind (invoke casts with the default's type): a word where a number
    belongs is one line, not invoke's traceback; 1.5 is a number too."""

    def __new__(cls, text: object = 0.0) -> Number:
        try:
            return super().__new__(cls, text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise Exit(f"socklab: {text!r} is not a number", code=1) from None


class Whole(int, metaclass=_ShownAsInt):
    """A whole-number option's kind: as Number."""

    def __new__(cls, text: object = 0) -> Whole:
        try:
            return super().__new__(cls, text)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise Exit(f"socklab: {text!r} is not a whole number", code=1) from None


def chosen_topology(topology: str) -> Path | None:
    """The Compose file of ``topology`` (a shipped name or a file; None: the default), read once
    so that a file that is no topology says so before anything starts."""
    from lab.control import topologies
    from lab.control.topology import load

    if not topology:
        return None
    compose_file = topologies.compose_file(topology)
    load(compose_file)
    return compose_file


def open_lab(name: str, compose_file: Path | None = None) -> Lab:
    """Lab ``name``; ``compose_file`` (``chosen_topology``) only when starting it (later tasks
    find it from the lab)."""
    from lab.control.engine import Engine
    from lab.control.lab import Lab, check_name

    check_name(name)  # before Docker: these need none
    return Lab(Engine.connect(), name, compose_file=compose_file)


def connect() -> Engine:
    from lab.control.engine import Engine

    return Engine.connect()


def recorded(show: Callable[[str], None]) -> tuple[list[str], Callable[[str], None]]:
    """What is said, shown and kept for a report."""
    said: list[str] = []

    def tee(line: str) -> None:
        said.append(line)
        show(line)

    return said, tee


def write_report(lab: Lab, stage: Stage, said: list[str], folder: str) -> None:
    if folder:
        from lab.harness import pages

        say(f"report: {pages.write_stage(Path(folder), stage, said, lab.topology())}")


def running_lab(name: str) -> Lab:
    lab = open_lab(name)
    if not lab.is_up():
        lab.up(say=say)
    return lab


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
