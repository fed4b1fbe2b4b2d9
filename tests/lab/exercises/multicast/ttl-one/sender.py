# Leaves the TTL at its default, 1: the datagram never crosses the router.
import socket
import sys

socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
