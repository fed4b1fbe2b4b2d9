"""Timestamp server over TCP: python3 tcp_server.py PORT

A client sends lines (UTF-8, each ending in "\n"). For every line, send back one line: the
server's time in brackets, then the line, e.g. "[Mon Nov 23 10:00:00 2026]hello\n".
Serve one client after another (or several at once); a client ends by closing.
Careful: TCP keeps no message boundaries. One recv() may hold two lines, or half of one.
"""

import socket
import sys

port = int(sys.argv[1])

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", port))
    server.listen()
    while True:
        conn, address = server.accept()
        with conn:
            # TODO: read lines (sock.makefile("rb") gives a file whose readline() frames them)
            # and answer each with b"[" + time.ctime().encode() + b"]" + line
            pass
