"""socklab tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

Each task is a thin layer over lab.control: it parses options, calls the lab, and turns a
LabError into one clear line and exit status 1.

A task imports what it uses in its body: `invoke --list` and `--help` import only this file,
and the Docker SDK, rich and the harness cost more than invoke itself.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke import Context, Exit, task

from lab.control.arguments import output_file, output_folder, within
from lab.control.defaults import DEFAULT_NAME, ROOT
from lab.errors import ArgumentError, LabError

if TYPE_CHECKING:
    from rich.console import Console

    from lab.control.engine import Engine
    from lab.control.lab import Lab
    from lab.harness.scenario import Stage

REPORT_HELP = "write an HTML page of the run (checks, evidence, pictures, pcaps) into this folder"
NAME_HELP = f"lab name, i.e. its compose project (default {DEFAULT_NAME}); labs run side by side"


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
    """LabError (or any Docker error) -> `Exit(message, 1)`; Ctrl-C -> how to clean up."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except LabError as exc:
            raise Exit(f"socklab: {exc}", code=1) from None
        except KeyboardInterrupt:
            raise Exit("socklab: interrupted; `invoke down` removes a half-started lab", code=130) from None
        except Exception as exc:
            if not is_docker_error(exc):
                raise
            # what no LabError foresaw: still one line
            raise Exit(f"socklab: Docker refused: {getattr(exc, 'explanation', None) or exc}", code=1) from None

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


def is_docker_error(exc: BaseException) -> bool:
    """Without importing the Docker SDK: a task that never reached Docker raised none of its errors."""
    errors = sys.modules.get("docker.errors")
    return errors is not None and isinstance(exc, errors.DockerException)


def open_lab(name: str, topology: str = "") -> Lab:
    """Lab ``name``; ``topology`` only when starting it (later tasks find it from the lab)."""
    from lab.control import topologies
    from lab.control.engine import Engine
    from lab.control.lab import Lab, check_name

    check_name(name)  # before Docker: these need none
    compose_file = topologies.compose_file(topology) if topology else None
    return Lab(Engine.connect(), name, compose_file=compose_file)


def connect() -> Engine:
    from lab.control.engine import Engine

    return Engine.connect()


@task(help={"force": "rebuild even if an image with this content exists"})
@reports_errors
def build(c: Context, force: bool = False) -> None:
    """Build the host image (bootstrapping the Debian base locally if no registry answers)."""
    tag = open_lab(DEFAULT_NAME).build(force=force, say=say)
    say(f"host image {tag} is ready")


TOPOLOGY_HELP = "a shipped topology (`invoke topologies` lists them) or a Compose file (default compose.yaml)"


@task(help={"name": NAME_HELP, "prefix": "first two octets of the lab's subnets, e.g. 10.201 "
            "(default: the first free one)", "timeout": "seconds to wait for every host to be ready",
            "workspace": "folder mounted at /work on every host (default work/, created if missing)",
            "topology": TOPOLOGY_HELP})
@reports_errors
def up(c: Context, name: str = DEFAULT_NAME, prefix: str = "", timeout: float = Number(90), workspace: str = "",
       topology: str = "") -> None:
    """Build if needed, start the lab, and return when every host is ready."""
    from lab.control import doctor as doctor_
    from lab.control import subnets, topologies
    from lab.control import topology as topology_
    from lab.control import workspace as ws
    from lab.control.report import print_status

    within("--timeout", timeout, 1, 3600, "seconds")
    if prefix:
        subnets.check_prefix(prefix)
    if topology:  # a file that is no topology says so before anything starts
        topology_.load(topologies.compose_file(topology))
    if workspace:
        ws.prepare(Path(workspace))
    lab = open_lab(name, topology)
    started = time.monotonic()
    checked = doctor_.preflight(lab.engine)
    for finding in checked:
        if finding.verdict != doctor_.OK:
            say(str(finding))
    if doctor_.failed(checked):
        raise Exit("socklab: this machine cannot run a lab as it is: see above, or `invoke doctor`", code=1)
    lab.up(prefix=prefix or None, timeout=timeout, say=say, workspace_dir=Path(workspace) if workspace else None)
    print_status(console(), lab.name, lab.running_prefix(), lab.status())
    say(f"lab {name} ready in {time.monotonic() - started:.1f}s; your workspace {lab.workspace()} is /work "
        "on every host; `invoke shell h1` opens a shell on h1")


