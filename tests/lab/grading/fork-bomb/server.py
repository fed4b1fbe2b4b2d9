# Hostile, and bounded: at most 400 processes, each gone after 60 s, whatever limits the lab has.
import os
import time

for _ in range(400):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
