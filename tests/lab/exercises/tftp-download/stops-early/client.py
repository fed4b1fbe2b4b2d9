# Stops at the short last block without writing or ACKing it.
import socket
import struct
import sys

host, name = sys.argv[1], sys.argv[2]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, open(name, "wb") as out:
    sock.settimeout(2.0)
    server = (socket.gethostbyname(host), 69)
    sock.sendto(struct.pack("!H", 1) + name.encode() + b"\0octet\0", server)
    expected = 1
    while True:
        packet, peer = sock.recvfrom(516)
        opcode, number = struct.unpack("!HH", packet[:4])
        if opcode == 5:
            sys.exit(f"server error {number}: {packet[4:-1].decode(errors='replace')}")
        if opcode != 3:
            continue
        if len(packet) < 516:
            break  # the mistake: the short last block is neither written nor ACKed
        if number == expected % 65536:
            out.write(packet[4:])
            expected += 1
        sock.sendto(struct.pack("!HH", 4, number), peer)
        if number == (expected - 1) % 65536 and len(packet) < 516:
            break
