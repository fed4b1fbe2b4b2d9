import socket
import sys

# The tutorial's client, taking turns: input(), send, recv, print.
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as sock:
    sock.settimeout(None)
    while True:
        line = input()
        sock.sendall((line + "\n").encode("utf-8"))
        if line == "bye":
            break
        print("server says:", sock.recv(1024).decode("utf-8"), flush=True)  # the mistake: never checks for bye
