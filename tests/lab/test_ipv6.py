"""Dual stack on real containers: every host's IPv6 addresses, ping6 across routers with the
hop limit the topology says, names resolving to both families, IPv6 routes and forwarding,
the ipv6 scenario, and nothing outside the lab reachable over IPv6 either."""

from __future__ import annotations

import pytest
import testinfra

from lab.control.lab import Lab
from lab.control.topology import TTL, Topology
from lab.harness import scenario as scenarios

pytestmark = pytest.mark.lab


def test_every_host_has_its_ipv6_and_link_local_addresses(lab: Lab, topo: Topology) -> None:
    for host in topo.hosts.values():
        out = lab.exec(host.name, ["ip", "-o", "-6", "addr", "show"], check=True).stdout
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


def test_ipv6_routes_and_forwarding_are_the_topologys(topo: Topology, hosts: dict[str, testinfra.host.Host]) -> None:
    for host in topo.hosts.values():
        ti = hosts[host.name]
        default = ti.check_output("ip -6 route show default")
        if host.gateway6:
            assert default.startswith(f"default via {host.gateway6} "), (host.name, default)
        else:
            assert default == "", (host.name, "no IPv6 default route, least of all Docker's", default)
        for route in topo.static_routes6(host.name):
            shown = ti.check_output(f"ip -6 route show {route.subnet6}")
            assert shown.startswith(f"{route.subnet6} via {route.via6} "), (host.name, shown)
        assert ti.sysctl("net.ipv6.conf.all.forwarding") == (host.role == "router"), host.name


def test_nothing_outside_the_lab_is_reachable_over_ipv6(lab: Lab, topo: Topology) -> None:
    """Docker 20.10 takes each LAN's IPv6 gateway (::1) on the bridge: it must answer nothing,
    and on ff02::1 (all nodes) only lab hosts answer, never the Docker host's link-local."""
    lab_link_locals: set[str] = set()
    for host in topo.hosts:
        out = lab.exec(host, ["ip", "-o", "-6", "addr", "show", "scope", "link"], check=True).stdout
        lab_link_locals |= {line.split()[3].split("/")[0] for line in out.splitlines()}
    for lan in topo.lans.values():
        assert lan.gateway6 is not None
        host = next(h.name for h in topo.hosts_on(lan.name) if h.role != "router")
        ping = lab.exec(host, ["ping", "-6", "-c", "2", "-W", "1", str(lan.gateway6)])
        assert ping.exit_code != 0 and " 0 received" in ping.stdout, ping.output
        tcp = lab.exec(host, ["nc", "-6", "-z", "-w", "2", str(lan.gateway6), "22"])
        assert tcp.exit_code != 0, f"{host} connected to Docker's {lan.gateway6}:22"
        allnodes = lab.exec(host, ["ping", "-6", "-c", "2", "-W", "1", "ff02::1%eth0"]).stdout
        answered = {w.split("%")[0].rstrip(":") for w in allnodes.split() if w.startswith("fe80:")}
        assert answered and answered <= lab_link_locals, f"not lab hosts: {answered - lab_link_locals}"
    out = lab.exec(topo.end_hosts()[0].name, ["ping", "-6", "-c", "1", "-W", "1", "fd00:10:0:1::1"])
    assert " 0 received" in out.stdout or out.exit_code == 2, "a ULA outside the lab is unreachable"


def test_the_ipv6_scenario_holds(lab: Lab, topo: Topology) -> None:
    if not {"srv", "h1", "b1"} <= set(topo.hosts):
        pytest.skip("the ipv6 scenario needs srv and h1 on a LAN and b1 across a router")
    narration: list[str] = []
    stage = scenarios.play(lab, "ipv6", say=narration.append)
    failed = [c for c in stage.checks if not c.ok]
    assert stage.checks and not failed, "\n".join(narration)
