import socket
import sys
import threading

# The tutorial's client: one thread reads, one writes, until the user says bye.
host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
flag = True


def read_msg(sock):
    while flag:
        data = sock.recv(1024)  # the mistake: b'' (the server is gone) is printed, forever
        print("收到:", data.decode("utf-8"), flush=True)


def write_msg(sock):
    global flag
    for line in sys.stdin:
        msg = f"{name}说:{line.rstrip()}"
        sock.send((msg + "\n").encode("utf-8"))
        if msg.endswith("bye"):
            flag = False
            break


sock = socket.create_connection((host, port), timeout=5)
sock.settimeout(None)
reader = threading.Thread(target=read_msg, args=(sock,))
writer = threading.Thread(target=write_msg, args=(sock,))
reader.start()
writer.start()
reader.join()
writer.join()
sock.close()
