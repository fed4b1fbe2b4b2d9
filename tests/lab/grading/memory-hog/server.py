# Hostile, and bounded: at most 2 GiB, in 64 MiB steps, whatever limits the lab has.
hog = []
for _ in range(32):
    hog.append(bytearray(64 * 2**20))
