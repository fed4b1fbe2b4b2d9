"""Loss: UDP versus TCP under the same 20 % packet loss."""

from __future__ import annotations

from lab.control import impair
from lab.control.capture import CaptureSet
from lab.harness.scenario import Needs, Role, Stage
from lab.probes.tcp import echo_load
from lab.probes.udpcount import received_numbers
from lab.wire.streams import retransmissions

TITLE = "under 20% loss the UDP receiver misses datagrams; TCP retransmits and delivers every byte"
NEEDS = Needs(lan=("h1",), across=("b1",))
UDP_PORT, TCP_PORT, COUNT, SIZE = 9050, 9051, 1000, 512 * 1024
FLOW = ("h1", f"tcp port {TCP_PORT}")
ROLES = {"tcp-server": Role("b1", ["lab", "tcp-echo-server", "--impl", "selectors", "--port", str(TCP_PORT)])}


def play(stage: Stage) -> None:
    lab = stage.lab
    server = stage.start("tcp-server")
    server.wait_listening(TCP_PORT, "tcp")
    stage.say("b1 drops 20% of the packets it receives (iptables -m statistic --mode random)")
    impair.apply(lab, "b1", impair.Impairment(loss=20, direction="ingress"))
    try:
        got = received_numbers(lab, "h1", "b1", UDP_PORT, COUNT)
        lost = COUNT - len(got)
        stage.say(f"UDP: h1 sent {COUNT} datagrams, b1 received {len(got)}: {lost} lost, never resent")
        stage.check("UDP loses datagrams (about 20%)", 0.12 * COUNT <= lost <= 0.28 * COUNT, f"{lost / COUNT:.0%}")
        with CaptureSet(lab, ["h1"], bpf=f"tcp port {TCP_PORT}") as cap:
            result = echo_load(lab, "h1", "b1", TCP_PORT, 1, SIZE)
        again = retransmissions(cap.packets["h1"])
        stage.say(f"TCP: {SIZE // 1024} KiB echoed through the same loss; h1 retransmitted {again} segments")
        stage.check("TCP delivers every byte", result[0][0] == result[0][1] and result[0][2] == SIZE)
        stage.check("the capture shows retransmissions", again > 0, str(again))
    finally:
        impair.clear(lab, "b1")
