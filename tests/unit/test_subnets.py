from __future__ import annotations

import ipaddress
import random

import pytest

from lab.control import subnets
from lab.control.lab import COMPOSE_FILE
from lab.errors import NoFreeSubnetError, SubnetTakenError, TopologyError

net = ipaddress.IPv4Network


def test_first_candidate_when_nothing_is_taken() -> None:
    assert subnets.choose_prefix(COMPOSE_FILE, {}) == subnets.DEFAULT_PREFIX


def test_skips_prefixes_whose_subnets_overlap() -> None:
    taken = {"alice_lan_b": [net("10.201.2.0/24")], "big": [net("10.202.0.0/16")]}
    assert subnets.choose_prefix(COMPOSE_FILE, taken) == "10.203"


def test_a_retry_spreads_over_the_free_prefixes() -> None:
    """Labs started at once that lost the first free prefix to each other do not all choose the next."""
    taken = {"alice_lan_b": [net("10.201.2.0/24")]}
    drawn = {subnets.choose_prefix(COMPOSE_FILE, taken, spread=random.Random(seed)) for seed in range(20)}
    assert len(drawn) > 5 and "10.201" not in drawn
    with pytest.raises(NoFreeSubnetError):
        subnets.choose_prefix(COMPOSE_FILE, {"everything": [net("10.0.0.0/8")]}, spread=random.Random(1))


def test_wanted_prefix_that_is_taken_names_the_network() -> None:
    taken = {"somebody_else": [net("10.230.1.0/24")]}
    with pytest.raises(SubnetTakenError, match=r"10\.230\.1\.0/24 overlaps Docker network `somebody_else`"):
        subnets.choose_prefix(COMPOSE_FILE, taken, "10.230")


def test_wanted_prefix_that_is_free() -> None:
    assert subnets.choose_prefix(COMPOSE_FILE, {"x": [net("10.230.1.0/24")]}, "10.231") == "10.231"


def test_no_free_prefix() -> None:
    with pytest.raises(NoFreeSubnetError, match="all 50 candidate"):
        subnets.choose_prefix(COMPOSE_FILE, {"everything": [net("10.0.0.0/8")]})


@pytest.mark.parametrize("bad", ["10", "10.1.2", "300.1", "a.b", "10.201 "])
def test_bad_prefix(bad: str) -> None:
    with pytest.raises(TopologyError, match="not two octets"):
        subnets.check_prefix(bad)


def test_prefix_read_back_from_a_subnet() -> None:
    assert subnets.prefix_of(net("10.207.2.0/24")) == "10.207"


ROUTES = """Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
tun0	0000C90A	00000000	0001	0	0	0	0000FFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
"""


def test_the_machines_routes_are_read_without_the_default_route() -> None:
    """/proc/net/route: little-endian hex; a VPN's 10.201.0.0/16 on tun0, Docker's docker0."""
    assert subnets.parse_routes(ROUTES) == {"the machine's route via tun0": [net("10.201.0.0/16")],
                                            "the machine's route via docker0": [net("172.17.0.0/16")]}
    assert subnets.parse_routes("Iface\tDestination\ngarbage line\n") == {}


def test_a_vpn_on_the_default_prefix_moves_the_lab_elsewhere() -> None:
    taken = subnets.parse_routes(ROUTES)
    assert subnets.choose_prefix(COMPOSE_FILE, taken) == "10.202"
    with pytest.raises(SubnetTakenError, match=r"10\.201\.1\.0/24.*the machine's route via tun0"):
        subnets.choose_prefix(COMPOSE_FILE, taken, "10.201")


FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 4
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 10.201.7.2
        /32 host LOCAL
        |-- 172.17.255.255
           /32 link BROADCAST
"""


def test_the_machines_own_addresses_count_even_without_a_route() -> None:
    """A VPN's point-to-point address (10.201.7.2, no connected route): 10.201 is not free."""
    taken = subnets.parse_local_addresses(FIB_TRIE)
    assert taken == {"the machine's address 10.201.7.2": [net("10.201.7.2/32")]}
    assert subnets.choose_prefix(COMPOSE_FILE, taken) == "10.201", "10.201.7.x is no lab subnet: still free"
    vpn = subnets.parse_local_addresses(FIB_TRIE.replace("10.201.7.2", "10.201.1.2"))
    assert subnets.choose_prefix(COMPOSE_FILE, vpn) == "10.202"
