#!/usr/bin/env bash
# Build the Debian bookworm base image locally when no container registry is reachable:
#   debootstrap --variant=minbase bookworm -> tar -> docker import.
# The mirror is the one this machine's apt already uses (never a hard-coded host);
# without one, debootstrap's own default applies.
# Usage: bootstrap.sh IMAGE_TAG
set -euo pipefail

tag=${1:?usage: bootstrap.sh IMAGE_TAG}
suite=bookworm

command -v debootstrap >/dev/null || {
  echo "bootstrap: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "bootstrap: debootstrap needs root" >&2; exit 3; }

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

root=$(mktemp -d /tmp/socklab-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "bootstrap: debootstrap --variant=minbase $suite ${mirror:-(debootstrap default mirror)}" >&2
debootstrap --variant=minbase "$suite" "$root" ${mirror:+"$mirror"} >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 4; }
rm -f "$root.log"
# Keep the image small: package caches are rebuilt by the first apt-get update anyway.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

tar -C "$root" -c . | docker import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV LANG=C.UTF-8' \
  - "$tag" >/dev/null
echo "bootstrap: imported $tag" >&2
