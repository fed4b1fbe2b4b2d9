"""The UDP chat room protocol: one text command per datagram.

Client to server (UTF-8)::

    JOIN <name>      enter the room as <name> (again: rename)
    MSG <text>       say <text> to everyone else in the room
    PING             still here (a member silent past the timeout is forgotten)
    LEAVE            leave the room

Server to client::

    <name>: <text>   a member's message
    * welcome <name>; <n> other(s) here     (to the member who joined)
    * <name> joined / * <name> left / * <name> timed out
    ERR <reason>     the datagram was not understood (the server carries on)

The server relays each message to every other member it has heard from, never back to
the sender. ``Room`` is the whole server logic: ``handle`` and ``expire`` take what
happened and return the datagrams to send, as ``(address, bytes)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Address = tuple[str, int]
Outgoing = list[tuple[Address, bytes]]

MAX_NAME = 32
MAX_TEXT = 4096


@dataclass
class Member:
    name: str
    last_heard: float


@dataclass
class Room:
    timeout: float = 60.0
    members: dict[Address, Member] = field(default_factory=dict)

    def handle(self, now: float, sender: Address, data: bytes) -> Outgoing:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return [(sender, b"ERR not UTF-8 text")]
        command, _, arg = text.partition(" ")
        member = self.members.get(sender)
        if member is not None:
            member.last_heard = now
        if command == "JOIN":
            return self._join(now, sender, arg.strip())
        if member is None:
            if command in ("MSG", "PING", "LEAVE"):
                return [(sender, b"ERR join first: JOIN <name>")]
            return [(sender, b"ERR unknown command; use JOIN, MSG, PING or LEAVE")]
        if command == "MSG":
            if len(arg.encode()) > MAX_TEXT:
                return [(sender, f"ERR message longer than {MAX_TEXT} bytes".encode())]
            return self._to_others(sender, f"{member.name}: {arg}")
        if command == "PING":
            return []
        if command == "LEAVE":
            del self.members[sender]
            return self._to_others(sender, f"* {member.name} left")
        return [(sender, b"ERR unknown command; use JOIN, MSG, PING or LEAVE")]

    def expire(self, now: float) -> Outgoing:
        """Forget members silent for longer than ``timeout``; tell the others."""
        out: Outgoing = []
        for addr, member in list(self.members.items()):
            if now - member.last_heard > self.timeout:
                del self.members[addr]
                out += self._to_others(addr, f"* {member.name} timed out")
        return out

    def _join(self, now: float, sender: Address, name: str) -> Outgoing:
        if not name or len(name) > MAX_NAME or not name.isprintable() or ":" in name:
            return [(sender, f"ERR a name is 1-{MAX_NAME} printable characters without ':'".encode())]
        self.members[sender] = Member(name, now)
        welcome = f"* welcome {name}; {len(self.members) - 1} other(s) here".encode()
        return [(sender, welcome), *self._to_others(sender, f"* {name} joined")]

    def _to_others(self, sender: Address, line: str) -> Outgoing:
        data = line.encode()
        return [(addr, data) for addr in self.members if addr != sender]
