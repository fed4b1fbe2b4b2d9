"""Group chat client: python3 client.py HOST PORT NAME

Connect to HOST:PORT. Send each line typed on standard input as `NAME说:line` (UTF-8,
ending in a newline); print every line that arrives. `bye` (or the end of input) sends
`NAME说:bye`, and the program ends when the server closes the connection. When the server
goes away (recv() returns b''), the program ends too.
"""

import socket
import sys
import threading

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def type_lines(sock):
    """Send what is typed (a daemon thread: it must not keep the program alive)."""
    for line in sys.stdin:
        line = line.rstrip("\n")
        # TODO: send f"{name}说:{line}\n", encoded as UTF-8; after `bye`, stop
    # TODO: the end of input: say bye too


with socket.create_connection((host, port), timeout=5) as sock:
    sock.settimeout(None)
    threading.Thread(target=type_lines, args=(sock,), daemon=True).start()
    for line in sock.makefile("r", encoding="utf-8"):  # ends when the server closes the connection
        pass  # TODO: print each line
