"""Group-chat fan-out: our chat-server against the tutorial's thread-per-client relay.

    python benchmarks/bench_chat.py [--rounds R]

For 10, 50 and 200 clients (spread over h1, h2 and b1; the server on srv), two loads, each
run against both servers in the same run:
- throughput: every client sends as fast as the server takes it (about 1,000,000 deliveries
  in all); reports messages in per second and deliveries out per second;
- latency: clients send at a fixed rate making 10,000 deliveries per second; reports the
  p50 and p99 time from send to delivery (lab hosts share one clock).
The naive relay is the tutorial's design (a thread per client, sendall to every other
socket under a lock), given line framing so that the same load tool can score it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.control.programs import HostProgram  # noqa: E402

NAIVE = r"""
import socket, threading
clients, lock = [], threading.Lock()
def handle(conn):
    buf, name = b"", None
    try:
        while data := conn.recv(65536):
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if name is None:
                    name = line
                    conn.sendall(b"* welcome " + name + b"\n")
                    with lock: clients.append(conn)
                    continue
                if line == b"bye":
                    raise ConnectionResetError
                msg = name + b": " + line + b"\n"
                with lock: targets = list(clients)
                for other in targets:
                    if other is not conn:
                        try: other.sendall(msg)
                        except OSError: pass
    except OSError:
        pass
    finally:
        with lock:
            if conn in clients: clients.remove(conn)
        conn.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 9501)); s.listen(512)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"""
SERVERS = {"naive": (9501, ["python3", "-c", NAIVE]),
           "ours": (9500, ["lab", "chat-server", "--port", "9500", "--max-buffer", str(64 << 20)])}
HOSTS = ("h1", "h2", "b1")


def split(n: int) -> list[int]:
    return [n // len(HOSTS) + (1 if i < n % len(HOSTS) else 0) for i in range(len(HOSTS))]


def run_load(lab: Lab, port: int, clients: int, messages: int, rate: float) -> dict[str, Any]:
    loads = []
    for host, count in zip(HOSTS, split(clients), strict=True):
        argv = ["lab", "chat-load", "srv", str(port), "--clients", str(count), "--name", host, "--messages",
                str(messages), "--expect", str(clients), "--wait-go", "--json", "--timeout", "300"]
        if rate:
            argv += ["--rate", f"{rate:.4f}"]
        loads.append(HostProgram(lab, host, argv).start())
    try:
        for p in loads:
            p.wait_event("ready", timeout=60)
        for p in loads:
            p.send_line("go")
        sums = [p.wait_event("summary", timeout=300)[0] for p in loads]
    finally:
        for p in loads:
            p.stop()
    seconds = max(s["seconds"] for s in sums)
    received = sum(s["received"] for s in sums)
    return {"ok": all(s["received"] == s["expected"] for s in sums),
            "in_per_s": clients * messages / seconds, "out_per_s": received / seconds,
            "p50": statistics.median(s["p50_ms"] for s in sums), "p99": max(s["p99_ms"] for s in sums)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--clients", type=int, nargs="*", default=[10, 50, 200])
    args = p.parse_args()
    lab = Lab(Engine.connect())
    lab.up()
    servers = {name: HostProgram(lab, "srv", argv).start() for name, (_, argv) in SERVERS.items()}
    try:
        for name, (port, _) in SERVERS.items():
            servers[name].wait_listening(port, "tcp")
        print("group-chat fan-out; server on srv, clients on h1, h2, b1; 2 cores shared by everything")
        print(f"{'clients':>7} {'server':>6} {'msgs in/s':>10} {'deliveries/s':>13} {'vs naive':>9}   "
              f"{'p50 ms':>7} {'p99 ms':>7}  (at 10k deliveries/s)")
        for n in args.clients:
            flood_messages = max(5, 1_000_000 // (n * (n - 1)))
            rate = 10_000 / (n * (n - 1))
            paced_messages = max(10, int(rate * 5))
            results: dict[str, dict[str, Any]] = {}
            for name, (port, _) in SERVERS.items():
                runs = [run_load(lab, port, n, flood_messages, 0) for _ in range(args.rounds)]
                best = max(runs, key=lambda r: r["out_per_s"])
                paced = run_load(lab, port, n, paced_messages, rate)
                results[name] = {**best, "p50": paced["p50"], "p99": paced["p99"],
                                 "ok": best["ok"] and paced["ok"]}
            for name, r in results.items():
                ratio = r["out_per_s"] / results["naive"]["out_per_s"]
                flag = "" if r["ok"] else "  (incomplete!)"
                print(f"{n:>7} {name:>6} {r['in_per_s']:>10.0f} {r['out_per_s']:>13.0f} {ratio:>8.2f}x   "
                      f"{r['p50']:>7.2f} {r['p99']:>7.2f}{flag}")
    finally:
        for program in servers.values():
            program.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
