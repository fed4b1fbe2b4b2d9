"""IPv6: the same echo across the router over AF_INET6; the hop limit is IPv6's TTL; no
broadcast, but ff02::1 (every node of a link) reaches the sender's LAN and stops at the router.

Every lab is dual-stack (docs/topologies.md): srv is also fd00:X:Y:1::10, and the names in
/etc/hosts give both addresses (getaddrinfo with AF_INET6, `-6`, picks the IPv6 one).
"""

from __future__ import annotations

from lab.control.topology import ALL_NODES, TTL
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "the echo over IPv6, its hop limit, and ff02::1 instead of broadcast"
NEEDS = Needs(lan=("srv", "h1"), across=("b1",))
PORT = value("port", 9010)
FLOW = ("b1", f"ip6 and udp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "udp-echo-server", "-6", "--port", str(PORT), "--json"]),
    "client": Role("b1", ["lab", "udp-echo-client", "-6", "srv", str(PORT), "--json"]),
    "listener": Role("b1", ["lab", "udp-recv", "-6", "--port", str(PORT + 1), "--hops", "--json"]),
}
LINES = ["hello over IPv6", "你好, IPv6"]


def play(stage: Stage) -> None:
    topo = stage.lab.topology()
    srv, b1, h1 = topo.host("srv"), topo.host("b1"), topo.host("h1")
    with stage.part("the echo across the router, over IPv6"):
        stage.say(f"srv listens on [::]:{PORT} (AF_INET6, IPv6 only); b1 asks for srv's IPv6 address (-6)")
        server = stage.start("server")
        server.wait_listening(PORT)
        client = stage.run("client", lines=[*LINES, "exit"])
        replies = [e for e in client.events() if e["event"] == "reply"]
        stage.check("every line came back over IPv6", [r["text"] for r in replies] == LINES,
                    listed([r["text"] for r in replies]), expected=listed(LINES))
        peers = {r["peer"][0] for r in replies}
        stage.check("the replies came from srv's IPv6 address", peers == {str(srv.address6)}, listed(sorted(peers)),
                    expected=str(srv.address6), hint="getaddrinfo('srv', port, AF_INET6) gives the IPv6 address")
        echoed = {e["peer"][0] for e in server.events() if e["event"] == "echoed"}
        stage.check("srv saw b1's IPv6 address as the source", echoed == {str(b1.address6)}, listed(sorted(echoed)),
                    expected=str(b1.address6))
        server.stop()
    with stage.part("the hop limit: IPv6's TTL"):
        hops = topo.hops("h1", "b1")
        listener = stage.start("listener")
        listener.wait_listening(PORT + 1)
        stage.say(f"h1 sends to b1 over IPv6: {hops} router(s) between, each takes one off the hop limit")
        stage.lab.exec("h1", ["lab", "udp-send", "-6", "b1", str(PORT + 1), "--message", "from h1"], check=True)
        (got,) = listener.wait_event("received", text="from h1")
        stage.check(f"the hop limit arrived as {TTL - hops} ({TTL} less {hops} router(s))",
                    got.get("hop_limit") == TTL - hops, f"hop limit {got.get('hop_limit')} from {got['peer'][0]}",
                    expected=f"{TTL - hops} from {h1.address6}",
                    hint="setsockopt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1), then recvmsg: the IPV6_HOPLIMIT message")
        listener.stop()
    with stage.part(f"no broadcast in IPv6: {ALL_NODES} (all nodes) instead"):
        ends = [h.name for h in topo.end_hosts()]
        listeners = {h: stage.start("listener", host=h) for h in ends}
        for program in listeners.values():
            program.wait_listening(PORT + 1)
        to = f"{ALL_NODES}%eth0"  # a link-local group: the link must be named (b1's only one is eth0)
        stage.say(f"b1 sends to {to}: every node of b1's link has joined ff02::1")
        stage.lab.exec("b1", ["lab", "udp-send", "-6", to, str(PORT + 1), "--message", "all nodes"], check=True)
        for host in ends:  # a fence: unicast after the multicast, from the same sender
            stage.lab.exec("b1", ["lab", "udp-send", "-6", host, str(PORT + 1), "--message", "fence"], check=True)
        reached, sources, limits = [], set(), set()
        for host, program in listeners.items():
            program.wait_event("received", text="fence")
            for e in program.events():
                if e["event"] == "received" and e["text"] == "all nodes":
                    reached.append(host)
                    sources.add(e["peer"][0])
                    limits.add(e.get("hop_limit"))
        expected = [h for h in ends if topo.same_lan(h, "b1")]
        stage.check(f"{ALL_NODES} reached exactly b1's LAN", reached == expected, listed(reached),
                    expected=f"{listed(expected)}: a router forwards no link-local multicast")
        stage.check("its source is b1's link-local address (fe80::/10, with its link)",
                    bool(sources) and all(s.startswith("fe80:") and "%" in s for s in sources), listed(sorted(sources)),
                    hint="a link-local address is only meaningful with its link: fe80::...%eth0")
        stage.check("its hop limit is 1: link-local multicast never crosses a router", limits == {1}, str(limits))
        for program in listeners.values():
            program.stop()
