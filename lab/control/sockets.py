"""What ``ss`` and /proc on a program's host say about it: the sockets it listens on, the
connections it accepted, its peak memory. A mixin of ``HostProgram``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lab.control.wait import wait_until
from lab.errors import NotListeningError, ProgramEndedError, WaitTimeoutError

if TYPE_CHECKING:
    from lab.control.lab import Lab


class HostSockets:
    lab: Lab
    host: str
    label: str
    user: str
    exit_code: int | None
    _eof: bool

    def _fail_if_ended(self, what: str) -> None:  # HostProgram's
        raise NotImplementedError

    def _pids(self) -> str:  # HostProgram's
        raise NotImplementedError

    @property
    def stderr(self) -> str:  # Output's
        raise NotImplementedError

    def wait_listening(self, port: int, proto: str = "udp", timeout: float = 10) -> None:
        """Wait until a socket on this host listens on ``port`` on every address (``ss``).

        A program that ends first, binds only 127.0.0.1, or binds nothing in time is
        diagnosed (ProgramEndedError, NotListeningError) with what ``ss`` shows instead.
        """
        __tracebackhide__ = True
        flag = {"udp": "-u", "tcp": "-t"}[proto]
        what = f"it bound {proto} port {port}"

        def bound() -> list[str]:
            self._fail_if_ended(what)
            out = self._watch(f"ss -Hln {flag} 'sport = :{port}'", '[ -n "$out" ]')
            return [line.split()[3] for line in out.splitlines() if len(line.split()) > 3]

        try:
            local = wait_until(bound, timeout, f"{proto} port {port} to listen on {self.host}", interval=0)
        except WaitTimeoutError:
            if self._eof:
                raise ProgramEndedError(self.label, self.exit_code, what, self.stderr) from None
            raise NotListeningError(self.label, proto, port, f"it bound nothing there within {timeout:g}s; "
                                    f"`ss -lnptu` on {self.host} shows: {self.sockets()}") from None
        if all(addr.startswith(("127.", "[::1]")) for addr in local):
            raise NotListeningError(self.label, proto, port, f"it is bound to {', '.join(local)} only, which no "
                                    "other host can reach: bind to '' (every address of the host)")

    def wait_accepted(self, port: int, count: int, timeout: float = 10) -> None:
        """Wait until this host's program has accept()ed ``count`` connections on tcp ``port``:
        that many are established and none still waits in the listening socket's queue."""
        __tracebackhide__ = True
        seen = ""

        def accepted() -> bool:
            nonlocal seen
            self._fail_if_ended(f"it accepted {count} connections")
            enough = (f"[ $(echo \"$out\" | grep -c ^ESTAB) -ge {count} ] && "
                      "[ $(echo \"$out\" | awk '$1 == \"LISTEN\" {q += $2} END {print q + 0}') -eq 0 ]")
            rows = [line.split() for line in self._watch(f"ss -Htna 'sport = :{port}'", enough).splitlines()]
            queued = sum(int(r[1]) for r in rows if r[0] == "LISTEN")  # Recv-Q: connections not yet accepted
            established = sum(r[0] == "ESTAB" for r in rows)
            seen = f"{established} established, {queued} of them waiting for accept()"
            return established >= count and queued == 0

        try:
            wait_until(accepted, timeout, f"{self.label} to accept {count} connections on tcp port {port}", interval=0)
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(exc.what, timeout, f"`ss` on {self.host} shows {seen}") from None

    def _watch(self, command: str, done: str, seconds: float = 0.5) -> str:
        """Run ``command`` on the host every 10 ms until the shell test ``done`` holds for its
        output (``$out``) or ``seconds`` pass, and return the last output: one command per half
        second instead of one per poll."""
        rounds = int(seconds / 0.01)
        script = (f'i=0; while :; do out=$({command}); if {done} || [ $i -ge {rounds} ]; then break; fi; '
                  'i=$((i + 1)); sleep 0.01; done; printf "%s" "$out"')
        return self.lab.exec(self.host, ["sh", "-c", script]).stdout

    def peak_memory_kib(self) -> int:
        """The peak resident memory so far (VmHWM) of the program's biggest process, in KiB."""
        script = f"for p in $({self._pids()}); do cat /proc/$p/status; done"
        status = self.lab.exec(self.host, ["sh", "-c", script], user=self.user, check=True).stdout
        return max(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))

    def sockets(self) -> str:
        """The listening sockets on this program's host, as ``ss`` shows them (for diagnoses)."""
        rows = []
        for line in self.lab.exec(self.host, ["ss", "-Hlnptu"]).stdout.splitlines():
            cols = line.split()
            if len(cols) >= 5:
                users = re.findall(r'\("([^"]+)"', line)
                rows.append(f"{cols[0]} {cols[4]}" + (f" ({', '.join(users)})" if users else ""))
        return "; ".join(rows) or "no listening sockets at all"

