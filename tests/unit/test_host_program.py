"""HostProgram's reading of Docker's exec state, with Docker's answers scripted."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from lab.control.output import in_words
from lab.control.programs import HostProgram, stop_all
from lab.errors import ProgramError, ProgramSilentError
from tests.unit.fakes import FakeChannel, session


def program_with(channel: FakeChannel, lab: Any = None) -> HostProgram:
    """A started program whose exec is ``channel``."""
    lab = lab or SimpleNamespace()
    lab.open_session = lambda host, argv, **kw: session(channel)
    return HostProgram(lab, "h1", ["true"]).start()


def test_an_exec_not_started_yet_is_not_over() -> None:
    """No exit code before the process starts (nor while it runs): not ended yet."""
    program = program_with(FakeChannel([None, None, 3]))
    assert program.running
    assert program.running
    assert program.exit_code is None
    assert not program.running
    assert program.exit_code == 3


def test_a_program_that_outlives_its_signals_is_an_error_not_a_silence() -> None:
    """stop() used to swallow the timeout and leave the process running."""
    execs: list[list[str]] = []
    lab = SimpleNamespace(exec=lambda host, argv, user="": execs.append(argv))
    program = program_with(FakeChannel([None]), lab)
    with pytest.raises(ProgramError, match="still running after SIGTERM and SIGKILL"):
        program.stop(timeout=0.1)
    kills = [argv[-1] for argv in execs if "kill" in argv[-1]]
    assert len(kills) == 2 and "-TERM --" in kills[0] and "-KILL --" in kills[1]
    assert program.stop() is None, "a second stop() does nothing"


def heard(*lines: str) -> HostProgram:
    """A program that printed ``lines`` and goes on running, saying nothing more."""
    program = HostProgram(SimpleNamespace(engine=None), "h2", ["lab", "chat-client"],  # type: ignore[arg-type]
                          label="bob's chat-client")
    program._out[1] = list(lines)
    return program


def test_a_silent_program_is_described_in_plain_words() -> None:
    program = heard('{"event": "connected", "peer": "srv:9030"}')
    with pytest.raises(ProgramSilentError) as caught:
        program.wait_event("received", timeout=0.05, text="alice说:hello")
    said = str(caught.value)
    assert said == ("bob's chat-client on h2 did not report received ‘alice说:hello’ within 0.05 s; "
                    "the last thing it printed was connected (peer srv:9030)")
    assert "{" not in said and "HostProgram(" not in said and "event(s)" not in said


def test_a_missing_line_and_a_silent_program() -> None:
    with pytest.raises(ProgramSilentError, match=r"^bob's chat-client on h2 printed no line matching ‘bye’ within "
                                                 r"0.05 s; it printed nothing$"):
        heard().wait_line("bye", timeout=0.05)
    with pytest.raises(ProgramSilentError, match=r"reported 1 of the 2 `received` events waited for within 0.05 s; "
                                                 r"the last thing it printed was received ‘hi’$"):
        heard('{"event": "received", "text": "hi"}').wait_event("received", timeout=0.05, count=2)


def test_plain_lines_stay_as_they_were_printed() -> None:
    assert in_words("hello there") == "‘hello there’"
    assert in_words('{"event": "sent", "text": "x", "bytes": 1, "t": 3.2}') == "sent ‘x’ (bytes 1)"
    assert in_words('["not", "an event"]') == "‘[\"not\", \"an event\"]’"


class SlowToStop:
    """A program whose stop lasts until every other one's has begun (a barrier): stopped one
    after another, the first would wait in vain."""

    def __init__(self, barrier: threading.Barrier, fails: bool = False) -> None:
        self.barrier, self.fails, self.stopped = barrier, fails, False

    def stop(self, timeout: float) -> None:
        self.barrier.wait(timeout=5)
        self.stopped = True
        if self.fails:
            raise ProgramError("still running after SIGTERM and SIGKILL")


def test_programs_are_stopped_at_once_and_the_first_failure_comes_after_all() -> None:
    barrier = threading.Barrier(4)
    programs = [SlowToStop(barrier, fails=n == 1) for n in range(4)]
    with pytest.raises(ProgramError, match="still running"):
        stop_all(programs)  # type: ignore[arg-type]
    assert all(p.stopped for p in programs)
    stop_all([])
