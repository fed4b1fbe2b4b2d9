"""Ports: the OS picks a client's port, a server binds a fixed one, and a port is taken once."""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage, value

TITLE = "who chooses the port: the OS for a client, the program for a server"
NEEDS = Needs(lan=("srv", "h1"))
PORT = value("port", 9000)
FLOW = ("srv", f"udp port {PORT}")
ROLES = {
    "receiver": Role("srv", ["lab", "udp-recv", "--port", str(PORT), "--json"]),
    "sender": Role("h1", ["lab", "udp-send", "srv", str(PORT), "--json"]),
    "student": Role("h1", ["lab", "udp-recv", "--json", "--port"], user="student"),
}


def play(stage: Stage) -> None:
    receiver = stage.start("receiver")
    receiver.wait_listening(PORT)

    stage.say("h1 sends three times without binding: the OS picks a source port each time")
    ports_range = stage.lab.exec("h1", ["cat", "/proc/sys/net/ipv4/ip_local_port_range"], prints=True).stdout
    low, high = map(int, ports_range.split())
    ports = []
    for n in range(3):
        sent = stage.run("sender", "--message", f"unbound {n}").events()
        ports.append(sent[0]["local"][1])
    seen = [e["peer"][1] for e in receiver.wait_event("received", count=3)]
    stage.say(f"   source ports {ports}; ephemeral range on h1 is {low}-{high}")
    stage.check("three runs, three different ports", len(set(ports)) == 3, str(ports))
    stage.check("all inside ip_local_port_range", all(low <= p <= high for p in ports), f"{low}-{high}")
    stage.check("the receiver saw the same ports", seen == ports, str(seen))

    stage.say("with --bind 8989 the port stays the same")
    for n in range(2):
        stage.run("sender", "--bind", "8989", "--message", f"bound {n}")
    bound = [e["peer"][1] for e in receiver.wait_event("received", count=5)[3:]]
    stage.check("--bind keeps the port fixed", bound == [8989, 8989], str(bound))

    stage.say(f"a second receiver on port {PORT} of the same host")
    second = stage.run("receiver", host=stage.role("receiver").host)
    stage.check("the second bind fails: address already in use", second.exit_code == 1
                and "address already in use" in second.stderr, second.stderr.strip())

    stage.say("a user who is not root binds port 80")
    low_port = stage.run("student", "80")
    stage.check("ports below 1024 need root", low_port.exit_code == 1 and "permission denied" in low_port.stderr,
                low_port.stderr.strip())
