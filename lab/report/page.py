"""One self-contained HTML page per run: what was said, every check with its evidence, the
programs' transcripts, the exchange as a sequence diagram, the transfer over time, the
topology, and links to the pcaps. No server and no network: pictures are embedded as data
URIs (and written beside the page too, to reuse), styles are inline.

``invoke scenario --report DIR``, ``invoke check --report DIR``, ``invoke flows --out
FILE.html``, a failed lab test's artifacts and the grading reports all write this page (the
harness turns its checks into ``Evidence``).
"""

from __future__ import annotations

import base64
import html
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.control.topology import Topology
from lab.errors import ToolMissingError
from lab.report import draw
from lab.wire import pictures
from lab.wire.pcap import Packet

MIME = {"svg": "image/svg+xml", "png": "image/png"}


@dataclass(frozen=True)
class Evidence:
    """A check as the page shows it (the harness's checks, a grader's)."""

    name: str
    ok: bool
    observed: str = ""
    expected: str = ""
    hint: str = ""
    transcripts: tuple[tuple[str, str], ...] = ()  # (program, its transcript)
    ladder: str = ""  # the exchange up to the failure


@dataclass(frozen=True)
class Figure:
    caption: str
    file: str  # written beside the page
    data: bytes

    @property
    def uri(self) -> str:
        return f"data:{MIME[self.file.rsplit('.', 1)[1]]};base64,{base64.b64encode(self.data).decode()}"


def figures(packets: Sequence[Packet], topo: Topology | None,
            hosts: Sequence[str] = ()) -> tuple[list[Figure], list[str]]:
    """The sequence diagram and (when data moved) the timeline of ``packets``; the topology.
    A picture whose tool is missing is left out, and why is the second part."""
    made: list[Figure] = []
    left_out: list[str] = []
    if packets:
        seq = pictures.diagram(packets, hosts)
        made.append(Figure(f"The exchange: {len(packets)} packets", "sequence.svg",
                           draw.figure_bytes(draw.sequence_figure(seq), "svg")))
        series = pictures.timeline(packets)
        if series:
            resent = sum(len(s.resent) for s in series)
            marked = f"{resent} retransmission{'' if resent == 1 else 's'} marked in red"
            made.append(Figure(f"Over time, each transfer and connection on its own ({marked})", "timeline.png",
                               draw.figure_bytes(draw.timeline_figure(series), "png")))
    if topo is not None:
        try:
            made.append(Figure("The lab", "topology.svg", draw.render_graph(draw.topology_graph(topo), "svg")))
        except ToolMissingError as exc:
            left_out.append(f"The lab is not drawn: {exc}")
    return made, left_out


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #111827; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
pre { background: #f3f4f6; padding: .6em; overflow-x: auto; font-size: .85em; }
.check { border-left: 4px solid; padding: .2em .8em; margin: .6em 0; }
.pass { border-color: #16a34a; } .fail { border-color: #dc2626; background: #fef2f2; }
.tag { font-weight: bold; font-family: monospace; } .pass .tag { color: #16a34a; } .fail .tag { color: #dc2626; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #e5e7eb; }
figcaption { color: #4b5563; font-size: .9em; }
"""

# Counts the images the browser could show: what the report's browser test reads back.
SCRIPT = """
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const shown = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = `${shown}/${imgs.length}`;
});
"""


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(body)}</pre></details>"


def _check(c: Evidence) -> str:
    out = [f'<div class="check {"pass" if c.ok else "fail"}"><span class="tag">{"PASS" if c.ok else "FAIL"}</span> '
           f"{html.escape(c.name)}"]
    if not c.ok:
        for label, said in (("expected", c.expected), ("observed", c.observed), ("hint", c.hint)):
            if said:
                out.append(f"<div><b>{label}:</b> {html.escape(said)}</div>")
        out += [_details(program, text) for program, text in c.transcripts]
        if c.ladder:
            out.append(_details("the wire up to the failure", c.ladder))
    return "".join(out) + "</div>"


def page(title: str, narration: Sequence[str], checks: Sequence[Evidence], shown: Sequence[Figure],
         pcaps: Sequence[str] = (), transcripts: Sequence[str] = (), left_out: Sequence[str] = ()) -> str:
    failed = sum(not c.ok for c in checks)
    summary = f"{len(checks) - failed} of {len(checks)} checks hold" if checks else "no checks"
    body = [f"<h1>{html.escape(title)}</h1><p>{summary}.</p>"]
    if checks:
        body.append("<h2>Checks</h2>" + "".join(_check(c) for c in checks))
    for fig in shown:
        caption = f'{html.escape(fig.caption)} (<a href="{fig.file}">{fig.file}</a>)'
        body.append(f'<figure><img src="{fig.uri}" alt="{html.escape(fig.caption)}">'
                    f"<figcaption>{caption}</figcaption></figure>")
    body += [f'<p class="missing">{html.escape(why, quote=False)}</p>' for why in left_out]
    if pcaps:
        body.append("<h2>Captures</h2><ul>" + "".join(f'<li><a href="{html.escape(p)}">{html.escape(p)}</a> '
                                                     "(Wireshark opens it)</li>" for p in pcaps) + "</ul>")
    if transcripts:
        body.append("<h2>Programs</h2>" + "".join(f"<pre>{html.escape(t)}</pre>" for t in transcripts))
    if narration:
        body.append(f"<h2>What happened</h2><pre>{html.escape(chr(10).join(narration))}</pre>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>{''.join(body)}</body></html>\n")


def write(folder: Path, title: str, narration: Sequence[str], checks: Sequence[Evidence],
          packets: Sequence[Packet] = (), topo: Topology | None = None, pcaps: Mapping[str, Path] | None = None,
          transcripts: Sequence[str] = (), index: str = "index.html",
          missing: Callable[[str], None] | None = None) -> Path:
    """``folder``/``index``, with its pictures and pcaps beside it. A picture a missing tool
    leaves out is said on the page, or told to ``missing`` (grading's: the grader machine's
    problem, not the student's)."""
    folder.mkdir(parents=True, exist_ok=True)
    shown, left_out = figures(packets, topo)
    if missing is not None:
        for why in left_out:
            missing(why)
        left_out = []
    for fig in shown:
        (folder / fig.file).write_bytes(fig.data)
    names = []
    for host, path in (pcaps or {}).items():
        name = f"{host}.pcap"
        if path.resolve() != (folder / name).resolve():
            shutil.copy(path, folder / name)
        names.append(name)
    out = folder / index
    out.write_text(page(title, narration, checks, shown, names, transcripts, left_out))
    return out

