"""socklab tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

Each task is a thin layer over lab.control: it parses options, calls the lab, and turns a
LabError into one clear line and exit status 1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from invoke import Context, Exit, task
from rich.console import Console

from lab.control.engine import Engine
from lab.control.lab import DEFAULT_NAME, ROOT, Lab, all_labs
from lab.control.report import print_status
from lab.errors import LabError

console = Console(highlight=False)
NAME_HELP = f"lab name, i.e. its compose project (default {DEFAULT_NAME}); labs run side by side"


def say(message: str) -> None:
    console.print(f"[dim]socklab:[/] {message}")


def reports_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """LabError -> `Exit(message, 1)`; Ctrl-C -> how to clean up."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except LabError as exc:
            raise Exit(f"socklab: {exc}", code=1) from None
        except KeyboardInterrupt:
            raise Exit("socklab: interrupted; `invoke down` removes a half-started lab", code=130) from None

    return wrapper


def open_lab(name: str) -> Lab:
    return Lab(Engine.connect(), name)


@task(help={"force": "rebuild even if an image with this content exists"})
@reports_errors
def build(c: Context, force: bool = False) -> None:
    """Build the host image (bootstrapping the Debian base locally if no registry answers)."""
    tag = Lab(Engine.connect()).build(force=force, say=say)
    say(f"host image {tag} is ready")


@task(help={"name": NAME_HELP, "prefix": "first two octets of the lab's subnets, e.g. 10.201 "
            "(default: the first free one)", "timeout": "seconds to wait for every host to be ready"})
@reports_errors
def up(c: Context, name: str = DEFAULT_NAME, prefix: str = "", timeout: float = 90) -> None:
    """Build if needed, start the lab, and return when every host is ready."""
    lab = open_lab(name)
    started = time.monotonic()
    lab.up(prefix=prefix or None, timeout=timeout, say=say)
    print_status(console, lab.name, lab.running_prefix(), lab.status())
    say(f"lab {name} ready in {time.monotonic() - started:.1f}s; `invoke shell h1` opens a shell on h1")


@task(help={"name": NAME_HELP})
@reports_errors
def down(c: Context, name: str = DEFAULT_NAME) -> None:
    """Remove the lab's containers and networks (only this lab's; safe to run twice)."""
    containers, networks = open_lab(name).down()
    say(f"lab {name}: removed {containers} containers and {networks} networks")


@task(help={"name": NAME_HELP, "json": "print JSON: per host its service, container, state, networks, impairments"})
@reports_errors
def status(c: Context, name: str = DEFAULT_NAME, json_: bool = False) -> None:
    """Show the lab's hosts, their state, addresses and active impairments."""
    from lab.control import impair as impairments

    lab = open_lab(name)
    report = lab.status_json()
    active = impairments.report(lab)
    for host in report["hosts"]:
        host["impairments"] = active.get(host["service"], [])
    if json_:
        print(json.dumps(report, indent=2))
        return
    print_status(console, lab.name, lab.running_prefix(), lab.status())
    for host in report["hosts"]:
        for line in host["impairments"]:
            console.print(f"[yellow]impaired[/] {host['service']}: {line}", markup=True, highlight=False)


@task(help={"host": "lab host, e.g. h1", "name": NAME_HELP, "user": "user on the host (root or student)"})
@reports_errors
def shell(c: Context, host: str, name: str = DEFAULT_NAME, user: str = "") -> None:
    """Open an interactive shell on a lab host."""
    argv = open_lab(name).docker_exec_argv(host, ["bash", "-l"], tty=sys.stdin.isatty(), user=user)
    os.execvp(argv[0], argv)


@task(name="exec", help={"host": "lab host, e.g. h1", "command": "command line to run (quote it)",
                         "name": NAME_HELP, "user": "user on the host (root or student)"})
