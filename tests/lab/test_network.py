"""What crosses hosts: addresses, reach within and across LANs, broadcast reach, isolation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from lab.control.engine import ExecResult
from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.control.topology import TTL, Topology
from lab.control.wait import wait_until

pytestmark = pytest.mark.lab


def test_every_host_has_its_address_and_name(lab: Lab, topo: Topology) -> None:
    shown = at_once(lab, [(host, ["sh", "-c", "hostname; ip -o -4 addr show scope global"]) for host in topo.hosts])
    for host, result in zip(topo.hosts.values(), shown, strict=True):
        assert result.exit_code == 0, result.output
        name, *lines = result.stdout.splitlines()
        assert name == host.name
        assert {line.split()[3].split("/")[0] for line in lines} == {str(a) for a in host.addresses.values()}, name


def ping_all(lab: Lab, src: str, names: list[str]) -> dict[str, str]:
    """One exec on ``src`` pings every name in turn (by name: /etc/hosts must know them all):
    name -> the TTL of the reply, or "none". In turn, not at once: fifty hosts each asking
    ARP for forty-nine at once overflow the Docker host's backlog and lose some requests."""
    script = ('for d in "$@"; do ttl=$(ping -n -c 1 -W 2 "$d" 2>&1 | sed -n "s/.*ttl=\\([0-9]*\\).*/\\1/p"); '
              'echo "$d ${ttl:-none}"; done')
    out = lab.exec(src, ["sh", "-c", script, "ping-all", *names], check=True).stdout
    return dict(line.split() for line in out.splitlines())


FULL_MESH = 16  # hosts; a bigger lab is pinged from and to a few probes


def probes(topo: Topology) -> list[str]:
    """The hosts that ping and are pinged by every other: all of them in a small lab; in a big
    one, the first end host of each LAN and every router. A full mesh of fifty hosts needs
    2,450 ARP entries, more than the kernel's table holds across all network namespaces
    (gc_thresh3, 1024 by default): pings would fail for the Docker host's sake, not the lab's."""
    if len(topo.hosts) <= FULL_MESH:
        return list(topo.hosts)
    firsts = [next(h.name for h in topo.hosts_on(lan) if h.role != "router") for lan in topo.lans]
    return firsts + [r.name for r in topo.routers()]


def test_reach_matrix_with_ttl_from_router_hops(lab: Lab, topo: Topology) -> None:
    """Every host pings every probe and every probe pings every host: each reply's TTL is 64
    less the routers crossed (0 on a shared LAN, 1 across the default lab's router, 2 end to
    end in the chain)."""
    chosen = probes(topo)
    reached, expected = {}, {}
    for src in topo.hosts:
        targets = [h for h in (topo.hosts if src in chosen else chosen) if h != src]
        reached[src] = ping_all(lab, src, targets)
        expected[src] = {dst: str(TTL - topo.hops(src, dst)) for dst in targets}
    assert reached == expected


def routes_shown(lab: Lab, family: str, subnets: dict[str, list[str]], forwarding: str) -> dict[str, list[str]]:
    """One command on each host of ``subnets``, all at once: its default route, the route to
    each of its ``subnets`` and the ``forwarding`` sysctl, in that order."""
    def script(each: list[str]) -> list[str]:
        shown = [f"ip {family} route show default"] + [f"ip {family} route show {s}" for s in each]
        return ["sh", "-c", "; echo ==; ".join(shown + [f"cat /proc/sys/{forwarding.replace('.', '/')}"])]

    answers = at_once(lab, [(host, script(each)) for host, each in subnets.items()])
    assert all(answer.exit_code == 0 for answer in answers), [answer.output for answer in answers]
    return {host: [part.strip() for part in answer.stdout.split("==")]
            for host, answer in zip(subnets, answers, strict=True)}


def test_routes_are_the_topologys(lab: Lab, topo: Topology) -> None:
    """A default route via the gateway (none for routers and router-less LANs), a static route
    to each LAN beyond it, forwarding on routers only."""
    routes_of = {h: topo.static_routes(h) for h in topo.hosts}
    shown_on = routes_shown(lab, "-4", {h: [str(r.subnet) for r in routes] for h, routes in routes_of.items()},
                            "net.ipv4.ip_forward")
    for host in topo.hosts.values():
        routes = routes_of[host.name]
        default, *shown, forwarding = shown_on[host.name]
        if host.gateway:
            assert default.startswith(f"default via {host.gateway} "), (host.name, default)
        else:
            assert default == "", (host.name, default)
        for route, line in zip(routes, shown, strict=True):
            assert line.startswith(f"{route.subnet} via {route.via} "), (host.name, line)
        assert forwarding == ("1" if host.role == "router" else "0"), host.name


PORT = 9071  # below the ephemeral range (32768+), where Docker's DNS socket in each host may sit


KINDS = ["limited", "subnet"]  # to 255.255.255.255 ('<broadcast>'), and to the LAN's own broadcast address


