"""The one socklab error hierarchy.

Every error builds its message from structured arguments and says what failed and, where
there is one, what to do next. Command-line entry points print the message and exit 1.
Standard library only: the programs inside the lab use it too.
"""

from __future__ import annotations

from collections.abc import Iterable


class LabError(Exception):
    """Base of every error socklab raises on purpose."""


class ArgumentError(LabError):
    """A command-line argument socklab cannot use: rejected before anything starts."""

    def __init__(self, option: str, value: object, wanted: str) -> None:
        self.option = option
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        super().__init__(f"{option} {shown}: {wanted}")


class DockerUnavailableError(LabError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"cannot reach the Docker engine ({detail}): is Docker installed and running, "
            "and may this user use it?"
        )


class DockerError(LabError):
    """The Docker engine refused a request (the Engine translates every docker SDK error into
    this, in one place). ``status``: the HTTP status Docker answered (404: no such container,
    network or image; 409: a conflict, such as a container that is not running), else None."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(f"Docker refused: {detail}")

    @property
    def gone(self) -> bool:
        """What was asked about no longer exists (removed meanwhile)."""
        return self.status == 404


class SessionEndedError(LabError):
    """An exec session whose command reads no more input (it has ended)."""

    def __init__(self, session: str, problem: str) -> None:
        super().__init__(f"{session or 'the command'}: {problem}")


class NetworkKeptError(LabError):
    """Docker keeps a removed lab's network: it has an endpoint, and lists none (Docker 20.10
    now and then, when containers on it are removed at once). Docker's fault, not the lab's."""

    def __init__(self, network: str, timeout: float) -> None:
        super().__init__(f"network {network} still has containers attached after {timeout:g}s: none listed "
                         "(Docker keeps an endpoint it no longer lists; restarting dockerd clears it)")


class ComposeNotFoundError(LabError):
    def __init__(self) -> None:
        super().__init__(
            "neither `docker compose` (v2) nor `docker-compose` (v1) is installed: "
            "install one of them"
        )


class ComposeError(LabError):
    def __init__(self, command: list[str], output: str) -> None:
        self.command = command
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-8:])
        super().__init__(f"`{' '.join(command)}` failed:\n{tail}")


class LabNotRunningError(LabError):
    def __init__(self, lab: str) -> None:
        self.lab = lab
        hint = "invoke up" if lab == "socklab" else f"invoke up --name {lab}"
        super().__init__(f"lab `{lab}` is not running: run `{hint}`")


class HostNotRunningError(LabError):
    def __init__(self, lab: str, host: str, state: str) -> None:
        super().__init__(
            f"host `{host}` of lab `{lab}` is {state}, not running: run `invoke up` to recover it"
        )


class UnknownHostError(LabError):
    def __init__(self, name: str, valid: Iterable[str]) -> None:
        self.name = name
        self.valid = sorted(valid)
        super().__init__(
            f"`{name}` is not a host of this lab; the hosts are: {', '.join(self.valid)}"
        )


class InvalidLabNameError(LabError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"`{name}` cannot name a lab: use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )


class SubnetTakenError(LabError):
    def __init__(self, subnet: str, network: str) -> None:
        self.subnet = subnet
        self.network = network
        super().__init__(
            f"subnet {subnet} overlaps Docker network `{network}`: choose another "
            "--prefix, or remove that network"
        )


class NoFreeSubnetError(LabError):
    def __init__(self, tried: int) -> None:
        super().__init__(
            f"all {tried} candidate lab prefixes overlap existing Docker networks: "
            "remove unused labs (`invoke clean`) or pass --prefix"
        )


class TopologyError(LabError):
    """A compose file that does not describe a valid lab; names file and field."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: {field}: {problem}")


class ImageError(LabError):
    pass


class GradingError(LabError):
    """A class that cannot be graded as asked (no such folder, a broken hidden-checks file), or
    one submission that cannot (nothing to grade): the latter is that student's line only."""


class PictureError(LabError):
    """A picture or report that cannot be made: a missing tool (Graphviz, Chromium), a bad name."""


class ToolMissingError(PictureError):
    """An optional program (Graphviz, Chromium) is not installed: what needs it is left out."""

    def __init__(self, tool: str, install: str, used_for: str) -> None:
        self.tool = tool
        self.install = install
        super().__init__(f"{tool} is not installed (it {used_for}): `{install}`")


class WorkspaceError(LabError):
    def __init__(self, path: object, problem: str, what_to_do: str = "choose another folder with --workspace") -> None:
        super().__init__(f"workspace {path}: {problem}: {what_to_do}")


class UnknownExerciseError(LabError):
    def __init__(self, name: str, valid: Iterable[str]) -> None:
        super().__init__(f"no exercise `{name}`; the exercises are: {', '.join(sorted(valid))}")


class UnknownScenarioError(LabError):
    def __init__(self, name: str, valid: Iterable[str]) -> None:
        super().__init__(f"no scenario `{name}`; the scenarios are: {', '.join(sorted(valid))}")


