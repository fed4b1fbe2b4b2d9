"""Multicast on the real lab: members only, the TTL's reach through the router (smcroute),
leaving, and the IGMP reports on the wire; the same over IPv6 with MLD."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lab.control.capture import CaptureSet
from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.harness import scenario as scenarios

pytestmark = pytest.mark.lab


def test_the_multicast_lesson_with_its_igmp_on_the_wire(lab: Lab) -> None:
    narration: list[str] = []
    stage = scenarios.play(lab, "multicast", say=narration.append, options=scenarios.PlayOptions(capture=True))
    assert stage.checks and all(c.ok for c in stage.checks), "\n".join(narration)
    b1 = lab.topology().host("b1").address
    igmp = [p.label() for p in stage.packets if p.proto == "igmp" and p.src == str(b1)]
    assert "IGMP join 239.1.2.3" in igmp and "IGMP leave 239.1.2.3" in igmp, igmp
    assert igmp.index("IGMP join 239.1.2.3") < igmp.index("IGMP leave 239.1.2.3")
    sent = [p.payload for p in stage.packets if p.proto == "udp" and p.dst == "239.1.2.3"]
    # smcroute's static route forwards the group whether or not b1 is a member: after the
    # leave the datagram still reaches b1's interface, and its kernel drops it
    assert b"after leaving" in sent and b"ttl 1 from h1" not in sent, sent


def test_a_group_outside_239_is_refused_on_the_host(lab: Lab) -> None:
    result = lab.exec("h1", ["lab", "mcast-send", "224.0.0.251", "5353", "--message", "x"])
    assert result.exit_code == 2 and "outside 239.0.0.0/8" in result.stderr, result


GROUP6, PORT6 = "ff05::1:2:3", 9406


def _received(program: HostProgram, text: str) -> list[dict[str, Any]]:
    return [e for e in program.events() if e["event"] == "received" and e["text"] == text]


def _fence(lab: Lab, listeners: dict[str, HostProgram]) -> None:
    """A unicast over IPv6 to each listener after the group's datagrams: once it is in, what
    was sent to the group before it arrived or never will."""
    for host, program in listeners.items():
        lab.exec("h1", ["lab", "udp-send", "-6", host, str(PORT6), "--message", "fence"], check=True)
        program.wait_event("received", text="fence")


def test_an_ipv6_group_reaches_the_member_on_the_lan_with_its_mld_join_on_the_wire(
        lab: Lab, run_program: Callable[..., HostProgram], capture: Callable[..., CaptureSet]) -> None:
    with capture(["h2"], bpf="ip6") as cap:  # not "icmp6": MLD comes behind a Hop-by-Hop header
        h2 = run_program("h2", ["lab", "mcast-recv", GROUP6, str(PORT6), "--json", "--timeout", "20"])
        h2.wait_event("joined")
        h3 = run_program("h3", ["lab", "udp-recv", "-6", "--port", str(PORT6), "--json", "--timeout", "20"])
        h3.wait_listening(PORT6)  # bound, joined nothing
        lab.exec("h1", ["lab", "mcast-send", GROUP6, str(PORT6), "--ttl", "1", "--message", "hop 1 from h1"],
                 check=True)
        _fence(lab, {"h2": h2, "h3": h3})
        h2.stop()  # leaves the group on SIGTERM
    got = _received(h2, "hop 1 from h1")
    assert [(e["to"], e["ttl"]) for e in got] == [(GROUP6, 1)], h2.events()
    assert not _received(h3, "hop 1 from h1"), "h3 joined nothing: its kernel drops the group"
    mld = [p.label() for p in cap.packets["h2"] if p.proto == "mld" and p.direction == "out"]
    joins = [i for i, label in enumerate(mld) if f"join {GROUP6}" in label]
    leaves = [i for i, label in enumerate(mld) if f"leave {GROUP6}" in label]
    assert joins and leaves and joins[0] < leaves[0], mld


def test_an_ipv6_group_crosses_the_router_with_a_hop_limit_of_two(
        lab: Lab, run_program: Callable[..., HostProgram]) -> None:
    b1 = run_program("b1", ["lab", "mcast-recv", GROUP6, str(PORT6), "--json", "--timeout", "20"])
    b1.wait_event("joined")
    for hops in (1, 2):
        lab.exec("h1", ["lab", "mcast-send", GROUP6, str(PORT6), "--ttl", str(hops), "--message", f"hop {hops}"],
                 check=True)
    _fence(lab, {"b1": b1})
    assert not _received(b1, "hop 1"), "hop limit 1 stays on h1's LAN"
    across = _received(b1, "hop 2")
    assert [(e["to"], e["ttl"]) for e in across] == [(GROUP6, 1)], b1.events()  # the router took one off
    routes = lab.exec("router", ["ip", "-6", "mroute", "show"]).stdout  # the kernel forwards it (IPV6_MROUTE)
    assert any(f",{GROUP6})" in line and "Oifs:" in line for line in routes.splitlines()), routes


def test_a_group_outside_the_site_local_range_is_refused(lab: Lab) -> None:
    result = lab.exec("h1", ["lab", "mcast-send", "ff02::1", str(PORT6), "--message", "x"])
    assert result.exit_code == 2 and "outside ff05::/16 and ff15::/16" in result.stderr, result
