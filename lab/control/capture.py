"""Packet capture on lab hosts: tcpdump in the background, pcap files on the Docker host.

    with CaptureSet(lab, ["h1", "h2", "b1"], bpf="udp port 9000") as cap:
        ...                                  # the exchange to watch
    cap.packets["h2"]                        # decoded (lab.wire.pcap.Packet)
    print(cap.ladder("h1"))                  # the flow diagram as h1 saw it

tcpdump records on every interface of the host (``-i any``: a Linux cooked capture that
Wireshark opens), writes each packet as it comes (``-U``), and is stopped with SIGINT so
that it flushes; --immediate-mode hands each packet over at once (otherwise packets wait in
libpcap's buffer blocks and the last ones are lost at stop). Capture starts only once
tcpdump says it is listening.

In immediate mode the kernel's ring holds fixed-size slots as large as the snapshot length:
with tcpdump's default of 256 KiB, 16 MiB of buffer is 64 packets, and a fast transfer
overflowed it (half of a 1468-byte TFTP download was dropped). So packets are cut at
``SNAPLEN`` bytes (a full Ethernet frame fits; a TCP segment the kernel has not yet cut
for the wire may not, and lab.wire.pcap takes lengths from the IP header, not from what
was kept). tcpdump's count of packets the kernel dropped is kept in ``dropped``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from lab.control.lab import Lab
from lab.control.programs import STDERR, HostProgram
from lab.control.wait import wait_until
from lab.errors import CaptureError, CaptureIncompleteError, WaitTimeoutError
from lab.wire import pcap
from lab.wire.flows import ladder

SNAPLEN = 2048  # bytes kept of each packet: a 1500-byte frame and its headers
BUFFER_KIB = 16384  # the kernel's ring for the capture: about 8,000 packets at SNAPLEN


class Capture:
    def __init__(self, lab: Lab, host: str, bpf: str = "") -> None:
        self.lab, self.host, self.bpf = lab, host, bpf
        # Root's own folder (the entrypoint makes it): not on /tmp, a tmpfs that a student's
        # program may fill and that `docker cp` (get_archive) cannot read from.
        self.remote = f"/run/socklab/capture-{uuid.uuid4().hex[:10]}.pcap"
        self.program: HostProgram | None = None
        self.data = b""
        self.dropped = 0  # packets the kernel dropped because tcpdump fell behind
        self.complete = True  # False: stopped while the file still grew (the last packets may be missing)

    def start(self, timeout: float = 10) -> Capture:
        argv = ["tcpdump", "-i", "any", "--immediate-mode", "-B", str(BUFFER_KIB), "-s", str(SNAPLEN), "-U", "-n",
                "-Z", "root", "-w", self.remote]
        if self.bpf:
            argv.append(self.bpf)
        self.program = HostProgram(self.lab, self.host, argv).start()
        self.program.wait_line("listening on", timeout=timeout, stream=STDERR)
        return self

    def drained(self, timeout: float = 5) -> None:
        """Wait until the pcap file stops growing: tcpdump has written all it has seen."""
        sizes: list[str] = []

        def stable() -> bool:
            sizes.append(self.lab.exec(self.host, ["stat", "-c", "%s", self.remote]).stdout.strip())
            return len(sizes) >= 3 and sizes[-1] == sizes[-2] == sizes[-3]

        wait_until(stable, timeout, f"the capture on {self.host} to drain", interval=0.1)

    def stop(self) -> bytes:
        """End tcpdump and fetch everything it wrote. A host too busy for the file to settle, or
        a tcpdump that ignores SIGINT, still gives what was written (``complete`` says so)."""
        if self.program is None:
            raise CaptureError("capture was not started")
        try:
            self.drained()
        except WaitTimeoutError:
            self.complete = False  # still growing: traffic goes on; take what is there at the end
        self.program.signal("INT")
        try:
            self.program.wait_exit(10)
        except WaitTimeoutError:
            self.program.stop()
            self.complete = False
        found = re.search(r"(\d+) packets? dropped by kernel", self.program.stderr)
        self.dropped = int(found.group(1)) if found else 0
        # A copy cannot grow while Docker archives it (a growing file fails the archive).
        self.lab.exec(self.host, ["cp", self.remote, f"{self.remote}.done"], check=True)
        self.data = self.lab.on_host(self.host, lambda c: self.lab.engine.read_file(c, f"{self.remote}.done"))
        self.lab.exec(self.host, ["rm", "-f", self.remote, f"{self.remote}.done"])
        return self.data

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)
        return path


class CaptureSet:
    def __init__(self, lab: Lab, hosts: Sequence[str], bpf: str = "", folder: Path | None = None) -> None:
        for host in hosts:
            lab.topology().host(host)  # a clear error for a name that is not a lab host
        self.lab = lab
        self.captures = {h: Capture(lab, h, bpf) for h in hosts}
        self.folder = folder
        self.packets: dict[str, list[pcap.Packet]] = {}
        self.files: dict[str, Path] = {}
        self.dropped: dict[str, int] = {}

    def __enter__(self) -> CaptureSet:
        started = []
        try:
            for cap in self.captures.values():
                started.append(cap.start())
        except BaseException:
            for cap in started:
                cap.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        lost = {host: n for host, n in self.dropped.items() if n}
        if lost and exc_type is None:
            raise CaptureIncompleteError(lost)

    def stop(self) -> None:
        names = self.lab.topology().address_names()
        for host, cap in self.captures.items():
            if cap.program is None or self.packets.get(host) is not None:
                continue
            self.packets[host] = pcap.parse(cap.stop(), names)
            self.dropped[host] = cap.dropped
            if self.folder is not None:
                self.files[host] = cap.save(self.folder / f"{host}.pcap")

    def ladder(self, host: str) -> str:
        return ladder(self.packets[host])
