import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
missing = 0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2.0)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line == "exit":
            break
        sock.sendto(line.encode("utf-8"), (host, port))
        try:
            data, _ = sock.recvfrom(65535)
        except TimeoutError:
            print("no reply", flush=True)
            missing += 1
            continue
        print(data.decode("utf-8", errors="replace"), flush=True)
sys.exit(3 if missing else 0)
