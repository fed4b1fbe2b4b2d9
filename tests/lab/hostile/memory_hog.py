# Bounded memory hog: at most 2 GiB (more than a host's mem_limit of 512 MiB) in 64 MiB
# steps, each touched; prints its progress, so its last line says how far it got.
hog = []
for step in range(1, 33):
    hog.append(bytearray(64 * 2**20))
    print(f"holding {step * 64} MiB", flush=True)
print("held 2 GiB: no limit stopped me", flush=True)
