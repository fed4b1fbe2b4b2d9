"""Every task, given arguments it cannot use, says so in one line and exits 1: no traceback.

Each runs through invoke's own Program, as `invoke ...` parses and runs it, in this process
(about 60 processes would take half the unit run), with Docker out of reach (DOCKER_HOST points
nowhere), so each line below is said before a task reaches Docker; one runs as a process of its
own, as a person types it. The ones that need a lab to know (an unknown host) are in
tests/lab/test_unknown_hosts_and_labs.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PCAP = "tests/unit/fixtures/pcap/tcp-chat.pcap"
N = ["--name", "nolab-edges"]
NOT_A_NAME = "cannot name a lab: use lowercase letters"

# (arguments, what the one line says)
CASES: list[tuple[list[str], str]] = [
    (["up", *N, "--timeout", "-1"], "--timeout -1: give seconds from 1 to 3600"),
    (["up", *N, "--timeout", "1e300"], "--timeout 1e+300: give seconds from 1 to 3600"),
    (["up", *N, "--timeout", "soon"], "'soon' is not a number"),
    (["up", *N, "--prefix", "999.1"], "'999.1' is not two octets like 10.201"),
    (["up", "--name", ""], "`` " + NOT_A_NAME),
    (["up", "--name", "Bad Name"], "`Bad Name` " + NOT_A_NAME),
    (["up", *N, "--workspace", "/etc/passwd"], "workspace /etc/passwd: File exists"),
    (["up", *N, "--topology", "nosuch"], "--topology: nosuch: no such topology; shipped: chain, default"),
    (["up", *N, "--topology", "/etc/passwd"], "/etc/passwd: (top level): must be a mapping"),
    (["up", *N, "--topology", "/etc"], "/etc: (file): cannot read it"),
    (["down", "--name", ""], NOT_A_NAME),
    (["status", "--name", "Bad Name"], NOT_A_NAME),
    (["shell", "h1", "--name", "-x"], NOT_A_NAME),
    (["exec", "h1", "", *N], "COMMAND '': give a command line to run"),
    (["exec", "h1", "   ", *N], "COMMAND '   ': give a command line to run"),
    (["logs", *N, "--follow"], "--follow needs a HOST"),
    (["test", "--workers", "0"], "--workers 0: give a number of test processes from 1 to 16"),
    (["test", "--workers", "-3"], "--workers -3: give a number of test processes from 1 to 16"),
    (["test", "--workers", "two"], "'two' is not a whole number"),
    (["test", "--name", "UP"], NOT_A_NAME),
    (["scenario", "nosuch", *N], "no scenario `nosuch`; the scenarios are: boundaries"),
    (["scenario", "", *N], "no scenario ``"),
    (["scenario", "echo", *N, "--role", "bogus"], "--role takes ROLE=COMMAND, not 'bogus'"),
    (["scenario", "echo", *N, "--role", "nosuch=true"], "scenario `echo` has no role `nosuch`; its roles are"),
    (["exercises", *N, "--workspace", "/etc/passwd"], "workspace /etc/passwd: File exists"),
    (["exercise", "nosuch", *N, "--workspace", "{tmp}/ws"], "no exercise `nosuch`; the exercises are"),
    (["exercise", "", *N, "--workspace", "{tmp}/ws"], "no exercise ``"),
    (["check", "nosuch", *N], "no exercise `nosuch`"),
    (["check", "echo", *N, "--role", "=x"], "--role takes ROLE=COMMAND, not '=x'"),
    (["grade", "/etc", "--exercise", "echo", "--parallel", "0"], "--parallel 0: give a number of labs from 1 to 64"),
    (["grade", "/etc", "--exercise", "echo", "--parallel", "-1"], "--parallel -1: give a number of labs"),
    (["grade", "/etc", "--exercise", "echo", "--parallel", "many"], "'many' is not a whole number"),
    (["grade", "/nonexistent", "--exercise", "echo"], "SUBMISSIONS '/nonexistent': give a folder"),
    (["grade", "/etc/passwd", "--exercise", "echo"], "SUBMISSIONS '/etc/passwd': give a folder"),
    (["grade", "{tmp}/class", "--exercise", "nosuch"], "no exercise `nosuch`"),
    (["grade", "{tmp}/class", "--exercise", "echo", "--checks", "/nonexistent"], "no hidden checks for `echo` there"),
    (["web", *N, "--port", "70000"], "--port 70000: give a TCP port (0: any free one) from 0 to 65535"),
    (["web", *N, "--port", "http"], "'http' is not a whole number"),
    (["web", *N, "--bind", "everywhere"], "--bind 'everywhere': give an IP address, e.g. 127.0.0.1"),
    (["serve", "--roster", "/nonexistent.csv"], "/nonexistent.csv: cannot read it (No such file or directory)"),
    (["serve", "--roster", "/etc/passwd"], "/etc/passwd, line 1: its first line must name the columns: student"),
    (["serve", "--roster", "/etc/passwd", "--port", "70000"], "--port 70000: give a TCP port"),
    (["serve", "--roster", "/etc/passwd", "--idle-minutes", "-1"], "--idle-minutes -1: give minutes from 0.1 to 1440"),
    (["serve", "--roster", "/etc/passwd", "--bind", ""], "--bind '': give an IP address"),
    (["serve", "--roster", "/etc/passwd", "--topology", "nosuch"], "--topology: nosuch: no such topology"),
    (["serve", "--roster", "/etc/passwd", "--topology", "/etc/passwd"], "/etc/passwd: (top level): must be a mapping"),
    (["capture", "h1", *N, "--seconds", "-1"], "--seconds -1: give seconds (0: until Ctrl-C) from 0 to 86400"),
    (["capture", "h1", *N, "--seconds", "99999999999"], "--seconds 1e+11: give seconds"),
    (["capture", "h1", *N, "--seconds", "nan"], "--seconds nan: give seconds"),
    (["capture", "h1", *N, "--out", "/etc/passwd"], "--out '/etc/passwd': cannot be a folder to write in"),
    (["flows", "/etc/passwd", *N], "/etc/passwd: not a pcap file (invalid tcpdump header)"),
    (["flows", "{tmp}/empty.pcap", *N], "not a pcap file"),
    (["flows", "/nonexistent.pcap", *N], "PCAP '/nonexistent.pcap': no such file"),
    (["flows", "/etc", *N], "PCAP '/etc': no such file"),
    (["flows", "", *N], "PCAP '': no such file"),
    (["flows", PCAP, *N, "--out", "/nonexistent/dir/x.html"], "no folder /nonexistent/dir: create it first"),
    (["flows", PCAP, *N, "--out", "{tmp}/x.gif"], "give a file name ending .svg or .html"),
    (["flows", PCAP, *N, "--timeline", "/nonexistent/dir/t.png"], "no folder /nonexistent/dir: create it first"),
    (["flows", PCAP, *N, "--timeline", "{tmp}/t"], "give a file name ending .png or .svg"),
    (["pictures", "--out", "/etc/passwd"], "--out '/etc/passwd': cannot be a folder to write in"),
    (["graph", *N, "--out", "/nonexistent/dir/x.svg"], "no folder /nonexistent/dir: create it first"),
    (["graph", *N, "--out", "{tmp}/x.gif"], "give a file name ending .svg or .png"),
    (["graph", *N, "--out", ""], "--out '': give a file name ending .svg or .png"),
    (["graph", *N, "--topology", "nosuch"], "no such topology"),
    (["impair", "h1", *N, "--loss", "-1"], "--loss is a percentage from 0 to 100, not -1"),
    (["impair", "h1", *N, "--loss", "101"], "--loss is a percentage from 0 to 100, not 101"),
    (["impair", "h1", *N, "--refuse", "1e9"], "--refuse is a percentage from 0 to 100"),
    (["impair", "h1", *N, "--every", "-1"], "--every N drops one packet in every N"),
    (["impair", "h1", *N, "--every", "99999999999"], "--every N drops one packet in every N"),
    (["impair", "h1", *N, "--delay", "-5"], "--delay is milliseconds from 0 to 60000, not -5"),
    (["impair", "h1", *N, "--direction", "sideways"], "--direction is egress, ingress or both"),
    (["impair", "h1", *N, "--rate", "fast"], "--rate 'fast' is not a tc rate"),
    (["impair", "h1", *N], "nothing to do: give --loss"),
    (["bench", "--suite", "nosuch"], "no benchmark 'nosuch'"),
    (["bench", "--rounds", "0"], "--rounds 0: give a number of rounds from 1 to 100"),
    (["bench", "--rounds", "-1"], "--rounds -1: give a number of rounds"),
]
# Tasks with nothing to get wrong, or only an unknown lab or host (a lab test's cases).
NO_BAD_ARGUMENTS = {"build", "doctor", "clean", "topologies", "scenarios"}


def run(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """``invoke ARGS`` as a process of its own."""
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # nothing here reaches a lab
    argv = [a.replace("{tmp}", str(tmp)) for a in args]
    return subprocess.run([sys.executable, "-m", "invoke", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)


def run_here(args: list[str], tmp: Path, capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """``invoke ARGS`` through invoke's Program in this process: a traceback is an exception here."""
    from invoke import Collection, Program

    import tasks

    argv = [a.replace("{tmp}", str(tmp)) for a in args]
    try:
        Program(namespace=Collection.from_module(tasks)).run(["invoke", *argv])
        code: object = 0
    except SystemExit as ended:
        code = ended.code
    except Exception as exc:  # noqa: BLE001  (what escaped is the finding)
        code = f"{type(exc).__name__}: {exc}\nTraceback"
    said = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code if isinstance(code, int) else 1, said.out,
                                       said.err + ("" if isinstance(code, int) else str(code)))


