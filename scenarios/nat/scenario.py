"""NAT: lan_a behind a router that masquerades it onto lan_b (`invoke up --topology nat`).

h1 sends from port 40000 to b1: b1 sees the router's address and another port. A server on
b1 answers each hello at once and pushes to that client 8 s later: the client that keeps its
mapping alive (a keepalive every 2 s) gets the push, the one that stays silent does not (the
router forgot its mapping after 5 s). From lan_b, srv is reached only through the router's
port forward, never at its own address. Captured on the router, both sides of the rewrite.

Exercise: client.py HOST PORT and server.py PORT (see README.md), each checked against the
reference program for the other role, through the NAT.
"""

from __future__ import annotations

import time

from lab.control.programs import HostProgram
from lab.errors import WaitTimeoutError
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "behind a NAT the server sees the router's address and port, and a mapping lives only while used"
NEEDS = Needs(lan=("h1", "h2", "srv"), across=("b1", "b2"), nat=True)
PORT = value("port", 9300)
FORWARD = 9200  # the router's port forward to srv (lab/topologies/nat.yaml)
PUSH_AFTER = 8  # seconds: longer than the router's UDP timeout (5 s)
KEEPALIVE = 2
FLOW = ("router", f"udp port {PORT} or udp port {FORWARD}")
ROLES = {
    "client": Role("h1", ["lab", "nat-client", "--keepalive", str(KEEPALIVE), "--json"], args=("b1", str(PORT))),
    "server": Role("b1", ["lab", "nat-server", "--port", str(PORT), "--push-after", str(PUSH_AFTER), "--json"],
                   args=(str(PORT),)),
    "receiver": Role("b1", ["lab", "udp-recv", "--port", str(PORT), "--json"]),
}
C_HELLO = "client: said hello first; the server got it from the router's address"
C_ALIVE = "client: kept the mapping alive: a datagram to the server at least every 4 s"
C_PUSH = f"client: printed the server's push, sent {PUSH_AFTER} s after its hello"
V_WELCOME = "server: answered hello with welcome, to the router's address and port it came from"
V_PUSH = f"server: sent push {PUSH_AFTER} s after the hello; it reached the client through the NAT"
CHECKS = {"client": [C_HELLO, C_ALIVE, C_PUSH], "server": [V_WELCOME, V_PUSH]}
POINTS = {C_ALIVE: 2, V_PUSH: 2}


def play(stage: Stage) -> None:
    topo = stage.lab.topology()
    (router,) = topo.nat_routers()
    outside = str(router.nat)
    with stage.part("the rewrite: b1 sees the router, not h1"):
        stage.step("b1 receives h1's datagram")
        b1 = stage.start("receiver")
        b1.wait_listening(PORT)
        stage.lab.exec("h1", ["lab", "udp-send", "b1", str(PORT), "--bind", "40000", "--message", "from h1"],
                       check=True)
        (seen,) = b1.wait_event("received", text="from h1")
        peer = tuple(seen["peer"])
        stage.say(f"h1 sent from {topo.host('h1').address}:40000; b1 saw {peer[0]}:{peer[1]}")
        stage.check("b1 saw the router's outside address, not h1's", peer[0] == outside,
                    f"from {peer[0]}:{peer[1]}", expected=f"from {outside} (the router on lan_b)")
    with stage.part("a mapping lives only while datagrams cross it"):
        through_the_nat(stage, outside)
    with stage.part("a server behind the NAT: reached only through the port forward"):
        forward(stage, outside)