@task
@reports_errors
def doctor(c: Context) -> None:
    """Say what will and will not work on this machine, and what to do (exit 1 if a lab cannot)."""
    from lab.control import doctor as doctor_
    from lab.control.report import findings_table

    findings = doctor_.examine()
    console().print(findings_table(findings))
    if doctor_.failed(findings):
        raise Exit("socklab: a lab cannot work on this machine as it is (the lines marked fail)", code=1)


@task(help={"name": NAME_HELP, "all": "every socklab lab on this Docker engine"})
@reports_errors
def down(c: Context, name: str = DEFAULT_NAME, all_: bool = False) -> None:
    """Remove the lab's containers and networks (only this lab's; safe to run twice)."""
    if all_:
        _down_all(connect())
        return
    containers, networks = open_lab(name).down()
    say(f"lab {name}: removed {containers} containers and {networks} networks")


def _down_all(engine: Engine) -> None:
    from lab.control.lab import down_all

    removed, failed = down_all(engine)
    for lab, (containers, networks) in removed.items():
        say(f"lab {lab}: removed {containers} containers and {networks} networks")
    for lab, exc in failed.items():
        say(f"lab {lab}: {exc}")
    if failed:
        raise Exit(f"socklab: not removed whole: {', '.join(failed)}", code=1)


@task(help={"name": NAME_HELP, "json": "print JSON: per host its service, container, state, networks, impairments",
            "all": "every socklab lab on this Docker engine, a line each"})
@reports_errors
def status(c: Context, name: str = DEFAULT_NAME, json_: bool = False, all_: bool = False) -> None:
    """Show the lab's hosts, their state, addresses and active impairments."""
    import json
    from dataclasses import asdict

    from lab.control import impair as impairments
    from lab.control.lab import overview
    from lab.control.report import labs_table, print_status

    if all_:
        labs = overview(connect())
        if json_:
            print(json.dumps([asdict(lab) for lab in labs], indent=2))
        else:
            console().print(labs_table(labs) if labs else "no socklab lab runs on this Docker engine")
        return
    from lab.errors import LabNotRunningError

    lab = open_lab(name)
    if not lab.containers():  # a lab with a host down still shows, to say which
        raise LabNotRunningError(name)
    report = lab.status_json()
    active = impairments.report(lab)
    for host in report["hosts"]:
        host["impairments"] = active.get(host["service"], [])
    if json_:
        print(json.dumps(report, indent=2))
        return
    print_status(console(), lab.name, lab.running_prefix(), lab.status())
    for host in report["hosts"]:
        for line in host["impairments"]:
            console().print(f"[yellow]impaired[/] {host['service']}: {line}", markup=True, highlight=False)


@task(help={"host": "lab host, e.g. h1", "name": NAME_HELP, "user": "user on the host (root or student)"})
@reports_errors
def shell(c: Context, host: str, name: str = DEFAULT_NAME, user: str = "") -> None:
    """Open an interactive shell on a lab host, in /work (your workspace)."""
    from lab.control.workspace import MOUNT

    argv = open_lab(name).docker_exec_argv(host, ["bash", "-l"], tty=sys.stdin.isatty(), user=user,
                                         workdir=MOUNT)
    os.execvp(argv[0], argv)


@task(name="exec", help={"host": "lab host, e.g. h1", "command": "command line to run (quote it)",
                         "name": NAME_HELP, "user": "user on the host (root or student)"})
@reports_errors
def exec_(c: Context, host: str, command: str, name: str = DEFAULT_NAME, user: str = "") -> None:
    """Run a command on a lab host; stdin, output and exit status are the command's own."""
    if not command.strip():
        raise ArgumentError("COMMAND", command, "give a command line to run, e.g. 'ip addr'")
    argv = open_lab(name).docker_exec_argv(host, ["sh", "-c", command], tty=False, user=user)
    os.execvp(argv[0], argv)


@task(help={"host": "only this host (default: every host)", "name": NAME_HELP,
            "follow": "keep printing new lines (one host)"})
@reports_errors
def logs(c: Context, host: str = "", name: str = DEFAULT_NAME, follow: bool = False) -> None:
    """Show the hosts' logs (their start-up and anything their PID 1 printed)."""
    from lab.errors import LabNotRunningError

    if follow and not host:
        raise Exit("socklab: --follow needs a HOST", code=1)
    lab = open_lab(name)
    if follow:
        try:
            for chunk in lab.engine.follow_logs(lab.container(host)):
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass
        return
    if not lab.containers():
        raise LabNotRunningError(name)
    targets = [host] if host else sorted(lab.containers())
    for h in targets:
        for line in lab.container(h).logs().decode(errors="replace").splitlines():
            console().print(f"[bold]{h:>7}[/] | {line}", markup=True)


