"""TFTP download: RRQ, numbered DATA blocks, an ACK for each, and the short last block.

Exercise: client.py HOST FILENAME (see README.md), against the reference server on srv.
"""

from __future__ import annotations

from lab.control.capture import CaptureSet
from lab.harness.scenario import Needs, Role, Stage
from lab.harness.tftp import ROOT, make_file

TITLE = "a TFTP download: RRQ to port 69, then DATA 1, 2, 3 from a new port, each ACKed"
NEEDS = Needs(lan=("srv",), across=("b1",))
FLOW = ("b1", "udp")
ROLES = {
    "server": Role("srv", ["lab", "tftp-server", "--root", ROOT, "--json"]),
    "client": Role("b1", ["lab", "tftp", "get", "srv"], args=("srv", "lesson.bin")),
}
# name -> size: three blocks with a short last one; an exact multiple of 512 (an empty last
# block ends it); an empty file (DATA 1 of 0 bytes)
FILES = {"lesson.bin": 1500, "exact.bin": 1024, "empty.bin": 0}
CHECKS = {  # what a student is scored on (1 point each)
    "client": [*(f"{name} ({size} bytes): {what}" for name, size in FILES.items()
                 for what in ("arrived byte-identical", "every block ACKed once, the last one too")),
               "the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed",
               "the server answered from a new port (its transfer ID), not 69"],
}
HINT_END = "a DATA shorter than 516 bytes (4 header + 512) is the last: write it, ACK it, then stop"


def play(stage: Stage) -> None:
    sums = {name: make_file(stage.lab, "srv", f"{ROOT}/{name}", size) for name, size in FILES.items()}
    stage.start("server").wait_listening(69)
    for name, size in FILES.items():
        local = f"{stage.scratch}/{name}" if stage.mine("client") else f"/tmp/{name}"
        stage.step(f"{name} ({size} bytes): the client downloads it and ends", hint=HINT_END)
        stage.lab.exec("b1", ["rm", "-f", f"/tmp/{name}"])
        with CaptureSet(stage.lab, ["b1"], bpf="udp") as cap:
            client = stage.run("client", name, local, "--json", args=("srv", name), timeout=15)
        got = stage.lab.exec("b1", ["sha256sum", local]).stdout.split()[:1]
        stage.check(f"{name} ({size} bytes): arrived byte-identical", got == [sums[name]],
                    f"exit status {client.exit_code}; " + ("identical" if got == [sums[name]] else
                                                           f"{local} differs" if got else f"no file {local}"),
                    expected=f"{local} with the server's {size} bytes", hint=HINT_END)
        labels = [p.label(tftp=True) for p in cap.packets["b1"]]
        blocks = size // 512 + 1
        stage.check(f"{name} ({size} bytes): every block ACKed once, the last one too",
                    [f"TFTP ACK {n}" for n in range(1, blocks + 1)] == [x for x in labels if x.startswith("TFTP ACK")],
                    "; ".join(labels[-4:]), expected=f"ACK 1 ... ACK {blocks}",
                    hint="ACK each block once with its number, the last one too (or the server resends it)")
        if name == "lesson.bin":
            stage.say("   " + "\n   ".join(labels))
            stage.check("the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed", labels == LESSON,
                        str(labels), expected=str(LESSON), hint="RRQ: opcode 1, filename, 0, 'octet', 0")
            ports = {p.sport for p in cap.packets["b1"] if p.src_name == "srv"}
            stage.check("the server answered from a new port (its transfer ID), not 69",
                        bool(ports) and 69 not in ports, str(ports),
                        hint="send each ACK to the address and port the DATA came from, not to 69")


LESSON = ["TFTP RRQ lesson.bin octet", "TFTP DATA 1 (512 bytes)", "TFTP ACK 1", "TFTP DATA 2 (512 bytes)",
          "TFTP ACK 2", "TFTP DATA 3 (476 bytes)", "TFTP ACK 3"]
