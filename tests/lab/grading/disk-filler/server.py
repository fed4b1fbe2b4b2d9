# Hostile, and bounded: 1 MiB files in every place it may write until each refuses, at
# most 2 GiB in all whatever limits the lab has; then it reports what stopped it, and ends.
import os
import sys
import tempfile

chunk = b"x" * 2**20
places = [os.getcwd(), tempfile.gettempdir(), "/var/tmp", os.path.expanduser("~"), "/work"]
written, stopped = 0, []
for place in places:
    try:
        while written < 2048:
            with open(os.path.join(place, f"fill-{written}"), "wb") as f:
                f.write(chunk)
            written += 1
    except OSError as exc:
        stopped.append(f"{place}: {exc.strerror}")
sys.exit(f"wrote {written} MiB; stopped by " + "; ".join(stopped))
