"""Multicast: only the hosts that joined a group receive it; the TTL decides how far it goes.

h1 sends to the group with TTL 1 and then TTL 2. h2 (joined) and b1 (joined, across the
router) listen, h3 only binds the port without joining. The TTL 1 datagram reaches h2 alone;
the TTL 2 one also crosses the router (smcroute's static route for 239.0.0.0/8) to b1, which
sees it with TTL 1. b1 then joins again, takes one datagram and leaves: the next one no longer
reaches its socket. The IGMP reports of the joins and the leave are in b1's capture. Last,
the same across the router over IPv6: the site-local group ff05::1:2:3, joined with
IPV6_JOIN_GROUP (an MLD report), sent with a hop limit of 2.

Exercise: sender.py GROUP PORT MESSAGE and receiver.py GROUP PORT (see README.md), each
checked against the reference program for the other role, across the router, with an IPv4
group and with an IPv6 one.
"""

from __future__ import annotations

from lab.control.programs import HostProgram
from lab.control.wait import wait_until
from lab.errors import ProgramEndedError, WaitTimeoutError
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "a group reaches only the hosts that joined it, as far as its TTL allows"
NEEDS = Needs(lan=("h1", "h2", "h3"), across=("b1", "b2"))
GROUP = value("group", "239.1.2.3")
GROUP6 = value("group6", "ff05::1:2:3")
PORT = value("port", 9400)
MESSAGE = value("message", "hello group")
FLOW = ("b1", f"igmp or udp port {PORT}")
ROLES = {
    "sender": Role("h1", ["lab", "mcast-send", GROUP, str(PORT), "--ttl", "4", "--json"],
                   args=(GROUP, str(PORT), MESSAGE)),
    "receiver": Role("b1", ["lab", "mcast-recv", GROUP, str(PORT), "--json"], args=(GROUP, str(PORT))),
    "bound": Role("h3", ["lab", "udp-recv", "--port", str(PORT), "--json"]),  # binds the port, joins nothing
    # the reference programs with the IPv6 group, for the student's program of the other role
    "sender6": Role("h1", ["lab", "mcast-send", GROUP6, str(PORT), "--json"]),
    "receiver6": Role("b1", ["lab", "mcast-recv", GROUP6, str(PORT), "--json"]),
}
S_LAN = "sender: a joined host on its LAN (h2) received the message once, sent to the group"
S_ACROSS = "sender: a joined host across the router (b1) received it: a TTL of 2 to 8"
R_JOINED = "receiver: b1 joined the group (ip maddr lists it) once the receiver started"
R_ACROSS = "receiver: printed the message sent to the group from h1, across the router"
R_LAN = "receiver: printed the message sent to the group from b2, on its own LAN"
S6 = "sender, IPv6 group: h2 and b1 (across the router) received it once, with a hop limit of 2 to 8"
R6 = "receiver, IPv6 group: b1 joined ff05::1:2:3 and printed the message sent to it from h1"
CHECKS = {"sender": [S_LAN, S_ACROSS, S6], "receiver": [R_JOINED, R_ACROSS, R_LAN, R6]}
POINTS = {S_ACROSS: 2, R_ACROSS: 2, S6: 2, R6: 2}
JOIN_HINT = (f"join before you read: sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, "
             f"socket.inet_aton('{GROUP}') + socket.inet_aton('0.0.0.0')) after bind(('', port))")
JOIN6_HINT = ("a group with a ':' is IPv6: an AF_INET6 socket, bind(('', port)), then setsockopt(socket.IPPROTO_IPV6, "
              f"socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, '{GROUP6}') + struct.pack('@I', 0)) "
              "(0: the interface the kernel's routes choose)")
HOPS6_HINT = ("a group with a ':' is IPv6: an AF_INET6 socket, and setsockopt(socket.IPPROTO_IPV6, "
              "socket.IPV6_MULTICAST_HOPS, 2), IPv6's TTL (the default, 1, never leaves the LAN)")


def play(stage: Stage) -> None:
    with stage.part("who receives: members only, as far as the TTL goes"):
        members(stage)
    with stage.part("the student's sender, heard by the reference receivers" if stage.mine("sender")
                    else "the sender's own message, with a TTL of 4"):
        sender(stage)
    with stage.part("leaving: b1 takes one datagram, leaves, and the next one no longer reaches it"):
        leaving(stage)
    with stage.part(f"IPv6: the group {GROUP6} across the router, IPV6_JOIN_GROUP and a hop limit of 2"):
        receiver6(stage)
        sender6(stage)


