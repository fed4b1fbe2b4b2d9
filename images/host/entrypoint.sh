#!/bin/sh
# Configure this host's routing from its compose environment, say "ready", then idle.
#   LAB_ROLE=router  forward between LANs (ip_forward is a compose sysctl) and route
#                    nowhere else: the default route Docker installed is removed.
#   otherwise        LAB_GATEWAY is the router's address on this host's LAN; it becomes
#                    the default route, so other LANs are reached through the router and
#                    anything outside the lab is not reached at all.
set -eu
host=$(hostname)
if [ "${LAB_ROLE:-}" = router ]; then
    ip route del default 2>/dev/null || true
elif [ -n "${LAB_GATEWAY:-}" ]; then
    ip route replace default via "$LAB_GATEWAY"
fi
mkdir -p /run/socklab
echo "socklab: ready $host"
exec sleep infinity
