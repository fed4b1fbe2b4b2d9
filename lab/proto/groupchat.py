"""The TCP group chat protocol: lines of UTF-8 text (see lab.proto.framing).

Client to server::

    <name>           the first line, if it has no ':': the client's name (joining is optional)
    <text>           every later line: a message to everyone else
    bye              leave (the server closes the connection)

A client whose first line has a ':' speaks the tutorial's dialect: every line is already
``<name>说:<text>``, relayed to the others exactly as it came; ``<name>说:bye`` leaves.

Server to client::

    * welcome <name>; <n> other(s) here
    * <name> joined / * <name> left (<reason>)
    <name>: <text>                  (from a client that joined by name)
    <name>说:<text>                  (from a tutorial client, verbatim)
    ERR <reason>

Every connected client hears the others, named or not, as in the tutorial (whose server
relays to every socket it accepted). ``GroupChat`` is the whole server logic over client
ids: ``connect``, ``line`` and ``leave`` return what to send to whom, and which clients to
close. The server delivers each message to every other client exactly once, in the order
its sender sent them.
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
    clients: dict[int, str] = field(default_factory=dict)  # every connected client: its name, '' until known
    tutorial: set[int] = field(default_factory=set)         # clients speaking `name说:text`

    def connect(self, client: int) -> Actions:
        self.clients[client] = ""
        return Actions()

    def line(self, client: int, data: bytes) -> Actions:
        act = Actions()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            act.to(client, "ERR not UTF-8 text; message dropped")
            return act
        if not self.clients[client] and ":" in text:  # a first line like the tutorial's `alice说:hi`
            self.tutorial.add(client)
            self.clients[client] = text.partition(":")[0].removesuffix("说").strip() or "someone"
        if client in self.tutorial:
            if text.partition(":")[2].strip() == BYE:
                act.close.append((client, "said bye"))
            else:
                self._broadcast(act, client, text)
        elif not self.clients[client]:
            self._join(act, client, text.strip())
        elif text.strip() == BYE:
            act.close.append((client, "said bye"))
        else:
            self._broadcast(act, client, f"{self.clients[client]}: {text}")
        return act

    def _join(self, act: Actions, client: int, name: str) -> None:
        if not name or len(name) > MAX_NAME or not name.isprintable():
            act.to(client, f"ERR a name is 1-{MAX_NAME} printable characters without ':'; send your name")
            return
        self.clients[client] = name
        act.to(client, f"* welcome {name}; {len(self.clients) - 1} other(s) here")
        self._broadcast(act, client, f"* {name} joined")

    def leave(self, client: int, reason: str) -> Actions:
        """The client is gone (bye, reset, timeout, too slow...): tell the others."""
        act = Actions()
        self.tutorial.discard(client)
        name = self.clients.pop(client, "")
        if name:
            self._broadcast(act, client, f"* {name} left ({reason})")
        return act

    def _broadcast(self, act: Actions, sender: int, line: str) -> None:
        data = frame(line.encode())
        act.send.extend((c, data) for c in self.clients if c != sender)
