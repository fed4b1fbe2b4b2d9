"""TFTP helpers for scenarios and tests: files on hosts and what a capture says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lab.control.lab import Lab
from lab.wire.pcap import Packet

ROOT = "/srv/tftp"


def make_file(lab: Lab, host: str, path: str, size: int) -> str:
    """A file of random bytes; its SHA-256."""
    lab.exec(host, ["sh", "-c", f"mkdir -p $(dirname {path}) && head -c {size} /dev/urandom > {path}"], check=True)
    return sha256(lab, host, path)


def sha256(lab: Lab, host: str, path: str) -> str:
    return lab.exec(host, ["sha256sum", path], check=True, prints=True).stdout.split()[0]


def sha256s(lab: Lab, host: str, paths: list[str]) -> dict[str, str]:
    """Each file's SHA-256, in one exec: path -> digest."""
    out = lab.exec(host, ["sha256sum", *paths], check=True, prints=True).stdout
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in out.splitlines())}


def data_blocks(packets: list[Packet], sender: str) -> Counter[int]:
    """How many times each DATA block number left ``sender`` (more than once: resent)."""
    sent: Counter[int] = Counter()
    for p in packets:
        parsed = p.tftp()
        if p.src_name == sender and parsed and parsed[0] == "DATA":
            sent[parsed[1]] += 1
    return sent


DROP_CHAIN = "SOCKLAB-DROP-ONE"
FULL_DATA = 20 + 8 + 4 + 512  # bytes of a DATA of a whole block, IP and UDP headers included


@contextmanager
def one_data_dropped(lab: Lab, host: str, source: str, block: int) -> Iterator[Callable[[], int]]:
    """The first DATA ``block`` (a whole one: 512 bytes) from ``source`` that arrives at ``host``
    is dropped there, and no other packet: u32 reads the TFTP opcode and block number after the
    UDP header, and a byte quota that one such packet uses up (``-m quota``: it matches while
    its bytes last) stops the rule after the first. A capture on ``host`` still shows that DATA
    (tcpdump sees it before the firewall); the program never does. Yields: how many packets
    the rule has dropped so far."""
    word = (3 << 16) | block  # opcode 3 (DATA), then the block number
    rule = ["-p", "udp", "-s", source, "-m", "u32", "--u32", f"0>>22&0x3C@8=0x{word:08x}",
            "-m", "quota", "--quota", str(FULL_DATA * 3 // 2), "-j", "DROP"]
    _uninstall(lab, host)
    for step in (["-N", DROP_CHAIN], ["-A", DROP_CHAIN, *rule], ["-I", "INPUT", "1", "-j", DROP_CHAIN]):
        lab.exec(host, ["iptables", "-w", *step], check=True)

    def dropped() -> int:
        rows = lab.exec(host, ["iptables", "-w", "-L", DROP_CHAIN, "-v", "-x", "-n"], check=True).stdout.splitlines()
        return sum(int(row.split()[0]) for row in rows if row.split()[2:3] == ["DROP"])

    try:
        yield dropped
    finally:
        _uninstall(lab, host)


def _uninstall(lab: Lab, host: str) -> None:
    script = (f"while iptables -w -D INPUT -j {DROP_CHAIN} 2>/dev/null; do :; done; "
              f"iptables -w -F {DROP_CHAIN} 2>/dev/null; iptables -w -X {DROP_CHAIN} 2>/dev/null; true")
    lab.exec(host, ["sh", "-c", script])