def test_broadcast_reaches_its_lan_and_stops_at_the_router(
        lab: Lab, topo: Topology, run_program: Callable[..., HostProgram]) -> None:
    """Every end host listens, and broadcasts once of each kind (on a LAN of more than eight
    hosts, eight of them, spread along it: lan50's fifty to fifty cost it ~30 s of two busy
    cores); the reach matrix of each is exactly 'same LAN'.

    The sender's own listener hears it too: Linux loops a broadcast back to local sockets.
    """
    end = [h.name for h in topo.end_hosts()]
    senders = [name for lan in topo.lans for name in spread([h.name for h in topo.hosts_on(lan) if h.name in end])]

    def listening(host: str) -> HostProgram:
        program = run_program(host, ["lab", "broadcast-listen", "--port", str(PORT), "--json"])
        program.wait_listening(PORT)
        return program

    with ThreadPoolExecutor(8) as pool:  # eight hosts at a time (fifty on lan50)
        listeners = dict(zip(end, pool.map(listening, end), strict=True))
    # After its broadcasts each sender sends a fence to every other host: a broadcast for its
    # own LAN, a unicast (bash's /dev/udp, no process per packet) to each host beyond. A
    # fence travels the same path after the broadcasts: once it is in, a broadcast on its
    # way is too. (Unicast to each of fifty hosts at once would ask ARP for all of them at
    # once, which overflows the Docker host's backlog.) One exec per sender does it all, eight
    # senders at a time: beyond its LAN each asks ARP for its router alone.
    def broadcast_from(sender: str) -> None:
        send = f'lab broadcast-send {PORT} --message'
        script = (f'{send} limited-from-{sender} --to "<broadcast>" && {send} subnet-from-{sender} --to "$1" && '
                  f'{send} fence-{sender} --to "$1" && shift && '
                  f'for r in "$@"; do printf fence-{sender} > "/dev/udp/$r/{PORT}"; done')
        lan = topo.lans[topo.host(sender).lans[0]]
        beyond = [h for h in end if not topo.same_lan(h, sender)]
        lab.exec(sender, ["bash", "-c", script, "send", str(lan.broadcast), *beyond], check=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(broadcast_from, senders))
    reached: dict[str, dict[str, set[str]]] = {kind: {} for kind in KINDS}
    for receiver, program in listeners.items():
        fenced = {f"fence-{s}" for s in senders if s != receiver}
        texts = wait_until(functools.partial(heard, program, fenced), 20, f"{receiver} to hear every fence")
        for kind in KINDS:
            reached[kind][receiver] = {t.removeprefix(f"{kind}-from-") for t in texts if t.startswith(f"{kind}-from-")}
    same_lan = {r: {s for s in senders if topo.same_lan(s, r)} for r in end}
    assert reached == {kind: same_lan for kind in KINDS}


def spread(hosts: list[str], most: int = 8) -> list[str]:
    """At most ``most`` of ``hosts``, the first and the last among them, evenly apart."""
    if len(hosts) <= most:
        return hosts
    return [hosts[round(i * (len(hosts) - 1) / (most - 1))] for i in range(most)]


def heard(program: HostProgram, fences: set[str]) -> set[str] | None:
    """What ``program`` received, once every fence is among it."""
    texts = {e["text"] for e in program.events() if e["event"] == "received"}
    return texts if fences <= texts else None


def test_broadcast_without_so_broadcast_is_refused(lab: Lab) -> None:
    result = lab.exec("h1", ["lab", "broadcast-send", str(PORT), "--no-so-broadcast", "--message", "x"])
    assert result.exit_code == 1
    assert "needs SO_BROADCAST" in result.stderr


def at_once(lab: Lab, commands: list[tuple[str, list[str]]]) -> list[ExecResult]:
    """Each (host, command) run at once (a thread each): probes that wait out their timeouts
    wait them out together."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda each: lab.exec(*each), commands))


def test_nothing_outside_the_lab_is_reachable(lab: Lab, topo: Topology) -> None:
    """The Docker host's own place on each lab bridge (the gateway) answers nothing.

    Only the gateway address is tried: it is the one address outside the lab that a lab
    host could reach if isolation failed, and trying it sends nothing off this machine.
    """
    probes: list[tuple[str, list[str]]] = []
    for lan in topo.lans.values():
        host = next(h.name for h in topo.hosts_on(lan.name) if h.role != "router")
        probes.append((host, ["ping", "-c", "2", "-W", "1", str(lan.gateway)]))
        probes += [(host, ["nc", "-z", "-w", "2", str(lan.gateway), str(port)]) for port in (22, 80, 2375)]
    answered = at_once(lab, probes)
    for (host, cmd), result in zip(probes, answered, strict=True):
        if cmd[0] == "ping":
            assert result.exit_code != 0 and " 0 received" in result.stdout, result.output
            neighbour = lab.exec(host, ["ip", "neigh", "show", cmd[-1]]).stdout.split()[-1:]
            assert neighbour in (["FAILED"], ["INCOMPLETE"], []), "someone answered ARP for the gateway"
        else:
            assert result.exit_code != 0, f"{host} connected to the gateway {cmd[-2]}:{cmd[-1]}"
