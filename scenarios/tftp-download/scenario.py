"""TFTP download: RRQ, numbered DATA blocks, an ACK for each, and the short last block.

Exercise: client.py HOST FILENAME (see README.md), against the reference server on srv.
Then what the tutorial's client gets wrong: a file the server does not have (ERROR 1), a
DATA lost on b1 that only the client's timeout recovers (the server resends only when
asked), and a DATA from a second sender (another port) among the transfer's.
"""

from __future__ import annotations

from lab.control.capture import CaptureSet
from lab.control.programs import STDERR, STDOUT, HostProgram
from lab.errors import WaitTimeoutError
from lab.harness.scenario import Needs, Role, Stage, listed
from lab.probes.tftp import ROOT, make_file, one_data_dropped
from lab.wire.pcap import Packet

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
HINT_END = "a DATA shorter than 516 bytes (4 header + 512) is the last: write it, ACK it, then stop"


MISSING = "missing.bin"  # a file the server does not have
LOST, STRAY = "lost.bin", "stray.bin"  # 1,500 bytes each: DATA 1-3
LIMIT = 15  # seconds a download may take: a lost DATA costs the client's timeout, a few times
CHECK_MISSING = "client: a file the server does not have: prints its ERROR and exits with status 1"
CHECK_LOST = "client: one DATA lost on its host: it asks again, the file arrives byte-identical"
CHECK_STRAY = "client: a DATA from a second sender (another port) is not taken, the file arrives byte-identical"
CHECKS = {  # what a student is scored on (1 point each), in the order the play decides them
    "client": ["lesson.bin (1500 bytes): arrived byte-identical",
               "lesson.bin (1500 bytes): every block ACKed once, the last one too",
               "the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed",
               "the server answered from a new port (its transfer ID), not 69",
               *(f"{name} ({size} bytes): {what}" for name, size in list(FILES.items())[1:]
                 for what in ("arrived byte-identical", "every block ACKed once, the last one too")),
               CHECK_MISSING, CHECK_LOST, CHECK_STRAY],
}


def play(stage: Stage) -> None:
    sums = {name: make_file(stage.lab, "srv", f"{ROOT}/{name}", size) for name, size in FILES.items()}
    sums |= {name: make_file(stage.lab, "srv", f"{ROOT}/{name}", 1500) for name in (LOST, STRAY)}
    # Nothing is lost here, so the server resends only when asked: its own timer (2 ms above a
    # LAN's round trip) would fire on a client slowed by a busy machine, and the duplicate DATA
    # would fail the checks below for a client that did nothing wrong.
    server = stage.start("server", "--resend-when-asked", reference=True)
    server.wait_listening(69)
    for name, size in FILES.items():
        local = f"{stage.scratch}/{name}" if stage.mine("client") else f"/tmp/{name}"
        stage.step(f"{name} ({size} bytes): the client downloads it and ends", hint=HINT_END)
        stage.lab.exec("b1", ["rm", "-f", f"/tmp/{name}"])
        with CaptureSet(stage.lab, ["b1"], bpf="udp") as cap:
            client = stage.run("client", name, local, "--json", args=("srv", name), timeout=15)
        got = stage.lab.exec("b1", ["sha256sum", local], prints=True).stdout.split()[:1]
        stage.check(f"{name} ({size} bytes): arrived byte-identical", got == [sums[name]],
                    f"exit status {client.exit_code}; " + ("identical" if got == [sums[name]] else
                                                           f"{local} differs" if got else f"no file {local}"),
                    expected=f"{local} with the server's {size} bytes", hint=HINT_END)
        labels = [p.label(tftp=True) for p in cap.packets["b1"]]
        blocks = size // 512 + 1
        stage.check(f"{name} ({size} bytes): every block ACKed once, the last one too",
                    [f"TFTP ACK {n}" for n in range(1, blocks + 1)] == [x for x in labels if x.startswith("TFTP ACK")],
                    "; ".join(labels[-4:]), expected=f"ACK 1 ... ACK {blocks}",
                    hint="ACK each block once with its number, the last one too (the server waits for it)")
        if name == "lesson.bin":
            stage.say("   " + "\n   ".join(labels))
            stage.check("the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed", labels == LESSON,
                        listed(labels), expected=listed(LESSON), hint="RRQ: opcode 1, filename, 0, 'octet', 0")
            ports = {p.sport for p in cap.packets["b1"] if p.src_name == "srv"}
            stage.check("the server answered from a new port (its transfer ID), not 69",
                        bool(ports) and 69 not in ports, f"srv answered from port {listed(sorted(ports))}",
                        hint="send each ACK to the address and port the DATA came from, not to 69")
    with stage.part("a file the server does not have"):
        missing(stage, server)
    server.stop()
    with stage.part("DATA 2 lost on b1, from a server that resends only when the client asks again"):
        lost(stage, sums[LOST])
    with stage.part("a second sender: a DATA 2 from another port of srv, after DATA 1"):
        stray(stage, sums[STRAY])


def local_file(stage: Stage, name: str) -> str:
    return f"{stage.scratch}/{name}" if stage.mine("client") else f"/tmp/{name}"


