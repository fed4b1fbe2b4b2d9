"""Client behind a NAT: python3 client.py HOST PORT

Send `hello` to the server at HOST:PORT, then print the text of every datagram the server
sends back, one line each, until stopped (Ctrl-C or SIGTERM). The server answers `welcome`
at once and sends `push` 8 s later. Between them is a NAT router that forgets the mapping
of your socket after 5 s without a datagram: after that, the push is dropped at the router.
Keep the mapping alive: send `keepalive` to the server at least every 4 s.
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.sendto(b"hello", (host, port))
    try:
        while True:
            # TODO: send b"keepalive" every 2 s while waiting (sock.settimeout, socket.timeout)
            data, sender = sock.recvfrom(65535)
            print(data.decode("utf-8", errors="replace"), flush=True)
    except KeyboardInterrupt:
        pass
