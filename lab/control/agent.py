"""socklab's helper on a lab host: runs the control side's short commands, one after another.

The Engine starts it on a host with one `docker exec` (``python3 -c BOOT LENGTH``: it reads
this file's source from its stdin, then its requests; one more for each command asked of the
host at once) and sends it every command it would otherwise have run with an exec of its
own. A `docker exec` costs the machine about 64 ms of CPU (runc starts a process in the
container's namespaces each time); a command through this helper about 5 ms
(benchmarks/bench_exec.py). It is not a student's program and uses nothing but the standard
library.

Protocol, one JSON object a line each way: first ``{"ready": 1}``; then for each request
``{"argv": [...]}`` the answer ``{"code": N, "out": BASE64, "err": BASE64}``. A command runs as
an exec would: the host's environment, no stdin, a session of its own (it cannot signal this
helper's group), its exit status as Docker reports it (128 + N when a signal N ended it; 126
when it cannot be started, with Docker's kind of message). It ends at the end of its input.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

#: The one-liner `python3 -c` runs: the source follows on stdin, its length in argv[1].
BOOT = "import sys; exec(compile(sys.stdin.buffer.read(int(sys.argv[1])), 'socklab-agent', 'exec'))"


def run(argv: list[str]) -> dict[str, object]:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True,
                              check=False)
    except OSError as exc:  # as Docker says it, on stdout with status 126
        reason = "executable file not found in $PATH" if isinstance(exc, FileNotFoundError) else exc.strerror
        return {"code": 126, "out": _b64(f'exec: "{argv[0] if argv else ""}": {reason}\n'.encode()), "err": ""}
    code = done.returncode if done.returncode >= 0 else 128 - done.returncode
    return {"code": code, "out": _b64(done.stdout), "err": _b64(done.stderr)}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def serve() -> None:
    out = sys.stdout.buffer
    out.write(b'{"ready": 1}\n')
    out.flush()
    for line in sys.stdin.buffer:
        out.write(json.dumps(run(json.loads(line)["argv"])).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    serve()
