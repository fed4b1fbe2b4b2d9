"""The shipped topologies: descriptions -> Compose files, and the routing derived from them."""

from __future__ import annotations

import ipaddress
import types
from pathlib import Path

import pytest

from lab.control import topologies, topology
from lab.control.lab import COMPOSE_FILE
from lab.errors import ScenarioNeedsError, TopologyError
from lab.harness import scenario


@pytest.mark.parametrize("name", topologies.names())
def test_every_compose_file_is_what_its_description_writes(name: str) -> None:
    assert not topologies.stale(name), f"lab/topologies/{name}.yaml changed: run `invoke topologies --write`"
    topo = topology.load(topologies.describe(name).file)  # and it follows the conventions
    assert topo.end_hosts()


def test_the_shipped_topologies() -> None:
    assert set(topologies.names()) >= {"default", "chain", "lan50"}
    assert topologies.compose_file("default") == COMPOSE_FILE
    lan50 = topology.load(topologies.compose_file("lan50"))
    assert len(lan50.end_hosts()) == 50 and len(lan50.lans) == 1 and not lan50.routers()
    assert all(h.gateway is None for h in lan50.hosts.values()), "no router, so no default route"


def chain() -> topology.Topology:
    return topology.load(topologies.compose_file("chain"), {"LAB_PREFIX": "10.230"})


def test_hops_count_the_routers_between() -> None:
    topo = chain()
    assert topo.hops("h1", "h2") == 0
    assert topo.hops("h1", "m1") == 1
    assert topo.hops("h1", "b1") == 2, "a ping end to end shows TTL 62"
    assert topo.hops("b2", "srv") == 2
    assert topo.hops("m1", "b1") == 1
    assert topo.hops("r1", "b1") == 1 and topo.hops("r1", "m1") == 0
    assert topo.hops("h1", "r2") == 1, "r2's address on lan_b is one router away"


def test_static_routes_reach_the_lans_beyond_the_gateway() -> None:
    topo = chain()
    net = ipaddress.ip_network
    addr = ipaddress.ip_address
    assert topo.host("h1").gateway == addr("10.230.1.254")
    assert topo.static_routes("h1") == [], "r1 is h1's gateway for lan_b and lan_c alike"
    assert topo.host("m1").gateway == addr("10.230.2.254"), "the first router on lan_b"
    (m1,) = topo.static_routes("m1")
    assert (m1.subnet, m1.via, m1.hops) == (net("10.230.3.0/24"), addr("10.230.2.253"), 1)
    assert [(r.lan, str(r.via)) for r in topo.static_routes("r1")] == [("lan_c", "10.230.2.253")]
    assert [(r.lan, str(r.via)) for r in topo.static_routes("r2")] == [("lan_a", "10.230.2.254")]
    assert {lan: r.hops for lan, r in topo.routes("b1").items()} == {"lan_b": 1, "lan_a": 2}


def test_ipv6_routes_are_derived_like_the_ipv4_ones() -> None:
    """The same next hops, by their IPv6 addresses: r1 reaches lan_c via r2's ::253."""
    topo = chain()
    net, addr = ipaddress.ip_network, ipaddress.ip_address
    assert topo.host("m1").gateway6 == addr("fd00:10:230:2::254")
    assert topo.static_routes6("h1") == []
    (m1,) = topo.static_routes6("m1")
    assert (m1.subnet6, m1.via6) == (net("fd00:10:230:3::/64"), addr("fd00:10:230:2::253"))
    assert [(r.lan, str(r.subnet6), str(r.via6)) for r in topo.static_routes6("r1")] == [
        ("lan_c", "fd00:10:230:3::/64", "fd00:10:230:2::253")]
    assert [(r.lan, str(r.via6)) for r in topo.static_routes6("r2")] == [("lan_a", "fd00:10:230:2::254")]


def test_every_shipped_topology_is_dual_stack() -> None:
    for name in topologies.names():
        topo = topology.load(topologies.compose_file(name), {"LAB_PREFIX": "10.231"})
        for lan in topo.lans.values():
            assert lan.subnet6 == ipaddress.ip_network(f"fd00:10:231:{lan.subnet.network_address.packed[2]}::/64")
        for host in topo.hosts.values():
            assert set(host.addresses6) == set(host.addresses), (name, host.name)
            for lan, v4 in host.addresses.items():
                assert str(host.addresses6[lan]).endswith(f"::{str(v4).rsplit('.', 1)[1]}"), "host .X is ::X"


