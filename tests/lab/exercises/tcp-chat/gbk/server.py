import socket
import sys

with socket.create_server(("", int(sys.argv[1]))) as listener:
    conn, peer = listener.accept()
with conn:
    for line in conn.makefile("r", encoding="utf-8"):
        print("client says:", line.rstrip(), flush=True)
        if line.strip() == "bye":
            break
        reply = input()
        conn.sendall((reply + "\n").encode("gbk"))  # the mistake: the client reads UTF-8
        if reply == "bye":
            break
