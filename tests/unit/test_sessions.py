"""ExecSession over a scripted channel, and HostProgram on it: no Docker."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from lab.control import dockerio
from lab.control.lab import Lab
from lab.control.programs import STDERR, HostProgram
from lab.control.sessions import ExecSession
from lab.errors import LabError, ProgramEndedError, SessionEndedError, WaitTimeoutError
from tests.unit.fakes import FakeChannel, FakeEngine, session


def test_output_comes_in_order_then_ends_for_good() -> None:
    channel = FakeChannel()
    s = session(channel)
    assert s.read(timeout=0.01) is None, "nothing yet is not the end"
    channel.say(b"out")
    channel.say(b"err", STDERR)
    channel.end(3)
    assert s.read_frame(timeout=1) == (1, b"out")
    assert s.read_frame(timeout=1) == (STDERR, b"err")
    assert s.read(timeout=1) == b"" and s.read(timeout=0) == b"", "every read after the end is the end"
    assert s.wait(1) == 3 and s.exit_code == 3


def test_writes_from_many_threads_arrive_whole_and_stdin_closes() -> None:
    channel = FakeChannel()
    s = session(channel)
    threads = [threading.Thread(target=s.write, args=(bytes([65 + n]) * 1000,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(channel.sent) == [bytes([65 + n]) * 1000 for n in range(8)]
    s.close_stdin()
    with pytest.raises(SessionEndedError, match="cmd on h1: cannot write to it"):
        s.write(b"more")


def test_resize_needs_a_pty_and_close_ends_the_output() -> None:
    with pytest.raises(LabError, match="no pty to resize"):
        session(FakeChannel()).resize(24, 80)
    channel = FakeChannel()
    tty = session(channel, tty=True)
    tty.resize(40, 120)
    assert channel.sizes == [(40, 120)]
    tty.close()
    assert tty.read(timeout=1) == b"" and channel.closed


def test_a_session_still_running_is_a_timeout() -> None:
    with pytest.raises(WaitTimeoutError, match="cmd on h1 to end"):
        session(FakeChannel()).wait(0.05)


def started(engine: FakeEngine) -> tuple[HostProgram, FakeChannel]:
    engine.add("t", "h1")
    program = HostProgram(Lab(engine, "t"), "h1", ["lab", "udp-recv", "--json"])  # type: ignore[arg-type]
    program.start()
    return program, engine.channels[-1]


def test_the_output_pump_splits_lines_across_chunks_and_streams() -> None:
    program, channel = started(FakeEngine())
    channel.say(b'{"event": "listen')
    channel.say(b'ing", "port": 9000}\nhal')
    channel.say(b"oops\n", STDERR)
    assert program.wait_event("listening", timeout=1, port=9000)[0]["port"] == 9000
    channel.say(b"f a line\n")
    assert program.wait_line("a line$", timeout=1) == "half a line"
    assert program.stderr == "oops"
    program.send_line("hello")
    assert channel.sent == [b"hello\n"] and program.stdin == ["hello\n"]


def test_a_program_that_ended_is_not_waited_for_in_vain() -> None:
    program, channel = started(FakeEngine())
    channel.say(b"Traceback: boom\n", STDERR)
    channel.end(1)
    with pytest.raises(ProgramEndedError, match=r"ended with exit status 1 before it printed no|Traceback: boom"):
        program.wait_line("never", timeout=5)
    assert program.exit_code == 1


def test_stop_signals_then_waits_and_keeps_the_status() -> None:
    engine = FakeEngine()
    program, channel = started(engine)
    original = engine.exec

    def kill(container, cmd, user="", environment=None):  # type: ignore[no-untyped-def]
        if "kill" in cmd[-1]:
            channel.end(143)  # SIGTERM ends it
        return original(container, cmd, user, environment)

    engine.exec = kill  # type: ignore[method-assign]
    assert program.stop(timeout=1) == 143
    signals = [cmd[-1] for _, cmd in engine.commands if "kill" in cmd[-1]]
    assert len(signals) == 1 and "-TERM --" in signals[0], "SIGTERM was enough: no SIGKILL"
    assert channel.closed and program.stop() == 143


class PtySocket(FakeChannel):
    """A pty's exec over a local socket, as Docker's is: the test holds the command's end."""

    def __init__(self) -> None:
        super().__init__()
        self.ours, self.command = socket.socketpair()

    def socket(self) -> socket.socket | None:  # type: ignore[override]
        return None if self.closed else self.ours

    def send(self, data: bytes) -> None:
        self.ours.sendall(data)

    def close(self) -> None:
        super().close()
        self.ours.close()