@reports_errors
def exec_(c: Context, host: str, command: str, name: str = DEFAULT_NAME, user: str = "") -> None:
    """Run a command on a lab host; stdin, output and exit status are the command's own."""
    argv = open_lab(name).docker_exec_argv(host, ["sh", "-c", command], tty=False, user=user)
    os.execvp(argv[0], argv)


@task(help={"host": "only this host (default: every host)", "name": NAME_HELP,
            "follow": "keep printing new lines (one host)"})
@reports_errors
def logs(c: Context, host: str = "", name: str = DEFAULT_NAME, follow: bool = False) -> None:
    """Show the hosts' logs (their start-up and anything their PID 1 printed)."""
    lab = open_lab(name)
    if follow:
        if not host:
            raise Exit("socklab: --follow needs a HOST", code=1)
        os.execvp("docker", ["docker", "logs", "--follow", lab.container(host).id])
    targets = [host] if host else sorted(lab.containers())
    for h in targets:
        for line in lab.container(h).logs().decode(errors="replace").splitlines():
            console.print(f"[bold]{h:>7}[/] | {line}", markup=True)


@task(help={"unit": "only the unit tests (no Docker needed)", "keep": "leave the lab running afterwards",
            "name": NAME_HELP, "k": "only tests matching this pytest -k expression",
            "junit": "write JUnit XML here (default reports/junit.xml)"})
def test(c: Context, unit: bool = False, keep: bool = False, name: str = DEFAULT_NAME, k: str = "",
         junit: str = "reports/junit.xml") -> None:
    """Run the test suite: unit tests, then the lab tests on real containers."""
    # Unit tests first: they need no Docker and fail in seconds.
    paths = ["tests/unit"] if unit else ["tests/unit", "tests/lab"]
    args = [sys.executable, "-m", "pytest", *paths, f"--junitxml={junit}"]
    if not unit:
        args += [f"--lab-name={name}"] + (["--keep-lab"] if keep else [])
    if k:
        args += ["-k", k]
    with c.cd(str(ROOT)):
        result = c.run(" ".join(_quote(a) for a in args), warn=True, pty=False)
    if result is None or result.exited:
        raise Exit(code=result.exited if result is not None else 1)


@task(help={"images": "also remove socklab images (the next `invoke up` rebuilds them)"})
@reports_errors
def clean(c: Context, images: bool = False) -> None:
    """Remove every socklab lab on this machine (and with --images, its images)."""
    engine = Engine.connect()
    for lab in all_labs(engine):
        containers, networks = lab.down()
        say(f"lab {lab.name}: removed {containers} containers and {networks} networks")
    if images:
        for image in engine.client.images.list():
            for tag in image.tags:
                if tag.startswith(("socklab/host:", "socklab/base:")):
                    engine.client.images.remove(tag, force=True)
                    say(f"removed image {tag}")


@task(positional=["scenario"], iterable=["role"],
      help={"scenario": "scenario name (omit to list them)", "name": NAME_HELP,
            "role": "ROLE=COMMAND: run COMMAND in ROLE's place (repeatable)",
            "flows": "show the exchange as a ladder diagram afterwards (default on)"})
@reports_errors
def scenario(c: Context, scenario: str | None = None, name: str = DEFAULT_NAME, role: list[str] | None = None,
             flows: bool = True) -> None:
    """Play a scenario live on the lab and narrate what happened (no name: list them)."""
    from lab.harness import scenario as scenarios

    if not scenario:
        for each in scenarios.names():
            console.print(f"{each:<12} {scenarios.load(each).TITLE}", markup=False)
        return
    lab = open_lab(name)
    if not lab.is_up():
        lab.up(say=say)
    stage = scenarios.play(lab, scenario, scenarios.parse_overrides(role or []),
                           say=lambda text: console.print(text, markup=False, soft_wrap=True), flows=flows)
    failed = [c for c in stage.checks if not c.ok]
    if failed:
        raise Exit(f"socklab: {len(failed)} of {len(stage.checks)} checks failed", code=1)
    say(f"all {len(stage.checks)} checks hold")


