"""Pictures: the topology (Graphviz), the exchange as a sequence diagram and the transfer over
time (matplotlib). What they show comes from ``lab.wire.pictures`` and the topology model;
this module only draws. SVG keeps its text as text (searchable, and what the tests read).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import graphviz
import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from lab.control.topology import Topology  # noqa: E402
from lab.errors import PictureError  # noqa: E402
from lab.report.tools import DOT  # noqa: E402
from lab.wire.pictures import Arrow, Diagram, Series  # noqa: E402

matplotlib.rcParams["svg.fonttype"] = "none"  # <text> elements, not glyph outlines
matplotlib.rcParams["svg.hashsalt"] = "socklab"  # the same picture gives the same file
FORMATS = (".svg", ".png")
# Payload previews may be Chinese (the lessons' 你好): SVG keeps them as text for the browser's
# fonts; only matplotlib's own measuring font lacks them, which it would warn about per glyph.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)


def _format(out: Path) -> str:
    if out.suffix not in FORMATS:
        raise PictureError(f"{out}: a picture is written as {' or '.join(FORMATS)}, not `{out.suffix or '(none)'}`")
    return out.suffix[1:]


# --- the topology ---------------------------------------------------------------------
def topology_graph(topo: Topology) -> graphviz.Graph:
    """LANs (with their subnets) as ellipses, hosts as boxes (name, role, address), routers
    as double octagons joined to each LAN with their address there. Left to right in hops
    from the first LAN: its hosts, the LAN, a router, the next LAN, its hosts."""
    g = graphviz.Graph("lab", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "bgcolor": "white"},
                       node_attr={"fontname": "Helvetica", "fontsize": "11"},
                       edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#555555"})
    first = next(iter(topo.lans))
    routes = topo.routes(next(h.name for h in topo.hosts.values() if first in h.lans))
    hops = {lan: routes[lan].hops if lan in routes else 0 for lan in topo.lans}  # from the first LAN
    for lan in topo.lans.values():
        subnets = f"{lan.subnet}" + (f"\n{lan.subnet6}" if lan.subnet6 else "")
        g.node(f"net_{lan.name}", f"{lan.name}\n{subnets}", shape="ellipse", style="filled", fillcolor="#dbeafe")
    for host in topo.hosts.values():
        if host.role == "router":
            g.node(host.name, host.name if host.name == "router" else f"{host.name}\nrouter", shape="doubleoctagon",
                   style="filled", fillcolor="#fde68a")
            for joined, addr in sorted(host.addresses.items(), key=lambda item: hops[item[0]]):
                ends = (f"net_{joined}", host.name) if hops[joined] == min(hops[j] for j in host.lans) \
                    else (host.name, f"net_{joined}")
                suffix6 = f" ::{str(host.addresses6[joined]).rsplit(':', 1)[1]}" if joined in host.addresses6 else ""
                g.edge(*ends, label=f".{str(addr).rsplit('.', 1)[1]}{suffix6}")
        else:
            color = "#bbf7d0" if host.role == "server" else "#f3f4f6"
            shown = f"{host.address}" + (f"\n{host.address6}" if host.address6 else "")
            g.node(host.name, f"{host.name}\n{host.role}\n{shown}", shape="box", style="rounded,filled",
                   fillcolor=color)
            net = f"net_{host.lans[0]}"
            g.edge(*((host.name, net) if host.lans[0] == first else (net, host.name)))
    return g


def render_graph(g: graphviz.Graph, fmt: str) -> bytes:
    DOT.find()  # a missing `dot` is named, with how to install it
    return g.pipe(format=fmt)


def write_topology(topo: Topology, out: Path) -> Path:
    out.write_bytes(render_graph(topology_graph(topo), _format(out)))
    return out


# --- the exchange ---------------------------------------------------------------------
LANE = 3.4  # inches between lanes, at least
ROW = 0.32  # inches per row
CHAR = 0.06  # inches a label's character takes, about (7 pt)


def lane_width(d: Diagram) -> float:
    """LANE, or wider when a label (address pairs, IPv6) would not fit over its arrow."""
    x = {name: i for i, name in enumerate(d.lanes)}
    needed = [(CHAR * len(a.label) + 0.3) / abs(x[a.src] - x[a.dst]) for a in d.arrows() if a.src != a.dst]
    return max([LANE, *needed])


def sequence_figure(d: Diagram) -> plt.Figure:
    """One lane per host, one arrow per packet, time down the left side."""
    width = max(4.0, 1.6 + lane_width(d) * max(len(d.lanes) - 1, 1))
    height = 0.9 + ROW * (len(d.rows) + 1)
    fig, ax = plt.subplots(figsize=(width, height))
    x = {name: i for i, name in enumerate(d.lanes)}
    n = len(d.rows)
    ax.set_xlim(-0.75, max(len(d.lanes) - 1, 1) + 0.4)
    ax.set_ylim(n + 0.2, -1.2)
    ax.axis("off")
    for name, i in x.items():
        ax.plot([i, i], [-0.5, n], color="#9ca3af", lw=1, zorder=1)
        ax.text(i, -0.8, name, ha="center", va="bottom", fontsize=10, fontweight="bold", gid=f"lane-{name}")
    for row, item in enumerate(d.rows):
        if not isinstance(item, Arrow):
            ax.text((len(d.lanes) - 1) / 2, row, f"… {item.count} packets not shown …", ha="center", va="center",
                    fontsize=8, style="italic", color="#6b7280", gid="elided")
            continue
        ax.text(-0.7, row, f"{item.time:.6f}", ha="left", va="center", fontsize=7, color="#6b7280",
                family="monospace")
        a, b = x[item.src], x[item.dst]
        if a == b:  # to itself: a broadcast its sender heard, loopback
            ax.plot([a], [row], marker="o", color="#2563eb", zorder=2)
            ax.text(a + 0.05, row, item.label, ha="left", va="center", fontsize=7, gid="arrow")
            continue
        ax.annotate("", xy=(b, row), xytext=(a, row), zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": "#2563eb", "lw": 1})
        ax.text((a + b) / 2, row - 0.12, item.label, ha="center", va="bottom", fontsize=7, gid="arrow")
    fig.tight_layout(pad=0.2)
    return fig


# matplotlib's own colours less its red (the fourth): red marks what was sent again
SERIES_COLORS = [c for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] if c != "#d62728"]


def timeline_figure(series: list[Series]) -> plt.Figure:
    """Block or byte number over time per direction of each transfer or connection; retransmissions
    as red crosses."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.set_prop_cycle(color=SERIES_COLORS)
    for s in series:
        fresh = [p for p in s.points if not p.resent]
        ax.plot([p.time for p in fresh], [p.number for p in fresh], ".", ms=3, label=s.name)
        if s.resent:
            ax.plot([p.time for p in s.resent], [p.number for p in s.resent], "x", color="#dc2626", ms=6,
                    label=f"{s.name}: resent ({len(s.resent)})")
    units = {s.unit for s in series}
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # no block 2.5, no byte 0.25
    ax.set_xlabel("seconds since the first packet")
    ax.set_ylabel("TFTP block" if units == {"block"} else "TCP byte (relative)" if units == {"byte"} else "number")
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no TFTP or TCP data in this capture", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def figure_bytes(fig: plt.Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return buf.getvalue()


def write_figure(fig: plt.Figure, out: Path) -> Path:
    out.write_bytes(figure_bytes(fig, _format(out)))
    return out
