"""Packet capture on lab hosts: tcpdump in the background, pcap files on the Docker host.

    with CaptureSet(lab, ["h1", "h2", "b1"], bpf="udp port 9000") as cap:
        ...                                  # the exchange to watch
    cap.packets["h2"]                        # decoded (lab.control.pcap.Packet)
    print(cap.ladder("h1"))                  # the flow diagram as h1 saw it

tcpdump records on every interface of the host (``-i any``: a Linux cooked capture that
Wireshark opens), writes each packet as it comes (``-U``), and is stopped with SIGINT so
that it flushes; --immediate-mode hands each packet over at once (otherwise packets wait in
libpcap's buffer blocks and the last ones are lost at stop). Capture starts only once
tcpdump says it is listening.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from lab.control import pcap
from lab.control.flows import ladder
from lab.control.lab import Lab
from lab.control.wait import wait_until
from lab.errors import LabError
from lab.harness.programs import STDERR, HostProgram


def address_names(lab: Lab) -> dict[str, str]:
    topo = lab.topology()
    names = {"255.255.255.255": "broadcast"}
    for lan in topo.lans.values():
        names[str(lan.broadcast)] = f"{lan.name}-bcast"
    for host in topo.hosts.values():
        for addr in host.addresses.values():
            names[str(addr)] = host.name
    return names


class Capture:
    def __init__(self, lab: Lab, host: str, bpf: str = "") -> None:
        self.lab, self.host, self.bpf = lab, host, bpf
        self.remote = f"/tmp/socklab-{uuid.uuid4().hex[:10]}.pcap"
        self.program: HostProgram | None = None
        self.data = b""

    def start(self, timeout: float = 10) -> Capture:
        argv = ["tcpdump", "-i", "any", "--immediate-mode", "-B", "16384", "-U", "-n", "-Z", "root", "-w", self.remote]
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
        if self.program is None:
            raise LabError("capture was not started")
        self.drained()
        self.program.signal("INT")
        self.program.wait_exit(10)
        stream, _ = self.lab.container(self.host).get_archive(self.remote)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            extracted = tar.extractfile(member) if member else None
            self.data = extracted.read() if extracted else b""
        self.lab.exec(self.host, ["rm", "-f", self.remote])
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

    def stop(self) -> None:
        names = address_names(self.lab)
        for host, cap in self.captures.items():
            if cap.program is None or self.packets.get(host) is not None:
                continue
            self.packets[host] = pcap.parse(cap.stop(), names)
            if self.folder is not None:
                self.files[host] = cap.save(self.folder / f"{host}.pcap")

    def ladder(self, host: str) -> str:
        return ladder(self.packets[host])
