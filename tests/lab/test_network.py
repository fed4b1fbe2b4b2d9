"""What crosses hosts: addresses, reach within and across LANs, broadcast reach, isolation."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
import testinfra

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.control.topology import Topology

pytestmark = pytest.mark.lab


def test_every_host_has_its_address_and_name(topo: Topology, hosts: dict[str, testinfra.host.Host]) -> None:
    for host in topo.hosts.values():
        ti = hosts[host.name]
        assert ti.check_output("hostname") == host.name
        assigned = {a for iface in ti.interface.names() if iface != "lo"
                    for a in ti.interface(iface).addresses if ":" not in a}
        assert assigned == {str(a) for a in host.addresses.values()}, host.name


def ping_ttl(lab: Lab, src: str, dst: str) -> int:
    out = lab.exec(src, ["ping", "-c", "1", "-W", "2", dst], check=True).stdout
    match = re.search(r"ttl=(\d+)", out)
    assert match, out
    return int(match.group(1))


@pytest.mark.parametrize(("src", "dst", "ttl"), [
    ("h1", "h2", 64), ("h3", "srv", 64), ("b1", "b2", 64),   # same LAN: no router in between
    ("h1", "b1", 63), ("b2", "srv", 63), ("h2", "b2", 63),   # across the router: 64 - 1
])
def test_reach_within_and_across_lans(lab: Lab, src: str, dst: str, ttl: int) -> None:
    assert ping_ttl(lab, src, dst) == ttl


def test_routes_go_through_the_router(topo: Topology, hosts: dict[str, testinfra.host.Host]) -> None:
    for host in topo.end_hosts():
        route = hosts[host.name].check_output("ip -4 route show default")
        assert route.startswith(f"default via {host.gateway} "), (host.name, route)
    assert hosts["router"].check_output("ip -4 route show default") == ""
    assert hosts["router"].sysctl("net.ipv4.ip_forward") == 1


PORT = 9071  # below the ephemeral range (32768+), where Docker's DNS socket in each host may sit


@pytest.mark.parametrize("kind", ["limited", "subnet"])
def test_broadcast_reaches_its_lan_and_stops_at_the_router(
        lab: Lab, topo: Topology, run_program: Callable[..., HostProgram], kind: str) -> None:
    """Every end host broadcasts once; the reach matrix is exactly 'same LAN'.

    The sender's own listener hears it too: Linux loops a broadcast back to local sockets.
    """
    end = [h.name for h in topo.end_hosts()]
    listeners = {h: run_program(h, ["lab", "broadcast-listen", "--port", str(PORT), "--json"]) for h in end}
    for program in listeners.values():
        program.wait_listening(PORT)
    for sender in end:
        lan = topo.lans[topo.host(sender).lans[0]]
        to = "<broadcast>" if kind == "limited" else str(lan.broadcast)
        lab.exec(sender, ["lab", "broadcast-send", str(PORT), "--to", to, "--message", f"from-{sender}"], check=True)
    # A unicast fence from every sender to every other host: it travels the same path after
    # the broadcast, so once the fence is in, a broadcast that was coming would be in too.
    for sender, receiver in itertools.permutations(end, 2):
        lab.exec(sender, ["lab", "udp-send", receiver, str(PORT), "--message", f"fence-{sender}"], check=True)
    reached: dict[str, set[str]] = {}
    for receiver, program in listeners.items():
        for sender in end:
            if sender != receiver:
                program.wait_event("received", text=f"fence-{sender}")
        texts = {e["text"] for e in program.events() if e["event"] == "received"}
        reached[receiver] = {t.removeprefix("from-") for t in texts if t.startswith("from-")}
    expected = {r: {s for s in end if topo.same_lan(s, r)} for r in end}
    assert reached == expected


def test_broadcast_without_so_broadcast_is_refused(lab: Lab) -> None:
    result = lab.exec("h1", ["lab", "broadcast-send", str(PORT), "--no-so-broadcast", "--message", "x"])
    assert result.exit_code == 1
    assert "needs SO_BROADCAST" in result.stderr


def test_nothing_outside_the_lab_is_reachable(lab: Lab, topo: Topology) -> None:
    """The Docker host's own place on each lab bridge (the gateway) answers nothing.

    Only the gateway address is tried: it is the one address outside the lab that a lab
    host could reach if isolation failed, and trying it sends nothing off this machine.
    """
    for lan in topo.lans.values():
        host = next(h.name for h in topo.hosts_on(lan.name) if h.role != "router")
        ping = lab.exec(host, ["ping", "-c", "2", "-W", "1", str(lan.gateway)])
        assert ping.exit_code != 0 and " 0 received" in ping.stdout, ping.output
        for port in (22, 80, 2375):
            tcp = lab.exec(host, ["nc", "-z", "-w", "2", str(lan.gateway), str(port)])
            assert tcp.exit_code != 0, f"{host} connected to the gateway {lan.gateway}:{port}"
        assert lab.exec(host, ["ip", "neigh", "show", str(lan.gateway)]).stdout.split()[-1:] in (
            ["FAILED"], ["INCOMPLETE"], []), "someone answered ARP for the gateway"
