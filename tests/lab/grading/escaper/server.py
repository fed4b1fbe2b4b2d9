# Hostile: tries to reach the Docker host (the gateway address of its LAN, where Docker
# would put it) on ports an escape would use. It never sends beyond this machine.
import ipaddress
import socket
import subprocess

mine = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
lan = ipaddress.ip_interface(mine.stdout.split()[3]).network
docker_host = str(next(lan.hosts()))  # .1
for port in (22, 2375, 80):
    with socket.create_connection((docker_host, port), timeout=10) as escaped:
        escaped.sendall(b"escaped\n")
