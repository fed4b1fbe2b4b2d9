"""Echo three ways: thread per client, socketserver, selectors: identical bytes back from each."""

from __future__ import annotations

from lab.harness.scenario import Needs, Role, Stage
from lab.probes.tcp import echo_load

TITLE = "the same TCP echo service three ways; the same load gets identical bytes back"
NEEDS = Needs(lan=("srv", "h1"), across=("b1",))
IMPLS = {"thread": 9021, "socketserver": 9022, "selectors": 9023}
FLOW = ("srv", f"tcp port {IMPLS['thread']}")
ROLES = {impl: Role("srv", ["lab", "tcp-echo-server", "--impl", impl, "--port", str(port)])
         for impl, port in IMPLS.items()}
CONNECTIONS, SIZE = 8, 256 * 1024


def play(stage: Stage) -> None:
    for impl, port in IMPLS.items():
        stage.start(impl).wait_listening(port, "tcp")
    for impl, port in IMPLS.items():
        for host in ("h1", "b1"):
            results = echo_load(stage.lab, host, "srv", port, CONNECTIONS, SIZE)
            same = [sent == back for sent, back, _ in results]
            stage.check(f"{impl} from {host}: {CONNECTIONS} connections x {SIZE // 1024} KiB came back identical",
                        len(same) == CONNECTIONS and all(same), f"{sum(same)}/{CONNECTIONS} identical")
