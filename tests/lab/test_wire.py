"""What the wire shows: captures decoded with dpkt, and impairments measured."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.control import impair as impairments
from lab.control.capture import CaptureSet
from lab.control.lab import ROOT, Lab
from lab.control.programs import HostProgram
from lab.control.topology import Topology
from lab.control.wait import wait_until
from lab.errors import CaptureIncompleteError
from lab.probes.tcp import tcp_states
from lab.probes.udpcount import received_numbers
from lab.report.tools import DOT
from lab.testing import artifacts

pytestmark = pytest.mark.lab


def test_broadcast_on_the_wire(lab: Lab, topo: Topology, capture: Callable[..., CaptureSet]) -> None:
    hosts = ["h1", "h2", "h3", "srv", "b1", "b2"]
    with capture(hosts, bpf="udp port 9060") as cap:
        lab.exec("h1", ["lab", "broadcast-send", "9060", "--message", "anyone?"], check=True)
        for fence in ("b1", "b2"):  # after the broadcast, so LAN B's captures are complete
            lab.exec("h1", ["lab", "udp-send", fence, "9060", "--message", "fence"], check=True)
    sent = [p for p in cap.packets["h1"] if p.payload == b"anyone?"]
    assert [(p.dst, p.dport, p.direction) for p in sent] == [("255.255.255.255", 9060, "out")]
    heard = {h for h in hosts if any(p.payload == b"anyone?" and p.direction == "in" for p in cap.packets[h])}
    assert heard == {"h2", "h3", "srv"}
    assert all(any(p.payload == b"fence" for p in cap.packets[h]) for h in ("b1", "b2"))


def test_tftp_download_on_the_wire(lab: Lab, run_program: Callable[..., HostProgram],
                                   capture: Callable[..., CaptureSet]) -> None:
    lab.exec("srv", ["sh", "-c", "mkdir -p /srv/tftp && head -c 1500 /dev/urandom > /srv/tftp/wire.bin"],
             check=True)
    server = run_program("srv", ["in.tftpd", "-L", "-s", "/srv/tftp"])
    server.wait_listening(69)
    with capture(["h1"], bpf="udp") as cap:
        lab.exec("h1", ["sh", "-c", "cd /tmp && tftp -m binary srv -c get wire.bin"], check=True)
    labels = [p.label(tftp=True) for p in cap.packets["h1"]]
    assert labels == ["TFTP RRQ wire.bin octet", "TFTP DATA 1 (512 bytes)", "TFTP ACK 1",
                      "TFTP DATA 2 (512 bytes)", "TFTP ACK 2", "TFTP DATA 3 (476 bytes)", "TFTP ACK 3"]
    assert "|<--- TFTP DATA 3 (476 bytes) ----|" in cap.ladder("h1")


def test_tcp_connection_on_the_wire(lab: Lab, run_program: Callable[..., HostProgram],
                                    capture: Callable[..., CaptureSet]) -> None:
    server = run_program("b1", ["lab", "tcp-echo-server", "--port", "9061"])
    server.wait_listening(9061, "tcp")
    with capture(["h1"], bpf="tcp port 9061") as cap:
        # -N: half-close at EOF; nc ends once the server has closed its side too
        lab.exec("h1", ["sh", "-c", "echo hello | nc -N b1 9061"], check=True)
        wait_until(lambda: any(r["state"] == "TIME-WAIT" for r in tcp_states(lab, "h1", 9061)), 5,
                   "h1's side of the connection to finish closing")
    flags = [(p.src_name, p.tcp_flags) for p in cap.packets["h1"]]
    assert flags[:3] == [("h1", "SYN"), ("b1", "SYN,ACK"), ("h1", "ACK")]
    fins = {name for name, f in flags if "FIN" in f}
    assert fins == {"h1", "b1"}, "both sides closed with a FIN"


def test_random_loss_is_measured_and_cleared(lab: Lab, impair: Callable[..., None]) -> None:
    impair("b1", loss=20, direction="ingress")
    got = received_numbers(lab, "h1", "b1", 9062, 2000)
    loss = 1 - len(got) / 2000
    assert 0.15 <= loss <= 0.25, f"measured {loss:.1%} with 20% set"
    impairments.clear(lab, "b1")
    assert len(received_numbers(lab, "h1", "b1", 9062, 2000)) == 2000


def test_every_nth_drops_the_same_packets_twice(lab: Lab, impair: Callable[..., None]) -> None:
    patterns = []
    for _ in range(2):
        impair("h1", every=5, direction="egress")
        got = set(received_numbers(lab, "h1", "b1", 9063, 200))
        patterns.append(sorted(set(range(200)) - got))
    assert patterns[0] == patterns[1]
    assert len(patterns[0]) == 40, "one in every 5"


def test_egress_loss_on_the_router_drops_what_it_forwards(lab: Lab, impair: Callable[..., None]) -> None:
    """Forwarded packets keep h1's address as their source: the loss must still apply to them."""
    impair("router", every=4, direction="egress")
    got = received_numbers(lab, "h1", "b1", 9065, 200)
    assert len(got) == 150, f"{200 - len(got)} of 200 dropped, one in every 4 expected"


