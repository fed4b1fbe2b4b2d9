"""Group chat: clients on both LANs; every message reaches all; a SIGKILLed client just disappears."""

from __future__ import annotations

from lab.harness.scenario import Role, Stage

TITLE = "a TCP group chat: everyone gets every message; a killed client leaves, the rest carry on"
PORT = 9030
MEMBERS = {"alice": "h1", "bob": "h2", "carol": "b1", "dave": "b2"}
FLOW = ("srv", f"tcp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "chat-server", "--port", str(PORT), "--json"]),
    **{name: Role(host, ["lab", "chat-client", "srv", str(PORT), "--name", name, "--json"])
       for name, host in MEMBERS.items()},
}


def received(program) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["text"] for e in program.events() if e["event"] == "received"]


def play(stage: Stage) -> None:
    server = stage.start("server")
    server.wait_listening(PORT, "tcp")
    members = {}
    for n, name in enumerate(MEMBERS):
        members[name] = stage.start(name)
        members[name].wait_event("received", text=f"* welcome {name}; {n} other(s) here")
    for name, program in members.items():
        program.send_line(f"hello from {name}")
    for name, program in members.items():
        for other in MEMBERS:
            if other != name:
                program.wait_event("received", text=f"{other}: hello from {other}")
        chat = sorted(t for t in received(program) if ": hello from " in t)
        stage.check(f"{name} got every other message once, never its own",
                    chat == sorted(f"{o}: hello from {o}" for o in MEMBERS if o != name), str(chat))
    stage.say("dave's program is killed with SIGKILL: no bye, the kernel closes its socket")
    members["dave"].signal("KILL")
    for name in ("alice", "bob", "carol"):
        members[name].wait_event("received", text="* dave left (disconnected)")
    told = [n for n in ("alice", "bob", "carol") if "* dave left (disconnected)" in received(members[n])]
    stage.check("the others were told dave left", told == ["alice", "bob", "carol"], str(told))
    members["alice"].send_line("still here?")
    for name in ("bob", "carol"):
        members[name].wait_event("received", text="alice: still here?")
    stage.check("the rest carry on", all("alice: still here?" in received(members[n]) for n in ("bob", "carol")))
    left = [e for e in server.events() if e["event"] == "left"]
    stage.check("the server logged dave's departure", [e["reason"] for e in left] == ["disconnected"], str(left))
