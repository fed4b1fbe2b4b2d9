"""Chat room: three members on two LANs; each sees the others' messages, never its own.

Exercise: server.py PORT (see README.md), checked with reference members on h1, h2 and b1.
"""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage, listed, value

TITLE = "a UDP chat room server relays each message to every other member"
NEEDS = Needs(lan=("srv", "h1", "h2", "h3"), across=("b1",))
PORT = value("port", 9003)
MEMBERS = {"alice": "h1", "bob": "h2", "carol": "b1"}
FLOW = ("srv", f"udp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "udp-chatroom-server", "--port", str(PORT), "--json"], args=(str(PORT),)),
    **{name: Role(host, ["lab", "udp-chat", "--room", f"srv:{PORT}", "--name", name, "--json"])
       for name, host in MEMBERS.items()},
}
WAIT = 5  # seconds for a datagram that should arrive within milliseconds
CHECKS = {  # what a student is scored on (1 point each)
    "server": ["the server binds the udp port it is given, on every address",
               *(f"the server welcomes {name}" for name in MEMBERS),
               *(f"{name} gets the others' messages" for name in MEMBERS),
               "a member's second line is relayed too",
               *(f"{name} got the others' messages and not its own" for name in MEMBERS),
               "carol's program ends cleanly", "alice and bob are told carol left",
               "the server forgot the member who left"],
}


def chat(program) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(e["text"] for e in program.events() if e["event"] == "received" and ": hi from " in e["text"])


def play(stage: Stage) -> None:
    stage.step("the server binds the udp port it is given, on every address", hint="bind(('', port))")
    stage.start("server").wait_listening(PORT)
    stage.done()
    members = {}
    for name in MEMBERS:
        stage.step(f"the server welcomes {name}", expected=f"* welcome {name}; {len(members)} other(s) here",
                   hint="answer `JOIN <name>` with `* welcome <name>; <n> other(s) here` to the sender")
        members[name] = stage.start(name)
        members[name].wait_event("received", text=f"* welcome {name}; {len(members) - 1} other(s) here",
                                 timeout=WAIT)
        stage.done()
    stage.say("alice, bob and carol have joined; each says one line")
    for name, program in members.items():
        program.send_line(f"hi from {name}")
    for name, program in members.items():
        others = [n for n in MEMBERS if n != name]
        stage.step(f"{name} gets the others' messages", expected=listed(f"{o}: hi from {o}" for o in others),
                   hint="relay `MSG <text>` as `<name>: <text>` to every member but the sender")
        for other in others:
            program.wait_event("received", text=f"{other}: hi from {other}", timeout=WAIT)
        stage.done()
    stage.say("alice and bob send one more line each: the server relays it after the first ones, so any echo "
              "of those has arrived by then")
    fence = {"alice": "bob", "bob": "alice", "carol": "alice"}  # who each member hears the fence from
    stage.step("a member's second line is relayed too",
               expected="'bob: fence' at alice, 'alice: fence' at bob and carol",
               hint="keep serving: every datagram of a member is relayed, not only the first")
    for name in ("alice", "bob"):
        members[name].send_line("fence")
    for name, program in members.items():
        program.wait_event("received", text=f"{fence[name]}: fence", timeout=WAIT)
    stage.done()
    for name, program in members.items():
        others = [n for n in MEMBERS if n != name]
        stage.check(f"{name} got the others' messages and not its own",
                    chat(program) == sorted(f"{o}: hi from {o}" for o in others), listed(chat(program)),
                    expected=listed(sorted(f"{o}: hi from {o}" for o in others)),
                    hint="skip the sender's own address when relaying")
    stage.say("carol (across the router) leaves")
    members["carol"].close_stdin()
    stage.check("carol's program ends cleanly", members["carol"].wait_exit() == 0)
    stage.step("alice and bob are told carol left", expected="* carol left",
               hint="on `LEAVE`, forget the member and tell the others `* <name> left`")
    for name in ("alice", "bob"):
        members[name].wait_event("received", text="* carol left", timeout=WAIT)
    stage.done()
    stage.say("carol joins again from h3: the server should count two others, not three")
    stage.step("the server forgot the member who left", expected="* welcome carol; 2 other(s) here",
               hint="remove the member's address on LEAVE, so the count is right")
    again = stage.start("carol", host="h3")
    again.wait_event("received", text="* welcome carol; 2 other(s) here", timeout=WAIT)
    stage.done()
