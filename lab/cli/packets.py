"""Tasks about what crosses the wire: captures, their pictures, and impairments.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Context, task

from lab.cli.common import NAME_HELP, Number, Whole, open_lab, reports_errors, say
from lab.control.arguments import output_file, output_folder, within
from lab.control.defaults import DEFAULT_NAME, ROOT
from lab.errors import ArgumentError

if TYPE_CHECKING:
    from lab.wire.pcap import Packet
    from lab.wire.pictures import Diagram


@task(help={"host": "lab host to record on (all its interfaces)", "name": NAME_HELP,
            "filter": "a tcpdump (BPF) filter, e.g. 'udp port 69'", "seconds": "stop after N seconds "
            "(default: at Ctrl-C)", "out": "folder for the pcap file (default captures/)"})
@reports_errors
def capture(c: Context, host: str, name: str = DEFAULT_NAME, filter: str = "", seconds: float = Number(0),
            out: str = "captures") -> None:
    """Record a host's packets into a pcap file that Wireshark opens."""
    within("--seconds", seconds, 0, 86400, "seconds (0: until Ctrl-C)")
    output_folder("--out", ROOT / out)
    from lab.control.capture import Capture

    cap = Capture(open_lab(name), host, filter).start()
    say(f"capturing on {host}" + (f" for {seconds:g}s" if seconds else "; Ctrl-C stops"))
    try:
        if seconds:
            time.sleep(seconds)  # the duration the person asked for, not a synchronisation
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    cap.stop()
    path = cap.save(ROOT / out / f"{name}-{host}-{time.strftime('%Y%m%d-%H%M%S')}.pcap")
    say(f"wrote {path} ({len(cap.data)} bytes); `invoke flows {path}` draws it")


@task(help={"pcap": "a pcap file (e.g. from `invoke capture`)", "name": NAME_HELP + "; its host names label "
            "the lanes when it runs", "out": "also draw it: FILE.svg (sequence diagram) or FILE.html (a page with it)",
            "timeline": "FILE.png: block or sequence number over time, retransmissions marked"})
@reports_errors
def flows(c: Context, pcap: str, name: str = DEFAULT_NAME, out: str = "", timeline: str = "") -> None:
    """Print a ladder diagram of the exchange in a pcap file (like Wireshark's flow graph)."""
    from lab.errors import DockerUnavailableError
    from lab.wire import pcap as decode
    from lab.wire import pictures
    from lab.wire.flows import ladder

    path = Path(pcap)
    if not path.is_file():
        raise ArgumentError("PCAP", pcap, "no such file: give a pcap file, e.g. from `invoke capture`")
    target = output_file("--out", out, (".svg", ".html")) if out else None
    drawn = output_file("--timeline", timeline, (".png", ".svg")) if timeline else None
    packets = decode.read(path)  # not a pcap: said before Docker is asked
    try:
        lab = open_lab(name)
        if lab.running_prefix():
            packets = decode.read(path, lab.topology().address_names())
    except DockerUnavailableError:  # a pcap is read without Docker; the lanes keep their addresses
        pass
    print(ladder(packets))
    if target:
        from lab.report import draw, page

        if target.suffix == ".html":
            page.write(target.parent, path.name, [], [], packets, pcaps={path.stem: path}, index=target.name)
        else:
            draw.write_figure(draw.sequence_figure(pictures.diagram(packets)), target)
        say(f"wrote {target}")
    if drawn:
        from lab.report import draw

        draw.write_figure(draw.timeline_figure(pictures.timeline(packets)), drawn)
        say(f"wrote {drawn}")


