"""Message boundaries: TCP keeps none, UDP keeps them but cuts a datagram too big for the buffer.

Exercise: receiver.py PORT (see README.md), driven by the reference sender on b1.
"""

from __future__ import annotations

from lab.control.capture import CaptureSet
from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "TCP has no message boundaries (frame your messages); UDP keeps them but recvfrom(1024) cuts"
NEEDS = Needs(lan=("srv",), across=("b1",))
PORT = value("port", 9040)
BIG = 100_000
FLOW = ("srv", f"port {PORT}")
ROLES = {
    "receiver": Role("srv", ["lab", "boundary-recv", "--port", str(PORT), "--framed", "--json"], args=(str(PORT),)),
    "sender": Role("b1", ["lab", "boundary-send", "srv", str(PORT), "--json"]),
    "observer": Role("srv", ["lab", "boundary-recv", "--port", str(PORT), "--json"]),  # the lesson: no framing
}
WANT = ["1 one", "2 two", "3 three", f"4 {'x' * BIG}"]
HINT = ("keep the bytes of recv() in a buffer and answer each complete line (up to b'\\n'); one recv() may hold "
        "two lines, part of one, or part of a long one (sock.makefile('rb') frames lines for you)")

CHECKS = {  # what a student is scored on (1 point each)
    "receiver": ["the receiver binds the tcp port it is given, on every address",
                 "two messages in one send() get two replies", "a message split over two send()s gets one reply",
                 f"a {BIG}-byte message (many recv()s) gets one whole reply",
                 "the receiver closed after the sender's end (no more, no fewer replies)"],
}


def sizes(program) -> list[int]:  # type: ignore[no-untyped-def]
    return [e["size"] for e in program.events() if e["event"] == "recv"]


def play(stage: Stage) -> None:
    if not stage.own:
        lesson(stage)
    with stage.part("the receiver, with the reference sender on b1"):
        stage.step(CHECKS["receiver"][0], hint="bind(('', port)), listen()")
        stage.start("receiver").wait_listening(PORT, "tcp")
        stage.done()
        stage.step("the receiver answers every message and closes after the sender's end", hint=HINT)
        sender = stage.run("sender", timeout=15)
        # a long reply is printed cut to 60 bytes, with its size: rebuild it from those
        replies = [e["text"] + "x" * (e["size"] - e["bytes"]) for e in sender.events() if e["event"] == "reply"]
        shown = [r if len(r) < 40 else f"{r[:12]}... ({len(r)} chars)" for r in replies][:6]
        stage.check("two messages in one send() get two replies", replies[:2] == WANT[:2], listed(shown[:3]),
                    expected="['1 one', '2 two']", hint=HINT)
        stage.check("a message split over two send()s gets one reply", replies[2:3] == WANT[2:3], listed(shown[2:4]),
                    expected="'3 three'", hint=HINT)
        stage.check(f"a {BIG}-byte message (many recv()s) gets one whole reply", replies[3:4] == WANT[3:4],
                    listed(shown[3:]), expected=f"'4 xxx...' ({BIG + 2} chars)", hint=HINT)
        stage.check("the receiver closed after the sender's end (no more, no fewer replies)",
                    sender.exit_code == 0 and len(replies) == len(WANT), f"{len(replies)} replies, sender exit "
                    f"status {sender.exit_code}", hint="recv() returning b'' is the end: close the connection")


def lesson(stage: Stage) -> None:
    """What the reference programs show, before any framing."""
    stage.say("TCP without framing: the receiver is busy for 0.5 s, then reads what piled up")
    recv = stage.start("observer", "--busy", "0.5")
    recv.wait_listening(PORT, "tcp")
    with CaptureSet(stage.lab, ["srv"], bpf=f"tcp port {PORT}") as cap:
        stage.run("sender", "--timeout", "2", timeout=15)
        recv.wait_event("recv", count=2)
    got = sizes(recv)
    segments = [p for p in cap.packets["srv"] if p.proto == "tcp" and p.size and p.src_name == "b1"]
    stage.say(f"   recv() sizes: {got[:8]}{' ...' if len(got) > 8 else ''}; data segments on the wire: {len(segments)}")
    stage.check("a recv() returned the bytes of several send()s at once", got[0] > len("one\ntwo\n"),
                f"recv() sizes {listed(got[:3])}")
    stage.check(f"one {BIG}-byte send() arrived over several recv()s and segments",
                len(got) >= 2 and len(segments) > 2, f"{len(got)} recvs, {len(segments)} segments")
    recv.stop()
    stage.say("UDP: a 2,000-byte datagram into recvfrom(1024), then a short one")
    udp = stage.start("observer", "--proto", "udp", "--bufsize", "1024")
    udp.wait_listening(PORT, "udp")
    stage.run("sender", "--proto", "udp")
    got = [e["bytes"] for e in udp.wait_event("recv", count=2)]
    stage.check("UDP: the big datagram was cut to 1024 bytes, silently; the next one arrived whole",
                got == [1024, 5], f"recv() sizes {listed(got)}")
    udp.stop()
