"""Echo: every reply is byte-identical to what was sent, on the same LAN and across the router."""

from __future__ import annotations

from lab.harness.scenario import Role, Stage

TITLE = "a UDP echo server returns every datagram unchanged"
PORT = 9001
LINES = ["hello", "你好，世界", "tab\tand  spaces", "x" * 1400, "exit", "never sent: exit ended the client"]
FLOW = ("h1", f"udp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "udp-echo-server", "--port", str(PORT), "--json"]),
    "client": Role("h1", ["lab", "udp-echo-client", "srv", str(PORT), "--json"]),
}


def play(stage: Stage) -> None:
    server = stage.start("server")
    server.wait_listening(PORT)
    expected = LINES[: LINES.index("exit")]
    for host in ("h1", "b1"):
        where = "same LAN" if host == "h1" else "across the router"
        stage.say(f"{host} ({where}) sends {len(expected)} lines, then `exit`")
        client = stage.run("client", host=host, lines=LINES)
        sent = [e for e in client.events() if e["event"] == "sent"]
        replies = [e for e in client.events() if e["event"] == "reply"]
        stage.check(f"{host}: a reply for every line", len(replies) == len(expected), f"{len(replies)} replies")
        stage.check(f"{host}: replies byte-identical to what was sent",
                    [(r["bytes"], r["text"]) for r in replies] == [(s["bytes"], s["text"]) for s in sent])
        stage.check(f"{host}: `exit` ended the client cleanly", client.exit_code == 0 and len(sent) == len(expected))
