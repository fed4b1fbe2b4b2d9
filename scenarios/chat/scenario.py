"""Chat: two hosts type at the same time and each sees the other's lines (full duplex)."""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage, value

TITLE = "full-duplex UDP chat: one thread sends, another receives"
NEEDS = Needs(lan=("h1",), across=("b1",))
PORT = value("port", 9002)
FLOW = ("h1", f"udp port {PORT}")
ROLES = {
    "left": Role("h1", ["lab", "udp-chat", "--port", str(PORT), "--peer", f"b1:{PORT}", "--json"]),
    "right": Role("b1", ["lab", "udp-chat", "--port", str(PORT), "--peer", f"h1:{PORT}", "--json"]),
}


def play(stage: Stage) -> None:
    left, right = stage.start("left"), stage.start("right")
    left.wait_listening(PORT)
    right.wait_listening(PORT)
    stage.say("both sides type five lines each, interleaved, without waiting for the other")
    for n in range(5):
        left.send_line(f"left {n}")
        right.send_line(f"right {n}")
    got_left = [e["text"] for e in left.wait_event("received", count=5)]
    got_right = [e["text"] for e in right.wait_event("received", count=5)]
    stage.check("h1 received all of b1's lines, in order", got_left == [f"right {n}" for n in range(5)], str(got_left))
    stage.check("b1 received all of h1's lines, in order", got_right == [f"left {n}" for n in range(5)], str(got_right))
    peer = left.events()[-1]["peer"]
    stage.check("h1 shows b1's address and port as the source", peer[1] == PORT, str(peer))
    left.close_stdin()
    right.close_stdin()
    stage.check("EOF ends both sides cleanly", left.wait_exit() == 0 and right.wait_exit() == 0)
