"""Tasks that build, start, show, enter and remove a lab.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Context, Exit, task

from lab.cli.common import (
    NAME_HELP,
    TOPOLOGY_HELP,
    Number,
    chosen_topology,
    connect,
    console,
    open_lab,
    reports_errors,
    say,
)
from lab.control.arguments import output_file, within
from lab.control.defaults import DEFAULT_NAME, ROOT
from lab.errors import ArgumentError

if TYPE_CHECKING:
    from lab.control.engine import Engine


@task(help={"force": "rebuild even if an image with this content exists"})
@reports_errors
def build(c: Context, force: bool = False) -> None:
    """Build the host image (bootstrapping the Debian base locally if no registry answers)."""
    tag = open_lab(DEFAULT_NAME).build(force=force, say=say)
    say(f"host image {tag} is ready")


@task(help={"name": NAME_HELP, "prefix": "first two octets of the lab's subnets, e.g. 10.201 "
            "(default: the first free one)", "timeout": "seconds to wait for every host to be ready",
            "workspace": "folder mounted at /work on every host (default work/, created if missing)",
            "topology": TOPOLOGY_HELP})
@reports_errors
def up(c: Context, name: str = DEFAULT_NAME, prefix: str = "", timeout: float = Number(90), workspace: str = "",
       topology: str = "") -> None:
    """Build if needed, start the lab, and return when every host is ready."""
    from lab.control import doctor as doctor_
    from lab.control import subnets
    from lab.control import workspace as ws
    from lab.control.tables import print_status

    within("--timeout", timeout, 1, 3600, "seconds")
    if prefix:
        subnets.check_prefix(prefix)
    compose_file = chosen_topology(topology)
    if workspace:
        ws.prepare(Path(workspace))
    lab = open_lab(name, compose_file)
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
    from lab.control.tables import findings_table

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
    from lab.control.labs import down_all

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
    from lab.control.labs import overview
    from lab.control.tables import labs_table, print_status

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
    active = impairments.active(lab)
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

    run_attached(name, host, ["bash", "-l"], user=user, workdir=MOUNT, tty=True)


@task(name="exec", help={"host": "lab host, e.g. h1", "command": "command line to run (quote it)",
                         "name": NAME_HELP, "user": "user on the host (root or student)"})
@reports_errors
def exec_(c: Context, host: str, command: str, name: str = DEFAULT_NAME, user: str = "") -> None:
    """Run a command on a lab host; stdin, output and exit status are the command's own."""
    if not command.strip():
        raise ArgumentError("COMMAND", command, "give a command line to run, e.g. 'ip addr'")
    run_attached(name, host, ["sh", "-c", command], user=user)


def run_attached(name: str, host: str, argv: list[str], user: str = "", workdir: str = "", tty: bool = False) -> None:
    """``argv`` on ``host`` with this terminal (a pty, if ``tty`` and stdin is one) or these
    pipes; the task ends with the command's exit status."""
    from lab.control import terminal

    tty = tty and terminal.is_terminal()
    env = {"TERM": os.environ.get("TERM") or "xterm"} if tty else None
    with open_lab(name).open_session(host, argv, user=user, workdir=workdir, env=env, tty=tty) as session:
        status = terminal.attach(session)
    if status:
        raise Exit(code=status)


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
            for chunk in lab.engine.follow_logs(lab.container(host).id):
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass
        return
    if not lab.containers():
        raise LabNotRunningError(name)
    targets = [host] if host else sorted(lab.containers())
    for h in targets:
        for line in lab.engine.logs(lab.container(h).id).decode(errors="replace").splitlines():
            console().print(f"[bold]{h:>7}[/] | {line}", markup=True)


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


@task(help={"name": NAME_HELP, "out": "FILE.svg or FILE.png (default topology.svg)", "topology": TOPOLOGY_HELP
            + "; default: the lab's"})
@reports_errors
def graph(c: Context, name: str = DEFAULT_NAME, out: str = "topology.svg", topology: str = "") -> None:
    """Draw the lab's topology: hosts with roles and addresses, LANs with subnets, routers."""
    from lab.report import draw

    output_file("--out", out, (".svg", ".png"))
    lab = open_lab(name, chosen_topology(topology))
    say(f"wrote {draw.write_topology(lab.topology(), Path(out))}")
