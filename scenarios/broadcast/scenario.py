"""Broadcast: who hears '<broadcast>' and the subnet broadcast; SO_BROADCAST is required.

Exercise: sender.py PORT MESSAGE (see README.md), run on a host of each of the first two
LANs (h1 and b1 in the default lab), heard by the reference listeners on every host. Runs
on any topology: it picks its hosts by LAN (on one LAN of fifty, one sender reaches all).
"""

from __future__ import annotations

import itertools

from lab.harness.scenario import Role, Stage, listed, value

TITLE = "a broadcast reaches every host of the sender's LAN and stops at the router"
PORT = value("port", 9004)
FLOW = ("h2", f"udp port {PORT}")
#: What a student is scored on (1 point each), with the default lab's senders (the first host of each LAN).
CHECKS = {"sender": [f"limited broadcast from {h} reached exactly its LAN" for h in ("h1", "b1")]}
ROLES = {
    "listener": Role("h1", ["lab", "broadcast-listen", "--port", str(PORT), "--json"]),
    "sender": Role("h1", ["lab", "broadcast-send", str(PORT), "--json"], args=(str(PORT), "MESSAGE")),
}


def play(stage: Stage) -> None:
    topo = stage.lab.topology()
    hosts = [h.name for h in topo.end_hosts()]
    listeners = {h: stage.start("listener", host=h) for h in hosts}
    for program in listeners.values():
        program.wait_listening(PORT)
    on_each_lan = ([h.name for h in topo.hosts_on(lan) if h.role != "router"] for lan in topo.lans)
    senders = [names[0] for names in on_each_lan if names][:2]  # h1 and b1 in the default lab
    kinds = ("limited",) if stage.mine("sender") else ("limited", "subnet")
    for sender in senders:
        lan = topo.lans[topo.host(sender).lans[0]]
        for kind, to in (("limited", "<broadcast>"), ("subnet", str(lan.broadcast)))[:len(kinds)]:
            stage.say(f"{sender} sends to {to} ({kind} broadcast)")
            stage.step(f"{kind} broadcast from {sender} reached exactly its LAN")
            stage.run("sender", "--to", to, "--message", f"{kind} from {sender}", host=sender, timeout=10,
                      args=(str(PORT), f"{kind} from {sender}"))
    # Fence: a unicast from each sender to each host travels after the broadcasts.
    for sender, host in itertools.product(senders, hosts):
        stage.lab.exec(sender, ["lab", "udp-send", host, str(PORT), "--message", f"fence {sender}"], check=True)
    stage.say(f"{'':6}" + "".join(f"{h:>6}" for h in hosts))
    for sender in senders:
        for kind in kinds:
            reached = []
            for host, program in listeners.items():
                program.wait_event("received", text=f"fence {sender}")
                texts = {e["text"] for e in program.events() if e["event"] == "received"}
                if f"{kind} from {sender}" in texts:
                    reached.append(host)
            row = "".join(f"{'yes' if h in reached else '-':>6}" for h in hosts)
            stage.say(f"{sender:>3} {kind[:3]}{row}")
            expected = [h for h in hosts if topo.same_lan(h, sender)]
            stage.check(f"{kind} broadcast from {sender} reached exactly its LAN", reached == expected,
                        f"reached {listed(reached)}", expected=f"{listed(expected)} (the hosts of {sender}'s LAN)",
                        hint="setsockopt(SOL_SOCKET, SO_BROADCAST, 1), then sendto(message, ('<broadcast>', port))")
    refused = stage.run("sender", "--no-so-broadcast", "--message", "x", host=senders[0], reference=True)
    stage.check("without SO_BROADCAST the kernel refuses the send",
                refused.exit_code == 1 and "needs SO_BROADCAST" in refused.stderr, refused.stderr.strip())
