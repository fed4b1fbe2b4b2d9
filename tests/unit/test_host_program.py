"""HostProgram's reading of Docker's exec state, with Docker's answers scripted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from lab.control.programs import HostProgram
from lab.errors import ProgramError


def program_with(*answers: dict[str, Any]) -> HostProgram:
    replies = iter(answers)
    engine = SimpleNamespace(exec_state=lambda _id: (lambda info: (info["Running"], info["ExitCode"]))(next(replies)))
    program = HostProgram(SimpleNamespace(engine=engine), "h1", ["true"])  # type: ignore[arg-type]
    program._exec_id = "abc"
    return program


def test_an_exec_not_started_yet_is_not_over() -> None:
    """Docker says Running false and no exit code before the process starts: not ended yet."""
    program = program_with({"Running": False, "ExitCode": None}, {"Running": True, "ExitCode": None},
                           {"Running": False, "ExitCode": 3})
    assert program.running
    assert program.running
    assert program.exit_code is None
    assert not program.running
    assert program.exit_code == 3


def test_a_program_that_outlives_its_signals_is_an_error_not_a_silence() -> None:
    """stop() used to swallow the timeout and leave the process running."""
    execs: list[list[str]] = []
    engine = SimpleNamespace(exec_state=lambda _id: (True, None))
    lab = SimpleNamespace(engine=engine, exec=lambda host, argv, user="": execs.append(argv))
    program = HostProgram(lab, "h1", ["sleep", "1000"])  # type: ignore[arg-type]
    program._exec_id = "abc"
    with pytest.raises(ProgramError, match="still running after SIGTERM and SIGKILL"):
        program.stop(timeout=0.1)
    kills = [argv[-1] for argv in execs if "kill" in argv[-1]]
    assert len(kills) == 2 and "-TERM --" in kills[0] and "-KILL --" in kills[1]
    assert program.stop() is None, "a second stop() does nothing"
