#!/usr/bin/env bash
# Build the Debian bookworm base image locally when no container registry is reachable:
#   mmdebstrap --variant=minbase bookworm -> tar -> docker import
# (mmdebstrap resolves and fetches with apt: 33 s here where debootstrap takes 55 s for the
# same packages; debootstrap is still used where it is the one installed).
# The mirror is the one this machine's apt already uses (never a hard-coded host);
# without one, the tool's own default applies.
# Usage: bootstrap.sh IMAGE_TAG
set -euo pipefail

tag=${1:?usage: bootstrap.sh IMAGE_TAG}
suite=bookworm

if command -v mmdebstrap >/dev/null; then tool=mmdebstrap
elif command -v debootstrap >/dev/null; then tool=debootstrap
else echo "bootstrap: neither mmdebstrap nor debootstrap is installed (apt-get install mmdebstrap)" >&2; exit 3
fi
[ "$(id -u)" = 0 ] || { echo "bootstrap: $tool needs root" >&2; exit 3; }

mirror_from_apt() {
  # deb822 (.sources) first, then one-line sources.list; first Debian main archive wins.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}' "$f"
  done | head -n1
  [ -f /etc/apt/sources.list ] &&
    awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list
}
mirror=$(mirror_from_apt | head -n1 || true)

work=$(mktemp -d /tmp/socklab-bootstrap.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/log
failed() { tail -n 20 "$log" >&2; exit 4; }

echo "bootstrap: $tool --variant=minbase $suite ${mirror:-(its default mirror)}" >&2
if [ "$tool" = mmdebstrap ]; then
  # The same packages as debootstrap's minbase (the hook merges /usr as debootstrap does,
  # without the usrmerge package and the Perl it needs); apt's caches are left out.
  mmdebstrap --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "$suite" "$work/root.tar" ${mirror:+"$mirror"} >"$log" 2>&1 || failed
else
  root=$work/root
  debootstrap --variant=minbase "$suite" "$root" ${mirror:+"$mirror"} >"$log" 2>&1 || failed
  # Keep the image small: package caches are rebuilt by the first apt-get update anyway.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$work/root.tar" .
fi
docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$tag" <"$work/root.tar" >/dev/null
echo "bootstrap: imported $tag" >&2
