"""Receive numbered datagrams until END (or QUIET seconds of silence); print the sorted
numbers that arrived (JSON). Usage: count_receiver.py PORT QUIET
"""
import json
import socket
import sys

port, quiet = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", port))
s.settimeout(quiet)
print("listening", flush=True)
got = set()
try:
    while True:
        data, _ = s.recvfrom(100)
        if data == b"END":
            break
        got.add(int(data))
except TimeoutError:
    pass
print(json.dumps(sorted(got)))
