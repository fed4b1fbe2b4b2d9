"""Timestamp: replies carry the server's time and the data, over UDP and over TCP.

Exercise: udp_server.py PORT and tcp_server.py PORT (see README.md), checked with the
reference clients on b1 (across the router).
"""

from __future__ import annotations

import re
import time

from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "a timestamp server replies [time]data, the same over UDP and TCP"
NEEDS = Needs(lan=("srv",), across=("b1",))
PORT = value("port", 9006)
STAMP = re.compile(r"^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\](.*)$")
LINES = ["hello", "second line", "你好"]
FLOW = ("b1", f"port {PORT}")
ROLES = {
    "udp_server": Role("srv", ["lab", "timestamp-server", "--proto", "udp", "--port", str(PORT), "--json"],
                       args=(str(PORT),)),
    "tcp_server": Role("srv", ["lab", "timestamp-server", "--proto", "tcp", "--port", str(PORT), "--json"],
                       args=(str(PORT),)),
    "udp_client": Role("b1", ["lab", "timestamp-client", "--proto", "udp", "srv", str(PORT), "--json"]),
    "tcp_client": Role("b1", ["lab", "timestamp-client", "--proto", "tcp", "srv", str(PORT), "--json"]),
}
HINT = "reply f'[{time.ctime()}]'.encode() + data: the data exactly as it came, after the time"

CHECKS = {  # what a student is scored on, role by role (1 point each)
    f"{proto}_server": [f"{proto}: the server binds the {proto} port it is given, on every address",
                        f"{proto}: every reply is [time]data", f"{proto}: the data comes back after the time",
                        f"{proto}: the time is the server's (now, to the minute)"]
    for proto in ("udp", "tcp")
}


def play(stage: Stage) -> None:
    for proto in ("udp", "tcp"):
        with stage.part(f"the {proto.upper()} server, with the reference client on b1"):
            stage.step(f"{proto}: the server binds the {proto} port it is given, on every address",
                       hint="bind(('', port)) with the port from sys.argv[1]")
            stage.start(f"{proto}_server").wait_listening(PORT, proto)
            stage.done()
            stage.step(f"{proto}: the server answers every message")
            client = stage.run(f"{proto}_client", lines=LINES, timeout=15)
            replies = [e["text"] for e in client.events() if e["event"] == "reply"]
            stage.say(f"{proto}: {replies}")
            parsed = [STAMP.match(r) for r in replies]
            stage.check(f"{proto}: every reply is [time]data", len(replies) == len(LINES) and all(parsed),
                        listed(replies), expected=f"{len(LINES)} replies like [{time.ctime()}]hello", hint=HINT)
            data = [m.group(2) for m in parsed if m]
            stage.check(f"{proto}: the data comes back after the time", data == LINES, listed(data),
                        expected=listed(LINES), hint=HINT + (" (over TCP: one reply line per line received: "
                                                          "a recv() may hold several lines, or part of one)"
                                                          if proto == "tcp" else ""))
            ok = bool(parsed) and parsed[0] is not None
            stamp = time.mktime(time.strptime(parsed[0].group(1))) if ok else 0.0  # type: ignore[union-attr]
            server_now = float(stage.lab.exec("srv", ["date", "+%s"], check=True, prints=True).stdout)
            stage.check(f"{proto}: the time is the server's (now, to the minute)", ok and abs(server_now - stamp) < 60,
                        f"{replies[:1]} at {time.ctime(server_now)}", hint="time.ctime() when the message arrives")