def test_compose_file_takes_a_name_or_a_path(tmp_path: Path) -> None:
    assert topologies.compose_file("chain").name == "chain.compose.yaml"
    own = tmp_path / "mine.yaml"
    assert topologies.compose_file(str(own)) == own.resolve()
    with pytest.raises(TopologyError, match=r"--topology: ring: no such topology; shipped: chain, default"):
        topologies.compose_file("ring")


@pytest.mark.parametrize(("text", "error"), [
    ("lans: {lan: 1}\nhosts: {h1: [client, lan_x, 11]}\n", r"hosts.h1: must be \[role, LAN, last octet\]"),
    ("lans: {lan: 300}\n", r"lans: maps each LAN's name"),
    ("lans: {lan: 1}\nhosts: {H_1: [client, lan, 11]}\n", r"hosts.H_1: a host name is lower-case"),
    ("lans: {a: 1}\nrouters: {r: {b: 254}}\n", r"routers.r: maps LANs \(a\)"),
    ("- a list\n", r"\(top level\): must be a mapping"),
])
def test_bad_descriptions_name_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str,
                                         error: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    monkeypatch.setattr(topologies, "FOLDER", tmp_path)
    with pytest.raises(TopologyError, match=error) as info:
        topologies.describe("bad")
    assert str(tmp_path / "bad.yaml") in str(info.value)


def test_ranges_expand_with_consecutive_addresses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("lans: {lan: 7}\nhosts: {'n{2..4}': [client, lan, 20]}\n")
    monkeypatch.setattr(topologies, "FOLDER", tmp_path)
    d = topologies.describe("r")
    assert d.hosts == {"n2": ("client", "lan", 20), "n3": ("client", "lan", 21), "n4": ("client", "lan", 22)}
    out = tmp_path / "r.compose.yaml"
    out.write_text(topologies.compose_text(d))
    topo = topology.load(out, {"LAB_PREFIX": "10.9"})
    assert str(topo.host("n4").address) == "10.9.7.22"


def test_scenarios_say_what_they_need_of_the_topology() -> None:
    default = topology.load(COMPOSE_FILE)
    nat = topology.load(topologies.compose_file("nat"))
    for name in scenario.names():
        needs = scenario.load(name).__dict__.get("NEEDS", scenario.Needs())
        if needs.nat:
            assert needs.unmet(default) == "no router of it translates addresses (NAT)", name
            assert needs.unmet(nat) is None, name
        else:
            assert needs.unmet(default) is None, name
    chain_ = chain()
    lan50 = topology.load(topologies.compose_file("lan50"))
    echo = scenario.load("echo").NEEDS
    assert echo.unmet(chain_) is None, "srv and h1 share lan_a, b1 is two routers away"
    assert echo.unmet(lan50) == "it has no host b1"
    assert str(echo) == "srv and h1 on one LAN; b1 on another, behind a router"
    assert scenario.load("chatroom").NEEDS.unmet(chain_) == "it has no host h3"
    assert scenario.load("ports").NEEDS.unmet(lan50) is None
    assert scenario.Needs(lan=("h1", "m1")).unmet(chain_) == "m1 is not on h1's LAN"
    assert scenario.Needs(lan=("h1",), across=("h2",)).unmet(chain_) == "h2 is on h1's LAN"


def test_a_scenario_on_a_topology_without_its_hosts_stops_before_it_starts() -> None:
    class LabOfFifty:  # what `play` asks of a lab before it starts anything
        compose_file = topologies.compose_file("lan50")

        def topology(self) -> topology.Topology:
            return topology.load(self.compose_file)

    with pytest.raises(ScenarioNeedsError, match=r"scenario `echo` needs srv and h1 on one LAN; b1 on another, "
                       r"behind a router; this lab runs lan50.compose.yaml, and it has no host b1\. Play it on"):
        scenario.play(LabOfFifty(), "echo")  # type: ignore[arg-type]


