"""Multicast on the real lab: members only, the TTL's reach through the router (smcroute),
leaving, and the IGMP reports on the wire."""

from __future__ import annotations

import pytest

from lab.control.lab import Lab
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