@dataclass(frozen=True)
class LessonCapture:
    """A lesson's exchange kept as a fixture (tests/unit/fixtures/pcap/lesson-NAME.pcap, recorded
    by record_lessons.py there) on a lab of ``topology`` whose prefix was ``prefix``."""

    name: str
    topology: str
    prefix: str  # the recording lab's LAB_PREFIX: its addresses get their host names back
    lanes: tuple[str, ...]  # left to right
    addresses: bool  # the address and port pairs in each label
    names: tuple[tuple[str, str], ...] = ()  # lanes for addresses no host has (a group)

    def packets(self, fixtures: Path) -> list[Packet]:
        from lab.control import topologies, topology
        from lab.wire import pcap as decode

        topo = topology.load(topologies.compose_file(self.topology), {"LAB_PREFIX": self.prefix})
        return decode.read(fixtures / f"lesson-{self.name}.pcap", {**topo.address_names(), **dict(self.names)})

    def diagram(self, fixtures: Path) -> Diagram:
        from lab.wire import pictures as what

        return what.diagram(self.packets(fixtures), self.lanes, addresses=self.addresses)


#: b1 joins 239.1.2.3 (IGMPv3 report to 224.0.0.22), takes h1's datagram, leaves; h1's hello
#: through the NAT seen on both sides of the router, its late push lost there; the echo over IPv6.
GROUP_LANES = (("239.1.2.3", "group 239.1.2.3"), ("224.0.0.22", "224.0.0.22 (IGMPv3 routers)"))
LESSON_CAPTURES = (LessonCapture("multicast", "default", "10.203", ("h1", "group 239.1.2.3", "b1"), False, GROUP_LANES),
                   LessonCapture("nat", "nat", "10.205", ("h1", "router", "b1"), True),
                   LessonCapture("ipv6", "default", "10.203", ("b1", "srv"), True))


@task(help={"out": "folder for the README's pictures (default docs/pictures)"})
@reports_errors
def pictures(c: Context, out: str = "docs/pictures") -> None:
    """Draw the README's pictures from the captures checked in as test fixtures: the topologies,
    a TCP exchange as a sequence diagram, a windowed TFTP transfer under loss over time."""
    from lab.control import topologies, topology
    from lab.report import draw
    from lab.wire import pcap as decode
    from lab.wire import pictures as what

    folder = output_folder("--out", ROOT / out)
    fixtures = ROOT / "tests" / "unit" / "fixtures" / "pcap"
    default = topology.load(topologies.compose_file("default"))  # the fixtures were captured on it
    names = default.address_names()
    written = [draw.write_topology(topology.load(topologies.compose_file(t)), folder / f"topology-{t}.svg")
               for t in ("default", "chain", "nat")]
    tcp = decode.read(fixtures / "tcp-chat.pcap", names)
    written.append(draw.write_figure(draw.sequence_figure(what.diagram(tcp)), folder / "sequence-tcp-chat.svg"))
    tftp = decode.read(fixtures / "tftp-window-loss.pcap", names)
    written.append(draw.write_figure(draw.timeline_figure(what.timeline(tftp)), folder / "timeline-tftp-loss.png"))
    for lesson in LESSON_CAPTURES:
        written.append(draw.write_figure(draw.sequence_figure(lesson.diagram(fixtures)),
                                         folder / f"sequence-{lesson.name}.svg"))
    for path in written:
        say(f"wrote {path}")


@task(help={"host": "lab host to impair", "name": NAME_HELP, "loss": "drop PCT percent of packets at random",
            "every": "drop one packet in every N (deterministic)", "direction": "egress, ingress or both",
            "rate": "limit egress rate, e.g. 1mbit (tbf)", "delay": "delay in ms (needs sch_netem)",
            "refuse": "the host's own stack refuses PCT percent of its sends (EPERM, as a host firewall does)",
            "clear": "remove every impairment from the host"})
@reports_errors
def impair(c: Context, host: str, name: str = DEFAULT_NAME, loss: float = Number(0), every: int = Whole(0),
           direction: str = "both", rate: str = "", delay: float = Number(0), refuse: float = Number(0),
           clear: bool = False) -> None:
    """Inject faults on a host: packet loss (iptables statistic), rate limits, delay."""
    from lab.control import impair as impairments

    wanted = None if clear else impairments.Impairment(loss, every, direction, rate, delay, refuse).check()
    lab = open_lab(name)
    lab.container(host)
    if wanted is None:
        impairments.clear(lab, host)
        say(f"{host}: impairments cleared")
        return
    impairments.apply(lab, host, wanted)
    for line in impairments.show(lab, host):
        say(f"{host}: {line}")