@task(help={"host": "lab host to record on (all its interfaces)", "name": NAME_HELP,
            "filter": "a tcpdump (BPF) filter, e.g. 'udp port 69'", "seconds": "stop after N seconds "
            "(default: at Ctrl-C)", "out": "folder for the pcap file (default captures/)"})
@reports_errors
def capture(c: Context, host: str, name: str = DEFAULT_NAME, filter: str = "", seconds: float = 0,
            out: str = "captures") -> None:
    """Record a host's packets into a pcap file that Wireshark opens."""
    from lab.harness.capture import Capture

    cap = Capture(open_lab(name), host, filter).start()
    say(f"capturing on {host}" + (f" for {seconds:g}s" if seconds else "; Ctrl-C stops"))
    try:
        if seconds:
            time.sleep(seconds)  # the duration the person asked for, not a synchronisation
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    cap.stop()
    path = cap.save(ROOT / out / f"{name}-{host}-{time.strftime('%Y%m%d-%H%M%S')}.pcap")
    say(f"wrote {path} ({len(cap.data)} bytes); `invoke flows {path}` draws it")


@task(help={"pcap": "a pcap file (e.g. from `invoke capture`)", "name": NAME_HELP + "; its host names label "
            "the columns when it runs"})
@reports_errors
def flows(c: Context, pcap: str, name: str = DEFAULT_NAME) -> None:
    """Print a ladder diagram of the exchange in a pcap file (like Wireshark's flow graph)."""
    from pathlib import Path

    from lab.control import pcap as decode
    from lab.control.flows import ladder
    from lab.harness.capture import address_names

    lab = open_lab(name)
    names = address_names(lab) if lab.running_prefix() else {}
    path = Path(pcap)
    if not path.is_file():
        raise Exit(f"socklab: no such pcap file: {pcap}", code=1)
    print(ladder(decode.read(path, names)))


@task(help={"host": "lab host to impair", "name": NAME_HELP, "loss": "drop PCT percent of packets at random",
            "every": "drop one packet in every N (deterministic)", "direction": "egress, ingress or both",
            "rate": "limit egress rate, e.g. 1mbit (tbf)", "delay": "delay in ms (needs sch_netem)",
            "clear": "remove every impairment from the host"})
@reports_errors
def impair(c: Context, host: str, name: str = DEFAULT_NAME, loss: float = 0, every: int = 0,
           direction: str = "both", rate: str = "", delay: float = 0, clear: bool = False) -> None:
    """Inject faults on a host: packet loss (iptables statistic), rate limits, delay."""
    from lab.control import impair as impairments

    lab = open_lab(name)
    lab.container(host)
    if clear:
        impairments.clear(lab, host)
        say(f"{host}: impairments cleared")
        return
    impairments.apply(lab, host, impairments.Impairment(loss, every, direction, rate, delay))
    for line in impairments.show(lab, host):
        say(f"{host}: {line}")


BENCHMARKS = {"lab": "benchmarks/bench_lab.py", "udp": "benchmarks/bench_udp.py", "chat": "benchmarks/bench_chat.py",
              "tftp": "benchmarks/bench_tftp.py"}


@task(help={"suite": f"which benchmark: {', '.join(BENCHMARKS)} or all (default)",
            "rounds": "how many times each measurement is repeated"})
def bench(c: Context, suite: str = "all", rounds: int = 3) -> None:
    """Run benchmarks that print ratios against a baseline measured in the same run."""
    chosen = list(BENCHMARKS.values()) if suite == "all" else [BENCHMARKS.get(suite, "")]
    if not all(chosen):
        raise Exit(f"socklab: no benchmark {suite!r}; choose from {', '.join(BENCHMARKS)} or all", code=1)
    with c.cd(str(ROOT)):
        for script in chosen:
            c.run(f"{_quote(sys.executable)} {script} --rounds {rounds}", pty=False)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