def joined(stage: Stage, host: str, group: str = GROUP) -> bool:
    """Does ``host`` list ``group`` among its memberships (`ip maddr`: what the kernel joined)?"""
    return group in stage.lab.exec(host, ["ip", "-6" if ":" in group else "-4", "maddr", "show"]).stdout


def received(program: HostProgram, text: str) -> list[dict[str, object]]:
    return [e for e in program.events() if e["event"] == "received" and e["text"] == text]


def fence(stage: Stage, programs: dict[str, HostProgram], text: str, student: HostProgram | None = None,
          family: str = "-4") -> None:
    """A unicast to each listener after what was sent to the group: once it is in, the
    group's datagram sent before it either arrived or never will (one path, in order).
    A ``student``'s receiver that prints nothing is left to the checks to describe. ``family``:
    the unicast's, the group's (an IPv6 socket hears no IPv4)."""
    for host, program in programs.items():
        stage.lab.exec("h1", ["lab", "udp-send", family, host, str(PORT), "--message", text], check=True)
        try:
            stage.wait_printed(program, text)
        except WaitTimeoutError:
            if program is not student:
                raise


def members(stage: Stage) -> None:
    stage.step(R_JOINED, hint=JOIN_HINT)
    listeners = {"h2": stage.start("receiver", host="h2", reference=True), "b1": stage.start("receiver"),
                 "h3": stage.start("bound")}
    for program in listeners.values():
        program.wait_listening(PORT)
    try:
        wait_until(lambda: joined(stage, "b1"), 5, f"b1 to join {GROUP}")
    except WaitTimeoutError:
        pass  # a receiver that never joins: this check's FAIL
    member = joined(stage, "b1")
    stage.check(R_JOINED, member, f"ip maddr on b1 {'lists' if member else 'does not list'} {GROUP}",
                expected=f"{GROUP} among b1's memberships", hint=JOIN_HINT)
    wait_until(lambda: joined(stage, "h2"), 5, f"h2 to join {GROUP}")
    stage.check("h3 bound the port but is no member (ip maddr)", not joined(stage, "h3"), "h3 joined nothing")
    for ttl in (1, 2):
        stage.step(f"h1 sends to {GROUP} with TTL {ttl}")
        stage.run("sender", "--ttl", str(ttl), "--message", f"ttl {ttl} from h1", reference=True, timeout=10)
    stage.run("sender", "--ttl", "1", "--message", "ttl 1 from b2", host="b2", reference=True, timeout=10)
    stage.step("the listeners take the fence")
    fence(stage, listeners, "fence 1", listeners["b1"] if stage.mine("receiver") else None)
    got = {ttl: [h for h, p in listeners.items() if received(p, f"ttl {ttl} from h1")] for ttl in (1, 2)}
    stage.say(f"TTL 1 from h1 reached {listed(got[1], 'no host')}; TTL 2 reached {listed(got[2], 'no host')}")
    stage.check("TTL 1 stayed on h1's LAN: joined h2 got it, b1 across the router did not", got[1] == ["h2"],
                f"reached {listed(got[1])}", expected="‘h2’")
    stage.check("h3, bound to the port but not a member, got nothing sent to the group",
                not any(e["text"] != "fence 1" for e in listeners["h3"].events() if e["event"] == "received"),
                "h3 received only the unicast fence", expected="the kernel drops a group it did not join")
    b1 = listeners["b1"]
    for name, text in ((R_ACROSS, "ttl 2 from h1"), (R_LAN, "ttl 1 from b2")):
        said = stage.printed(b1, text)
        stage.check(name, said, f"b1's receiver printed {'it' if said else 'no line with it'}; its last line: "
                    f"{b1.last_said() or 'none'}", expected=f"a line with ‘{text}’",
                    hint=JOIN_HINT + "; then print each datagram's text")
    across = received(b1, "ttl 2 from h1")
    if across:  # the reference receiver says the TTL a datagram arrived with
        stage.check("the TTL 2 datagram reached b1 with TTL 1: the router took one off", across[0]["ttl"] == 1,
                    f"TTL {across[0]['ttl']}")
    routes = stage.lab.exec("router", ["ip", "mroute", "show"]).stdout
    route = next((line.strip() for line in routes.splitlines() if GROUP in line), "")
    stage.check("the router forwards the group from lan_a (ip mroute lists it)", bool(route),
                route or "ip mroute lists no route for the group")


