"""Echo load: SIZE random bytes on each of CONNS connections at once; per connection, the
SHA-256 of what was sent and of what came back, and how many bytes came back (JSON).

Usage: echo_load.py HOST PORT CONNS SIZE
"""
import hashlib
import json
import os
import socket
import sys
import threading

host, port, conns, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
results = [None] * conns
def one(i):
    data = os.urandom(size)
    with socket.create_connection((host, port), timeout=10) as s:
        def send():
            for off in range(0, size, 8192):
                s.sendall(data[off:off + 8192])
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        got = bytearray()
        while chunk := s.recv(65536):
            got += chunk
        t.join()
    results[i] = [hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest(), len(got)]
threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(results))
