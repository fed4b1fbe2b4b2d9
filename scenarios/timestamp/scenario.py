"""Timestamp: replies carry the server's time and the data, over UDP and over TCP."""

from __future__ import annotations

import re
import time

from lab.harness.scenario import Role, Stage

TITLE = "a timestamp server replies [time]data, the same over UDP and TCP"
PORT = 9006
STAMP = re.compile(r"^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\](.*)$")
FLOW = ("b1", f"port {PORT}")
ROLES = {
    "udp-server": Role("srv", ["lab", "timestamp-server", "--proto", "udp", "--port", str(PORT), "--json"]),
    "tcp-server": Role("srv", ["lab", "timestamp-server", "--proto", "tcp", "--port", str(PORT), "--json"]),
    "udp-client": Role("b1", ["lab", "timestamp-client", "--proto", "udp", "srv", str(PORT), "--json"]),
    "tcp-client": Role("b1", ["lab", "timestamp-client", "--proto", "tcp", "srv", str(PORT), "--json"]),
}


def play(stage: Stage) -> None:
    stage.start("udp-server").wait_listening(PORT, "udp")
    stage.start("tcp-server").wait_listening(PORT, "tcp")
    for proto in ("udp", "tcp"):
        client = stage.run(f"{proto}-client", lines=["hello", "second line"])
        replies = [e["text"] for e in client.events() if e["event"] == "reply"]
        stage.say(f"{proto}: {replies}")
        parsed = [STAMP.match(r) for r in replies]
        stage.check(f"{proto}: every reply is [time]data", len(replies) == 2 and all(parsed), str(replies))
        if all(parsed) and parsed:
            data = [m.group(2) for m in parsed if m]
            stage.check(f"{proto}: the data comes back after the time", data == ["hello", "second line"])
            stamp = time.mktime(time.strptime(parsed[0].group(1)))  # type: ignore[union-attr]
            server_now = float(stage.lab.exec("srv", ["date", "+%s"]).stdout)
            stage.check(f"{proto}: the time is the server's (now, to the minute)", abs(server_now - stamp) < 60)
