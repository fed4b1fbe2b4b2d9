"""The Engine's helper: Docker's JSON as socklab's records, and an exec's connection as a
``Channel`` for ``ExecSession``.

Only the Engine imports this module (and only these two import ``docker``). ``exec_start(...,
socket=True)`` answers with whatever carries the HTTP connection: a ``socket.SocketIO`` over a
unix socket or plain TCP, an SSL socket over TLS, a paramiko channel over ssh://. Reading goes
through the SDK's public ``docker.utils.socket.frames_iter``; writing and half-closing need the
socket itself, which a SocketIO does not expose publicly: a duplicate of its file descriptor is
a socket of the same connection (``shutdown`` acts on the connection, not on the descriptor).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

from docker.utils.socket import frames_iter

from lab.control.records import (
    ISOLATED,
    NETWORK,
    PROJECT,
    SERVICE,
    Attachment,
    Confinement,
    HostContainer,
    Image,
    LabNetwork,
)


def host_container(d: dict[str, Any]) -> HostContainer:
    """A container from a listing (``/containers/json``) or an inspection: they differ in shape."""
    inspected = isinstance(d.get("State"), dict)
    config = d.get("Config") or {}
    labels = dict((config.get("Labels") if inspected else d.get("Labels")) or {})
    state = d["State"].get("Status", "") if inspected else d.get("State", "")
    nets = (d.get("NetworkSettings") or {}).get("Networks") or {}
    return HostContainer(
        id=d["Id"], name=(d.get("Name") or (d.get("Names") or ["?"])[0]).lstrip("/"),
        project=labels.get(PROJECT, ""), service=labels.get(SERVICE, ""), state=state, labels=labels,
        networks={k: Attachment(v.get("IPAddress") or "", v.get("MacAddress") or "", v.get("GlobalIPv6Address") or "")
                  for k, v in sorted(nets.items())},
        mounts={m["Destination"]: m.get("Source", "") for m in d.get("Mounts") or [] if "Destination" in m},
        image=config.get("Image", "") if inspected else d.get("Image", ""),
        finished_at=d["State"].get("FinishedAt", "") if inspected else "",
        confinement=confinement(d.get("HostConfig") or {}) if inspected else None)


def confinement(hc: dict[str, Any]) -> Confinement:
    return Confinement(privileged=bool(hc.get("Privileged")), init=bool(hc.get("Init")),
                       cap_add=tuple(hc.get("CapAdd") or ()), cap_drop=tuple(hc.get("CapDrop") or ()),
                       pids_limit=hc.get("PidsLimit"), memory=hc.get("Memory") or 0,
                       memory_swap=hc.get("MemorySwap") or 0, nano_cpus=hc.get("NanoCpus") or 0)


def lab_network(d: dict[str, Any]) -> LabNetwork:
    labels = d.get("Labels") or {}
    return LabNetwork(
        id=d["Id"], name=d["Name"], project=labels.get(PROJECT, ""), lan=labels.get(NETWORK, d["Name"]),
        subnets=tuple(cfg["Subnet"] for cfg in (d.get("IPAM") or {}).get("Config") or [] if cfg.get("Subnet")),
        isolated=(d.get("Options") or {}).get(ISOLATED) == "true",
        endpoints={cid: e.get("Name") or cid for cid, e in (d.get("Containers") or {}).items()})


def image(d: dict[str, Any]) -> Image:
    return Image(id=d["Id"], tags=tuple(d.get("RepoTags") or ()))


class DockerChannel:
    def __init__(self, api: Any, exec_id: str, conn: Any, tty: bool,
                 translated: Callable[[Callable[[], Any]], Any]) -> None:
        self.api = api
        self.exec_id = exec_id
        self.conn = conn
        self.tty = tty
        self._translated = translated  # the Engine's one translation of docker SDK errors
        # The object to write to and shut down: the connection's socket (a duplicate of a
        # SocketIO's descriptor), or the SSL socket or paramiko channel itself.
        self._raw: Any = conn
        self._dup: socket.socket | None = None
        if isinstance(conn, socket.SocketIO):
            self._dup = socket.socket(fileno=os.dup(conn.fileno()))
            self._raw = self._dup

    def frames(self) -> Iterator[tuple[int, bytes]]:
        try:
            yield from frames_iter(self.conn, self.tty)
        except AttributeError:
            if not getattr(self.conn, "closed", False):
                raise
            # close() from another thread while a read was retrying: a closed SocketIO has no
            # socket left to read (None.recv_into). The output has ended, as on EOF.

    def send(self, data: bytes) -> None:
        self._raw.sendall(data)

    def shutdown_write(self) -> None:
        if hasattr(self._raw, "shutdown_write"):  # paramiko's channel (ssh://)
            self._raw.shutdown_write()
        else:
            self._raw.shutdown(socket.SHUT_WR)

    def socket(self) -> socket.socket | None:
        # a pty's output is not framed; an SSL socket or a paramiko channel is not read as a plain one
        return self._dup if self.tty else None

    def resize(self, rows: int, cols: int) -> None:
        self._translated(lambda: self.api.exec_resize(self.exec_id, height=rows, width=cols))

    def exit_code(self) -> int | None:
        info = self._translated(lambda: self.api.exec_inspect(self.exec_id))
        # Not Running and no exit code: not started yet. Docker sets the code once it has ended.
        code = info.get("ExitCode")
        return None if info.get("Running") or code is None else int(code)

    def close(self) -> None:
        if self._dup is not None:
            try:
                self._dup.shutdown(socket.SHUT_RDWR)  # a reader blocked in poll() wakes to EOF
            except OSError:
                pass
            self._dup.close()
            self._dup = None
        self.conn.close()