async def followed(s: ExecSession) -> asyncio.Queue[bytes]:
    out: asyncio.Queue[bytes] = asyncio.Queue()
    s.follow(lambda _stream, chunk: out.put_nowait(chunk), asyncio.get_running_loop())
    return out


def test_a_loop_reads_a_pty_socket_itself_with_no_thread_until_the_command_ends() -> None:
    async def main() -> None:
        channel = PtySocket()
        threads = threading.active_count()
        s = ExecSession(channel, tty=True, label="terminal on h1", pump=False)
        out = await followed(s)
        channel.command.sendall(b"$ ")
        assert await asyncio.wait_for(out.get(), 5) == b"$ "
        assert threading.active_count() == threads, "no reader thread"
        s.write(b"ls\r")
        assert channel.command.recv(16) == b"ls\r"
        channel.command.close()  # the command ended
        assert await asyncio.wait_for(out.get(), 5) == b"" and s.ended

    asyncio.run(main())


def test_closing_from_another_thread_ends_the_reading_in_its_loop() -> None:
    async def main() -> None:
        channel = PtySocket()
        s = ExecSession(channel, tty=True, label="terminal on h1", pump=False)
        out = await followed(s)
        await asyncio.to_thread(s.close)  # as the terminal's hang-up does, from a worker thread
        assert await asyncio.wait_for(out.get(), 5) == b"" and channel.closed and s.ended
        s.close()  # twice: nothing more

    asyncio.run(main())


def test_a_channel_without_a_plain_socket_is_read_by_a_thread_into_the_loop() -> None:
    async def main() -> None:
        channel = FakeChannel()
        s = ExecSession(channel, tty=True, label="terminal on h1", pump=False)
        channel.say(b"before")  # nothing reads it until followed
        out = await followed(s)
        channel.say(b"after")
        channel.end(0)
        assert [await asyncio.wait_for(out.get(), 5) for _ in range(3)] == [b"before", b"after", b""]

    asyncio.run(main())


class ClosedMidRead(socket.SocketIO):
    """A connection whose close() (another thread's) lands after a read's checks, before it reads."""

    def _checkReadable(self) -> None:  # noqa: N802 (io's name)
        super()._checkReadable()
        self.close()


class Buggy(socket.SocketIO):
    def readinto(self, b: object) -> int:
        raise AttributeError("a bug of the reading side")


def test_a_connection_closed_under_a_read_ends_the_output_not_the_thread() -> None:
    here, there = socket.socketpair()
    there.sendall(b"\x01\x00\x00\x00\x00\x00\x00\x02hi")  # one stdout frame: the read wakes
    channel = dockerio.DockerChannel(None, "exec-1", ClosedMidRead(here, "rb"), False, lambda call: call())
    assert list(channel.frames()) == [], "ended, as on EOF: no AttributeError from a socket already gone"
    here.sendall(b"\x01")  # the other way: a read on there wakes
    with pytest.raises(AttributeError, match="a bug"):  # open still: the error is an error
        list(dockerio.DockerChannel(None, "exec-2", Buggy(there, "rb"), False, lambda call: call()).frames())
    here.close()
    there.close()