# Run again under the other Compose, when both are installed: what Compose creates.
EITHER_COMPOSE = ["tests/lab/test_lifecycle.py", "tests/lab/test_hosts.py", "tests/lab/test_network.py"]
# Run on every other shipped topology: up, the network derived from it, down.
EVERY_TOPOLOGY = ["tests/lab/test_network.py"]


@task(help={"unit": "only the unit tests (no Docker needed)", "keep": "leave the lab running afterwards",
            "name": NAME_HELP, "k": "only tests matching this pytest -k expression",
            "junit": "write JUnit XML here (default reports/junit.xml)",
            "workers": "lab test processes, each on a lab of its own (default 2)",
            "quick": "the unit tests and one lab play per exercise (its reference solution): minutes, not ten"})
@reports_errors
def test(c: Context, unit: bool = False, keep: bool = False, name: str = DEFAULT_NAME, k: str = "",
         junit: str = "reports/junit.xml", workers: int = Whole(2), quick: bool = False) -> None:
    """Run the test suite: unit tests, then the lab tests on real containers. With Compose v2
    and v1 both installed, the lifecycle, host and network tests run again under the other;
    the network tests run on every other shipped topology too. It ends by naming the optional
    programs (Graphviz, Chromium) this machine lacks, whose tests were skipped, and the slowest
    tests of each run are listed at its end."""
    from lab.control import compose, topologies
    from lab.control.defaults import COMPOSE_FILE
    from lab.control.lab import check_name

    within("--workers", workers, 1, 16, "a number of test processes")
    check_name(name)
    # Unit tests first: they need no Docker and fail in seconds.
    paths = ["tests/unit"] if unit else ["tests/unit", "tests/lab"]
    runs: list[tuple[list[str], str, dict[str, str], list[str]]] = [(paths, "", {}, [])]
    if not unit and not k and not quick:
        if len(compose.installed()) > 1 and "SOCKLAB_COMPOSE" not in os.environ:
            other = compose.installed()[1]
            runs.append((EITHER_COMPOSE, other[-1], {"SOCKLAB_COMPOSE": " ".join(other)}, []))
        for each in topologies.names():
            if topologies.describe(each).file != COMPOSE_FILE:
                runs.append((EVERY_TOPOLOGY, each, {}, [f"--topology={each}"]))
    if not unit:  # once, here: two test processes must not bootstrap the same image at once
        open_lab(name).build(say=say)
    failed = 0
    for test_paths, variant, env, options in runs:
        if variant:
            say(f"again {'with `' + env['SOCKLAB_COMPOSE'] + '`' if env else 'on ' + variant}: {', '.join(test_paths)}")
        report = junit.replace(".xml", f"-{variant}.xml") if variant else junit
        args = [sys.executable, "-m", "pytest", *test_paths, f"--junitxml={report}", "--durations=15", *options]
        if not unit:
            # Two processes, each with a lab of its own (`{name}-gw0`, `-gw1`), a test file
            # each at a time: lab tests mostly wait on the network, so two halve the time.
            lab_name = f"{name}-{variant}" if variant else name
            args += ["--lab", f"--lab-name={lab_name}", "-n", str(workers), "--dist", "loadfile"]
            args += ["--keep-lab"] if keep else []
        if k:
            args += ["-k", k]
        if quick:
            args += ["-m", "not lab or quick"]
        with c.cd(str(ROOT)):
            result = c.run(" ".join(_quote(a) for a in args), warn=True, pty=False, env=env)
        failed = failed or (result.exited if result is not None else 1)
    for line in missing_tools():
        say(line)
    if failed:
        raise Exit(code=failed)


def missing_tools() -> list[str]:
    """The run's last word: what the optional programs not installed here cost, and their fix."""
    from lab.report.tools import TOOLS

    if os.environ.get("CI"):  # there they are not optional: their tests failed, not skipped
        return []
    return [f"tests that need {tool.title} are skipped on this machine (it {tool.used_for}): `{tool.install}`"
            for tool in TOOLS.values() if not tool.installed()]


