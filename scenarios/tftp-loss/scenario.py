"""TFTP under loss: 20 % of the client's incoming packets dropped; the file still arrives intact."""

from __future__ import annotations

from lab.control import impair
from lab.control.capture import CaptureSet
from lab.harness.scenario import Needs, Role, Stage
from lab.probes.tftp import ROOT, data_blocks, make_file, sha256

TITLE = "under 20% random loss TFTP times out, retransmits, and delivers the file byte-identical"
NEEDS = Needs(lan=("srv",), across=("b1",))
ROLES = {
    "server": Role("srv", ["lab", "tftp-server", "--root", ROOT, "--json"]),
    "client": Role("b1", ["lab", "tftp", "get", "srv", "lossy.bin", "/tmp/lossy.bin", "--json"]),
}


def play(stage: Stage) -> None:
    original = make_file(stage.lab, "srv", f"{ROOT}/lossy.bin", 256 * 1024)
    stage.start("server").wait_listening(69)
    impair.apply(stage.lab, "b1", impair.Impairment(loss=20, direction="ingress"))
    try:
        with CaptureSet(stage.lab, ["srv"], bpf="udp") as cap:
            client = stage.run("client", timeout=120)
    finally:
        impair.clear(stage.lab, "b1")
    sent = data_blocks(cap.packets["srv"], "srv")
    resent = sum(n - 1 for n in sent.values())
    stage.say(f"   {len(sent)} blocks, {resent} of them sent again after a timeout")
    stage.check("the file arrived byte-identical", client.exit_code == 0 and
                sha256(stage.lab, "b1", "/tmp/lossy.bin") == original)
    stage.check("retransmissions happened (and were counted)", resent > 0, str(resent))
