"""TFTP download client: python3 client.py HOST FILENAME

Fetch FILENAME from the TFTP server on HOST (UDP port 69) and save it under the same name
in the current directory (RFC 1350, octet mode):
    send  RRQ  = opcode 1 (2 bytes) + FILENAME + b"\0" + b"octet" + b"\0"  to (HOST, 69)
    get   DATA = opcode 3 (2 bytes) + block number (2 bytes, from 1) + up to 512 bytes,
                 from a NEW port of the server: answer there, not to 69
    send  ACK  = opcode 4 (2 bytes) + the block number, for every DATA
    a DATA with fewer than 512 bytes of data (maybe 0) is the last: write it, ACK it, stop.
    ERROR = opcode 5 + code (2 bytes) + message + b"\0": print it and exit with status 1.
Use a timeout: a lost packet must not hang the client forever. On a timeout, send your
last packet again (the RRQ, or your last ACK): the server may be waiting for it to resend
a lost DATA (RFC 1350 section 2). Give up after a few tries.
The port of the first DATA is the transfer's: a packet from any other port is not the
server's; ignore it (or answer ERROR 5, unknown transfer ID) and keep waiting (section 4).
"""

import socket
import struct
import sys

host, name = sys.argv[1], sys.argv[2]

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, open(name, "wb") as out:
    sock.settimeout(2.0)
    rrq = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    sock.sendto(rrq, (host, 69))
    packet, server = sock.recvfrom(516)
    opcode, block = struct.unpack("!HH", packet[:4])
    print(f"got opcode {opcode} block {block} with {len(packet) - 4} bytes from {server}")
    # TODO: write the data, ACK the block, and go on until the last (short) block
