"""TCP chat: the tutorial's one-to-one chat, both directions, ended by bye from each side in turn.

Exercise: server.py PORT and client.py HOST PORT (see README.md). Each is checked against
the reference program for the other role, in two conversations: one the client ends, one
the server ends.
"""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "one-to-one TCP chat: lines both ways, `bye` from either side ends it"
NEEDS = Needs(lan=("srv", "h1"))
PORT = value("port", 9011)
FLOW = ("h1", f"tcp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "tcp-server", "--port", str(PORT), "--json"], args=(str(PORT),)),
    "client": Role("h1", ["lab", "tcp-client", "srv", str(PORT), "--json"], args=("srv", str(PORT))),
}
HELLO, REPLY, MORE = "hello server", "hello client, 你好", "one more thing"
WAIT = 5  # seconds for a line that should arrive within milliseconds


def checks_of(role: str) -> list[str]:
    """What a student's ``role`` is scored on (1 point each): two conversations, one each side
    ends; where the reference program is the side that did not type bye, it says whether the
    bye came as a line of its own."""
    names = []
    for closer in ("client", "server"):
        other = "server" if closer == "client" else "client"
        names += [f"{role} ({closer} ends): {what}" for what in (
            "the server binds the tcp port it is given, on every address", "the server gets the client's line",
            "the client gets the server's line, in UTF-8", f"`bye` from the {closer} ends both programs",
            *([f"the {other} got the `bye` as a line of its own"] if other != role else []))]
    return names


CHECKS = {role: checks_of(role) for role in ("server", "client")}


def play(stage: Stage) -> None:
    tested = [role for role in ("server", "client") if stage.mine(role)] or [""]
    for role in tested:
        for closer in ("client", "server"):
            with stage.part(f"{role or 'the reference programs'}: a conversation the {closer} ends"):
                conversation(stage, role, closer)


def conversation(stage: Stage, tested: str, closer: str) -> None:
    """The student's ``tested`` role (or no one's) against the reference program for the other."""
    p = f"{tested} ({closer} ends): " if tested else f"{closer} ends: "
    stage.step(f"{p}the server binds the tcp port it is given, on every address",
               hint="bind(('', port)), then listen()")
    server = stage.start("server", reference=tested != "server")
    server.wait_listening(PORT, "tcp")
    stage.done()
    client = stage.start("client", reference=tested != "client")
    stage.step(f"{p}the server gets the client's line", expected=listed([HELLO]),
               hint="connect, then send each stdin line with its newline; the server prints each line it gets")
    client.send_line(HELLO)
    stage.wait_printed(server, HELLO, WAIT)
    stage.done()
    stage.step(f"{p}the client gets the server's line, in UTF-8", expected=listed([REPLY]),
               hint="encode and decode with 'utf-8' on both sides (the tutorials mix gbk in: 你好 garbles)")
    server.send_line(REPLY)
    stage.wait_printed(client, REPLY, WAIT)
    stage.done()
    ender, other = (client, server) if closer == "client" else (server, client)
    if closer == "server":  # a side that alternates recv and input() is in recv(): give it a line first
        client.send_line(MORE)
        stage.wait_printed(server, MORE, WAIT)
    stage.say(f"the {closer} types `bye`")
    ends = f"{p}`bye` from the {closer} ends both programs"
    stage.step(ends, expected="both exit with status 0 within 5 s",
               hint="the side that types bye sends it and closes; the other side stops when it receives the line "
                    "`bye` (or recv() returns b''), closes its socket and exits")
    ender.send_line("bye")
    sides = sorted((("server", server), ("client", client)), key=lambda side: side[0] != tested)  # yours first
    status = {side: stage.wait_end(program, WAIT, f"ending after the {closer}'s bye") for side, program in sides}
    stage.check(ends, set(status.values()) == {0},
                ", ".join(f"{side} exit status {code}" for side, code in status.items()),
                expected="both exit with status 0", hint="exit normally once the conversation is over")
    other_role = "server" if closer == "client" else "client"
    if other_role != tested:  # the reference program on the other side says why it ended
        reasons = [e.get("reason") for e in other.events() if e["event"] == "closed"]
        stage.check(f"{p}the {other_role} got the `bye` as a line of its own", reasons == ["they said bye"],
                    f"it ended with {reasons or 'no reason'}", expected="['they said bye']",
                    hint="send 'bye\\n': a line, like every other message")
