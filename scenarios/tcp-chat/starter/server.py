"""One-to-one TCP chat server: python3 server.py PORT

Wait for one client on every address, port PORT. Then both sides talk at once: print each
line the client sends, and send each line typed on standard input (UTF-8, one line per
message, ending in a newline). `bye` ends the conversation: the side that types it sends
it and closes; the side that receives it (or sees the connection close) closes and exits.
"""

import socket
import sys

port = int(sys.argv[1])

with socket.create_server(("", port)) as listener:  # "" = every address; SO_REUSEADDR is on
    conn, peer = listener.accept()
with conn:
    print(f"{peer[0]}:{peer[1]} connected", flush=True)
    # TODO: send what is typed: a thread that reads sys.stdin and sends each line
    # (with its newline); after `bye`, shut down the sending side: conn.shutdown(socket.SHUT_WR)
    for line in conn.makefile("r", encoding="utf-8"):  # one line at a time, however TCP splits them
        print(f"<< {line.rstrip()}", flush=True)
        # TODO: stop at the line `bye`
