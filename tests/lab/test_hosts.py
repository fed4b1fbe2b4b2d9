"""Each host: confined, equipped, and able to run the lab's programs."""

from __future__ import annotations

import re

import pytest
import testinfra

from lab.control.lab import Lab
from lab.control.topology import Topology
from lab.control.wait import wait_until

pytestmark = pytest.mark.lab

TOOLS = ["ip", "ping", "tcpdump", "ss", "python3", "iptables", "ps", "nc", "tftp", "in.tftpd",
         "atftp", "atftpd", "lab"]


CAP_BITS = {"NET_ADMIN": 12, "NET_RAW": 13, "SYS_MODULE": 16, "SYS_PTRACE": 19, "SYS_ADMIN": 21}  # linux/capability.h


def caps(names: list[str] | None) -> set[str]:
    """Capability names as Compose v1 records them (NET_ADMIN); v2 writes CAP_NET_ADMIN."""
    return {n.removeprefix("CAP_") for n in names or []}


def test_hosts_are_confined(lab: Lab) -> None:
    for name, container in lab.containers().items():
        hc = container.confinement
        assert hc is not None, name
        assert hc.privileged is False, name
        assert hc.init is True, name
        assert caps(list(hc.cap_drop)) == {"ALL"}, name
        assert {"NET_ADMIN", "NET_RAW"} <= caps(list(hc.cap_add)), name
        assert not {"SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "ALL"} & caps(list(hc.cap_add)), name
        # Limits: a fork bomb, a memory hog or a busy loop stops at its own host.
        assert (hc.pids_limit, hc.memory, hc.memory_swap, hc.nano_cpus) == (256, 2**29, 2**29, 10**9), name
        assert not any("docker.sock" in m for m in container.mounts.values()), name
        # What the processes really hold, whatever the configuration says:
        status = lab.exec(name, ["cat", "/proc/1/status"], check=True, prints=True).stdout
        effective = int(re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
        held = {cap for cap, bit in CAP_BITS.items() if effective >> bit & 1}
        assert held == {"NET_ADMIN", "NET_RAW"}, (name, held)


def test_student_writes_only_to_bounded_places(lab: Lab) -> None:
    """Beside the workspace, all `student` may write is small tmpfs: a program writing files
    in a loop fills those (and its host's memory limit), never the Docker host's disk."""
    found = lab.exec("h1", ["sh", "-c", "find / -xdev -writable ! -path '/proc/*' 2>/dev/null"], user="student")
    writable = set(found.stdout.split()) - {"/work", "/var/lock"}  # /var/lock: a link to /run/lock
    assert writable == {"/tmp", "/var/tmp", "/run/lock", "/home/student"}, writable
    sizes = lab.exec("h1", ["df", "--output=target,fstype,size", *sorted(writable)], check=True).stdout
    for line in sizes.splitlines()[1:]:
        target, fstype, kib = line.split()
        assert fstype == "tmpfs" and int(kib) <= 64 * 1024, line
    result = lab.exec("h1", ["sh", "-c", "head -c 100M /dev/zero > /tmp/fill"], user="student")
    assert "No space left on device" in result.stderr, result.output
    lab.exec("h1", ["rm", "-f", "/tmp/fill"], check=True)
    home = lab.exec("h1", ["sh", "-c", "cd && pwd && ls -A && touch mine"], user="student")
    assert home.exit_code == 0 and ".bashrc" in home.stdout, home.output


def test_tools_and_programs_on_every_host(topo: Topology, hosts: dict[str, testinfra.host.Host]) -> None:
    """One command a host (each a `docker exec`): testinfra's ``exists`` for every tool, and
    both ways of starting a lab program."""
    script = " ".join(f"command -v {tool} >/dev/null || echo {tool} missing;" for tool in TOOLS)
    script += (" lab --help | grep -q udp-send || echo lab --help fails;"
               " python3 -m lab --help | grep -q udp-recv || echo python3 -m lab --help fails")
    for name in topo.hosts:
        found = hosts[name].run(script)
        assert (found.rc, found.stdout, found.stderr) == (0, "", ""), name


def test_unprivileged_user_cannot_bind_low_ports(lab: Lab) -> None:
    result = lab.exec("h1", ["lab", "udp-recv", "--port", "1000", "--count", "1"], user="student")
    assert result.exit_code == 1
    assert "permission denied binding 0.0.0.0:1000: ports below 1024 need root" in result.stderr


def test_program_helper_feeds_input_and_reads_output(lab: Lab, run_program) -> None:  # type: ignore[no-untyped-def]
    recv = run_program("b1", ["lab", "udp-recv", "--port", "9072", "--json", "--count", "2"])
    recv.wait_listening(9072)
    send = run_program("h1", ["lab", "udp-send", "b1", "9072", "--json"])
    send.send_line("one")
    send.send_line("two")
    send.close_stdin()
    assert send.wait_exit() == 0
    got = recv.wait_event("received", count=2)
    assert [e["text"] for e in got] == ["one", "two"]
    assert recv.wait_exit() == 0
    sent = send.events()
    assert got[0]["peer"] == sent[0]["local"], "the receiver sees the sender's own address and port"


def test_commands_answer_through_the_hosts_agent_as_through_an_exec(lab: Lab) -> None:
    """``Lab.exec`` hands a command to the host's agent (lab/control/agent.py) where Docker would
    start an exec of its own (a command as a user named, which agents do not serve): the same
    answers, one agent for commands in turn, and one killed on its host is replaced."""
    container = lab.container("h2")
    engine = lab.engine
    for cmd in (["sh", "-c", "echo out; printf 'err' >&2; exit 3"], ["sh", "-c", "kill -9 $$"],
                ["cat", "/etc/hostname"], ["sh", "-c", "printf '%s' \"$HOME:$PATH\"; pwd"]):
        assert engine.exec(container, cmd) == engine.exec(container, cmd, user="root"), cmd
    missing = engine.exec(container, ["no-such-command"])
    assert missing.exit_code == engine.exec(container, ["no-such-command"], user="root").exit_code == 126
    assert 'exec: "no-such-command": executable file not found in $PATH' in missing.stdout
    agents = ["pgrep", "-c", "-f", "socklab-agent"]  # this worker's lab: earlier tests may have left several
    before = lab.exec("h2", agents).stdout.strip()
    for _ in range(5):
        lab.exec("h2", ["true"], check=True)
    assert lab.exec("h2", agents).stdout.strip() == before != "0", "commands in turn start no agent"
    assert engine.exec(container, ["pkill", "-KILL", "-f", "socklab-agent"], user="root").exit_code == 0
    assert lab.exec("h2", ["echo", "again"], check=True).stdout == "again\n"
    wait_until(lambda: lab.exec("h2", agents).stdout.strip() == "1", 5, "one new agent in place of the killed ones")
