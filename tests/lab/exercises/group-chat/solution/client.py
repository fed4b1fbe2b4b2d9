import socket
import sys
import threading

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def type_lines(sock):
    for line in sys.stdin:
        line = line.rstrip("\n")
        sock.sendall(f"{name}说:{line}\n".encode("utf-8"))
        if line == "bye":
            return
    sock.sendall(f"{name}说:bye\n".encode("utf-8"))


with socket.create_connection((host, port), timeout=5) as sock:
    sock.settimeout(None)
    threading.Thread(target=type_lines, args=(sock,), daemon=True).start()
    for line in sock.makefile("r", encoding="utf-8", errors="replace"):
        print(line.rstrip("\n"), flush=True)
