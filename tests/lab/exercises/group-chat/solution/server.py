import socket
import sys
import threading

clients = []
lock = threading.Lock()


def send_to_others(sender, data):
    with lock:
        others = [c for c in clients if c is not sender]
    for other in others:
        try:
            other.sendall(data)
        except OSError:  # that client is gone: its own thread will notice and clean up
            pass


def serve(conn):
    try:
        for line in conn.makefile("r", encoding="utf-8", errors="replace"):
            if line.rstrip("\n").partition(":")[2].strip() == "bye":
                break
            send_to_others(conn, line.encode("utf-8"))
    except OSError:
        pass  # reset by the peer: gone like any other
    with lock:
        clients.remove(conn)
    conn.close()


with socket.create_server(("", int(sys.argv[1]))) as listener:
    while True:
        conn, peer = listener.accept()
        with lock:
            clients.append(conn)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
