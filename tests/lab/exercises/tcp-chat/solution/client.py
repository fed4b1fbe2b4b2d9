import socket
import sys
import threading


def type_lines(sock):
    """Send each line typed; `bye` (or the end of input) ends our side of the conversation."""
    for line in sys.stdin:
        sock.sendall(line.encode("utf-8"))
        if line.strip() == "bye":
            break
    else:
        sock.sendall(b"bye\n")
    sock.shutdown(socket.SHUT_WR)


with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as sock:
    sock.settimeout(None)
    threading.Thread(target=type_lines, args=(sock,), daemon=True).start()
    for line in sock.makefile("r", encoding="utf-8"):
        print(f"<< {line.rstrip()}", flush=True)
        if line.strip() == "bye":
            break
