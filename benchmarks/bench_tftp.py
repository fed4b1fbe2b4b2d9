"""TFTP throughput: our client and server against tftp-hpa's, over the same link, one run.

    python benchmarks/bench_tftp.py [--size-mb 50] [--rounds 3]
    python benchmarks/bench_tftp.py --loss 0,5,20 [--size-mb 10] [--rounds 3] [--limit 60]

A file on srv is fetched by b1 (across the router) with: the tftp-hpa client from tftpd-hpa
(the baseline); our client from our server at blksize 512 / window 1 (with and without
busy-polling), at blksize 1468, and at blksize 1468 with windowsize 16; the tftp-hpa client
from our server; and our client from atftpd with windowsize 16. Each file is checked by
SHA-256.

The transfer is timed on the wire, by a capture on b1 of what the client sends: from its
request to its final ACK (the kernel's filter passes only those, so the capture costs the
transfer nothing). That is the same clock for every pair, whatever the program does
before or after (process start; our client's dally of one timeout after the final ACK, which
tftp-hpa's client skips). The wall-clock time of the whole command is printed beside it,
and the peak memory of our server, which reads files through a 1 MiB window.

With --loss, b1 drops that share of what it receives, at random (DATA, for a get), and four
pairs fetch the file at each rate: the tftp-hpa pair, the atftp pair (window 16), ours
lock-step and ours 1468/16. Each transfer has --limit seconds; the table shows goodput over
the completed ones, how many completed, and the DATA packets srv put on the wire per block
delivered (an iptables counter on srv: exact, and free for the transfer).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control import impair  # noqa: E402
from lab.control.capture import Capture  # noqa: E402
from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.control.programs import HostProgram  # noqa: E402
from lab.probes.tftp import make_file, sha256  # noqa: E402
from lab.wire import pcap  # noqa: E402

DIR = "/srv/bench"
SERVERS = {
    "tftpd-hpa": ["in.tftpd", "-L", "-s", DIR],
    "ours": ["lab", "tftp-server", "--root", DIR],
    "atftpd": ["atftpd", "--daemon", "--no-fork", "--user", "root.root", "--logfile", "/dev/null", DIR],
}
OURS = "lab tftp get srv bench.bin /tmp/bench.bin"
RUNS = [  # (label, server, client command, blksize)
    ("tftp-hpa <- tftpd-hpa (baseline)", "tftpd-hpa", "tftp -m binary srv -c get bench.bin /tmp/bench.bin", 512),
    ("ours <- ours, 512/1", "ours", OURS, 512),
    ("ours <- ours, 512/1, --busy-poll 0", "ours", f"{OURS} --busy-poll 0", 512),
    ("tftp-hpa <- ours, 512/1", "ours", "tftp -m binary srv -c get bench.bin /tmp/bench.bin", 512),
    ("ours <- ours, blksize 1468", "ours", f"{OURS} --blksize 1468", 1468),
    ("ours <- ours, 1468 + window 16", "ours", f"{OURS} --blksize 1468 --windowsize 16", 1468),
    ("ours <- atftpd, 1468 + window 16", "atftpd", f"{OURS} --blksize 1468 --windowsize 16", 1468),
]


def final_block(size: int, blksize: int) -> int:
    return (size // blksize + 1) & 0xFFFF  # as on the wire: 16 bits


def bpf(client: str, size: int, blksize: int) -> str:
    """Only the request and the final ACK (its 16-bit number, which may recur after a
    rollover): the kernel filters, so tcpdump wakes for a few packets, not for every ACK,
    and does not take CPU from the transfer it times."""
    opcode, block = "udp[8:2]", "udp[10:2]"
    return f"udp and src host {client} and ({opcode} = 1 or ({opcode} = 4 and {block} = {final_block(size, blksize)}))"


def wire_seconds(packets: list[pcap.Packet], size: int, blksize: int) -> float:
    """From the client's request to its ACK of the final block, as captured on the client."""
    final = final_block(size, blksize)
    sent = [(p.time, p.tftp()) for p in packets if p.tftp()]
    if not sent or sent[0][1] is None or sent[0][1][0] != "RRQ":
        raise SystemExit("the capture does not start with the request")
    last_ack = max((t for t, parsed in sent if parsed == ("ACK", final, 0)), default=None)
    if last_ack is None:
        raise SystemExit(f"the capture lost the final ACK {final}: the timing would be wrong")
    return last_ack - sent[0][0]