def download(stage: Stage, name: str) -> tuple[HostProgram, str]:
    """Run the client for ``name`` until it ends (one still running after LIMIT is stopped):
    the program, and how it ended, in words."""
    stage.lab.exec("b1", ["rm", "-f", f"/tmp/{name}"])
    client = stage.start("client", name, local_file(stage, name), "--json", args=("srv", name))
    client.close_stdin()
    try:
        return client, f"ended with exit status {client.wait_exit(LIMIT)}"
    except WaitTimeoutError:
        client.stop()
        return client, f"was still running {LIMIT} s later (socklab stopped it)"


def arrived(stage: Stage, name: str, sha: str) -> tuple[bool, str]:
    """Is the client's copy of ``name`` byte-identical? And what it is, in words."""
    local = local_file(stage, name)
    got = stage.lab.exec("b1", ["sha256sum", local], prints=True).stdout.split()[:1]
    if got == [sha]:
        return True, f"{name} is byte-identical"
    return False, f"{name} differs from the server's" if got else f"there is no {name}"


def missing(stage: Stage, server: HostProgram) -> None:
    """RRQ of a file srv does not have: it answers ERROR 1, which the client prints and ends on."""
    stage.step(CHECK_MISSING)
    client, ended = download(stage, MISSING)
    said = [line for stream in (STDOUT, STDERR) for line in client.lines(stream)]
    told = any("file not found" in line.lower() for line in said)
    refused = [e for e in server.events() if e["event"] == "refused" and e.get("code") == 1]
    answer = "srv answered ERROR 1 (file not found)" if refused else "srv sent no ERROR 1"
    shown = "printed the server's message" if told else (
        f"printed nothing with the server's message (its last line: {said[-1][:80]})" if said else "printed nothing")
    stage.check(CHECK_MISSING, told and client.exit_code == 1,
                f"the client on b1 asked srv for {MISSING}; {answer}; the client {shown} and {ended}",
                expected="a line with the server's message (file not found), then exit status 1",
                hint="opcode 5 is ERROR: a 2-byte code, then the message up to a 0 byte: print them and "
                     "sys.exit(1); without that check, an ERROR looks like a short (last) DATA")


def tftp_from(packets: list[Packet], host: str, opcode: str) -> list[Packet]:
    return [p for p in packets if p.src_name == host and (p.tftp() or ("",))[0] == opcode]


def lost(stage: Stage, sha: str) -> None:
    """DATA 2 dropped once on b1; the server resends only on a repeated ACK 1 (RFC 1350 section
    2: the recipient of a lost packet times out and sends its last one again)."""
    stage.step(CHECK_LOST)
    stage.start("server", "--resend-when-asked", "--give-up", str(LIMIT), reference=True).wait_listening(69)
    source = str(stage.lab.topology().host("srv").address)
    with one_data_dropped(stage.lab, "b1", source, 2) as dropped, CaptureSet(stage.lab, ["b1"], bpf="udp") as cap:
        client, ended = download(stage, LOST)
        drops = dropped()
    same, what = arrived(stage, LOST, sha)
    packets = cap.packets["b1"]
    asked = len([p for p in tftp_from(packets, "b1", "ACK") if p.tftp() == ("ACK", 1, 0)])
    again = "sent ACK 1 again" if asked > 1 else "sent ACK 1 once and never again"
    stage.check(CHECK_LOST, same and client.exit_code == 0 and drops == 1,
                f"DATA 2 from srv was dropped on b1 ({drops} packet); the client {again} and {ended}; {what}",
                expected=f"the client times out, sends ACK 1 again, gets DATA 2 again, and {LOST} arrives whole",
                hint="sock.settimeout(...); on socket.timeout send your last packet again (the RRQ, or your last "
                     "ACK) and wait again, a few times before giving up: the server's DATA may be lost")


def stray(stage: Stage, sha: str) -> None:
    """A DATA 2 from a second port of srv right after DATA 1: not the transfer's (RFC 1350 section 4)."""
    stage.step(CHECK_STRAY)
    server = stage.start("server", "--stray-data", reference=True)
    server.wait_listening(69)
    with CaptureSet(stage.lab, ["b1"], bpf="udp") as cap:
        client, ended = download(stage, STRAY)
    same, what = arrived(stage, STRAY, sha)
    strays = [e for e in server.events() if e["event"] == "stray"]
    port = strays[0]["port"] if strays else 0
    answers = [p.tftp() for p in cap.packets["b1"] if p.src_name == "b1" and port and p.dport == port]
    acked = [a for a in answers if a and a[0] == "ACK"]
    took = ("ACKed the second sender's DATA" if acked else "answered it with ERROR" if answers
            else "did not answer it")
    stage.check(CHECK_STRAY, bool(strays) and same and not acked and client.exit_code == 0,
                f"after DATA 1 from srv port {strays[0]['tid'] if strays else '?'} (the transfer's), srv sent a DATA 2 "
                f"from port {port or '?'} (a second sender); the client {took} and {ended}; {what}",
                expected="the second sender's DATA ignored or answered with ERROR 5; the transfer goes on, "
                         f"{STRAY} byte-identical",
                hint="the port of the first DATA is the transfer's (its TID): a packet from any other port is not "
                     "the server's: ignore it, or answer ERROR 5 (unknown transfer ID), and keep waiting "
                     "(RFC 1350 section 4)")


LESSON = ["TFTP RRQ lesson.bin octet", "TFTP DATA 1 (512 bytes)", "TFTP ACK 1", "TFTP DATA 2 (512 bytes)",
          "TFTP ACK 2", "TFTP DATA 3 (476 bytes)", "TFTP ACK 3"]
