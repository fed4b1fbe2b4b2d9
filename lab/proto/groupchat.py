"""The TCP group chat protocol: lines of UTF-8 text (see lab.proto.framing).

Client to server::

    <name>           the first line: the client's name
    <text>           every later line: a message to everyone else
    bye              leave (the server closes the connection)

Server to client::

    * welcome <name>; <n> other(s) here
    * <name> joined / * <name> left (<reason>)
    <name>: <text>
    ERR <reason>

``GroupChat`` is the whole server logic over client ids: ``join``, ``line`` and ``leave``
return what to send to whom, and which clients to close. The server delivers each message
to every other member exactly once, in the order that member sent them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.proto.framing import frame

MAX_NAME = 32
BYE = "bye"


@dataclass
class Actions:
    send: list[tuple[int, bytes]] = field(default_factory=list)  # (client id, one framed line)
    close: list[tuple[int, str]] = field(default_factory=list)   # (client id, reason)

    def to(self, client: int, line: str) -> None:
        self.send.append((client, frame(line.encode())))


@dataclass
class GroupChat:
    names: dict[int, str] = field(default_factory=dict)   # joined clients
    waiting: set[int] = field(default_factory=set)         # connected, no name yet

    def connect(self, client: int) -> Actions:
        self.waiting.add(client)
        return Actions()

    def line(self, client: int, data: bytes) -> Actions:
        act = Actions()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            act.to(client, "ERR not UTF-8 text; message dropped")
            return act
        if client in self.waiting:
            name = text.strip()
            if not name or len(name) > MAX_NAME or not name.isprintable() or ":" in name:
                act.to(client, f"ERR a name is 1-{MAX_NAME} printable characters without ':'; send your name")
                return act
            self.waiting.discard(client)
            others = list(self.names)
            self.names[client] = name
            act.to(client, f"* welcome {name}; {len(others)} other(s) here")
            self._broadcast(act, client, f"* {name} joined")
            return act
        if text.strip() == BYE:
            act.close.append((client, "said bye"))
            return act
        self._broadcast(act, client, f"{self.names[client]}: {text}")
        return act

    def leave(self, client: int, reason: str) -> Actions:
        """The client is gone (bye, reset, timeout, too slow...): tell the others."""
        act = Actions()
        self.waiting.discard(client)
        name = self.names.pop(client, None)
        if name is not None:
            self._broadcast(act, client, f"* {name} left ({reason})")
        return act

    def _broadcast(self, act: Actions, sender: int, line: str) -> None:
        data = frame(line.encode())
        act.send.extend((c, data) for c in self.names if c != sender)