def server_peak_kib(lab: Lab) -> int:
    """VmHWM (peak resident memory) of our server on srv, in KiB. The bracket keeps the
    pattern from matching the command line of the shell that searches."""
    script = "for f in $(grep -l 'tftp[-]server' /proc/[0-9]*/cmdline); do grep VmHWM ${f%/cmdline}/status; done"
    lines = lab.exec("srv", ["sh", "-c", script]).stdout.split()
    return max((int(v) for v in lines if v.isdigit()), default=0)


LOSSY = [  # (label, server, client command, blksize)
    ("tftp-hpa <- tftpd-hpa", "tftpd-hpa", "tftp -m binary srv -c get bench.bin /tmp/bench.bin", 512),
    ("atftp <- atftpd, 1468/16", "atftpd",
     "atftp --option 'blksize 1468' --option 'windowsize 16' -g -r bench.bin -l /tmp/bench.bin srv", 1468),
    ("ours <- ours, lock-step 512", "ours", OURS, 512),
    ("ours <- ours, 1468/16", "ours", f"{OURS} --blksize 1468 --windowsize 16", 1468),
]
COUNT = "SOCKLAB-BENCH"  # an iptables chain on srv that counts the UDP packets it sends to b1


def sent_to_client(lab: Lab, zero: bool = False) -> int:
    """UDP packets srv has put on the wire to b1 since the last zero."""
    out = lab.exec("srv", ["iptables", "-L", COUNT, "-v", "-x", "-n", *(["-Z"] if zero else [])], check=True).stdout
    return sum(int(line.split()[0]) for line in out.splitlines() if line.split()[:1] and line.split()[0].isdigit())


