"""compose.yaml -> typed model: one fixture folder per case, error cases included."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from lab.control import topology
from lab.control.lab import COMPOSE_FILE
from lab.errors import TopologyError, UnknownHostError

FIXTURES = Path(__file__).parent / "fixtures" / "topology"
CASES = sorted(p.name for p in FIXTURES.iterdir())


@pytest.mark.parametrize("case", CASES)
def test_fixture_case(case: str) -> None:
    folder = FIXTURES / case
    expect = (folder / "expect.txt").read_text().strip()
    if expect == "ok":
        assert topology.load(folder / "compose.yaml").hosts
        return
    with pytest.raises(TopologyError, match=expect) as info:
        topology.load(folder / "compose.yaml")
    assert str(folder / "compose.yaml") in str(info.value), "the error names the file"


def test_the_real_compose_file_is_two_lans_and_a_router() -> None:
    topo = topology.load(COMPOSE_FILE, {"LAB_PREFIX": "10.222"})
    assert set(topo.lans) == {"lan_a", "lan_b"}
    assert topo.lans["lan_a"].subnet == ipaddress.ip_network("10.222.1.0/24")
    lan_a = [h.name for h in topo.hosts_on("lan_a") if h.role != "router"]
    lan_b = [h.name for h in topo.hosts_on("lan_b") if h.role != "router"]
    assert len([h for h in lan_a if topo.host(h).role == "client"]) >= 3
    assert [h for h in lan_a if topo.host(h).role == "server"]
    assert len(lan_b) >= 2
    router = topo.host("router")
    assert set(router.lans) == {"lan_a", "lan_b"}
    for host in topo.end_hosts():
        (lan,) = host.lans
        assert host.gateway == router.addresses[lan]


def test_default_prefix_applies_without_environment() -> None:
    topo = topology.load(COMPOSE_FILE)
    assert str(topo.host("h1").address).startswith("10.201.1.")


def test_unknown_host_lists_the_valid_ones() -> None:
    topo = topology.load(COMPOSE_FILE)
    with pytest.raises(UnknownHostError, match=r"`h9` is not a host of this lab; the hosts are: b1, b2, h1"):
        topo.host("h9")


def test_same_lan() -> None:
    topo = topology.load(COMPOSE_FILE)
    assert topo.same_lan("h1", "srv")
    assert not topo.same_lan("h1", "b1")
    assert topo.same_lan("router", "b2")


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("${A}", {"A": "x"}, "x"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A:-d}.1", {"A": "10.9"}, "10.9.1"),
    ("${A}", {}, ""),
    ("plain $A text", {"A": "x"}, "plain $A text"),
])
def test_interpolate_like_compose(text: str, env: dict[str, str], expected: str) -> None:
    assert topology.interpolate(text, env) == expected


def test_missing_file_is_a_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read it"):
        topology.load(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("prefix", "ula"), [("10.201", "fd00:10:201"), ("10.9", "fd00:10:9"),
                                             ("172.31", "fd00:172:31"), ("10.250", "fd00:10:250")])
def test_the_ula_prefix_is_the_lab_prefix_in_hex_groups(prefix: str, ula: str) -> None:
    assert topology.ula_prefix(prefix) == ula


def test_labs_on_distinct_prefixes_never_share_an_ipv6_subnet() -> None:
    """Digits read as hex: distinct two-octet prefixes give distinct /48s (fd00::/8 only)."""
    seen: dict[ipaddress.IPv6Network, str] = {}
    for a in range(256):
        for b in (0, 1, 99, 201, 255):
            net = ipaddress.IPv6Network(f"{topology.ula_prefix(f'{a}.{b}')}::/48")
            assert net.subnet_of(ipaddress.IPv6Network("fd00::/8"))
            assert net not in seen, f"{a}.{b} and {seen[net]}"
            seen[net] = f"{a}.{b}"


def test_the_default_lab_is_dual_stack_from_its_prefix() -> None:
    """LAB_PREFIX6 follows LAB_PREFIX unless given: LAN N is <ula>:N::/64, host .X is ::X."""
    topo = topology.load(COMPOSE_FILE, {"LAB_PREFIX": "10.222"})
    assert topo.lans["lan_b"].subnet6 == ipaddress.ip_network("fd00:10:222:2::/64")
    assert topo.lans["lan_b"].gateway6 == ipaddress.ip_address("fd00:10:222:2::1")
    h1, router = topo.host("h1"), topo.host("router")
    assert h1.address6 == ipaddress.ip_address("fd00:10:222:1::11")
    assert h1.gateway6 == router.addresses6["lan_a"] == ipaddress.ip_address("fd00:10:222:1::254")
    assert topology.load(COMPOSE_FILE, {"LAB_PREFIX": "10.222", "LAB_PREFIX6": "fd00:99:1"}).host(
        "h1").address6 == ipaddress.ip_address("fd00:99:1:1::11")
    assert topo.address_names()["fd00:10:222:2::11"] == "b1"
    assert topo.address_names()["ff02::1"] == "all-nodes"


def test_an_ipv4_only_topology_still_loads() -> None:
    topo = topology.load(FIXTURES / "ok" / "compose.yaml")
    assert all(lan.subnet6 is None for lan in topo.lans.values())
    assert not topo.host("h1").addresses6 and topo.static_routes6("h1") == []
