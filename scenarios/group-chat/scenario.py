"""Group chat: clients on both LANs; every message reaches all; a SIGKILLed client just disappears.

Exercise: server.py PORT and client.py HOST PORT NAME (see README.md), in the tutorial's
dialect: every line is `name说:text`. The server is checked with four reference clients on
both LANs, the client with the reference server and two reference clients.
"""

from __future__ import annotations

from lab.control.wait import wait_until
from lab.errors import WaitTimeoutError
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "a TCP group chat: everyone gets every message; a killed client leaves, the rest carry on"
NEEDS = Needs(lan=("srv", "h1", "h2", "h3"), across=("b1", "b2"))
PORT = value("port", 9030)
MEMBERS = {"alice": "h1", "bob": "h2", "carol": "b1", "dave": "b2"}
FLOW = ("srv", f"tcp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "chat-server", "--port", str(PORT), "--json"], args=(str(PORT),)),
    "client": Role("h1", ["lab", "chat-client", "srv", str(PORT), "--name", "alice", "--tutorial", "--json"],
                   args=("srv", str(PORT), "alice")),
    # the other clients: `--name NAME`, and --tutorial for the tutorial's dialect
    "member": Role("h2", ["lab", "chat-client", "srv", str(PORT), "--json"]),
}
WAIT = 5  # seconds for a line that should arrive within milliseconds
CHECKS = {  # what a student is scored on, role by role (1 point each)
    "server": ["server: binds the tcp port it is given, on every address", "server: accepts every client",
               "server: each line reaches every other client", "server: a client's second line reaches the others too",
               "server: each client got every other line once, as sent, and never its own",
               "server: closes the connection of a client that vanished", "server: the others carry on",
               "server: closes the connection of a client that says bye", "server: the rest carry on after a bye"],
    "client": ["client: connects to the server", "client: sends each typed line as `alice说:<line>`",
               "client: prints every line it receives",
               "client: `bye` is sent as `alice说:bye` and ends it with exit status 0",
               "client: ends when the server closes the connection"],
}


def received(program) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["text"] for e in program.events() if e["event"] == "received"]


def play(stage: Stage) -> None:
    if not stage.own:
        with stage.part("the reference programs: clients that join by name"):
            lesson(stage)
    if stage.mine("server") or not stage.own:
        with stage.part("the server, with four clients speaking the tutorial's `name说:text`"):
            server_part(stage)
    if stage.mine("client"):
        with stage.part("the client, with the reference server and two reference clients"):
            client_part(stage)
        with stage.part("the client, when the server goes away"):
            server_goes_away(stage)


