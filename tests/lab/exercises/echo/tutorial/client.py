# The tutorial's UDP echo client: no timeout, so a reply that never comes is waited for
# forever. (Its recvfrom(1024) would also cut a 1,400-byte reply: another check's matter.)
import signal
import sys
from socket import AF_INET, SOCK_DGRAM, socket

signal.alarm(60)  # bounds this fixture; the check gives up on it long before
host, port = sys.argv[1], int(sys.argv[2])
udp_socket = socket(AF_INET, SOCK_DGRAM)
for _ in range(1000):  # a bound instead of the tutorial's `while True`
    data = sys.stdin.readline()
    if not data or data.rstrip("\n") == "exit":
        break
    udp_socket.sendto(data.rstrip("\n").encode("utf-8"), (host, port))
    recv_data = udp_socket.recvfrom(65535)
    print(recv_data[0].decode("utf-8"), flush=True)
udp_socket.close()
