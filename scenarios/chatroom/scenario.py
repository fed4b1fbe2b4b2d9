"""Chat room: three members on two LANs; each sees the others' messages, never its own."""

from __future__ import annotations

from lab.harness.scenario import Role, Stage

TITLE = "a UDP chat room server relays each message to every other member"
PORT = 9003
MEMBERS = {"alice": "h1", "bob": "h2", "carol": "b1"}
FLOW = ("srv", f"udp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "udp-chatroom-server", "--port", str(PORT), "--json"]),
    **{name: Role(host, ["lab", "udp-chat", "--room", f"srv:{PORT}", "--name", name, "--json"])
       for name, host in MEMBERS.items()},
}


def play(stage: Stage) -> None:
    server = stage.start("server")
    server.wait_listening(PORT)
    members = {}
    for name in MEMBERS:
        members[name] = stage.start(name)
        members[name].wait_event("received", text=f"* welcome {name}; {len(members) - 1} other(s) here")
    stage.say("alice, bob and carol have joined; each says one line")
    for name, program in members.items():
        program.send_line(f"hi from {name}")
    for name, program in members.items():
        others = [n for n in MEMBERS if n != name]
        for other in others:
            program.wait_event("received", text=f"{other}: hi from {other}")
        texts = [e["text"] for e in program.events() if e["event"] == "received"]
        chat = sorted(t for t in texts if ": hi from " in t)
        stage.check(f"{name} got the others' messages and not its own",
                    chat == sorted(f"{o}: hi from {o}" for o in others), str(chat))
    stage.say("carol (across the router) leaves")
    members["carol"].close_stdin()
    stage.check("carol's program ends cleanly", members["carol"].wait_exit() == 0)
    for name in ("alice", "bob"):
        members[name].wait_event("received", text="* carol left")
    told = [n for n in ("alice", "bob")
            if "* carol left" in [e["text"] for e in members[n].events() if e["event"] == "received"]]
    stage.check("alice and bob were told carol left", told == ["alice", "bob"], str(told))
    stage.say("carol joins again from h3: the server should count two others, not three")
    again = stage.start("carol", host="h3")
    welcome = again.wait_event("received", text="* welcome carol; 2 other(s) here")
    stage.check("the server forgot the member who left", bool(welcome))
