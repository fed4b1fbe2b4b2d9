import socket
import sys

# The tutorial's server, taking turns: recv, print, input(), send.
with socket.create_server(("", int(sys.argv[1]))) as listener:
    conn, peer = listener.accept()
with conn:
    while True:
        data = conn.recv(1024)
        print("client says:", data.decode("utf-8"), flush=True)
        if data.decode("utf-8") == "bye":  # the mistake: the line arrives as 'bye\n'
            break
        reply = input()
        conn.sendall((reply + "\n").encode("utf-8"))
        if reply == "bye":
            break
