"""Pictures from the captures checked in as fixtures: what they show (lanes, arrow labels,
retransmission marks) asserted on their data and in the SVG they become; the topology
drawn for every shipped topology; the HTML report opened in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.cli.packets import LESSON_CAPTURES
from lab.control import topologies, topology
from lab.errors import PictureError, ToolMissingError
from lab.report import browser, draw, page
from lab.wire import pcap, pictures
from lab.wire.flows import ladder
from lab.wire.pcap import Packet

FIXTURES = Path(__file__).parent / "fixtures" / "pcap"
NAMES = {"10.201.1.10": "srv", "10.201.1.11": "h1", "10.201.2.11": "b1"}  # as captured on the default lab


def read(name: str) -> list[Packet]:
    return pcap.read(FIXTURES / f"{name}.pcap", NAMES)


def test_a_sequence_diagram_has_a_lane_per_host_and_the_ladders_labels() -> None:
    packets = read("tcp-chat")
    d = pictures.diagram(packets)
    assert d.lanes == ["h1", "srv"], "names, not addresses"
    labels = [a.label for a in d.arrows()]
    assert labels[:3] == ["[SYN] 50092->9011", "[SYN,ACK] 9011->50092", "[ACK] 50092->9011"]
    rows = ladder(packets).splitlines()[1:]
    assert all(label in row for label, row in zip(labels, rows, strict=True)), "the terminal ladder's labels"
    assert [(a.src, a.dst) for a in d.arrows()][:2] == [("h1", "srv"), ("srv", "h1")]


def test_a_long_exchange_keeps_its_start_and_end() -> None:
    packets = read("tftp-window-loss")
    d = pictures.diagram(packets, max_rows=40)
    assert len(packets) == 64 and len(d.arrows()) == 40
    (elided,) = [r for r in d.rows if isinstance(r, pictures.Elided)]
    assert elided.count == 24 and d.rows.index(elided) == 10
    assert d.arrows()[0].label.startswith("TFTP RRQ f60k.bin") and d.arrows()[-1].label.startswith("TFTP ACK")


def test_the_sequence_svg_keeps_every_lane_and_label_as_text() -> None:
    d = pictures.diagram(read("tftp-window-loss"))
    svg = draw.figure_bytes(draw.sequence_figure(d), "svg").decode()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    shown = {t.strip() for t in texts}
    assert {"b1", "srv"} <= shown
    for arrow in d.arrows():
        assert arrow.label.replace("<", "&lt;") in shown or arrow.label in shown, arrow.label
    assert "… 24 packets not shown …" in shown


def test_the_timeline_marks_each_block_sent_again() -> None:
    (series,) = pictures.timeline(read("tftp-window-loss"))
    assert series.name == "srv → b1 DATA" and series.unit == "block"
    blocks = [p.number for p in series.points]
    assert sorted(set(blocks)) == list(range(1, 42)), "60,000 bytes in 1,468-byte blocks"
    # As Wireshark marks TCP retransmissions: below the highest already sent. That is each
    # block sent twice (5 here) and each block whose first send the stack refused, sent
    # after the ones behind it (4 here: a gap filled).
    twice = len(blocks) - len(set(blocks))
    assert (twice, len(series.resent)) == (5, 9)
    for i, p in enumerate(series.points):
        assert p.resent == (p.number <= max(blocks[:i], default=0)), p
    png = draw.figure_bytes(draw.timeline_figure([series]), "png")
    assert png.startswith(b"\x89PNG")


def tcp(t: float, seq: int, size: int) -> Packet:
    return Packet(t, "10.201.1.11", "10.201.1.10", "tcp", 50000, 9011, ("ACK",), seq, b"x" * size,
                  src_name="h1", dst_name="srv")


def test_tcp_data_sent_again_is_marked() -> None:
    start = 2**32 - 100  # the sequence number wraps inside the stream
    packets = [tcp(0.0, start, 100), tcp(0.1, start + 100, 100), tcp(0.2, start + 100, 100), tcp(0.3, start + 200, 50)]
    (series,) = pictures.timeline(packets)
    assert [(p.number, p.resent) for p in series.points] == [(0, False), (100, False), (100, True), (200, False)]


def test_lock_step_without_loss_marks_nothing() -> None:
    (series,) = pictures.timeline(read("tftp-1500"))
    assert [p.number for p in series.points] == [1, 2, 3] and not series.resent


@pytest.mark.parametrize("name", topologies.names())
def test_every_shipped_topology_is_drawn_with_names_roles_and_addresses(name: str) -> None:
    topo = topology.load(topologies.compose_file(name))
    source = draw.topology_graph(topo).source
    for host in topo.end_hosts():
        assert f"{host.name}\n{host.role}\n{host.address}\n{host.address6}" in source
    for lan in topo.lans.values():
        assert f"{lan.name}\n{lan.subnet}\n{lan.subnet6}" in source
    for router in topo.routers():
        edge = rf"^\t(?:{router.name} -- net_(\w+)|net_(\w+) -- {router.name})"
        joined = re.findall(edge + r' \[label="\.(\d+) ::(\d+)"\]',
                            source, re.M)
        found = {a or b: (octet, last6) for a, b, octet, last6 in joined}
        assert found == {lan: (str(addr).rsplit(".", 1)[1], str(router.addresses6[lan]).rsplit(":", 1)[1])
                         for lan, addr in router.addresses.items()}, \
            "a line to each LAN it joins, with its addresses there (IPv4 and IPv6)"


@pytest.mark.needs("dot")
@pytest.mark.parametrize("name", topologies.names())
def test_every_shipped_topology_is_drawn_by_graphviz(name: str) -> None:
    topo = topology.load(topologies.compose_file(name))
    svg = draw.render_graph(draw.topology_graph(topo), "svg").decode()
    assert all(f">{h}</text>" in svg for h in topo.hosts)


def test_a_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    topo = topology.load(topologies.compose_file("default"))
    with pytest.raises(ToolMissingError, match=r"Graphviz's `dot` is not installed \(it draws the lab's topology\): "
                       r"`apt-get install graphviz`"):
        draw.render_graph(draw.topology_graph(topo), "svg")


def test_a_picture_name_says_its_format(tmp_path: Path) -> None:
    with pytest.raises(PictureError, match=r"topology.gif: a picture is written as .svg or .png, not `.gif`"):
        draw.write_topology(topology.load(topologies.compose_file("default")), tmp_path / "topology.gif")


def report(folder: Path) -> Path:
    checks = [page.Evidence("server: a reply for every line", True),
              page.Evidence("client: ends at exit", False, observed="still running after 8s", expected="exit 0",
                            hint="break out of the loop", transcripts=(("client.py", "$ python3 client.py srv 9001"),),
                            ladder="h1 -> srv UDP 'exit'")]
    topo = topology.load(topologies.compose_file("default"))
    return page.write(folder, "echo: a UDP echo server <returns> every datagram", ["== echo", "h1 sends"], checks,
                      read("tftp-window-loss"), topo, {"b1": FIXTURES / "tftp-window-loss.pcap"}, ["a transcript"])


def test_a_report_without_graphviz_keeps_the_rest_and_says_what_it_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    html = report(tmp_path).read_text()
    assert html.count('<img src="data:image/') == 2, "sequence and timeline: matplotlib's, no tool needed"
    assert "The lab is not drawn: Graphviz's `dot` is not installed" in html and "apt-get install graphviz" in html
    assert "still running after 8s" in html and '<a href="b1.pcap">' in html
    assert {p.name for p in tmp_path.iterdir()} == {"index.html", "sequence.svg", "timeline.png", "b1.pcap"}


@pytest.mark.needs("dot")
def test_the_report_page_holds_everything_and_needs_no_network(tmp_path: Path) -> None:
    html = report(tmp_path).read_text()
    assert "1 of 2 checks hold" in html and "&lt;returns&gt;" in html
    assert html.count('<img src="data:image/') == 3, "sequence, timeline, topology: embedded"
    assert "still running after 8s" in html and "break out of the loop" in html and "h1 -&gt; srv" in html
    assert '<a href="b1.pcap">' in html and (tmp_path / "b1.pcap").is_file()
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing fetched from a network"


@pytest.mark.needs("dot", "chromium")
def test_the_report_opens_in_a_real_browser(tmp_path: Path) -> None:
    shown = browser.render(report(tmp_path / "report"), tmp_path / "report.png")
    assert shown.console == [], "the page's console stays silent"
    assert (shown.images_shown, shown.images) == (3, 3)
    assert shown.png.read_bytes().startswith(b"\x89PNG") and shown.png.stat().st_size > 20_000


@pytest.mark.needs("chromium")
def test_the_browser_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(page.page("broken", [], [], []).replace("</body>", '<img src="missing.png">'
                                                           "<script>throw new Error('boom')</script></body>"))
    shown = browser.render(bad, tmp_path / "bad.png")
    assert any("boom" in line for line in shown.console)
    assert (shown.images_shown, shown.images) == (0, 1)


def test_a_missing_browser_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError, match=r"Chromium is not installed \(it opens a report as a person would\): "
                       r"`apt-get install chromium`"):
        browser.render(tmp_path / "index.html", tmp_path / "shot.png")


@pytest.mark.needs("dot")
def test_the_readme_pictures_are_drawn_from_the_fixtures(tmp_path: Path) -> None:
    from invoke import MockContext

    import tasks

    tasks.pictures(MockContext(), out=str(tmp_path))
    assert {p.name for p in tmp_path.iterdir()} == {"topology-default.svg", "topology-chain.svg", "topology-nat.svg",
                                                    "sequence-tcp-chat.svg", "timeline-tftp-loss.png",
                                                    "sequence-multicast.svg", "sequence-nat.svg", "sequence-ipv6.svg"}
    assert ">h1</text>" in (tmp_path / "sequence-tcp-chat.svg").read_text(), "names from the topology"


LESSONS = {lesson.name: lesson for lesson in LESSON_CAPTURES}


def shown(d: pictures.Diagram) -> list[tuple[str, str, str]]:
    return [(a.src, a.dst, a.label) for a in d.arrows()]


def svg_texts(d: pictures.Diagram) -> set[str]:
    svg = draw.figure_bytes(draw.sequence_figure(d), "svg").decode()
    return {t.strip().replace("&#39;", "'").replace("&gt;", ">") for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}


def test_the_multicast_lesson_shows_the_igmp_join_the_datagram_and_the_leave() -> None:
    d = LESSONS["multicast"].diagram(FIXTURES)
    assert d.lanes == ["h1", "group 239.1.2.3", "b1", "224.0.0.22 (IGMPv3 routers)"]
    labels = [label for _, _, label in shown(d)]
    assert labels[0] == "IGMP join 239.1.2.3" and set(labels[2:]) == {"IGMP leave 239.1.2.3"}
    assert shown(d)[1][:2] == ("h1", "group 239.1.2.3") and "'before leaving'" in labels[1]
    assert {src for src, _, label in shown(d) if label.startswith("IGMP")} == {"b1"}, "b1 joins and leaves"
    assert {"IGMP join 239.1.2.3", "IGMP leave 239.1.2.3", "b1", "group 239.1.2.3"} <= svg_texts(d)


def test_the_nat_lesson_shows_the_rewrite_on_both_sides_of_the_router() -> None:
    d = LESSONS["nat"].diagram(FIXTURES)
    topo = topology.load(topologies.compose_file("nat"), {"LAB_PREFIX": LESSONS["nat"].prefix})
    h1, b1, (router,) = topo.host("h1").address, topo.host("b1").address, topo.nat_routers()
    assert d.lanes == ["h1", "router", "b1"]
    hello, out, welcome, back, push = shown(d)
    assert hello[:2] == ("h1", "b1") and hello[2].startswith(f"{h1}:40000 → {b1}:9300 ")
    port = int(out[2].split(" → ")[0].rsplit(":", 1)[1])
    assert out[:2] == ("router", "b1") and out[2].startswith(f"{router.nat}:{port} → {b1}:9300 "), \
        "lan_b side: the router's address and a port of its choosing"
    assert welcome[2].startswith(f"{b1}:9300 → {router.nat}:{port} ") and back[2].startswith(f"{b1}:9300 → {h1}:40000 ")
    assert "'push'" in push[2] and push[:2] == ("b1", "router"), "the late push stops at the router"
    assert {label for _, _, label in shown(d)} <= svg_texts(d)


def test_the_ipv6_lesson_shows_the_echo_between_ipv6_addresses() -> None:
    d = LESSONS["ipv6"].diagram(FIXTURES)
    topo = topology.load(topologies.compose_file("default"), {"LAB_PREFIX": LESSONS["ipv6"].prefix})
    b1, srv = topo.host("b1").address6, topo.host("srv").address6
    (ask, src, _), (reply, _, _) = shown(d)
    assert d.lanes == ["b1", "srv"] and (ask, src) == ("b1", "srv") and reply == "srv"
    (_, _, there), (_, _, back) = shown(d)
    assert there.startswith(f"[{b1}]:") and f"→ [{srv}]:9010 " in there and there.endswith("hop limit 64")
    assert back.startswith(f"[{srv}]:9010 → [{b1}]:") and back.endswith("hop limit 63"), "one router crossed"
    assert "'hello over IPv6'" in there and {there, back} <= svg_texts(d)
