"""Dual stack on real containers: every host's IPv6 addresses, ping6 across routers with the
hop limit the topology says, names resolving to both families, IPv6 routes and forwarding,
the ipv6 scenario, and nothing outside the lab reachable over IPv6 either; the `lab` programs
(TCP echo and chat, timestamp, TFTP) over IPv6 to the farthest host and over a link-local
address with its scope id. Written for any topology: `invoke test` runs it on each."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from test_network import at_once, routes_shown

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.control.topology import TTL, Topology
from lab.control.topology_model import Host
from lab.harness import scenario as scenarios

pytestmark = pytest.mark.lab


def test_every_host_has_its_ipv6_and_link_local_addresses(lab: Lab, topo: Topology) -> None:
    shown = at_once(lab, [(host, ["ip", "-o", "-6", "addr", "show"]) for host in topo.hosts])
    for host, result in zip(topo.hosts.values(), shown, strict=True):
        assert result.exit_code == 0, result.output
        out = result.stdout
        found = {line.split()[3].split("/")[0] for line in out.splitlines() if " scope global " in line}
        assert found == {str(a) for a in host.addresses6.values()}, host.name
        links = [line for line in out.splitlines() if " scope link " in line and " inet6 fe80:" in line]
        assert len(links) == len(host.lans), (host.name, "a link-local address on each LAN")


def test_ping6_across_the_router_shows_the_hop_limit(lab: Lab, topo: Topology) -> None:
    """From the first end host, ping -6 every other host by name: hop limit 64 less the routers."""
    src = topo.end_hosts()[0].name
    targets = [h for h in topo.hosts if h != src][:12]  # a big LAN needs no more to show it
    script = ('for d in "$@"; do ttl=$(ping -6 -n -c 1 -W 2 "$d" 2>&1 | sed -n "s/.*ttl=\\([0-9]*\\).*/\\1/p"); '
              'echo "$d ${ttl:-none}"; done')
    out = lab.exec(src, ["sh", "-c", script, "ping6-all", *targets], check=True).stdout
    assert dict(line.split() for line in out.splitlines()) == {
        dst: str(TTL - topo.hops(src, dst)) for dst in targets}


def test_names_resolve_to_both_families_ipv4_first(lab: Lab, topo: Topology) -> None:
    """getaddrinfo gives a lab name's IPv4 and IPv6 addresses, IPv4 first (RFC 6724: ULA ranks
    below IPv4), so the IPv4 lessons' `ping h2` stays IPv4."""
    src = topo.end_hosts()[0].name
    other = topo.end_hosts()[-1]
    lookup = "import socket, sys; print(*[a[4][0] for a in socket.getaddrinfo(sys.argv[1], 9, type=socket.SOCK_DGRAM)])"
    out = lab.exec(src, ["python3", "-c", lookup, other.name], check=True).stdout.split()
    assert out[0] == str(other.address) and str(other.address6) in out, out


def test_ipv6_routes_and_forwarding_are_the_topologys(lab: Lab, topo: Topology) -> None:
    routes_of = {h: topo.static_routes6(h) for h in topo.hosts}
    shown_on = routes_shown(lab, "-6", {h: [str(r.subnet6) for r in routes] for h, routes in routes_of.items()},
                            "net.ipv6.conf.all.forwarding")
    for host in topo.hosts.values():
        routes = routes_of[host.name]
        default, *shown, forwarding = shown_on[host.name]
        if host.gateway6:
            assert default.startswith(f"default via {host.gateway6} "), (host.name, default)
        else:
            assert default == "", (host.name, "no IPv6 default route, least of all Docker's", default)
        for route, line in zip(routes, shown, strict=True):
            assert line.startswith(f"{route.subnet6} via {route.via6} "), (host.name, line)
        assert forwarding == ("1" if host.role == "router" else "0"), host.name


