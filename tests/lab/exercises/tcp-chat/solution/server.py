import socket
import sys
import threading


def type_lines(conn):
    """Send each line typed; `bye` (or the end of input) ends our side of the conversation."""
    for line in sys.stdin:
        conn.sendall(line.encode("utf-8"))  # the newline stays: it ends the message
        if line.strip() == "bye":
            break
    else:
        conn.sendall(b"bye\n")
    conn.shutdown(socket.SHUT_WR)


with socket.create_server(("", int(sys.argv[1]))) as listener:
    conn, peer = listener.accept()
with conn:
    print(f"{peer[0]}:{peer[1]} connected", flush=True)
    threading.Thread(target=type_lines, args=(conn,), daemon=True).start()
    for line in conn.makefile("r", encoding="utf-8"):
        print(f"<< {line.rstrip()}", flush=True)
        if line.strip() == "bye":
            break
