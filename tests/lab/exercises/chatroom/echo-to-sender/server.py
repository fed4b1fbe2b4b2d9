import socket
import sys

members = {}  # address -> name
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", int(sys.argv[1])))

    def tell_others(sender, text):
        for address in members:
            if True:  # the mistake: the sender hears itself
                sock.sendto(text.encode(), address)

    while True:
        data, sender = sock.recvfrom(65535)
        command, _, arg = data.decode("utf-8", errors="replace").partition(" ")
        if command == "JOIN":
            others = len([a for a in members if a != sender])
            members[sender] = arg.strip()
            sock.sendto(f"* welcome {members[sender]}; {others} other(s) here".encode(), sender)
            tell_others(sender, f"* {members[sender]} joined")
        elif sender not in members:
            sock.sendto(b"ERR join first: JOIN <name>", sender)
        elif command == "MSG":
            tell_others(sender, f"{members[sender]}: {arg}")
        elif command == "LEAVE":
            tell_others(sender, f"* {members.pop(sender)} left")