def test_a_trimmed_topology_keeps_the_hosts_named_and_every_router(tmp_path: Path) -> None:
    """What grading starts for echo: srv, h1 and b1, the router between their LANs."""
    file = topologies.trimmed(COMPOSE_FILE, ["srv", "h1", "b1"], tmp_path / "lab.compose.yaml")
    topo = topology.load(file, {"LAB_PREFIX": "10.230"})  # validated like any topology
    assert sorted(topo.hosts) == ["b1", "h1", "router", "srv"] and sorted(topo.lans) == ["lan_a", "lan_b"]
    assert topo.hops("h1", "b1") == 1
    full = topology.load(COMPOSE_FILE, {"LAB_PREFIX": "10.230"})
    assert all(topo.hosts[h] == full.hosts[h] for h in topo.hosts), "the same addresses, roles and gateways"
    text = file.read_text()
    assert "h2:" not in text and "&id" not in text, "no host it does not keep, no YAML anchors"
    with pytest.raises(TopologyError, match="has no host nosuch"):
        topologies.trimmed(COMPOSE_FILE, ["srv", "nosuch"], tmp_path / "x.yaml")


def test_the_hosts_a_lesson_names() -> None:
    assert scenario.hosts_named(scenario.load("echo")) == {"srv", "h1", "b1"}
    anywhere = types.ModuleType("picks_its_hosts")  # no NEEDS: it runs on whatever topology runs
    assert scenario.hosts_named(scenario.load("echo"), anywhere) is None
    assert scenario.hosts_named(scenario.load("echo"), None) == {"srv", "h1", "b1"}, "no hidden checks"


def test_limits_per_topology(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert topologies.describe("default").limits == {"pids": 256, "memory": "512m", "cpus": 1.0}
    lan50 = topologies.describe("lan50")
    assert lan50.limits["memory"] == "256m" and "  mem_limit: 256m " in topologies.compose_text(lan50)
    assert "  memswap_limit: 256m " in topologies.compose_text(lan50), "no swap beyond the memory limit"
    monkeypatch.setattr(topologies, "FOLDER", tmp_path)
    (tmp_path / "bad.yaml").write_text("lans: {lan: 1}\nhosts: {srv: [server, lan, 10]}\nlimits: {memory: lots}\n")
    with pytest.raises(TopologyError, match="limits: sets pids"):
        topologies.describe("bad")


def test_the_nat_topology_masquerades_lan_a_and_forwards_a_port_to_srv() -> None:
    d = topologies.describe("nat")
    assert d.nat == topologies.Nat("router", "lan_a", "lan_b", {9200: "srv"}, 5)
    text = topologies.compose_text(d)
    assert 'LAB_NAT_FORWARD: "9200=${LAB_PREFIX:-10.201}.1.10"' in text
    assert "net.netfilter.nf_conntrack_udp_timeout_stream: 5" in text
    topo = topology.load(topologies.compose_file("nat"), {"LAB_PREFIX": "10.230"})
    (router,) = topo.nat_routers()
    assert str(router.nat) == "10.230.2.254"
    assert not topology.load(COMPOSE_FILE).nat_routers()


@pytest.mark.parametrize(("nat", "error"), [
    ("{router: r9, inside: lan_a, outside: lan_b}", r"nat.router: names one of the routers \(router\)"),
    ("{router: router, inside: lan_a, outside: lan_a}", r"nat: inside and outside are two of the LANs"),
    ("{router: router, inside: lan_a, outside: lan_b, forward: {9200: b1}}", r"nat.forward.9200: maps a UDP port"),
    ("{router: router, inside: lan_a, outside: lan_b, udp_timeout: 0}", r"nat.udp_timeout: is a number"),
])
def test_a_wrong_nat_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nat: str, error: str) -> None:
    (tmp_path / "n.yaml").write_text("lans: {lan_a: 1, lan_b: 2}\n"
                                     "hosts: {srv: [server, lan_a, 10], b1: [client, lan_b, 11]}"
                                     f"\nrouters: {{router: {{lan_a: 254, lan_b: 254}}}}\nnat: {nat}\n")
    monkeypatch.setattr(topologies, "FOLDER", tmp_path)
    with pytest.raises(TopologyError, match=error):
        topologies.describe("n")



def test_a_lesson_that_needs_a_nat_router_is_graded_on_the_nat_topology(tmp_path: Path) -> None:
    from lab.harness import grading

    played = grading.lab_file("nat", grading.Rules(), tmp_path)
    text = played.read_text()
    assert played.parent == tmp_path and "LAB_NAT_OUTSIDE" in text, "the NAT router, trimmed like any lab"
    assert "LAB_NAT_OUTSIDE" not in grading.lab_file("echo", grading.Rules(), tmp_path / "echo").read_text()
