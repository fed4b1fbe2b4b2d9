"""TFTP upload: WRQ, ACK 0, then DATA from the client; refused unless the server allows it."""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage
from lab.probes.tftp import ROOT, make_file, sha256

TITLE = "a TFTP upload: WRQ, ACK 0, DATA from the client; refused unless the server allows it"
NEEDS = Needs(lan=("srv",), across=("b1",))
FLOW = ("b1", "udp")
ROLES = {
    "server": Role("srv", ["lab", "tftp-server", "--root", ROOT, "--writable", "--create", "--json"]),
    "read-only-server": Role("srv", ["lab", "tftp-server", "--root", ROOT, "--json"]),
    "client": Role("b1", ["lab", "tftp", "put", "srv", "/tmp/up.bin"]),
}


def play(stage: Stage) -> None:
    stage.lab.exec("srv", ["sh", "-c", f"mkdir -p {ROOT} && rm -f {ROOT}/up.bin {ROOT}/again.bin"], check=True)
    original = make_file(stage.lab, "b1", "/tmp/up.bin", 3000)
    server = stage.start("server")
    server.wait_listening(69)
    client = stage.run("client", "up.bin")
    stage.check("the upload arrived byte-identical", client.exit_code == 0 and
                sha256(stage.lab, "srv", f"{ROOT}/up.bin") == original)
    server.stop()
    stage.say("the same upload to a server started without --writable")
    stage.start("read-only-server").wait_listening(69)
    refused = stage.run("client", "again.bin")
    stage.check("it is refused with ERROR 2, and nothing is written", refused.exit_code == 1 and
                "ERROR 2" in refused.stderr and
                stage.lab.exec("srv", ["test", "-e", f"{ROOT}/again.bin"]).exit_code != 0, refused.stderr.strip())
