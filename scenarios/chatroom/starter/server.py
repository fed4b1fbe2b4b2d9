"""UDP chat room server: python3 server.py PORT

One text command per datagram (UTF-8):
    JOIN <name>   -> to the sender: "* welcome <name>; <n> other(s) here"
                     (n: members already in the room), to the others: "* <name> joined"
    MSG <text>    -> to every OTHER member: "<name>: <text>"  (never back to the sender)
    LEAVE         -> forget the member; to the others: "* <name> left"
    PING          -> nothing (the member is still there)
A member is known by its address (ip, port), as recvfrom() gives it. Anything from an
address that has not joined gets "ERR join first: JOIN <name>".
"""

import socket
import sys

port = int(sys.argv[1])
members = {}  # (ip, port) -> name

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    while True:
        data, sender = sock.recvfrom(65535)
        command, _, arg = data.decode("utf-8", errors="replace").partition(" ")
        if command == "JOIN":
            others = len([a for a in members if a != sender])
            members[sender] = arg.strip()
            sock.sendto(f"* welcome {members[sender]}; {others} other(s) here".encode(), sender)
            # TODO: tell the others "* <name> joined"
        elif sender not in members:
            sock.sendto(b"ERR join first: JOIN <name>", sender)
        elif command == "MSG":
            pass  # TODO: "<name>: <text>" to every other member
        elif command == "LEAVE":
            pass  # TODO: forget the member, tell the others
