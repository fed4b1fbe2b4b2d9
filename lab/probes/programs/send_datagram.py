"""Send the bytes given on stdin (hex) as one UDP datagram; print the replies that came back
within WAIT seconds (JSON). Usage: send_datagram.py HOST PORT WAIT
"""
import json
import socket
import sys

host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
payload = bytes.fromhex(sys.stdin.read().strip())
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(wait)
    s.sendto(payload, (host, port))
    replies = []
    try:
        while True:
            data, peer = s.recvfrom(65535)
            replies.append(data.hex())
            s.settimeout(0.2)  # anything else that belongs to this answer comes right after
    except (TimeoutError, ConnectionRefusedError):
        pass
print(json.dumps({"sent": len(payload), "replies": replies}))
