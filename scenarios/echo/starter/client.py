"""UDP echo client: python3 client.py HOST PORT

Read lines from standard input. Send each line (UTF-8, without its newline) to HOST:PORT
as one datagram and print the reply on a line of its own. Stop at the line `exit` (do not
send it) or at the end of input. Wait at most 2 seconds for a reply: UDP may lose it, or
no server may be there; then print a line with `no reply` and go on with the next line.
Exit status: 0 when every line got its reply, 3 when one or more did not.
"""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2.0)
    for line in sys.stdin:
        line = line.rstrip("\n")
        # TODO: stop at `exit`; send the line to (host, port); print the reply
        # (a socket.timeout means the reply was lost: print `no reply` and go on;
        # at the end, exit with status 3 if a reply was missing)
