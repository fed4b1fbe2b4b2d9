import socketserver
import sys
import time


class Stamp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(f"[{time.ctime()}]".encode() + line)


socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("", int(sys.argv[1])), Stamp) as server:
    server.serve_forever()