def server_part(stage: Stage) -> None:
    stage.step("server: binds the tcp port it is given, on every address", hint="bind(('', port)), listen()")
    server = stage.start("server")
    server.wait_listening(PORT, "tcp")
    stage.done()
    stage.step("server: accepts every client", hint="accept() in a loop, and keep every client's socket")
    members = {name: stage.start("member", "--name", name, "--tutorial", host=host, reference=True)
               for name, host in MEMBERS.items()}
    for program in members.values():
        program.wait_event("connected", timeout=WAIT)
    server.wait_accepted(PORT, len(members), WAIT)
    stage.done()
    for word, step in (("hello", "each line reaches every other client"),
                       ("again", "a client's second line reaches the others too")):
        stage.step(f"server: {step}", expected="each line at the 3 other clients",
                   hint="relay each line to every other client's socket; keep reading each client in a loop "
                        "(recv() again after every line) until it leaves")
        for name, program in members.items():
            program.send_line(f"{word} from {name}")
        for name, program in members.items():
            for other in members:
                if other != name:
                    program.wait_event("received", text=f"{other}说:{word} from {other}", timeout=WAIT)
        stage.done()
    # Every relay of the first lines has arrived long before the second ones did: an echo would have too.
    wrong = {}
    for name, program in members.items():
        got = sorted(t for t in received(program) if " from " in t)
        want = sorted(f"{o}说:{w} from {o}" for o in members if o != name for w in ("hello", "again"))
        if got != want:
            extra = [t for t in got if t not in want or got.count(t) > 1]
            wrong[name] = ", ".join(f"{what} {listed(lines)}" for what, lines in (
                ("also got", sorted(set(extra))), ("lacks", sorted(set(want) - set(got)))) if lines)
    stage.check("server: each client got every other line once, as sent, and never its own", not wrong,
                "; ".join(f"{n} {w}" for n, w in wrong.items()) or "all as sent",
                expected="each client: the 6 lines of the 3 others, exactly as they were sent",
                hint="send each line to every client except the one it came from, unchanged")
    stage.say("dave's program is killed (SIGKILL): no bye; b2's kernel closes the connection")
    members.pop("dave").signal("KILL")
    stage.step("server: closes the connection of a client that vanished", expected="no connection from b2 left",
               hint="recv() returning b'' (or raising ConnectionResetError) means the client is gone: close its "
                    "socket and remove it from your list, so no one sends to it again")
    wait_closed(stage, str(stage.lab.topology().host("b2").address))
    stage.done()
    stage.step("server: the others carry on", expected="'alice说:still here?' and 'alice说:anyone?' at bob and carol",
               hint="a failed send to one client must not end the loop serving another")
    for line in ("still here?", "anyone?"):
        members["alice"].send_line(line)
        for name in ("bob", "carol"):
            members[name].wait_event("received", text=f"alice说:{line}", timeout=WAIT)
    stage.done()
    stage.say("carol types bye: her client sends `carol说:bye` and waits for the server to close")
    bye = "server: closes the connection of a client that says bye"
    hint = "a line `<name>说:bye`: close that client's socket and remove it from your list"
    stage.step(bye, expected="carol's connection closed", hint=hint)
    members["carol"].send_line("bye")
    closed = members["carol"].wait_event("closed", timeout=WAIT + 3)[0]["reason"]
    stage.check(bye, closed == "the server closed the connection", closed,
                expected="the server closed the connection", hint=hint)
    stage.step("server: the rest carry on after a bye", expected="'bob说:just us' at alice",
               hint="remove the client that left from your list before relaying again")
    members["bob"].send_line("just us")
    members["alice"].wait_event("received", text="bob说:just us", timeout=WAIT)
    stage.done()


def wait_closed(stage: Stage, address: str) -> None:
    """Wait until srv has no connection on PORT from ``address`` (one in CLOSE-WAIT: never closed)."""
    def gone() -> bool:
        out = stage.lab.exec("srv", ["ss", "-Htna", f"sport = :{PORT}"]).stdout
        return not [line for line in out.splitlines() if f" {address}:" in line]

    try:
        wait_until(gone, WAIT, f"the server to close the connection from {address}")
    except WaitTimeoutError:
        shown = stage.lab.exec("srv", ["ss", "-Htna", f"sport = :{PORT}", "and", "dst", address]).stdout.strip()
        raise WaitTimeoutError(f"the server to close the connection from {address}", WAIT,
                               f"`ss` on srv: {shown}") from None


