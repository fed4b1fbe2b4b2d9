"""Send numbered datagrams 0..COUNT-1, paced, then END several times. Usage: count_sender.py HOST PORT COUNT"""
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(count):
    s.sendto(b"%d" % n, (host, port))
    time.sleep(0.0002)  # pacing: never more in flight than the receiver's buffer holds
for _ in range(30):
    s.sendto(b"END", (host, port))
    time.sleep(0.01)
