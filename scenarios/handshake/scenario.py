"""Handshake: a TCP connection across the router, seen on both ends, and its close."""

from __future__ import annotations

from lab.control.wait import wait_until
from lab.harness.scenario import Needs, Role, Stage, value
from lab.probes.tcp import tcp_states

TITLE = "a TCP connection: ESTABLISHED on both ends, TIME_WAIT on the side that closed first"
NEEDS = Needs(lan=("srv",), across=("b1",))
PORT = value("port", 9010)
FLOW = ("b1", f"tcp port {PORT}")
ROLES = {
    "server": Role("srv", ["lab", "tcp-server", "--port", str(PORT), "--json"]),
    "client": Role("b1", ["lab", "tcp-client", "srv", str(PORT), "--json"]),
}


def play(stage: Stage) -> None:
    server = stage.start("server")
    server.wait_listening(PORT, "tcp")
    client = stage.start("client")
    server.wait_event("connected")
    srv_host, cli_host = stage.role("server").host, stage.role("client").host

    def established(host: str) -> list[dict[str, str]]:
        return [r for r in tcp_states(stage.lab, host, PORT) if r["state"] == "ESTAB"]

    on_server = wait_until(lambda: established(srv_host), 5, "ESTABLISHED on the server")
    on_client = wait_until(lambda: established(cli_host), 5, "ESTABLISHED on the client")
    stage.say(f"   {srv_host}: {on_server[0]['local']} <-> {on_server[0]['peer']}  ESTABLISHED")
    stage.say(f"   {cli_host}: {on_client[0]['local']} <-> {on_client[0]['peer']}  ESTABLISHED")
    client_port = int(on_client[0]["local"].rsplit(":", 1)[1])
    low, high = map(int, stage.lab.exec(cli_host, ["cat", "/proc/sys/net/ipv4/ip_local_port_range"],
                                                 prints=True).stdout.split())
    stage.check("the server's end is its fixed port", on_server[0]["local"].endswith(f":{PORT}"))
    stage.check("the client's end is an ephemeral port", low <= client_port <= high, f"{client_port}")
    stage.check("each end sees the other", on_server[0]["peer"] == on_client[0]["local"])
    stage.say("the client says bye and closes first (FIN), the server answers with its own")
    client.send_line("bye")
    client.close_stdin()
    stage.check("both programs end cleanly", client.wait_exit() == 0 and server.wait_exit() == 0)
    waiting = wait_until(lambda: [r for r in tcp_states(stage.lab, cli_host, PORT) if r["state"] == "TIME-WAIT"],
                         5, "TIME_WAIT on the client")
    stage.say(f"   {cli_host}: {waiting[0]['local']} <-> {waiting[0]['peer']}  TIME_WAIT")
    on_srv = [r["state"] for r in tcp_states(stage.lab, srv_host, PORT)]
    stage.check("TIME_WAIT is on the side that closed first (the client)", bool(waiting) and "TIME-WAIT" not in on_srv,
                f"server side: {on_srv}")