def client_part(stage: Stage) -> None:
    server = stage.start("server", reference=True)
    server.wait_listening(PORT, "tcp")
    stage.step("client: connects to the server", hint="socket.create_connection((host, port))")
    alice = stage.start("client")
    others = {name: stage.start("member", "--name", name, "--tutorial", host=MEMBERS[name])
              for name in ("bob", "carol")}
    server.wait_event("connected", count=3, timeout=WAIT)
    stage.done()
    stage.step("client: sends each typed line as `alice说:<line>`",
               expected="'alice说:hello from alice' at bob and carol",
               hint="sock.sendall(f'{name}说:{line}\\n'.encode('utf-8')) for each line of stdin")
    alice.send_line("hello from alice")
    for program in others.values():
        program.wait_event("received", text="alice说:hello from alice", timeout=WAIT)
    stage.done()
    stage.step("client: prints every line it receives", expected="lines of its stdout with 'bob说:hi alice' and "
               "'carol说:hi from b1'", hint="a thread that receives and prints each line while the other reads stdin")
    others["bob"].send_line("hi alice")
    others["carol"].send_line("hi from b1")
    stage.wait_printed(alice, "bob说:hi alice", WAIT)
    stage.wait_printed(alice, "carol说:hi from b1", WAIT)
    stage.done()
    bye = "client: `bye` is sent as `alice说:bye` and ends it with exit status 0"
    hint = "send `alice说:bye`, then stop: the server closes the connection, recv() returns b''"
    stage.step(bye, hint=hint)
    alice.send_line("bye")
    code = stage.wait_end(alice, WAIT, "ending after bye")
    left = [e["reason"] for e in server.wait_event("left", timeout=WAIT)]
    stage.check(bye, code == 0 and left == ["said bye"], f"exit status {code}; the server saw alice leave: {left}",
                expected="exit status 0; the server saw alice leave: ['said bye']", hint=hint)


def server_goes_away(stage: Stage) -> None:
    server = stage.start("server", reference=True)
    server.wait_listening(PORT, "tcp")
    alice = stage.start("client")
    server.wait_event("connected", timeout=WAIT)
    stage.say("the server is stopped: it closes every connection")
    stage.step("client: ends when the server closes the connection", expected="it exits within 5 s",
               hint="recv() returning b'' means the server is gone: stop. A loop that keeps calling recv() spins "
                    "(and prints) forever; a thread still blocked in input() keeps the program alive unless it "
                    "is a daemon thread")
    server.stop()
    code = stage.wait_end(alice, WAIT, "ending after the server closed the connection")
    stage.done(f"exit status {code}")


def lesson(stage: Stage) -> None:
    """The reference server and clients that join by name: welcome, joined and left notices."""
    server = stage.start("server")
    server.wait_listening(PORT, "tcp")
    members = {}
    for n, (name, host) in enumerate(MEMBERS.items()):
        members[name] = stage.start("member", "--name", name, host=host)
        members[name].wait_event("received", text=f"* welcome {name}; {n} other(s) here")
    for name, program in members.items():
        program.send_line(f"hello from {name}")
    for name, program in members.items():
        for other in MEMBERS:
            if other != name:
                program.wait_event("received", text=f"{other}: hello from {other}")
    stage.say("a tutorial-style client (no name line; `name说:text`) talks with them")
    eve = stage.start("member", "--name", "eve", "--tutorial", host="h3")
    stage.step("the tutorial's `eve说:hi all` reached everyone as it was sent")
    eve.send_line("hi all")
    for program in members.values():
        program.wait_event("received", text="eve说:hi all", timeout=WAIT)
    stage.done()
    for name, program in members.items():  # eve's line came after every hello: an echo would have too
        chat = sorted(t for t in received(program) if ": hello from " in t)
        stage.check(f"{name} got every other message once, never its own",
                    chat == sorted(f"{o}: hello from {o}" for o in MEMBERS if o != name), listed(chat))
    stage.say("dave's program is killed with SIGKILL: no bye, the kernel closes its socket")
    stage.step("the others were told dave left")
    members["dave"].signal("KILL")
    for name in ("alice", "bob", "carol"):
        members[name].wait_event("received", text="* dave left (disconnected)", timeout=WAIT)
    stage.done()
    stage.step("the rest carry on")
    members["alice"].send_line("still here?")
    for name in ("bob", "carol"):
        members[name].wait_event("received", text="alice: still here?", timeout=WAIT)
    stage.done()
    left = [e for e in server.events() if e["event"] == "left"]
    reasons = [e["reason"] for e in left]
    stage.check("the server logged dave's departure", reasons == ["disconnected"], listed(reasons))