def test_a_failing_lab_test_leaves_its_artifacts(lab: Lab, pytester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's failure hook, through a lab test that really fails (in its own pytest run):
    each program's transcript, each capture, every host's log, the lab's status, and a page
    with the programs, the exchange drawn and the lab."""
    pytester.makepyfile(test_inner="""
        def test_fails(lab, run_program, capture):
            echo = run_program("srv", ["lab", "udp-echo-server", "--port", "9064"])
            echo.wait_listening(9064)
            with capture(["h1"], bpf="udp port 9064"):
                lab.exec("h1", ["lab", "udp-send", "srv", "9064", "--message", "hi"], check=True)
            assert False, "this test fails on purpose"
    """)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    out = pytester.path / "evidence"
    result = pytester.runpytest_subprocess("-p", "lab.testing.plugin", "-p", "no:cacheprovider", "--lab",
                                           f"--lab-name={lab.name}", f"--artifacts={out}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*socklab: artifacts of this failure are in {out}/test_inner.py_test_fails*"])
    folder = out / "test_inner.py_test_fails"
    names = {p.name for p in folder.iterdir()}
    assert {"program-0-srv.txt", "capture-0-h1.pcap", "status.json", "log-router.txt", "report.html",
            "sequence.svg"} <= names
    page = (folder / "report.html").read_text()
    assert ("topology.svg" in names) == DOT.installed(), "the lab drawn when Graphviz is here"
    assert ("The lab is not drawn: Graphviz" in page) != DOT.installed(), "else the page says why not"
    assert "FAILED test_inner.py::test_fails" in page and "lab udp-echo-server --port 9064" in page
    assert '<a href="capture-0-h1.pcap">' in page
    assert "lab udp-echo-server --port 9064" in (folder / "program-0-srv.txt").read_text()
    assert json.loads((folder / "status.json").read_text())["lab"] == lab.name
    assert artifacts.folder_for("tests/lab/x.py::test_y[a b]", out).name == "tests_lab_x.py_test_y_a_b_"


def test_a_capture_stopped_while_traffic_goes_on_keeps_what_it_wrote(lab: Lab,
                                                                     run_program: Callable[..., HostProgram]) -> None:
    """The pcap file still grows when the capture stops (a flood to srv): stopping still fetches
    the file, says it was not complete, and every whole packet in it parses."""
    flood = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nprint('go', flush=True)\n"
             "for i in range(3_000_000):\n    s.sendto(b'x' * 64, ('srv', 9999))\n")  # bounded: ~30 s at most
    cap = CaptureSet(lab, ["srv"], bpf="udp port 9999")
    remote = cap.captures["srv"].remote
    with contextlib.suppress(CaptureIncompleteError), cap:  # the kernel may drop some of a flood: not the point
        sender = run_program("h1", ["python3", "-c", flood])
        sender.wait_line("go")
        wait_until(lambda: int(lab.exec("srv", ["stat", "-c", "%s", remote]).stdout) > 1 << 16, 10,
                   "the capture to grow")
    sender.stop()
    assert not cap.captures["srv"].complete, "the file was still growing"
    assert len(cap.packets["srv"]) > 100 and all(p.dport == 9999 for p in cap.packets["srv"])


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def test_flows_draws_what_a_person_looks_at(lab: Lab, tmp_path: Path) -> None:
    """The task behind the pictures of a capture: a page and a timeline (no Graphviz needed)."""
    fixture = ROOT / "tests" / "unit" / "fixtures" / "pcap" / "tftp-window-loss.pcap"
    drawn = invoke("flows", str(fixture), "--name", lab.name, "--out", str(tmp_path / "x.html"),
                   "--timeline", str(tmp_path / "t.png"))
    assert drawn.returncode == 0, drawn.stderr
    assert "|- TFTP RRQ f60k.bin" in drawn.stdout, "the terminal ladder first"
    assert {"x.html", "sequence.svg", "timeline.png", "tftp-window-loss.pcap", "t.png"} <= {
        p.name for p in tmp_path.iterdir()}
    wrong = invoke("flows", str(fixture), "--out", str(tmp_path / "x.gif"))
    assert wrong.returncode == 1 and "give a file name ending .svg or .html" in wrong.stderr


@pytest.mark.needs("dot")
def test_graph_draws_the_running_lab(lab: Lab, tmp_path: Path) -> None:
    graph = invoke("graph", "--name", lab.name, "--out", str(tmp_path / "lab.svg"))
    assert graph.returncode == 0, graph.stderr
    svg = (tmp_path / "lab.svg").read_text()
    for host in lab.topology().hosts.values():
        assert f">{host.name}</text>" in svg
    assert f">{lab.topology().lans['lan_a'].subnet}</text>" in svg, "the running lab's addresses"
