"""Fault injection on a lab host: packet loss, rate limits, delay.

Loss uses ``iptables -m statistic``: ``random`` drops each packet with a probability,
``nth`` drops one packet in every N, the same ones every time (reproducible).

- ingress loss on X: X's own INPUT (and FORWARD, on the router) jumps to SOCKLAB-IN.
- egress loss on X: a packet dropped in X's OUTPUT chain makes the sender's ``sendto`` fail
  with EPERM, which a lossy network never does, and this kernel has no tc drop actions. So
  X's egress is lost where the wire delivers it: every host sharing a LAN with X drops that
  share of the frames X puts on that wire (link-layer source: X's MAC address there) as they
  arrive (chain SOCKLAB-FROM-X, from INPUT, and from FORWARD on the router). The sender sees
  nothing, as on a real lossy link; and what a router forwards keeps its IP source but
  carries the router's MAC, so egress loss on the router drops forwarded traffic too.
- refused sends on X (``refuse``): X's OUTPUT jumps to SOCKLAB-OUT, so X's own ``sendto``
  fails with EPERM for that share, as under a host firewall; the lab's programs must take
  it as a lost packet.

Everything lives in chains of our own, so clearing removes exactly what we added. Rate uses
a tbf qdisc on the host's LAN interfaces; delay needs netem (``sch_netem``), and a kernel
without it gets a clear error instead of a silent no-op.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lab.control.impair_rules import INGRESS, REFUSE, ImpairError, Impairment, loss_rules, parse, refuse_rules
from lab.control.lab import Lab


def _sh(lab: Lab, host: str, script: str) -> str:
    result = lab.exec(host, ["sh", "-c", script])
    if result.exit_code != 0:
        raise ImpairError(f"on {host}: {result.output.strip() or 'failed'}")
    return result.stdout


def interfaces(lab: Lab, host: str) -> list[str]:
    out = _sh(lab, host, "ls /sys/class/net")
    return sorted(name for name in out.split() if name != "lo")


def _hooks(lab: Lab, host: str) -> list[str]:
    """The chains where packets arriving at ``host`` pass: INPUT, and FORWARD on a router."""
    return ["INPUT", "FORWARD"] if lab.topology().host(host).role == "router" else ["INPUT"]


def _install(lab: Lab, host: str, chain: str, match: str, rules: list[str], hooks: list[str] | None = None) -> None:
    lines = [f"iptables -w -N {chain}"]
    lines += [f"iptables -w -A {chain} {match} {rule}" for rule in rules]
    lines += [f"iptables -w -I {hook} 1 -j {chain}" for hook in hooks or _hooks(lab, host)]
    _sh(lab, host, " && ".join(lines))


def _uninstall(chain: str) -> str:
    unhook = "; ".join(f"while iptables -w -D {hook} -j {chain} 2>/dev/null; do :; done"
                       for hook in ("INPUT", "FORWARD", "OUTPUT"))
    return f"{unhook}; iptables -w -F {chain} 2>/dev/null; iptables -w -X {chain} 2>/dev/null"


def peers(lab: Lab, host: str) -> dict[str, list[str]]:
    """Every host sharing a LAN with ``host`` -> ``host``'s MAC addresses on the LANs they share."""
    topo = lab.topology()
    me = topo.host(host)
    mac = {n.address: n.mac for n in lab.container(host).networks.values()}
    found: dict[str, list[str]] = {}
    for lan, addr in me.addresses.items():
        for other in topo.hosts_on(lan):
            if other.name != host:
                found.setdefault(other.name, []).append(mac[str(addr)])
    return found


def apply(lab: Lab, host: str, imp: Impairment) -> None:
    imp.check()
    clear(lab, host)
    rules = loss_rules(imp)
    if rules and "ingress" in imp.directions:
        _install(lab, host, INGRESS, "! -i lo", rules)
    if imp.refuse:
        _install(lab, host, REFUSE, "! -o lo", refuse_rules(imp), hooks=["OUTPUT"])
    if rules and "egress" in imp.directions:
        for peer, macs in peers(lab, host).items():
            for mac in macs:
                _install(lab, peer, f"SOCKLAB-FROM-{host}", f"-m mac --mac-source {mac}", rules)
    for iface in interfaces(lab, host):
        if imp.delay_ms:
            rate = f" rate {imp.rate}" if imp.rate else ""
            netem = f"tc qdisc replace dev {iface} root netem delay {imp.delay_ms:g}ms{rate}"
            result = lab.exec(host, ["sh", "-c", netem])
            if result.exit_code != 0:
                clear(lab, host)
                if "unknown" in result.output.lower():
                    raise ImpairError("this kernel lacks sch_netem: delay and jitter cannot be emulated here "
                                      "(loss with --loss/--every and --rate still work)")
                raise ImpairError(f"on {host}: {result.output.strip()}")
        elif imp.rate:
            _sh(lab, host, f"tc qdisc replace dev {iface} root tbf rate {imp.rate} burst 32kbit latency 400ms")


def clear(lab: Lab, host: str) -> None:
    """Remove every impairment socklab added for ``host``. Safe to run twice."""
    script = [_uninstall(INGRESS), _uninstall(REFUSE)]
    script += [f"tc qdisc del dev {iface} root 2>/dev/null" for iface in interfaces(lab, host)]
    _sh(lab, host, "; ".join(script) + "; true")
    for peer in peers(lab, host):
        _sh(lab, peer, _uninstall(f"SOCKLAB-FROM-{host}") + "; true")


def _read(lab: Lab, host: str) -> tuple[list[tuple[str, str, int]], list[str]]:
    """One look at a host: (whose, mode, dropped) per loss rule, and its shaping qdiscs."""
    return parse(host, lab.exec(host, ["sh", "-c", "iptables -w -L -v -x -n; echo '== tc'; tc qdisc show"]).stdout)


def active(lab: Lab) -> dict[str, list[str]]:
    """Every running host's active impairments, one line each, with packets dropped so far."""
    hosts = [name for name, c in lab.containers().items() if c.running]
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = dict(zip(hosts, pool.map(lambda h: _read(lab, h), hosts), strict=True))
    lines: dict[str, list[str]] = {h: [] for h in hosts}
    egress: dict[tuple[str, str], int] = {}
    for host, (rules, qdiscs) in seen.items():
        for owner, mode, dropped in rules:
            if owner.startswith("in:"):
                lines[host].append(f"ingress loss ({mode}): {dropped} dropped")
            elif owner.startswith("refuse:"):
                lines[host].append(f"own sends refused ({mode}): {dropped} refused")
            else:
                key = (owner[4:], mode)
                egress[key] = egress.get(key, 0) + dropped
        lines[host] += qdiscs
    for (host, mode), dropped in egress.items():
        lines.setdefault(host, []).append(f"egress loss ({mode}, dropped where it arrives): {dropped} dropped")
    return lines


def show(lab: Lab, host: str) -> list[str]:
    """Active impairments of ``host`` (reading every host: egress loss lives on its peers)."""
    return active(lab).get(host, [])
