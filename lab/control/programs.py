"""Run a program on a lab host in the background and drive it from a test.

    with HostProgram(lab, "srv", ["lab", "udp-recv", "--port", "9000", "--json"]) as recv:
        recv.wait_listening(9000, "udp")
        ...
        event = recv.wait_event("received", peer_ip="10.201.1.11")
    # leaving the block stops it (SIGTERM, then SIGKILL) and keeps its transcript

The program runs through the Docker exec API with stdin attached, so a test can type into
it (``send_line``), close its stdin (EOF), read stdout and stderr as lines, wait for a line
or a ``--json`` event with a timeout, and stop it by signal. Nothing here sleeps to
synchronise: every wait is on a condition.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lab.control.lab import Lab
from lab.control.output import Output, quoted
from lab.control.sessions import STDERR, STDOUT, ExecSession
from lab.control.sockets import HostSockets
from lab.control.wait import wait_until
from lab.errors import (
    DockerError,
    HostNotRunningError,
    LabNotRunningError,
    ProgramEndedError,
    ProgramError,
    ProgramSilentError,
    SessionEndedError,
    WaitTimeoutError,
)


class HostProgram(Output, HostSockets):
    def __init__(self, lab: Lab, host: str, argv: Sequence[str], user: str = "", workdir: str = "",
                 label: str = "") -> None:
        self.lab = lab
        self.host = host
        self.argv = list(argv)
        self.user = user
        self.workdir = workdir
        self.label = f"{label or self.argv[0]} on {host}"
        self.stdin: list[str] = []  # what was typed into it, for the transcript
        Output.__init__(self)
        # In the program's environment and its children's: how its processes are found on the
        # host (no pidfile, which a program that fills the disk would keep from being written).
        self.mark = f"SOCKLAB_RUN={uuid.uuid4().hex[:12]}"
        self._eof = False
        self._session: ExecSession | None = None
        self._reader: threading.Thread | None = None
        self.exit_code: int | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"HostProgram({self.host}: {' '.join(self.argv)})"

    def __str__(self) -> str:
        return self.label

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> HostProgram:
        marked = ["env", self.mark, *self.argv]
        self._session = self.lab.open_session(self.host, marked, user=self.user, workdir=self.workdir,
                                              label=self.label)
        self._reader = threading.Thread(target=self._read, name=f"read {self!r}", daemon=True)
        self._reader.start()
        return self

    def __enter__(self) -> HostProgram:
        return self.start() if self._session is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read(self) -> None:
        assert self._session is not None
        try:
            for stream, chunk in self._session:
                with self._changed:
                    self._keep(stream, chunk)
                    self._changed.notify_all()
        finally:
            with self._changed:
                for stream, rest in self._partial.items():
                    if rest:
                        self._out[stream].append(rest.decode(errors="replace"))
                self._partial = {STDOUT: b"", STDERR: b""}
                self._eof = True
                self._changed.notify_all()

    @property
    def running(self) -> bool:
        if self._session is None:
            return False
        # An exec that has not started yet has no exit code either: it has ended only once
        # Docker records its exit code.
        self.exit_code = self._session.exit_code
        return self.exit_code is None

    def wait_exit(self, timeout: float = 10) -> int:
        """Wait until the program ends by itself; return its exit status.

        The end of its output stream says when (no polling of Docker meanwhile); Docker then
        records the exit status a moment later, which is asked for until it is there."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._changed:
            ended = self._changed.wait_for(lambda: self._eof, timeout)
        if not ended:
            raise WaitTimeoutError(f"{self!r} to exit", timeout)
        wait_until(lambda: not self.running, max(deadline - time.monotonic(), 1.0), f"{self!r} to exit", interval=0.05)
        assert self.exit_code is not None
        return self.exit_code

    def _pids(self) -> str:
        """Shell: the pids of the program's processes (those carrying its mark), as its own user
        (who alone may read their environment: the hosts' root has no CAP_SYS_PTRACE)."""
        return f"grep -lxzF '{self.mark}' /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3"

    def signal(self, sig: str = "TERM") -> None:
        """Send ``sig`` to the process groups of the program's processes: each process once (a
        second SIGINT would cut a clean shutdown short), and a child that dropped the mark from
        its environment still gets it through its parent's group."""
        # procps kill: `-SIG -- -PGID ...`; an empty list, or group 1, is never passed on (kill -1: everyone)
        groups = "ps -o pgid= -p \"$p\" | sort -u | awk '$1 > 1 {printf \" -%s\", $1}'"
        script = f'p=$({self._pids()} | paste -sd,) && [ -n "$p" ] && g=$({groups}) && [ -n "$g" ] ' \
                 f'&& exec /bin/kill -{sig} -- $g'
        self.lab.exec(self.host, ["sh", "-c", script], user=self.user)

    def stop(self, timeout: float = 5) -> int | None:
        """SIGTERM to its process group, then SIGKILL if it does not end within ``timeout``;
        its exit status. One that outlives both is a ProgramError. Safe to call twice."""
        if self._session is None or self._stopped:
            return self.exit_code
        try:
            if self.running:
                for sig in ("TERM", "KILL"):
                    self.signal(sig)
                    try:
                        return self.wait_exit(timeout)
                    except WaitTimeoutError:
                        continue
                raise ProgramError(f"{self.label} is still running after SIGTERM and SIGKILL to its process "
                                   "group: socklab could not stop it")
            return self.wait_exit(timeout)
        except (HostNotRunningError, LabNotRunningError):
            return self.exit_code  # the host itself is gone: so is the program
        except DockerError as exc:
            if not exc.gone:
                raise
            return self.exit_code
        finally:
            self._stopped = True
            self._close()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()

    # --- input -----------------------------------------------------------------------
    def send(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.stdin.append(data.decode(errors="replace"))
        if self._session is None:
            raise ProgramError(f"{self.label} was never started: nothing reads what is sent")
        try:
            self._session.write(data)
        except SessionEndedError:
            pass  # the program is gone and reads no more: what it did is the evidence

    def send_line(self, line: str) -> None:
        self.send(line + "\n")

    def close_stdin(self) -> None:
        """End of input: the program reads EOF."""
        if self._session is not None:
            self._session.close_stdin()

    # --- output ----------------------------------------------------------------------
    def wait_line(self, match: str | Callable[[str], bool], timeout: float = 10,
                  stream: int = STDOUT, what: str = "") -> str:
        """The first line (already printed or still to come) that matches (``what`` describes it)."""
        __tracebackhide__ = True
        test = (lambda line: re.search(match, line) is not None) if isinstance(match, str) else match
        what = what or f"line matching ‘{match}’"

        def found() -> str | None:
            with self._changed:
                hit = next((line for line in self._out[stream] if test(line)), None)
                if hit is None:
                    self._wait_for_output(what)
                return hit

        try:
            return wait_until(found, timeout, f"{what} from {self.label}", interval=0)
        except WaitTimeoutError:
            raise ProgramSilentError(self.label, f"printed no {what}", timeout, self.last_said()) from None

    def wait_event(self, event: str, timeout: float = 10, count: int = 1, **fields: Any) -> list[dict[str, Any]]:
        """Wait until ``count`` --json events named ``event`` (with these field values) arrived."""
        __tracebackhide__ = True

        def matching() -> list[dict[str, Any]]:
            return [e for e in self.events()
                    if e.get("event") == event and all(e.get(k) == v for k, v in fields.items())]

        def enough() -> list[dict[str, Any]] | None:
            with self._changed:
                hits = matching()
                if len(hits) >= count:
                    return hits
                self._wait_for_output(f"{count} `{event}` event(s)")
            return None

        try:
            return wait_until(enough, timeout, f"{count} `{event}` event(s) from {self.label}", interval=0)
        except WaitTimeoutError:
            missed = f"did not report {event} {quoted(fields['text'])}" if "text" in fields else \
                f"reported {len(matching())} of the {count} `{event}` events waited for"
            raise ProgramSilentError(self.label, missed, timeout, self.last_said()) from None

    def _wait_for_output(self, what: str) -> None:
        """Under ``_changed``: wait a little for more output; none will come once it ended."""
        self._fail_if_ended(what)  # the reader is done: holding the (reentrant) lock blocks no one
        self._changed.wait(timeout=0.2)

    def _fail_if_ended(self, what: str) -> None:
        """A program that has ended will not do ``what``: ProgramEndedError, with its status."""
        if self._eof:
            self.wait_exit(5)
            raise ProgramEndedError(self.label, self.exit_code, what, self.stderr)


def stop_all(programs: Iterable[HostProgram], timeout: float = 5) -> None:
    """Stop ``programs`` at once, each as ``HostProgram.stop`` does. One after another, every
    program that takes its time over a clean shutdown (a chat client waits up to 5 s for the
    server to close after its `bye`) added that time to the others': four such clients left
    by a server that stopped reading took 20 s to stop. The first failure is raised once all
    are stopped."""
    programs = list(programs)
    if not programs:
        return
    with ThreadPoolExecutor(len(programs)) as pool:
        stopped = [pool.submit(program.stop, timeout) for program in programs]
    for each in stopped:
        each.result()
