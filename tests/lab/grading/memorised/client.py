# Prints the README's example replies without asking the server.
import sys

for line in sys.stdin:
    line = line.rstrip("\n")
    if line == "exit":
        break
    print("hello" if line.startswith("hello") else line, flush=True)
