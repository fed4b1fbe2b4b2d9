import socket
import struct
import sys

host, name = sys.argv[1], sys.argv[2]
TRIES = 5  # timeouts in a row before giving up
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, open(name, "wb") as out:
    sock.settimeout(2.0)
    server = (socket.gethostbyname(host), 69)
    last, to = struct.pack("!H", 1) + name.encode() + b"\0octet\0", server  # what we sent last, and where
    sock.sendto(last, to)
    tid = None  # the server's transfer port: the source of its first answer
    expected, silent = 1, 0
    while True:
        try:
            packet, peer = sock.recvfrom(516)
        except TimeoutError:
            silent += 1
            if silent == TRIES:
                sys.exit(f"no answer from {host} after {TRIES} tries")
            sock.sendto(last, to)  # lost: ours or theirs; say it again
            continue
        if peer[0] != server[0] or (tid is not None and peer != tid):
            sock.sendto(struct.pack("!HH", 5, 5) + b"unknown transfer ID\0", peer)
            continue
        tid, silent = peer, 0
        opcode, number = struct.unpack("!HH", packet[:4])
        if opcode == 5:
            sys.exit(f"server error {number}: {packet[4:-1].decode(errors='replace')}")
        if opcode != 3:
            continue
        if number == expected % 65536:
            out.write(packet[4:])
            expected += 1
        last, to = struct.pack("!HH", 4, number), peer
        sock.sendto(last, to)
        if number == (expected - 1) % 65536 and len(packet) < 516:
            break