def test_nothing_outside_the_lab_is_reachable_over_ipv6(lab: Lab, topo: Topology) -> None:
    """Docker 20.10 takes each LAN's IPv6 gateway (::1) on the bridge: it must answer nothing,
    and on ff02::1 (all nodes) only lab hosts answer, never the Docker host's link-local."""
    shown = at_once(lab, [(host, ["ip", "-o", "-6", "addr", "show", "scope", "link"]) for host in topo.hosts])
    lab_link_locals = {line.split()[3].split("/")[0] for each in shown for line in each.stdout.splitlines()}
    probes: list[tuple[str, list[str]]] = []
    for lan in topo.lans.values():
        assert lan.gateway6 is not None
        host = next(h.name for h in topo.hosts_on(lan.name) if h.role != "router")
        probes += [(host, ["ping", "-6", "-c", "2", "-W", "1", str(lan.gateway6)]),
                   (host, ["nc", "-6", "-z", "-w", "2", str(lan.gateway6), "22"]),
                   (host, ["ping", "-6", "-c", "2", "-W", "1", "ff02::1%eth0"])]
    for (host, cmd), result in zip(probes, at_once(lab, probes), strict=True):
        if cmd[0] == "nc":
            assert result.exit_code != 0, f"{host} connected to Docker's {cmd[-2]}:22"
        elif cmd[-1] != "ff02::1%eth0":
            assert result.exit_code != 0 and " 0 received" in result.stdout, result.output
        else:
            answered = {w.split("%")[0].rstrip(":") for w in result.stdout.split() if w.startswith("fe80:")}
            assert answered and answered <= lab_link_locals, f"not lab hosts: {answered - lab_link_locals}"
    outside = lab.exec(topo.end_hosts()[0].name, ["ping", "-6", "-c", "1", "-W", "1", "fd00:10:0:1::1"])
    assert " 0 received" in outside.stdout or outside.exit_code == 2, "a ULA outside the lab is unreachable"


def test_the_ipv6_scenario_holds(lab: Lab, topo: Topology) -> None:
    if not {"srv", "h1", "b1"} <= set(topo.hosts):
        pytest.skip("the ipv6 scenario needs srv and h1 on a LAN and b1 across a router")
    narration: list[str] = []
    stage = scenarios.play(lab, "ipv6", say=narration.append)
    failed = [c for c in stage.checks if not c.ok]
    assert stage.checks and not failed, "\n".join(narration)


def ends(topo: Topology) -> tuple[Host, Host]:
    """The first end host and the one farthest from it (across every router the topology has)."""
    src = topo.end_hosts()[0]
    return src, max(topo.end_hosts(), key=lambda h: topo.hops(src.name, h.name))


