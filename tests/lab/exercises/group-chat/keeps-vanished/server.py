import socket
import sys
import threading

clients = []


def serve(conn):
    # The tutorial's loop: recv(), relay to every socket in the list.
    while True:
        data = conn.recv(1024)
        if data.decode("utf-8").strip().endswith("bye"):
            clients.remove(conn)
            conn.close()
            return
        if not data:
            return  # the mistake: the vanished client stays in the list, its socket open
        for other in clients:
            if other is not conn:
                other.send(data)  # a send to the vanished one raises: this thread dies


with socket.create_server(("", int(sys.argv[1]))) as listener:
    while True:
        conn, peer = listener.accept()
        clients.append(conn)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
