# The tutorial's TFTP download client, taking HOST FILENAME from argv instead of its authors'
# address: no timeout, no ERROR handling (an ERROR is taken for a short, last DATA), every
# DATA written as it comes, and each answered to whoever sent it.
import signal
import struct
import sys
from socket import AF_INET, SOCK_DGRAM, socket

signal.alarm(60)  # bounds this fixture; every check gives up on it long before
host, name = sys.argv[1], sys.argv[2]
udp_socket = socket(AF_INET, SOCK_DGRAM)
send_data = struct.pack("!H%dsb5sb" % len(name), 1, name.encode(), 0, b"octet", 0)
udp_socket.sendto(send_data, (host, 69))
f = open(name, "wb")
for _ in range(100000):  # a bound instead of the tutorial's `while True`
    recv_data, addr = udp_socket.recvfrom(1024)
    opcode, num = struct.unpack("!HH", recv_data[:4])
    print("opcode %d, block %d, from %s, %d bytes" % (opcode, num, addr, len(recv_data)), flush=True)
    f.write(recv_data[4:])
    udp_socket.sendto(struct.pack("!HH", 4, num), addr)
    if len(recv_data) < 516:
        break
f.close()
udp_socket.close()