@task(help={"images": "also remove socklab images (the next `invoke up` rebuilds them)"})
@reports_errors
def clean(c: Context, images: bool = False) -> None:
    """Remove every socklab lab on this machine (and with --images, its images)."""
    from lab.control import images as images_

    engine = connect()
    _down_all(engine)
    if images:
        for tag in engine.remove_images(images_.PREFIXES):
            say(f"removed image {tag}")


@task(name="topologies", help={"write": "write each shipped topology's Compose file from its description"})
@reports_errors
def topologies_(c: Context, write: bool = False) -> None:
    """List the shipped topologies (lab/topologies/*.yaml): `invoke up --topology NAME`."""
    from lab.control import topologies, topology

    for each in topologies.names():
        if write:
            say(f"wrote {topologies.write(each).relative_to(ROOT)}")
        d = topologies.describe(each)
        topo = topology.load(d.file)
        stale = "  (stale: run `invoke topologies --write`)" if topologies.stale(each) else ""
        routers = ", ".join(r.name for r in topo.routers()) or "none"
        console().print(f"{each:<8} {d.title}: {len(topo.end_hosts())} hosts; LANs {', '.join(topo.lans)}; "
                      f"routers {routers}  ({d.file.relative_to(ROOT)}){stale}", markup=False, soft_wrap=True)


@task
@reports_errors
def scenarios(c: Context) -> None:
    """List the scenarios (lessons), each with its one-line title."""
    from lab.harness import scenario as scenarios_

    for each in scenarios_.names():
        console().print(f"{each:<16} {scenarios_.load(each).TITLE}", markup=False)


@task(iterable=["role"],
      help={"scenario": "scenario name (`invoke scenarios` lists them)", "name": NAME_HELP,
            "role": "ROLE=COMMAND: run COMMAND in ROLE's place (repeatable)",
            "flows": "show the exchange as a ladder diagram afterwards (default on)", "report": REPORT_HELP})
@reports_errors
def scenario(c: Context, scenario: str, name: str = DEFAULT_NAME, role: list[str] | None = None,
             flows: bool = True, report: str = "") -> None:
    """Play a scenario live on the lab and narrate what happened."""
    from lab.harness import scenario as scenarios_

    overrides = scenarios_.checked_overrides(scenario, role or [])  # before a lab starts
    lab = running_lab(name)
    said, tee = recorded(narrate)
    stage = scenarios_.play(lab, scenario, overrides, say=tee, flows=flows,
                            capture=True if report else None, pcap_folder=Path(report) if report else None)
    write_report(lab, stage, said, report)
    failed = [c for c in stage.checks if not c.ok]
    if failed:
        raise Exit(f"socklab: {len(failed)} of {len(stage.checks)} checks failed", code=1)
    say(f"all {len(stage.checks)} checks hold")


def recorded(show: Callable[[str], None]) -> tuple[list[str], Callable[[str], None]]:
    """What is said, shown and kept for a report."""
    said: list[str] = []

    def tee(line: str) -> None:
        said.append(line)
        show(line)

    return said, tee


def write_report(lab: Lab, stage: Stage, said: list[str], folder: str) -> None:
    if folder:
        from lab.harness import reports

        say(f"report: {reports.write_stage(Path(folder), stage, said, lab.topology())}")


def running_lab(name: str) -> Lab:
    lab = open_lab(name)
    if not lab.is_up():
        lab.up(say=say)
    return lab


@task(help={"name": NAME_HELP, "workspace": "your workspace (default: the one the lab mounts, else work/)"})
@reports_errors
def exercises(c: Context, name: str = DEFAULT_NAME, workspace: str = "") -> None:
    """List the exercises: whether you started each (work/NAME/) and how its last check went."""
    from lab.harness import exercise as exercises_

    work = _workspace(name, workspace)
    for each in exercises_.names():
        files = ", ".join(f"{r}.py" for r in exercises_.roles(each))
        console().print(f"{each:<14} {exercises_.state(each, work):<26} you write: {files}", markup=False)
    say(f"`invoke exercise NAME` starts one in {work}/NAME; `invoke check NAME` checks it")


@task(help={"exercise": "exercise name (`invoke exercises` lists them)", "name": NAME_HELP,
            "workspace": "your workspace (default: the one the lab mounts, else work/)"})
