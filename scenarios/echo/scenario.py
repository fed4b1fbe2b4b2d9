"""Echo: every reply is byte-identical to what was sent, on the same LAN and across the router.

Exercise: server.py PORT and client.py HOST PORT (see README.md). Each is checked against
the reference program for the other role: the server with the reference client from h1
and b1, the client against the reference server.
"""

from __future__ import annotations

import time

from lab.control.programs import STDERR, STDOUT
from lab.errors import WaitTimeoutError
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "a UDP echo server returns every datagram unchanged"
NEEDS = Needs(lan=("srv", "h1"), across=("b1",))
PORT = value("port", 9001)
LINES = [value("greeting", "hello"), "你好，世界", "tab\tand  spaces", "x" * 1400, "exit",
         "never sent: exit ended the client"]
FLOW = ("h1", f"udp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "udp-echo-server", "--port", str(PORT), "--json"], args=(str(PORT),)),
    # the reference client as the README asks of a student's: one wait of 2 s, no resends
    "client": Role("h1", ["lab", "udp-echo-client", "srv", str(PORT), "--json", "--timeout", "2", "--retries", "0"],
                   args=("srv", str(PORT))),
}
SENT = LINES[: LINES.index("exit")]
GONE_LIMIT = 5  # seconds: 2 for the reply that never comes, the rest to start and end
EXIT_NO_REPLY = 3  # the client's exit status when a reply never came (README), as `lab udp-echo-client`
CHECK_GONE = f"client: with the server gone, it gives up on a reply within 2 s, says `no reply` " \
             f"and ends with exit status {EXIT_NO_REPLY}"
BIND = "server: binds the udp port it is given, on every address"
CHECKS = {  # what a student is scored on, role by role (1 point each)
    "server": [BIND,
               "server: a reply for every line from h1", "server: replies from h1 byte-identical to what was sent",
               "server: a reply for every line from b1", "server: replies from b1 byte-identical to what was sent"],
    "client": ["client: each line crossed as one datagram, in order", "client: printed every reply",
               "client: `exit` ended it, with exit status 0", CHECK_GONE],
}


def play(stage: Stage) -> None:
    with stage.part("the server, with the reference client on h1 and b1"):
        stage.step(BIND, hint="bind(('', port)) with the port from sys.argv[1]: '' is every address of the host")
        stage.start("server").wait_listening(PORT)
        stage.done()
        for host in ("h1", "b1"):
            where = "same LAN" if host == "h1" else "across the router"
            stage.say(f"{host} ({where}) sends {len(SENT)} lines, then `exit`")
            stage.step(f"server: answers {host}")
            client = stage.run("client", host=host, lines=LINES, reference=True)
            sent = [e for e in client.events() if e["event"] == "sent"]
            replies = [e for e in client.events() if e["event"] == "reply"]
            stage.check(f"server: a reply for every line from {host}", len(replies) == len(SENT),
                        f"{len(replies)} replies to {len(sent)} datagrams", expected=f"{len(SENT)} replies",
                        hint="reply with sendto(data, address) to the address recvfrom gave you")
            got = [r["text"] for r in replies]
            same = got == SENT and [r["bytes"] for r in replies] == [s["bytes"] for s in sent]
            stage.check(f"server: replies from {host} byte-identical to what was sent", same,
                        _first_difference(SENT, got), expected="each reply exactly the bytes received",
                        hint="send back `data` itself: no decoding, no changes; and read with a buffer that holds "
                             "a whole datagram (recvfrom(1024) cuts a 1400-byte one)")
    with stage.part("the client, against the reference server"):
        stage.step("client: sends each line and ends at `exit`")
        if stage.mine("server"):
            stage.say("(your server is replaced by the reference server for this part)")
        server = stage.start("server", reference=True)
        server.wait_listening(PORT)
        client = stage.run("client", lines=LINES, timeout=8)
        server.stop()  # it says "echoed" after it replies: once it has ended, all it said is read
        received = [e["text"] for e in server.events() if e["event"] == "echoed"]
        stage.check("client: each line crossed as one datagram, in order", received == SENT,
                    _first_difference(SENT, received),
                    expected=f"the {len(SENT)} lines before `exit`, one datagram each",
                    hint="sendto(line.encode('utf-8'), (host, port)) once per line, without the newline")
        missing = [line for line in SENT if not stage.printed(client, line)]
        stage.check("client: printed every reply", not missing, f"not printed: {_short(missing)}" if missing else "all",
                    expected="each reply on a line of its own", hint="print(data.decode('utf-8')) for each reply")
        stage.check("client: `exit` ended it, with exit status 0", client.exit_code == 0 and "exit" not in received,
                    f"exit status {client.exit_code}; server received {len(received)} datagrams",
                    hint="stop reading at the line `exit` (do not send it) and at end of input")
    with stage.part("the client, with the server gone"):
        server_gone(stage)


def server_gone(stage: Stage) -> None:
    """No server on the port: the reply never comes. The client waits its 2 s, says so, and
    ends at the end of its input with the status the README gives; it does not wait forever."""
    stage.step(CHECK_GONE)
    stage.say(f"(no server on srv port {PORT} now: the client's line gets no reply)")
    client = stage.start("client")
    started = time.monotonic()
    client.send_line(LINES[0])
    client.close_stdin()
    try:
        code: int | None = client.wait_exit(GONE_LIMIT)
        ended = f"ended with exit status {code} after {time.monotonic() - started:.1f} s"
    except WaitTimeoutError:
        client.stop()
        code, ended = None, f"was still running {GONE_LIMIT} s later, waiting for the reply (socklab stopped it)"
    said = stage.printed(client, "no reply") or (  # the reference client says so in an event of its own
        not stage.mine("client") and any(e["event"] == "missing" for e in client.events()))
    lines = [*client.lines(STDOUT), *client.lines(STDERR)]
    shown = "printed `no reply`" if said else (f"printed no `no reply` (its last line: {lines[-1][:80]})" if lines
                                                else "printed nothing")
    stage.check(CHECK_GONE, said and code == EXIT_NO_REPLY,
                f"no server listens on srv udp port {PORT}; the client on h1 was given one line, then the end of "
                f"its input; it {shown} and {ended}",
                expected=f"a line with `no reply` within 2 s, then exit status {EXIT_NO_REPLY} at the end of input",
                hint="sock.settimeout(2.0) before recvfrom; on socket.timeout print `no reply` and go on with the "
                     f"next line; at the end, sys.exit({EXIT_NO_REPLY}) if a reply was missing")


def _short(items: list[str]) -> str:
    return listed(i if len(i) < 40 else i[:37] + "..." for i in items)


def _first_difference(want: list[str], got: list[str]) -> str:
    for i, (w, g) in enumerate(zip(want, got, strict=False)):
        if w != g:
            return f"item {i + 1}: sent {_short([w])} ({len(w)} chars), got back {_short([g])} ({len(g)} chars)"
    if len(want) != len(got):
        return f"{len(got)} items instead of {len(want)}"
    return "identical"