def loss_matrix(lab: Lab, args: argparse.Namespace, client: str) -> int:
    size = args.size_mb * 1024 * 1024
    original = make_file(lab, "srv", f"{DIR}/bench.bin", size)
    lab.exec("srv", ["sh", "-c", f"iptables -N {COUNT} 2>/dev/null; iptables -F {COUNT}; "
                     f"iptables -A {COUNT} -p udp -d {client}; "
                     f"iptables -C OUTPUT -j {COUNT} 2>/dev/null || iptables -I OUTPUT -j {COUNT}"], check=True)
    rates = [float(r) for r in args.loss.split(",")]
    rows: dict[tuple[float, str], dict[str, list[float]]] = {
        (rate, label): {"mbps": [], "per_block": [], "done": []} for rate in rates for label, *_ in LOSSY}
    try:
        for _ in range(args.rounds):
            for rate in rates:
                if rate:
                    impair.apply(lab, "b1", impair.Impairment(loss=rate, direction="ingress"))
                try:
                    for label, server_name, command, blksize in LOSSY:
                        row = rows[(rate, label)]
                        server = HostProgram(lab, "srv", SERVERS[server_name]).start()
                        try:
                            server.wait_listening(69)
                            lab.exec("b1", ["rm", "-f", "/tmp/bench.bin"])
                            sent_to_client(lab, zero=True)
                            capture = Capture(lab, "b1", bpf(client, size, blksize)).start()
                            try:
                                code = lab.exec("b1", ["timeout", str(args.limit), "sh", "-c", command]).exit_code
                            finally:
                                packets = pcap.parse(capture.stop())
                            ok = code == 0 and sha256(lab, "b1", "/tmp/bench.bin") == original
                            row["done"].append(1.0 if ok else 0.0)
                            if ok:
                                blocks = size // blksize + 1
                                row["mbps"].append(size / wire_seconds(packets, size, blksize) / 1e6)
                                row["per_block"].append(sent_to_client(lab) / blocks)
                            if args.verbose:
                                print(f"{rate:g}% {label}: {'done' if ok else f'not done (exit {code})'}",
                                      file=sys.stderr)
                        finally:
                            server.stop()
                finally:
                    impair.clear(lab, "b1")
    finally:
        lab.exec("srv", ["sh", "-c", f"iptables -D OUTPUT -j {COUNT}; iptables -F {COUNT}; iptables -X {COUNT}"])
    print(f"TFTP get of {args.size_mb} MiB, srv -> b1 across the router, b1 losing a share of what it receives; "
          f"{args.rounds} rounds, {args.limit:g} s each")
    print(f"{'loss':>5}  {'transfer':<28}{'MB/s':>8}{'vs tftp-hpa':>13}{'DATA/block':>12}{'done':>7}")
    for rate in rates:
        base = rows[(rate, LOSSY[0][0])]["mbps"]
        for label, *_ in LOSSY:
            row = rows[(rate, label)]
            mbps = statistics.median(row["mbps"]) if row["mbps"] else None
            ratio = f"{mbps / statistics.median(base):.2f}x" if mbps and base else "-"
            per_block = f"{statistics.median(row['per_block']):.3f}" if row["per_block"] else "-"
            shown, done = (f"{mbps:.2f}" if mbps else "-"), f"{sum(row['done']):g}/{len(row['done'])}"
            print(f"{rate:>4g}%  {label:<28}{shown:>8}{ratio:>13}{per_block:>12}{done:>7}")
    print("MB/s: median over completed transfers, on the wire (request to final ACK); DATA/block: packets srv sent")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mb", type=int, default=None, help="file size (default 50, with --loss 10)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--loss", default="", metavar="PCTS", help="loss rates to compare at, e.g. 0,5,20")
    p.add_argument("--limit", type=float, default=60, metavar="S", help="with --loss: seconds per transfer")
    p.add_argument("--verbose", action="store_true", help="each transfer as it ends, with the client's summary")
    args = p.parse_args()
    args.size_mb = args.size_mb or (10 if args.loss else 50)
    lab = Lab(Engine.connect())
    lab.up()
    if args.loss:
        return loss_matrix(lab, args, str(lab.topology().host("b1").address))
    client = str(lab.topology().host("b1").address)
    size = args.size_mb * 1024 * 1024
    original = make_file(lab, "srv", f"{DIR}/bench.bin", size)
    wire: dict[str, list[float]] = {label: [] for label, *_ in RUNS}
    wall: dict[str, list[float]] = {label: [] for label, *_ in RUNS}
    peak_kib = 0
    for _ in range(args.rounds):  # rounds interleaved, so a slow minute of the machine hits every pair
        for label, server_name, command, blksize in RUNS:
            server = HostProgram(lab, "srv", SERVERS[server_name]).start()
            try:
                server.wait_listening(69)
                lab.exec("b1", ["rm", "-f", "/tmp/bench.bin"])
                capture = Capture(lab, "b1", bpf(client, size, blksize)).start()
                start = time.perf_counter()
                try:
                    result = lab.exec("b1", ["sh", "-c", command], check=True)
                finally:
                    wall[label].append(size / (time.perf_counter() - start) / 1e6)
                    packets = pcap.parse(capture.stop())
                wire[label].append(size / wire_seconds(packets, size, blksize) / 1e6)
                if args.verbose:
                    print(f"{label}: {wire[label][-1]:.2f} MB/s; {result.stdout.strip()[-120:]}", file=sys.stderr)
                if sha256(lab, "b1", "/tmp/bench.bin") != original:
                    raise SystemExit(f"{label}: the file differs")
                if server_name == "ours":
                    peak_kib = max(peak_kib, server_peak_kib(lab))
            finally:
                server.stop()
    median = {label: statistics.median(rates) for label, rates in wire.items()}
    base = median[RUNS[0][0]]
    print(f"TFTP get of {args.size_mb} MiB, srv -> b1 across the router, median of {args.rounds}; every file checked")
    print(f"{'transfer':<38}{'MB/s':>8}{'vs tftp-hpa':>13}{'wall MB/s':>11}   rounds (MB/s)")
    for label, rate in median.items():
        rounds = " ".join(f"{r:.1f}" for r in wire[label])
        print(f"{label:<38}{rate:>8.2f}{rate / base:>12.2f}x{statistics.median(wall[label]):>11.2f}   {rounds}")
    print("MB/s: on the wire, request to final ACK; wall: the whole command (process start, our client's dally)")
    print(f"our server's peak memory (VmHWM) serving the {args.size_mb} MiB file: {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
