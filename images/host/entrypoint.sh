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
# routes send every administratively scoped group (239.0.0.0/8, and IPv6's site-local
# ff05::/16 and ff15::/16; never anything else) that arrives on one of its LANs out to all
# its other LANs, where the TTL (hop limit) allows (a datagram sent with TTL 1 stays on its
# LAN). IPv6 multicast routing (CONFIG_IPV6_MROUTE) works on this project's kernels too.
# Static, not pimd's IGMP-driven routes: see scenarios/multicast/README.md for why.
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; then
    lans=$(ip -o -4 addr show | awk '$2 != "lo" { print $2 }' | sort -u)
    conf=/run/socklab/smcroute.conf
    : > "$conf"
    for lan in $lans; do echo "phyint $lan enable" >> "$conf"; done
    for lan in $lans; do
        others=$(echo "$lans" | grep -vx "$lan" | tr '\n' ' ')
        if [ -n "$others" ]; then
            for range in 239.0.0.0/8 ff05::/16 ff15::/16; do
                echo "mroute from $lan group $range to $others" >> "$conf"
            done
        fi
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
# IPv6 (a dual-stack LAN): Docker 20.10 gives the host a default route via its own gateway
# (::1 of the /64) and, with no inhibit_ipv4 for IPv6, takes that address on the bridge. So the
# default route goes via LAB_GATEWAY6 (the lab's router) or nowhere, and a guard lets in and
# out only the lab: its ULA /48 (but Docker's ::1 on each LAN), the link-local addresses of
# lab hosts (Docker derives each MAC from the IPv4 address, 02:42:<a.b.c.d>, so all of a lab
# share one /112 of fe80::), multicast, and the unspecified address (duplicate detection).
if ip -6 -o addr show scope global | grep -q inet6; then
    ip -6 route del default 2>/dev/null || true
    if [ -n "${LAB_GATEWAY6:-}" ]; then
        ip -6 route replace default via "$LAB_GATEWAY6"
    fi
    set -- $( { ip -j -6 addr show scope global; ip -j link show; } | python3 -c '
import ipaddress, json, sys
addrs, links = (json.loads(line) for line in sys.stdin)
nets = [ipaddress.IPv6Interface(f"{a['"'"'local'"'"']}/{a['"'"'prefixlen'"'"']}").network
        for i in addrs for a in i.get("addr_info", []) if "local" in a]
mac = next(i["address"] for i in links if i.get("link_type") == "ether")
a, b = mac.split(":")[2:4]  # the IPv4 prefix octets in the MAC: every lab host shares them
print(ipaddress.IPv6Network(f"{nets[0].network_address}/48", strict=False),
      f"fe80::42:{int(a, 16):x}ff:fe{b}:0/112", *(n.network_address + 1 for n in nets))')
    lab48=$1 linklocal=$2; shift 2
    for chain in INPUT OUTPUT FORWARD; do
        side=-s; [ $chain = OUTPUT ] && side=-d
        for docker in "$@"; do
            ip6tables -A $chain -s "$docker" -j DROP
            ip6tables -A $chain -d "$docker" -j DROP
        done
        case $chain in
            INPUT) ip6tables -A INPUT -i lo -j ACCEPT ;;
            OUTPUT) ip6tables -A OUTPUT -o lo -j ACCEPT ;;
        esac
        for ok in "$lab48" "$linklocal" ff00::/8 ::/128; do
            ip6tables -A $chain $side "$ok" -j ACCEPT
        done
        ip6tables -A $chain -j DROP
    done
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
