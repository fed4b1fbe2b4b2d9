# Sends `exit` like any other line and never stops reading: the tutorial's loop without its end.
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2.0)
    while True:
        line = sys.stdin.readline().rstrip("\n")
        if line:
            sock.sendto(line.encode("utf-8"), (host, port))
            print(sock.recvfrom(65535)[0].decode("utf-8", errors="replace"), flush=True)
        else:
            time.sleep(0.1)  # the student's busy wait on an exhausted stdin
