# Hostile, and bounded: UDP datagrams of 512 bytes as fast as one process sends them, to its
# LAN's broadcast and to each address given, until a stop file appears, at most SECONDS, at
# most PACKETS. Says "flooding" when it begins and "sent N" at its end.
#   python3 udp_flood.py PORT SECONDS PACKETS STOPFILE [ADDRESS ...]
import os
import socket
import sys
import time

port, seconds, packets, stop = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
targets = [("<broadcast>", port)] + [(address, port) for address in sys.argv[5:]]
sent = 0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    print("flooding", flush=True)
    end = time.monotonic() + seconds
    while sent < packets and not (sent % 1000 == 0 and (time.monotonic() > end or os.path.exists(stop))):
        try:
            flood.sendto(b"x" * 512, targets[sent % len(targets)])
        except OSError:  # no route (another lab's address), a full buffer: on to the next
            pass
        sent += 1
print(f"sent {sent}", flush=True)
