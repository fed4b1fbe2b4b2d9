"""The lab in a browser: `invoke web` (lab/web serves it).

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke import Context, task

from lab.cli.common import (
    NAME_HELP,
    TOPOLOGY_HELP,
    Number,
    Whole,
    chosen_topology,
    connect,
    reports_errors,
    running_lab,
    say,
)
from lab.control.arguments import within
from lab.control.defaults import DEFAULT_NAME
from lab.errors import ArgumentError

if TYPE_CHECKING:
    import ssl


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


@task(iterable=["exercise", "rotate"],
      help={"roster": "a CSV file: a `student` column (ids: a-z, 0-9, - and _), and `name` if you like",
            "state": "the class's folder: tokens (hashed), links.csv, workspaces, recordings, check results "
                     "(default class/)",
            "bind": "address to serve on (default 127.0.0.1: this machine only; a reverse proxy in front for a class)",
            "port": "port to serve on (0: any free one)",
            "labs_at_once": "labs running at once; more students wait in a queue (default: what `invoke doctor` "
                            "says this machine holds)",
            "idle_minutes": "stop a lab after this long without a request or keystroke (default 30)",
            "exercise": "an exercise of the course (repeat it; default every exercise)",
            "rotate": "give this student a new token (their old link and cookie stop working; repeat it)",
            "certfile": "serve HTTPS with this certificate (PEM; with --keyfile): cookies are then Secure",
            "keyfile": "the certificate's private key (PEM)",
            "prefix": "the start of every student lab's name (default class-)",
            "topology": f"every student's lab: {TOPOLOGY_HELP}"})
@reports_errors
def serve(c: Context, roster: str, state: str = "class", bind: str = "127.0.0.1", port: int = Whole(8800),
          labs_at_once: int | None = None, idle_minutes: float = Number(30), exercise: list[str] | None = None,
          rotate: list[str] | None = None, certfile: str = "", keyfile: str = "", prefix: str = "class-",
          topology: str = "") -> None:
    """Serve a class: each student's personal link opens their own lab in the browser (started
    when they come, queued when the machine is full, stopped when idle); the instructor's link
    shows every lab, replays sessions and grades the class. Serves until Ctrl-C."""
    import ipaddress
    from pathlib import Path

    from lab.control import doctor
    from lab.control.lab import check_name
    from lab.harness import exercise as exercises
    from lab.web import vendor
    from lab.web.classroom import Classroom, DockerLabs
    from lab.web.classserver import ClassServer
    from lab.web.grades import Gradings, docker_grader
    from lab.web.roster import Class, read_roster

    within("--port", port, 0, 65535, "a TCP port (0: any free one)")
    within("--idle-minutes", idle_minutes, 0.1, 24 * 60, "minutes")
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise ArgumentError("--bind", bind, "give an IP address, e.g. 127.0.0.1") from None
    check_name(prefix + "x")
    for name in exercise or []:
        exercises.roles(name)  # an unknown one: the valid names
    context = tls(certfile, keyfile)
    compose_file = chosen_topology(topology)
    students = read_roster(Path(roster))
    the_class = Class(Path(state), students)
    fresh = the_class.issue(tuple(rotate or ()))
    vendor.check()
    engine = connect()
    at_once = doctor.capacity(engine) if labs_at_once is None else Whole(labs_at_once)
    within("--labs-at-once", at_once, 1, 200, "a number of labs")
    folder = Path(state).resolve()
    labs = DockerLabs(engine, prefix, compose_file)
    room = Classroom(folder, [s.id for s in students], labs, at_once, idle_minutes * 60)
    adopted = room.adopt()
    server = ClassServer(the_class, room, Gradings(folder, docker_grader(engine)), bind, port, context,
                         sweep_every=min(30.0, idle_minutes * 15), exercises=list(exercise or []) or None)
    if bind not in ("127.0.0.1", "::1"):
        say(f"serving on {bind}: anyone who can reach it may try a link (sign-ins are rate-limited)")

    def started() -> None:
        links = the_class.write_links(server.origin.base)
        say(f"{len(students)} students ({len(fresh) - ('*' in fresh)} new links), at most {at_once} labs at once, "
            f"idle after {idle_minutes:g} min; running labs adopted: {', '.join(adopted) or 'none'}")
        say(f"the students' links: {links} (hand each their own)")
        print(f"socklab: the instructor's page: {the_class.instructor_link(server.origin.base)}  (Ctrl-C stops)",
              flush=True)

    try:
        server.run(started)
    except KeyboardInterrupt:
        say("stopped; the labs keep running until idle at the next start (`invoke down --name "
            f"{prefix}<student>` stops one now)")
    finally:
        room.close()


def tls(certfile: str, keyfile: str) -> ssl.SSLContext | None:
    """`invoke serve`'s --certfile/--keyfile: the server's TLS context, or None for neither."""
    import ssl

    if not (certfile or keyfile):
        return None
    if not (certfile and keyfile):
        raise ArgumentError("--certfile" if keyfile else "--keyfile", "", "give both --certfile and --keyfile")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ArgumentError("--certfile", certfile, f"cannot load it with its key: {exc}") from None
    return context
