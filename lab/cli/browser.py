"""The lab in a browser: `invoke web` (lab/web serves it).

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

from invoke import Context, task

from lab.cli.common import NAME_HELP, Whole, reports_errors, running_lab, say
from lab.control.arguments import within
from lab.control.defaults import DEFAULT_NAME
from lab.errors import ArgumentError


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
