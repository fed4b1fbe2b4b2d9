# Bounded fork bomb: at most 400 processes (more than a host's pids_limit of 256), each
# gone after 60 s; prints how many forks the kernel granted and refused, then waits.
import os
import sys
import time

granted = refused = 0
for _ in range(400):
    try:
        child = os.fork()
    except BlockingIOError:  # EAGAIN: the host's process limit
        refused += 1
        continue
    if child == 0:
        time.sleep(60)
        os._exit(0)
    granted += 1
print(f"granted {granted} refused {refused}", flush=True)
sys.stdin.read()  # until stopped