def sections(stdout: str) -> dict[str, list[dict[str, Any]]]:
    """A script's output cut at its `== name` lines: each part's --json events."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for line in stdout.splitlines():
        if line.startswith("== "):
            events = parts.setdefault(line[3:], [])
        elif line.startswith("{"):
            events.append(json.loads(line))
    return parts


def test_tcp_echo_chat_and_timestamp_over_ipv6(lab: Lab, topo: Topology,
                                               run_program: Callable[..., HostProgram]) -> None:
    """Each TCP program, the UDP timestamp and the UDP chat room, from the first end host to the
    farthest (by name with -6, the room by [address]:port): the servers (-6, an IPv6 socket) see
    the client's IPv6 address, the clients the server's."""
    src, far = ends(topo)
    servers = {name: run_program(far.name, ["lab", *argv, "-6", "--json"]) for name, argv in {
        "echo": ["tcp-echo-server", "--port", "9601", "--impl", "selectors"],
        "stamp-tcp": ["timestamp-server", "--proto", "tcp", "--port", "9602"],
        "stamp-udp": ["timestamp-server", "--proto", "udp", "--port", "9602"],
        "chat": ["chat-server", "--port", "9603"],
        "tcp-chat": ["tcp-server", "--port", "9604"],
        "room": ["udp-chatroom-server", "--port", "9604"],
    }.items()}
    for server in servers.values():
        assert server.wait_event("listening")[0]["local"][0] == "::"
    echo = ("import socket, sys; s = socket.create_connection((sys.argv[1], 9601), timeout=5); "
            "s.sendall(b'echo v6'); print(s.recv(100).decode())")
    script = ('echo "== echo"; python3 -c "$1" "$2"; '
              'echo "== stamp-tcp"; echo "stamp v6" | lab timestamp-client --proto tcp -6 "$2" 9602 --json; '
              'echo "== stamp-udp"; echo "stamp v6" | lab timestamp-client -6 "$2" 9602 --json; '
              'echo "== chat"; echo "hello room" | lab chat-client -6 "$2" 9603 --name alice --json; '
              'echo "== tcp-chat"; echo "hi server" | lab tcp-client -6 "$2" 9604 --json; '
              'echo "== room"; echo "hi room" | lab udp-chat --room "[$3]:9604" --name bob --json')
    done = lab.exec(src.name, ["sh", "-c", script, "v6-clients", echo, far.name, str(far.address6)], check=True)
    assert "\n".join(done.stdout.splitlines()[1:2]) == "echo v6", done.output
    said, me, them = sections(done.stdout), str(src.address6), str(far.address6)
    for name in ("stamp-tcp", "stamp-udp"):
        replies = [e for e in said[name] if e["event"] == "reply"]
        assert len(replies) == 1 and replies[0]["text"].endswith("]stamp v6") and replies[0]["peer"][0] == them, said
    assert [e["peer"][0] for e in said["chat"] if e["event"] == "connected"] == [them], said["chat"]
    welcome = [e for e in said["room"] if e["event"] == "received" and e["text"].startswith("* welcome bob")]
    assert welcome and welcome[0]["peer"][0] == them, said["room"]
    servers["tcp-chat"].wait_exit(30)  # it ends when its one client has said bye: soon, unless the machine is busy
    got = [(e["text"], e["peer"][0]) for e in servers["tcp-chat"].events() if e["event"] == "received"]
    assert got == [("hi server", me), ("bye", me)]
    for name in ("echo", "chat", "stamp-tcp"):
        assert servers[name].wait_event("connected")[0]["peer"][0] == me, name
    assert servers["stamp-udp"].wait_event("replied")[0]["peer"][0] == me
    assert servers["room"].wait_event("received", text="MSG hi room")[0]["peer"][0] == me


def test_tftp_get_and_put_over_ipv6(lab: Lab, topo: Topology, run_program: Callable[..., HostProgram]) -> None:
    """A TFTP download and upload to the farthest host's IPv6 address, byte-identical; the server
    (in prose) names the client as [address]:port."""
    src, far = ends(topo)
    lab.exec(far.name, ["sh", "-c", "rm -rf /tmp/v6tftp && mkdir /tmp/v6tftp && head -c 3000 /dev/urandom "
                        "> /tmp/v6tftp/f.bin"], check=True)
    server = run_program(far.name, ["lab", "tftp-server", "-6", "--root", "/tmp/v6tftp", "--port", "6969",
                                    "--writable", "--create"])
    server.wait_line(re.escape("tftp server on udp [::]:6969"))
    script = ('cd "$(mktemp -d)" && lab tftp get "$1" f.bin got.bin --port 6969 && '
              'lab tftp put "$1" got.bin up.bin --port 6969 && sha256sum got.bin')
    done = lab.exec(src.name, ["sh", "-c", script, "v6-tftp", str(far.address6)], check=True)
    sums = lab.exec(far.name, ["sha256sum", "/tmp/v6tftp/f.bin", "/tmp/v6tftp/up.bin"], check=True).stdout.split()
    assert sums[0] == sums[2] == done.stdout.split()[-2], (sums, done.output)
    for request, name in (("RRQ", "f.bin"), ("WRQ", "up.bin")):
        server.wait_line(re.escape(f"{request} {name} (3000 bytes) for [{src.address6}]:"))


def test_link_local_with_a_scope_id_on_one_lan(lab: Lab, topo: Topology,
                                                run_program: Callable[..., HostProgram]) -> None:
    """fe80::...%eth0 names a neighbour on one link: a timestamp over TCP and a TFTP download reach
    it, and the server sees the client's link-local address with the server's own link."""
    src = topo.end_hosts()[0]
    near = next(h for h in topo.end_hosts() if h.name != src.name and topo.same_lan(h.name, src.name))
    link = {}
    for host in (src.name, near.name):
        fields = lab.exec(host, ["ip", "-o", "-6", "addr", "show", "scope", "link"], check=True).stdout.split()
        link[host] = (fields[1], fields[3].split("/")[0])  # (eth0, fe80::...)
    (src_if, src_ll), (near_if, near_ll) = link[src.name], link[near.name]
    lab.exec(near.name, ["sh", "-c", "rm -rf /tmp/v6ll && mkdir /tmp/v6ll && echo link-local > /tmp/v6ll/f"],
             check=True)
    stamp = run_program(near.name, ["lab", "timestamp-server", "--proto", "tcp", "-6", "--port", "9605", "--json"])
    tftp = run_program(near.name, ["lab", "tftp-server", "-6", "--root", "/tmp/v6ll", "--port", "6970", "--json"])
    stamp.wait_event("listening")
    tftp.wait_event("listening")
    script = ('echo "== stamp"; echo ll | lab timestamp-client --proto tcp "$1" 9605 --json; '
              'echo "== tftp"; cd "$(mktemp -d)" && lab tftp get "$1" f --port 6970 --json && cat f')
    done = lab.exec(src.name, ["sh", "-c", script, "v6-ll", f"{near_ll}%{src_if}"], check=True)
    said = sections(done.stdout)
    assert [e["text"][-3:] for e in said["stamp"] if e["event"] == "reply"] == ["]ll"], said
    assert done.stdout.splitlines()[-1] == "link-local", done.output
    assert stamp.wait_event("connected")[0]["peer"][0] == f"{src_ll}%{near_if}"
    assert tftp.wait_event("done")[0]["peer"][0] == f"{src_ll}%{near_if}"


def test_bad_ipv6_requests_are_one_clear_line(lab: Lab, topo: Topology) -> None:
    src, far = ends(topo)
    cases = {
        "-6 with an IPv4 address": (["tcp-client", "-6", str(far.address), "9"],
                                    f"{far.address} is an IPv4 address, but -6 asks for IPv6"),
        "a malformed address": (["chat-client", "fd00::zz", "9", "--name", "x"], "unknown host 'fd00::zz'"),
        "an unknown link": (["tftp", "get", "fe80::1%nolink0", "f"], "this host has no link 'nolink0'"),
        "an IPv6 peer without brackets": (["udp-chat", "--peer", "fd00::2:9000"], "write an IPv6 address in brackets"),
        "broadcast over IPv6": (["broadcast-send", "9", "--to", "ff02::1", "--message", "x"],
                                "IPv6 has no broadcast"),
    }
    script = 'for c in "$@"; do sh -c "lab $c" 2>&1 >/dev/null; echo "== exit $?"; done'
    done = lab.exec(src.name, ["sh", "-c", script, "v6-bad",
                               *(" ".join(shlex.quote(a) for a in argv) for argv, _ in cases.values())])
    said = re.split(r"^== exit (\d+)$\n?", done.stdout, flags=re.M)  # [said, status, said, status, ..., ""]
    for (name, (_, says)), out, status in zip(cases.items(), said[0::2], said[1::2], strict=False):
        assert says in out.strip().splitlines()[-1] and "Traceback" not in out, (name, out)  # argparse: usage first
        assert status in ("1", "2"), (name, status)
    assert len(said) == 2 * len(cases) + 1, done.output