@reports_errors
def exercise(c: Context, exercise: str, name: str = DEFAULT_NAME, workspace: str = "") -> None:
    """Start an exercise: copy its starter files into work/EXERCISE/ (never overwriting yours)."""
    from lab.control import workspace as ws
    from lab.harness import exercise as exercises_

    work = _workspace(name, workspace)
    copied, kept = ws.copy_starters(exercises_.starter(exercise), work, exercise)
    for file in copied:
        say(f"wrote {work / exercise / file}")
    for file in kept:
        say(f"kept your {work / exercise / file} (not overwritten)")
    say(f"the task is in scenarios/{exercise}/README.md; edit the files, then `invoke check {exercise}`")


def _workspace(name: str, chosen: str) -> Path:
    from lab.control import workspace as ws
    from lab.control.defaults import DEFAULT_WORKSPACE

    return ws.prepare(Path(chosen) if chosen else open_lab(name).workspace() or DEFAULT_WORKSPACE)


@task(iterable=["role"],
      help={"exercise": "exercise name (see `invoke exercises`)", "name": NAME_HELP,
            "role": "ROLE=COMMAND: run COMMAND in ROLE's place, given the role's arguments (repeatable)",
            "json": "print the checks and their evidence as JSON", "report": REPORT_HELP})
@reports_errors
def check(c: Context, exercise: str, name: str = DEFAULT_NAME, role: list[str] | None = None,
          json_: bool = False, report: str = "") -> None:
    """Check your programs (work/EXERCISE/<role>.py) on the lab: each check, and the evidence of a FAIL."""
    import json

    from lab.harness import exercise as exercises_
    from lab.harness import scenario as scenarios_

    exercises_.roles(exercise)  # an unknown name says so before a lab starts
    overrides = scenarios_.parse_overrides(role or [])
    lab = running_lab(name)
    said, tee = recorded((lambda _: None) if json_ else narrate)
    outcome = exercises_.check(lab, exercise, exercises_.mounted(lab), overrides,
                               say=tee, pcap_folder=Path(report) if report else None)
    write_report(lab, outcome.stage, said, report)
    if json_:
        print(json.dumps(outcome.as_json(), indent=1, ensure_ascii=False))
    else:
        console().print(exercises_.render(outcome), markup=False, soft_wrap=True, highlight=False)
    if not outcome.passed:
        raise Exit("" if json_ else f"socklab: {outcome.summary}", code=1)
    if not json_:
        say(outcome.summary)


@task(help={"submissions": "a folder with one subfolder or zip per student, each with its <role>.py files",
            "exercise": "the exercise graded (`invoke exercises` lists them)",
            "checks": "a folder with <exercise>.py: hidden checks (play, CHECKS), WEIGHTS, VISIBILITY (default: none)",
            "seed": "derives each student's ports and payloads (the same seed grades the same)",
            "parallel": "labs at once (default: from cores and memory)",
            "out": "where results go (default grades/<exercise>)",
            "force": "grade again what was graded with this seed before"})
@reports_errors
def grade(c: Context, submissions: str, exercise: str, checks: str = "", seed: str = "socklab",
          parallel: int | None = None, out: str = "", force: bool = False) -> None:
    """Grade a class: each submission in a lab of its own, against the exercise's and hidden checks."""
    from rich.table import Table

    from lab.harness import exercise as exercises_
    from lab.harness import grading
    from lab.harness.submissions import collect
    from lab.report import grades

    labs = grading.default_parallel() if parallel is None else Whole(parallel)
    within("--parallel", labs, 1, 64, "a number of labs")
    if not Path(submissions).is_dir():
        raise ArgumentError("SUBMISSIONS", submissions, "give a folder with a subfolder or zip per student")
    rules = grading.load_rules(Path(checks) if checks else None, exercise)
    subs = collect(Path(submissions), exercises_.roles(exercise))
    for sub in subs:
        for problem in sub.problems:
            say(f"{sub.student}: {problem}")
    folder = Path(out or f"grades/{exercise}")
    lab = open_lab(DEFAULT_NAME)
    engine = lab.engine
    lab.build(say=say)
    say(f"grading {len(subs)} submissions of {exercise}, {labs} labs at once, seed {seed!r}")
    run = grading.Grading(engine, exercise, seed, rules, folder)
    graded = grading.grade(run, subs, labs, force, say)
    grades.write(folder, exercise, graded)
    table = Table(title=f"{exercise}: {len(graded)} submissions", title_justify="left")
    for column in ("student", "score", *[f"{i + 1}" for i in range(len(run.checks))]):
        table.add_column(column)
    marks = {"passed": "[green]✔[/]", "failed": "[red]✘[/]", "not reached": "[red]·[/]", "not handed in": "-"}
    for g in graded:
        table.add_row(g.student, f"{g.score:g}/{g.max_score:g}", *[marks[ch.status] for ch in g.checks])
    console().print(table)
    for i, d in enumerate(run.checks):
        console().print(f"  {i + 1}. {d.name} ({d.points:g})", markup=False)
    console().print("  ✔ passed, ✘ failed, · not reached, - not handed in", markup=False)
    say(f"results in {folder}/: grades.csv, junit.xml, index.html, <student>/results.json and index.html")