def through_the_nat(stage: Stage, outside: str) -> None:
    stage.step(C_HELLO, hint="sock.sendto(b'hello', (host, port)) first, from the socket you then read from")
    server = stage.start("server", reference=True)
    server.wait_listening(PORT)
    mine = stage.start("server", host="b2")  # the student's server (or the reference again), for h2
    mine.wait_listening(PORT)
    client = stage.start("client", "b1", str(PORT))  # h1 -> b1, with keepalives (or the student's)
    client_peer = _hello_from(server, 1)
    checker = stage.start("client", "b2", str(PORT), host="h2", reference=True)  # h2 -> b2, with keepalives
    checking = time.monotonic()  # its hello, and so b2's push 8 s later, come after this
    silent = stage.start("client", "b1", str(PORT), "--keepalive", "0", host="srv", reference=True)
    silent_peer = _hello_from(server, 2)
    stage.check(C_HELLO, client_peer[0] == outside, f"b1 got hello from {client_peer[0]}:{client_peer[1]}",
                expected=f"from {outside}, the router")
    stage.step(C_PUSH, hint="keep reading (recvfrom) on the socket that said hello, and print what arrives")
    pushed = server.wait_event("sent", text="push", count=2, timeout=PUSH_AFTER + 6)
    stage.say(f"b1's server pushed to {listed(f'{p[0]}:{p[1]}' for p in (tuple(e['peer']) for e in pushed))}")
    try:
        stage.wait_printed(client, "push", timeout=2)
    except WaitTimeoutError:
        pass  # the checks below say what it printed
    stage.check(C_PUSH, stage.printed(client, "push"), f"the client's last line: {client.last_said() or 'none'}",
                expected="a line with ‘push’", hint=f"send a keepalive at least every 4 s: the router forgets a "
                f"mapping after 5 s without a datagram, and then drops the push {PUSH_AFTER} s after the hello")
    at = [float(e["at"]) for e in server.events() if e["event"] == "received" and tuple(e["peer"]) == client_peer]
    push_at = next(float(e["at"]) for e in pushed if tuple(e["peer"]) == client_peer)
    gaps = [b - a for a, b in zip(at, [*[t for t in at if t < push_at], push_at][1:], strict=False)]
    stage.check(C_ALIVE, bool(gaps) and max(gaps) <= 4,
                f"from {client_peer[0]}:{client_peer[1]}, b1 got {len(at)} datagrams; the longest silence before "
                f"the push: {max(gaps, default=push_at - at[0]):.1f} s",
                expected="a datagram at least every 4 s", hint="after hello, sendto(b'keepalive', (host, port)) "
                "every 2 s (a thread, or recvfrom with a timeout of 2 s) from the same socket")
    silent_got = [e["text"] for e in silent.events() if e["event"] == "received"]
    stage.check(f"without keepalives the push to {silent_peer[0]}:{silent_peer[1]} (srv) is lost at the router",
                "push" not in silent_got, f"srv's client got {listed(silent_got)}", expected="‘welcome’ only")
    welcome = [e for e in checker.events() if e["event"] == "received" and e["text"] == "welcome"]
    stage.check(V_WELCOME, bool(welcome) and welcome[0]["peer"][1] == PORT,
                f"h2's client got welcome from {welcome[0]['peer'][0]}:{welcome[0]['peer'][1]}" if welcome
                else f"h2's client got {listed(e['text'] for e in checker.events() if e['event'] == 'received')}",
                expected=f"welcome from b2:{PORT}",
                hint="sock.sendto(b'welcome', address) to the address recvfrom gave for the hello")
    try:
        checker.wait_event("received", text="push", timeout=max(1.0, checking + PUSH_AFTER + 6 - time.monotonic()))
        late = time.monotonic() - checking
        said = f"h2's client got push {late:.1f} s after it started"
    except WaitTimeoutError:
        late, said = 0.0, f"h2's client got no push in {PUSH_AFTER + 6} s"
    stage.check(V_PUSH, late >= PUSH_AFTER - 2, said,
                expected=f"about {PUSH_AFTER} s after the hello (past the router's 5 s: kept alive by keepalives)",
                hint=f"remember the address of each hello; {PUSH_AFTER} s later sendto(b'push', address)")


def _hello_from(server: HostProgram, count: int) -> tuple[str, int]:
    """The address of the ``count``-th hello the server received."""
    hellos = server.wait_event("received", text="hello", count=count, timeout=10)
    return str(hellos[count - 1]["peer"][0]), int(hellos[count - 1]["peer"][1])


def forward(stage: Stage, outside: str) -> None:
    stage.step("srv receives through the forward")
    srv = stage.start("receiver", "--port", str(FORWARD), host="srv")
    srv.wait_listening(FORWARD)
    srv_address = str(stage.lab.topology().host("srv").address)
    stage.lab.exec("b1", ["lab", "udp-send", srv_address, str(FORWARD), "--message", "to srv itself"], check=True)
    stage.lab.exec("b1", ["lab", "udp-send", outside, str(FORWARD), "--message", "to the forward"], check=True)
    (through,) = srv.wait_event("received", text="to the forward")
    texts = [e["text"] for e in srv.events() if e["event"] == "received"]
    stage.check(f"b1 sending to srv's own address ({srv_address}) reaches nothing: the router drops it",
                "to srv itself" not in texts, f"srv received {listed(texts)}")
    b1 = str(stage.lab.topology().host("b1").address)
    stage.check(f"b1 sending to the router's {outside}:{FORWARD} reaches srv:{FORWARD}, from b1's own address",
                through["peer"][0] == b1, f"srv got it from {through['peer'][0]}:{through['peer'][1]}",
                expected=f"from {b1} (a port forward rewrites the destination, not the source)")
