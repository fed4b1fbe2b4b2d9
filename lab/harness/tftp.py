"""TFTP helpers for scenarios and tests: files on hosts and what a capture says."""

from __future__ import annotations

from collections import Counter

from lab.control.lab import Lab
from lab.wire.pcap import Packet

ROOT = "/srv/tftp"


def make_file(lab: Lab, host: str, path: str, size: int) -> str:
    """A file of random bytes; its SHA-256."""
    lab.exec(host, ["sh", "-c", f"mkdir -p $(dirname {path}) && head -c {size} /dev/urandom > {path}"], check=True)
    return sha256(lab, host, path)


def sha256(lab: Lab, host: str, path: str) -> str:
    return lab.exec(host, ["sha256sum", path], check=True).stdout.split()[0]


def data_blocks(packets: list[Packet], sender: str) -> Counter[int]:
    """How many times each DATA block number left ``sender`` (more than once: resent)."""
    sent: Counter[int] = Counter()
    for p in packets:
        parsed = p.tftp()
        if p.src_name == sender and parsed and parsed[0] == "DATA":
            sent[parsed[1]] += 1
    return sent
