"""Multicast without a network: the groups the lab allows, the TTL, and the membership
request bytes that IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP take."""

from __future__ import annotations

import socket
import sys

import pytest

from lab.apps import multicast as app
from lab.proto import multicast


def test_a_scoped_group_and_its_membership_request() -> None:
    g = multicast.group("239.1.2.3")
    assert g.family == socket.AF_INET
    assert g.membership(True) == (socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, bytes([239, 1, 2, 3, 0, 0, 0, 0]))
    level, option, value = g.membership(False, "10.201.2.11")
    assert (level, option) == (socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP)
    assert value == bytes([239, 1, 2, 3, 10, 201, 2, 11])


@pytest.mark.parametrize(("text", "said"), [
    ("224.0.0.1", "outside 239.0.0.0/8"),
    ("230.1.1.1", "outside 239.0.0.0/8"),
    ("10.201.1.255", "not a multicast group"),
    ("ff02::1", "outside ff05::/16 and ff15::/16"),
    ("ff0e::1:2:3", "outside ff05::/16 and ff15::/16"),
    ("ff08::1", "outside ff05::/16"),
    ("fd00:a:b:1::11", "not a multicast group"),
    ("b1", "not an IP address"),
    ("239.1.2", "not an IP address"),
])
def test_groups_the_lab_will_not_use_are_refused_with_the_reason(text: str, said: str) -> None:
    with pytest.raises(multicast.GroupError, match=said):
        multicast.group(text)


def test_the_ttl_is_one_byte_from_one_to_the_bound() -> None:
    assert multicast.ttl(1) == b"\x01"
    assert multicast.ttl(multicast.MAX_TTL) == bytes([multicast.MAX_TTL])
    for bad in (0, multicast.MAX_TTL + 1, 255):
        with pytest.raises(multicast.GroupError, match="the lab takes 1"):
            multicast.ttl(bad)


def test_the_programs_refuse_a_bad_group_or_ttl_before_any_socket(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        app.main_mcast_send(["224.0.0.251", "5353", "--message", "x"])
    assert exc.value.code == 2
    assert "outside 239.0.0.0/8" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        app.main_mcast_send(["239.1.2.3", "9400", "--ttl", "64"])
    assert "TTL 64" in capsys.readouterr().err


def test_a_datagrams_destination_and_ttl_from_ancillary_data() -> None:
    pktinfo = (2).to_bytes(4, "little") + bytes([10, 201, 2, 11]) + bytes([239, 1, 2, 3])
    ttl = (1).to_bytes(4, "little")
    assert multicast.arrival([(socket.IPPROTO_IP, multicast.IP_PKTINFO, pktinfo),
                              (socket.IPPROTO_IP, socket.IP_TTL, ttl)]) == ("239.1.2.3", 1)
    assert multicast.arrival([]) == ("", 0)
    assert multicast.arrival([(socket.IPPROTO_IP, multicast.IP_PKTINFO, b"\x00" * 4)]) == ("", 0), "cut short"


def test_a_site_local_ipv6_group_and_its_join_request() -> None:
    g = multicast.group("ff05::1:2:3")
    assert g.family == socket.AF_INET6 and g.v6
    group = bytes([0xff, 5] + [0] * 9 + [1, 0, 2, 0, 3])
    assert g.membership(True, index=2) == (socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                                           group + (2).to_bytes(4, sys.byteorder))
    level, option, value = g.membership(False)
    assert (level, option, value) == (socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, group + bytes(4))
    assert multicast.group("FF15::0:7").address == "ff15::7", "written the one way"


def test_the_reach_is_ttl_for_ipv4_and_multicast_hops_for_ipv6() -> None:
    assert multicast.group("239.1.2.3").hops(2) == (socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, b"\x02")
    assert multicast.group("ff05::9").hops(2) == (socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS,
                                                  (2).to_bytes(4, sys.byteorder))
    with pytest.raises(multicast.GroupError, match="the lab takes 1"):
        multicast.group("ff05::9").hops(64)


def test_an_ipv6_datagrams_destination_and_hop_limit_from_ancillary_data() -> None:
    pktinfo = bytes([0xff, 5] + [0] * 13 + [9]) + (2).to_bytes(4, sys.byteorder)
    hops = (1).to_bytes(4, sys.byteorder)
    assert multicast.arrival_v6([(socket.IPPROTO_IPV6, multicast.IPV6_PKTINFO, pktinfo),
                                 (socket.IPPROTO_IPV6, multicast.IPV6_HOPLIMIT, hops)]) == ("ff05::9", 1)
    assert multicast.arrival_v6([(socket.IPPROTO_IP, socket.IP_TTL, hops)]) == ("", 0), "IPv4's, not this"


def test_the_lan_interface_is_the_only_one_besides_lo() -> None:
    assert multicast.lan_interface(["lo", "eth0"]) == "eth0"
    with pytest.raises(multicast.GroupError, match="eth0, eth1 besides lo"):
        multicast.lan_interface(["lo", "eth0", "eth1"])


def test_the_programs_refuse_a_link_local_ipv6_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        app.main_mcast_recv(["ff02::1", "9400"])
    assert "outside ff05::/16" in capsys.readouterr().err