@task(help={"host": "lab host to record on (all its interfaces)", "name": NAME_HELP,
            "filter": "a tcpdump (BPF) filter, e.g. 'udp port 69'", "seconds": "stop after N seconds "
            "(default: at Ctrl-C)", "out": "folder for the pcap file (default captures/)"})
@reports_errors
def capture(c: Context, host: str, name: str = DEFAULT_NAME, filter: str = "", seconds: float = Number(0),
            out: str = "captures") -> None:
    """Record a host's packets into a pcap file that Wireshark opens."""
    within("--seconds", seconds, 0, 86400, "seconds (0: until Ctrl-C)")
    output_folder("--out", ROOT / out)
    from lab.control.capture import Capture

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


@task(help={"name": NAME_HELP, "bind": "address to serve on (default 127.0.0.1: this machine only)",
            "port": "port to serve on (0: any free one)"})
@reports_errors
def web(c: Context, name: str = DEFAULT_NAME, bind: str = "127.0.0.1", port: int = Whole(8800)) -> None:
    """Serve the lab in a browser page: a terminal per host, the workspace in an editor, Check,
    captures and recorded sessions. Prints a link with a secret token; serves until Ctrl-C."""
    import ipaddress

    within("--port", port, 0, 65535, "a TCP port (0: any free one)")
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise ArgumentError("--bind", bind, "give an IP address, e.g. 127.0.0.1") from None
    from lab.web import vendor
    from lab.web.server import Server

    vendor.check()
    lab = running_lab(name)
    if bind not in ("127.0.0.1", "::1"):
        say(f"serving on {bind}: anyone who can reach it and has the link can use the lab")
    try:
        # print, not rich: a link wrapped at the terminal's width would not paste whole
        Server(lab, bind, port).run(lambda link: print(f"socklab: lab {name} in your browser: {link}  (Ctrl-C stops)",
                                                      flush=True))
    except KeyboardInterrupt:
        say("stopped")


@task(help={"pcap": "a pcap file (e.g. from `invoke capture`)", "name": NAME_HELP + "; its host names label "
            "the lanes when it runs", "out": "also draw it: FILE.svg (sequence diagram) or FILE.html (a page with it)",
            "timeline": "FILE.png: block or sequence number over time, retransmissions marked"})
@reports_errors
def flows(c: Context, pcap: str, name: str = DEFAULT_NAME, out: str = "", timeline: str = "") -> None:
    """Print a ladder diagram of the exchange in a pcap file (like Wireshark's flow graph)."""
    from lab.errors import DockerUnavailableError
    from lab.wire import pcap as decode
    from lab.wire import pictures
    from lab.wire.flows import ladder

    path = Path(pcap)
    if not path.is_file():
        raise ArgumentError("PCAP", pcap, "no such file: give a pcap file, e.g. from `invoke capture`")
    target = output_file("--out", out, (".svg", ".html")) if out else None
    drawn = output_file("--timeline", timeline, (".png", ".svg")) if timeline else None
    packets = decode.read(path)  # not a pcap: said before Docker is asked
    try:
        lab = open_lab(name)
        if lab.running_prefix():
            packets = decode.read(path, lab.topology().address_names())
    except DockerUnavailableError:  # a pcap is read without Docker; the lanes keep their addresses
        pass
    print(ladder(packets))
    if target:
        from lab.report import draw, page

        if target.suffix == ".html":
            page.write(target.parent, path.name, [], [], packets, pcaps={path.stem: path}, index=target.name)
        else:
            draw.write_figure(draw.sequence_figure(pictures.diagram(packets)), target)
        say(f"wrote {target}")
    if drawn:
        from lab.report import draw

        draw.write_figure(draw.timeline_figure(pictures.timeline(packets)), drawn)
        say(f"wrote {drawn}")


