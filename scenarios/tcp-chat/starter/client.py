"""One-to-one TCP chat client: python3 client.py HOST PORT

Connect to HOST:PORT. Then both sides talk at once: send each line typed on standard input
(UTF-8, one line per message, ending in a newline), and print each line the server sends.
`bye` ends the conversation: the side that types it sends it and closes; the side that
receives it (or sees the connection close) closes and exits.
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.create_connection((host, port), timeout=5) as sock:
    sock.settimeout(None)  # connected: from now on wait for the other side as long as it takes
    # TODO: send what is typed: a thread that reads sys.stdin and sends each line
    # (with its newline); after `bye`, shut down the sending side: sock.shutdown(socket.SHUT_WR)
    for line in sock.makefile("r", encoding="utf-8"):
        print(f"<< {line.rstrip()}", flush=True)
        # TODO: stop at the line `bye`
