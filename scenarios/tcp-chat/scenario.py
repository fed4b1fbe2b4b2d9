"""TCP chat: the tutorial's one-to-one chat, both directions, ended by bye from each side in turn."""

from __future__ import annotations

from lab.harness.scenario import Role, Stage

TITLE = "one-to-one TCP chat: lines both ways, `bye` from either side ends it"
PORT = 9011
FLOW = ("h1", f"tcp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "tcp-server", "--port", str(PORT), "--json"]),
    "client": Role("h1", ["lab", "tcp-client", "srv", str(PORT), "--json"]),
}


def texts(program, event: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["text"] for e in program.events() if e["event"] == event]


def play(stage: Stage) -> None:
    for closer in ("client", "server"):
        server = stage.start("server")
        server.wait_listening(PORT, "tcp")
        client = stage.start("client")
        server.wait_event("connected")
        stage.say(f"a conversation that the {closer} ends")
        client.send_line("hello server")
        server.wait_event("received", text="hello server")
        server.send_line("hello client, 你好")
        client.wait_event("received", text="hello client, 你好")
        ender, other = (client, server) if closer == "client" else (server, client)
        ender.send_line("bye")
        stage.check(f"{closer}: both sides end cleanly",
                    ender.wait_exit() == 0 and other.wait_exit() == 0)
        stage.check(f"{closer}: the other side saw the bye", "bye" in texts(other, "received"))
        stage.check(f"{closer}: each side got the other's line",
                    "hello server" in texts(server, "received") and "hello client, 你好" in texts(client, "received"))
        reasons = [e.get("reason") for e in other.events() if e["event"] == "closed"]
        stage.check(f"{closer}: the other side knows who ended it", reasons == ["they said bye"], str(reasons))
