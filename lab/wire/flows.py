"""A ladder diagram of an exchange, like Wireshark's flow graph, for the terminal.

    time       h1                      srv
    0.000000   |--TFTP RRQ f.txt octet->|
    0.000412   |<-TFTP DATA 1 (512 b)---|

One column per host (lab names instead of bare addresses), one row per packet.
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.wire.pcap import Packet, tftp_ports

WIDTH = 34  # characters between two neighbouring columns


def ladder(packets: Sequence[Packet], hosts: Sequence[str] | None = None) -> str:
    if not packets:
        return "(no packets)"
    order = list(hosts or [])
    for p in packets:
        for name in (p.src_name, p.dst_name):
            if name not in order:
                order.append(name)
    clients = tftp_ports(packets)
    col = {name: i * WIDTH for i, name in enumerate(order)}
    start = packets[0].time
    lines = [f"{'time':<10} " + "".join(f"{name:<{WIDTH}}" for name in order).rstrip()]
    for p in packets:
        label = p.label(tftp=p.touches(clients))
        a, b = col[p.src_name], col[p.dst_name]
        row = [" "] * (len(order) * WIDTH)
        for c in col.values():
            row[c] = "|"
        lo, hi = min(a, b), max(a, b)
        if lo == hi:  # to itself (broadcast heard by its sender, loopback)
            text = f"|<> {label}"
            row[lo:lo + len(text)] = list(text)
        else:
            body = f" {label} "[: hi - lo - 3]
            fill = hi - lo - 1 - len(body)
            arrow = ("-" * (fill // 2) + body + "-" * (fill - fill // 2))
            arrow = (arrow[:-1] + ">") if a < b else ("<" + arrow[1:])
            row[lo + 1:hi] = list(arrow)
        lines.append(f"{p.time - start:<10.6f} " + "".join(row).rstrip())
    return "\n".join(lines)