@task(help={"out": "folder for the README's pictures (default docs/pictures)"})
@reports_errors
def pictures(c: Context, out: str = "docs/pictures") -> None:
    """Draw the README's pictures from the captures checked in as test fixtures: the topologies,
    a TCP exchange as a sequence diagram, a windowed TFTP transfer under loss over time."""
    from lab.control import topologies, topology
    from lab.report import draw
    from lab.wire import pcap as decode
    from lab.wire import pictures as what

    folder = output_folder("--out", ROOT / out)
    fixtures = ROOT / "tests" / "unit" / "fixtures" / "pcap"
    default = topology.load(topologies.compose_file("default"))  # the fixtures were captured on it
    names = default.address_names()
    written = [draw.write_topology(topology.load(topologies.compose_file(t)), folder / f"topology-{t}.svg")
               for t in ("default", "chain")]
    tcp = decode.read(fixtures / "tcp-chat.pcap", names)
    written.append(draw.write_figure(draw.sequence_figure(what.diagram(tcp)), folder / "sequence-tcp-chat.svg"))
    tftp = decode.read(fixtures / "tftp-window-loss.pcap", names)
    written.append(draw.write_figure(draw.timeline_figure(what.timeline(tftp)), folder / "timeline-tftp-loss.png"))
    for path in written:
        say(f"wrote {path}")


@task(help={"name": NAME_HELP, "out": "FILE.svg or FILE.png (default topology.svg)", "topology": TOPOLOGY_HELP
            + "; default: the lab's"})
@reports_errors
def graph(c: Context, name: str = DEFAULT_NAME, out: str = "topology.svg", topology: str = "") -> None:
    """Draw the lab's topology: hosts with roles and addresses, LANs with subnets, routers."""
    from lab.report import draw

    output_file("--out", out, (".svg", ".png"))
    lab = open_lab(name, topology)
    say(f"wrote {draw.write_topology(lab.topology(), Path(out))}")


@task(help={"host": "lab host to impair", "name": NAME_HELP, "loss": "drop PCT percent of packets at random",
            "every": "drop one packet in every N (deterministic)", "direction": "egress, ingress or both",
            "rate": "limit egress rate, e.g. 1mbit (tbf)", "delay": "delay in ms (needs sch_netem)",
            "refuse": "the host's own stack refuses PCT percent of its sends (EPERM, as a host firewall does)",
            "clear": "remove every impairment from the host"})
@reports_errors
def impair(c: Context, host: str, name: str = DEFAULT_NAME, loss: float = Number(0), every: int = Whole(0),
           direction: str = "both", rate: str = "", delay: float = Number(0), refuse: float = Number(0),
           clear: bool = False) -> None:
    """Inject faults on a host: packet loss (iptables statistic), rate limits, delay."""
    from lab.control import impair as impairments

    wanted = None if clear else impairments.Impairment(loss, every, direction, rate, delay, refuse).check()
    lab = open_lab(name)
    lab.container(host)
    if wanted is None:
        impairments.clear(lab, host)
        say(f"{host}: impairments cleared")
        return
    impairments.apply(lab, host, wanted)
    for line in impairments.show(lab, host):
        say(f"{host}: {line}")


BENCHMARKS = {"lab": "benchmarks/bench_lab.py", "udp": "benchmarks/bench_udp.py", "chat": "benchmarks/bench_chat.py",
              "tftp": "benchmarks/bench_tftp.py", "grade": "benchmarks/bench_grade.py",
              "class": "benchmarks/bench_class.py", "web": "benchmarks/bench_web.py"}


@task(help={"suite": f"which benchmark: {', '.join(BENCHMARKS)} or all (default)",
            "rounds": "how many times each measurement is repeated"})
@reports_errors
def bench(c: Context, suite: str = "all", rounds: int = Whole(3)) -> None:
    """Run benchmarks that print ratios against a baseline measured in the same run."""
    within("--rounds", rounds, 1, 100, "a number of rounds")
    chosen = list(BENCHMARKS.values()) if suite == "all" else [BENCHMARKS.get(suite, "")]
    if not all(chosen):
        raise Exit(f"socklab: no benchmark {suite!r}; choose from {', '.join(BENCHMARKS)} or all", code=1)
    with c.cd(str(ROOT)):
        for script in chosen:
            c.run(f"{_quote(sys.executable)} {script} --rounds {rounds}", pty=False)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
