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
# /work is the student's workspace, bind-mounted from the Docker host. `student` takes the
# uid and gid of the folder's owner there, so what a program writes as student is the
# user's own file on the Docker host, and what the user's editor saved is student's here.
# A root-owned folder keeps uid 1000 (`invoke up` as root hands the folder to uid 1000).
if [ -d /work ]; then
    uid=$(stat -c %u /work) gid=$(stat -c %g /work)
    if [ "$uid" != 0 ] && [ "$uid" != "$(id -u student)" ]; then
        groupmod -o -g "$gid" student
        usermod -o -u "$uid" -g "$gid" student
    fi
fi
mkdir -p /run/socklab
echo "socklab: ready $host"
exec sleep infinity
