#!/bin/sh
# Configure this host's routing from its compose environment, say "ready", then idle.
#   LAB_GATEWAY      a router's address on this host's LAN: it becomes the default route,
#                    so other LANs are reached through the lab's routers and anything
#                    outside the lab is not reached at all.
#   otherwise        (a router, whose ip_forward is a compose sysctl, or a host on a LAN
#                    with no router) the default route Docker installed is removed: the
#                    host reaches its own LANs only. Routes to LANs further away are
#                    derived from the topology and added by `invoke up`.
set -eu
host=$(hostname)
if [ -n "${LAB_GATEWAY:-}" ]; then
    ip route replace default via "$LAB_GATEWAY"
else
    ip route del default 2>/dev/null || true
    # One LAN and no gateway: '<broadcast>' (255.255.255.255) still needs a way out.
    set -- $(ip -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2 }')
    if [ $# -eq 1 ]; then
        ip route replace 255.255.255.255/32 dev "$1"
    fi
fi
mkdir -p /run/socklab
# A router (compose sets its ip_forward) also forwards multicast: smcroute's static (*,G)
# routes send every administratively scoped group (239.0.0.0/8, never anything else) that
# arrives on one of its LANs out to all its other LANs, where the TTL allows (a datagram
# sent with TTL 1 stays on its LAN). Static, not pimd's IGMP-driven routes: see
# scenarios/multicast/README.md for why.
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; then
    lans=$(ip -o -4 addr show | awk '$2 != "lo" { print $2 }' | sort -u)
    conf=/run/socklab/smcroute.conf
    : > "$conf"
    for lan in $lans; do echo "phyint $lan enable" >> "$conf"; done
    for lan in $lans; do
        others=$(echo "$lans" | grep -vx "$lan" | tr '\n' ' ')
        if [ -n "$others" ]; then echo "mroute from $lan group 239.0.0.0/8 to $others" >> "$conf"; fi
    done
    smcrouted -n -N -f "$conf" -l err > /run/socklab/smcroute.log 2>&1 &   # `smcroutectl show` lists them
fi
# A NAT router (topology nat): the LAN LAB_NAT_INSIDE leaves through the interface of
# LAB_NAT_OUTSIDE with that address as its source (MASQUERADE; --random: a new source port
# too, as many NATs do, where Linux would keep the client's own when it can); each
# LAB_NAT_FORWARD "PORT=ADDR" sends UDP PORT on the outside address to ADDR:PORT (DNAT).
# From outside, only replies (conntrack) and the forwarded ports get in.
if [ -n "${LAB_NAT_OUTSIDE:-}" ]; then
    out=$(ip -o -4 addr show | awk -v a="$LAB_NAT_OUTSIDE" 'index($4, a "/") == 1 { print $2 }')
    iptables -t nat -A POSTROUTING -s "$LAB_NAT_INSIDE" -o "$out" -j MASQUERADE --random
    for forward in ${LAB_NAT_FORWARD:-}; do
        iptables -t nat -A PREROUTING -i "$out" -d "$LAB_NAT_OUTSIDE" -p udp --dport "${forward%%=*}" \
            -j DNAT --to-destination "${forward#*=}"
    done
    iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED,DNAT -j ACCEPT
    iptables -A FORWARD -i "$out" -j DROP
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
# Its home is a small tmpfs (compose): bounded, and fresh at every start.
cp -rT /etc/skel /home/student
chown -R student:student /home/student
echo "socklab: ready $host"
exec sleep infinity