class ScenarioNeedsError(LabError):
    def __init__(self, scenario: str, needs: str, topology: str, unmet: str, play_on: str = "") -> None:
        shown = f"the {play_on} topology (`invoke up --name NAME --topology {play_on}`" if play_on \
            else "the default topology (`invoke up --name NAME`"
        super().__init__(f"scenario `{scenario}` needs {needs}; this lab runs {topology}, and {unmet}. "
                         f"Play it on a lab of {shown}, then `--name NAME` here)")


class UnknownRoleError(LabError):
    def __init__(self, scenario: str, role: str, valid: Iterable[str]) -> None:
        self.role = role
        super().__init__(f"scenario `{scenario}` has no role `{role}`; its roles are: {', '.join(valid)}")


class RoleSpecError(LabError):
    def __init__(self, given: str) -> None:
        super().__init__(f"--role takes ROLE=COMMAND, not {given!r}")


class NothingToCheckError(WorkspaceError):
    def __init__(self, folder: object, exercise: str, roles: Iterable[str]) -> None:
        super().__init__(folder, "none of your programs is here",
                         f"`invoke exercise {exercise}` copies the starters there ({', '.join(roles)})")


class LabConflictError(LabError):
    """The lab already runs with another setting (prefix, workspace) than the one asked for."""

    def __init__(self, lab: str, what: str) -> None:
        super().__init__(f"lab `{lab}` already {what}: `invoke down --name {lab}` before changing it")


class ImpairError(LabError):
    """An impairment that cannot be applied as asked (bad settings, or the host refused it)."""


class CaptureError(LabError):
    pass


class PcapError(LabError):
    def __init__(self, source: object, problem: str) -> None:
        super().__init__(f"{source}: not a pcap file ({problem}): give one that `invoke capture` or "
                         "`tcpdump -w` wrote (pcapng: save it as pcap in Wireshark)")


class CommandFailedError(LabError):
    def __init__(self, host: str, command: list[str], exit_code: int, output: str) -> None:
        self.host = host
        self.command = command
        self.exit_code = exit_code
        self.output = output
        super().__init__(
            f"on {host}: `{' '.join(command)}` exited {exit_code}:\n{output.strip()[-2000:]}"
        )


class WaitTimeoutError(LabError):
    def __init__(self, what: str, timeout: float, last: str = "") -> None:
        self.what = what
        self.timeout = timeout
        detail = f" (last seen: {last})" if last else ""
        super().__init__(f"timed out after {timeout:g}s waiting for {what}{detail}")


class ProgramSilentError(WaitTimeoutError):
    """A program did not say what a step waited for: in plain words, with the last it said."""

    def __init__(self, program: str, missed: str, timeout: float, last: str = "") -> None:
        self.what = missed
        self.timeout = timeout
        said = f"the last thing it printed was {last}" if last else "it printed nothing"
        LabError.__init__(self, f"{program} {missed} within {timeout:g} s; {said}")


class CaptureIncompleteError(LabError):
    def __init__(self, dropped: dict[str, int]) -> None:
        self.dropped = dropped
        where = ", ".join(f"{n} on {host}" for host, n in sorted(dropped.items()))
        super().__init__(
            f"the capture missed packets ({where} dropped by the kernel: tcpdump fell behind), so what it "
            "shows is incomplete: capture fewer packets (a narrower filter) or a slower exchange"
        )


class ProgramError(LabError):
    """A program in a role misbehaved: evidence for a failed check, never a crash of socklab."""


#: Exit statuses of a program a signal ended (128 + the signal), and what usually sent it.
KILLED = {137: " (killed: SIGKILL, as the kernel does when a host runs out of memory)",
          152: " (killed: SIGXCPU, its CPU time limit)", 153: " (killed: SIGXFSZ, it wrote too large a file)",
          -9: " (killed: SIGKILL, as the kernel does when a host runs out of memory)"}


class ProgramEndedError(ProgramError):
    def __init__(self, program: str, exit_code: int | None, waiting_for: str, stderr: str) -> None:
        self.exit_code = exit_code
        said = "\n".join(f"    {line}" for line in stderr.strip().splitlines()[-12:]) or "    (nothing)"
        super().__init__(f"{program} ended with exit status {exit_code}{KILLED.get(exit_code or 0, '')} before "
                         f"{waiting_for}; the end of its stderr:\n{said}")


class ProgramHungError(ProgramError):
    def __init__(self, program: str, seconds: float, waiting_for: str) -> None:
        super().__init__(f"{program} was still running after {seconds:g}s, its time limit for {waiting_for}: "
                         "socklab stopped it")


class NotListeningError(ProgramError):
    def __init__(self, program: str, proto: str, port: int, problem: str) -> None:
        self.proto = proto
        self.port = port
        super().__init__(f"{program} should have bound {proto} port {port} on every address, but {problem}")


class RefusedError(LabError):
    """A web request socklab will not carry out (a path outside the workspace, a body too
    large, a capture that is not there): the HTTP status it answers with, and why."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(reason)


class RosterError(LabError):
    """A class roster or the server's state folder that `invoke serve` cannot use: the file,
    the line when there is one, and what is wrong."""

    def __init__(self, file: object, problem: str, line: int | None = None) -> None:
        where = f"{file}, line {line}" if line else f"{file}"
        super().__init__(f"{where}: {problem}")
