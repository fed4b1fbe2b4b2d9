"""Framed TCP receiver: python3 receiver.py PORT

Accept connections one after another. A sender sends messages as lines (UTF-8, each ending
in b"\n"). For every complete message, send back one line: its number on this connection
(from 1), a space, and the message, e.g. b"1 hello\n", b"2 world\n". When the sender ends
its side (recv() returns b""), close the connection and wait for the next one.

TCP keeps no message boundaries: one recv() may hold two messages, part of one, or a piece
of a long one. Keep what you received in a buffer and answer only complete lines.
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
            count = 0
            while data := conn.recv(1024):
                count += 1
                # TODO: this treats one recv() as one message, as the tutorials do: frame by lines instead
                conn.sendall(f"{count} ".encode() + data)
