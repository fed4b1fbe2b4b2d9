"""Group chat server: python3 server.py PORT

Accept any number of clients on every address, port PORT. Every message is one line of
UTF-8 text, `name说:text` (the newline ends it). Send each line, as it came, to every
other client. A client that sends `name说:bye`, or goes away (recv() returns b'' or raises
ConnectionResetError), is closed and forgotten; the others carry on. Runs until stopped.
"""

import socket
import sys
import threading

port = int(sys.argv[1])
clients = []  # the sockets of the connected clients
lock = threading.Lock()  # the threads share `clients`: change or walk it holding the lock


def serve(conn):
    """One thread per client: read its lines (TCP may split or join them: makefile frames lines)."""
    for line in conn.makefile("r", encoding="utf-8"):
        print(f"got {line.rstrip()}", flush=True)
        # TODO: send the line to every other client (a copy of the list, taken under the lock)
        # TODO: stop at a line that ends in `bye`
        break  # TODO: this reads one line per client only; remove it
    # TODO: the client is gone: remove it from `clients`, close its socket


with socket.create_server(("", port)) as listener:  # "" = every address; SO_REUSEADDR is on
    while True:
        conn, peer = listener.accept()
        print(f"{peer[0]}:{peer[1]} connected", flush=True)
        with lock:
            clients.append(conn)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
