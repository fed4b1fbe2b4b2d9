"""Encoding: bytes are what travels; a gbk sender and a utf-8 receiver garble, nothing crashes."""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage, value

TITLE = "text becomes bytes before it is sent; decode with the wrong codec and it garbles"
NEEDS = Needs(lan=("h1",), across=("b1",))
PORT = value("port", 9005)
TEXT = "你好，世界"
FLOW = ("b1", f"udp port {PORT}")
ROLES = {
    "receiver": Role("b1", ["lab", "udp-recv", "--port", str(PORT), "--json"]),
    "sender": Role("h1", ["lab", "udp-send", "b1", str(PORT), "--json"]),
}


def play(stage: Stage) -> None:
    utf8 = stage.start("receiver")
    utf8.wait_listening(PORT)
    stage.say(f"h1 encodes {TEXT!r} as gbk; b1 decodes as utf-8")
    sent = stage.run("sender", "--encoding", "gbk", "--message", TEXT).events()[0]
    got = utf8.wait_event("received")[0]
    stage.say(f"   sent {sent['bytes']} bytes; b1 shows {got['text']!r}")
    stage.check("gbk makes 2 bytes per character", sent["bytes"] == len(TEXT.encode("gbk")) == 10)
    stage.check("the receiver shows garbled text", got["text"] != TEXT and "\ufffd" in got["text"], got["text"])
    stage.run("sender", "--message", "plain ascii still fine")
    nxt = utf8.wait_event("received", count=2)[1]
    stage.check("the receiver carries on", nxt["text"] == "plain ascii still fine")
    utf8.stop()
    stage.say("now both ends use gbk")
    gbk = stage.start("receiver", "--encoding", "gbk")
    gbk.wait_listening(PORT)
    stage.run("sender", "--encoding", "gbk", "--message", TEXT)
    stage.check("the same codec on both ends reads correctly", gbk.wait_event("received")[0]["text"] == TEXT)
