"""TFTP download: RRQ, numbered DATA blocks, an ACK for each, and the short last block."""

from __future__ import annotations

from lab.harness.capture import CaptureSet
from lab.harness.scenario import Role, Stage
from lab.harness.tftp import ROOT, make_file, sha256

TITLE = "a TFTP download: RRQ to port 69, then DATA 1, 2, 3 from a new port, each ACKed"
FLOW = ("b1", "udp")
ROLES = {
    "server": Role("srv", ["lab", "tftp-server", "--root", ROOT, "--json"]),
    "client": Role("b1", ["lab", "tftp", "get", "srv", "lesson.bin", "/tmp/lesson.bin", "--json"]),
}


def play(stage: Stage) -> None:
    original = make_file(stage.lab, "srv", f"{ROOT}/lesson.bin", 1500)
    stage.start("server").wait_listening(69)
    with CaptureSet(stage.lab, ["b1"], bpf="udp") as cap:
        client = stage.run("client")
    labels = [p.label(tftp=True) for p in cap.packets["b1"]]
    stage.say("   " + "\n   ".join(labels))
    stage.check("the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed", labels == [
        "TFTP RRQ lesson.bin octet", "TFTP DATA 1 (512 bytes)", "TFTP ACK 1", "TFTP DATA 2 (512 bytes)",
        "TFTP ACK 2", "TFTP DATA 3 (476 bytes)", "TFTP ACK 3"], str(labels))
    ports = {p.sport for p in cap.packets["b1"] if p.src_name == "srv"}
    stage.check("the server answered from a new port (its transfer ID), not 69", bool(ports) and 69 not in ports,
                str(ports))
    stage.check("the file arrived byte-identical", client.exit_code == 0 and
                sha256(stage.lab, "b1", "/tmp/lesson.bin") == original)