def one_clear_line(args: list[str], said: str, done: subprocess.CompletedProcess[str]) -> str:
    """What is wrong with how ``args`` ended ("" when it ended as it should)."""
    out = (done.stdout + done.stderr).strip()
    if done.returncode != 1 or "Traceback" in out or out.count("\n") or out != f"socklab: {out[9:]}" \
            or said not in out:
        return f"invoke {' '.join(args)}: exit {done.returncode}, said:\n{out[-600:]}\n(wanted: socklab: ...{said}...)"
    return ""


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # nothing here reaches a lab
    monkeypatch.chdir(ROOT)
    (tmp_path / "empty.pcap").write_bytes(b"\0" * 40)
    (tmp_path / "class").mkdir()
    return tmp_path


def test_every_task_refuses_bad_arguments_in_one_line(no_docker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = [problem for args, said in CASES if (problem := one_clear_line(args, said, run_here(args, no_docker,
                                                                                                 capsys)))]
    assert not wrong, "\n\n".join(wrong)


def test_as_a_person_types_it(tmp_path: Path) -> None:
    args, said = ["flows", "/etc/passwd", *N], "/etc/passwd: not a pcap file (invalid tcpdump header)"
    assert one_clear_line(args, said, run(args, tmp_path)) == ""


def test_every_task_is_in_the_table() -> None:
    import tasks

    names = {getattr(tasks, n).name for n in dir(tasks) if hasattr(getattr(tasks, n), "body")}
    assert names - NO_BAD_ARGUMENTS - {args[0] for args, _ in CASES} == set()


@pytest.mark.parametrize("ended, said, wrong", [
    (subprocess.CompletedProcess([], 1, "", "Traceback (most recent call last):\nValueError: x\n"), "x", True),
    (subprocess.CompletedProcess([], 0, "socklab: --rounds 0: give", ""), "--rounds 0", True),
    (subprocess.CompletedProcess([], 1, "", "socklab: one\nsocklab: two\n"), "one", True),
    (subprocess.CompletedProcess([], 1, "", "--rounds 0: give\n"), "--rounds 0", True),
    (subprocess.CompletedProcess([], 1, "", "socklab: something else\n"), "--rounds 0", True),
    (subprocess.CompletedProcess([], 1, "", "socklab: --rounds 0: give\n"), "--rounds 0", False),
])
def test_the_check_fails_a_traceback_a_zero_exit_and_more_than_one_line(
        ended: subprocess.CompletedProcess[str], said: str, wrong: bool) -> None:
    assert bool(one_clear_line(["bench"], said, ended)) == wrong