def sender(stage: Stage) -> None:
    stage.step(S_LAN, hint="sendto(message.encode('utf-8'), (group, port)) on a UDP socket")
    listeners = {h: stage.start("receiver", host=h, reference=True) for h in ("h2", "b1")}
    for program in listeners.values():
        program.wait_event("joined")
    stage.run("sender", "--message", MESSAGE, timeout=10)
    fence(stage, listeners, "fence 2")
    on_lan = received(listeners["h2"], MESSAGE)
    to = [str(e["to"]) for e in on_lan]
    stage.check(S_LAN, len(on_lan) == 1 and to == [GROUP],
                f"h2 received it {len(on_lan)} times" + (f", sent to {listed(to)}" if to else ""),
                expected=f"once, sent to {GROUP}",
                hint=f"one sendto(message, ('{GROUP}', port)): to the group, not to each host")
    across = received(listeners["b1"], MESSAGE)
    ttl = int(str(on_lan[0]["ttl"])) if on_lan else 0
    stage.check(S_ACROSS, bool(across) and 2 <= ttl <= 8,
                f"b1 received it {len(across)} times; it left h1 with TTL {ttl}" if on_lan else "h2 got nothing",
                expected="b1 receives it; the TTL is 2 to 8 (1 stays on the LAN; the lab allows at most 8)",
                hint="sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2): each router takes one off, "
                     "and the default TTL of 1 never leaves the LAN")


def leaving(stage: Stage) -> None:
    stage.step("b1 leaves after one datagram")
    b1 = stage.start("receiver", "--leave-after", "1", reference=True)
    b1.wait_event("joined")
    stage.run("sender", "--ttl", "2", "--message", "before leaving", reference=True, timeout=10)
    b1.wait_event("left")
    wait_until(lambda: not joined(stage, "b1"), 5, f"b1's membership of {GROUP} to go")
    stage.run("sender", "--ttl", "2", "--message", "after leaving", reference=True, timeout=10)
    fence(stage, {"b1": b1}, "fence 3")
    texts = [str(e["text"]) for e in b1.events() if e["event"] == "received"]
    stage.check("after leaving the group, b1 no longer receives it (its socket still bound)",
                texts == ["before leaving", "fence 3"], f"b1 received {listed(texts)}",
                expected="‘before leaving’, ‘fence 3’")


def receiver6(stage: Stage) -> None:
    """The student's receiver on b1 with the IPv6 group; the reference sender on h1, hop limit 2."""
    stage.step(R6, hint=JOIN6_HINT)
    mine = stage.mine("receiver")
    b1 = stage.start("receiver", args=(GROUP6, str(PORT))) if mine else stage.start("receiver6")
    try:
        wait_until(lambda: joined(stage, "b1", GROUP6), 5, f"b1 to join {GROUP6}")
    except WaitTimeoutError:
        pass  # a receiver that never joins: this check's FAIL
    member = joined(stage, "b1", GROUP6)
    stage.run("sender6", "--ttl", "2", "--message", "ipv6 from h1", timeout=10)
    try:
        fence(stage, {"b1": b1}, "fence 6", b1 if mine else None, family="-6")
    except ProgramEndedError:
        if not mine:
            raise  # a student's receiver that ended (an IPv4 join of an IPv6 group fails): the check says so
    said = stage.printed(b1, "ipv6 from h1")
    stage.check(R6, member and said, f"ip -6 maddr on b1 {'lists' if member else 'does not list'} {GROUP6}; the "
                f"receiver printed {'it' if said else 'no line with it'}; its last line: {b1.last_said() or 'none'}",
                expected=f"{GROUP6} among b1's memberships, and a line with ‘ipv6 from h1’", hint=JOIN6_HINT)


def sender6(stage: Stage) -> None:
    """The student's sender on h1 with the IPv6 group; the reference receivers on h2 and b1."""
    stage.step(S6, hint=HOPS6_HINT)
    listeners = {h: stage.start("receiver6", host=h) for h in ("h2", "b1")}
    for program in listeners.values():
        program.wait_event("joined")
    if stage.mine("sender"):
        stage.run("sender", args=(GROUP6, str(PORT), "hello ipv6 group"), timeout=10)
    else:
        stage.run("sender6", "--ttl", "2", "--message", "hello ipv6 group", timeout=10)
    fence(stage, listeners, "fence 7", family="-6")
    got = {h: received(p, "hello ipv6 group") for h, p in listeners.items()}
    hops = [int(str(e["ttl"])) for e in got["h2"]]
    to = [str(e["to"]) for e in got["h2"]]
    stage.check(S6, len(got["h2"]) == 1 and to == [GROUP6] and bool(got["b1"]) and 2 <= hops[0] <= 8,
                f"h2 received it {len(got['h2'])} times" + (f", sent to {listed(to)} with hop limit {hops[0]}"
                                                            if hops else "") + f"; b1 {len(got['b1'])} times",
                expected=f"h2 and b1 receive it once, sent to {GROUP6} with a hop limit of 2 to 8", hint=HOPS6_HINT)
