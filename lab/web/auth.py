"""Who may use the server: whoever holds its token, from the page on the server's own origin.

The token is random (``secrets.token_urlsafe(32)``: 256 bits) and printed in the link, as
Jupyter does. Opening the link sets it as a cookie (HttpOnly: the page's scripts never see
it; SameSite=Strict: no other site's page sends it) and redirects to the bare page, so the
token leaves the address bar. Scripts send ``Authorization: Bearer <token>``. Every
comparison is constant-time. A websocket is also refused unless its Origin is the server's
own: a page elsewhere cannot open a terminal, even in a browser that holds the cookie.

Pure functions of the request's parts: the server calls them in one middleware, for every
route and websocket, and the unit tests call them directly.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "socklab_token"
# Everything from the server itself, nothing from anywhere else; no plugins, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(given: str | None, token: str) -> bool:
    """Constant-time comparison; nothing given is never the token."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def presented(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The token a request carries: a Bearer header, else the cookie."""
    auth = headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return cookies.get(COOKIE)


def cookie_header(token: str, secure: bool = False) -> str:
    """The Set-Cookie value the link's visit gets (for the session: gone with the browser);
    ``secure`` when served over TLS: never sent in clear."""
    return f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/" + ("; Secure" if secure else "")


class Limiter:
    """At most ``attempts`` within ``per`` seconds for each client address (sign-in attempts:
    a guessed token costs a guesser time, not only luck)."""

    def __init__(self, attempts: int = 10, per: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.per, self.clock = attempts, per, clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, address: str) -> bool:
        """Count one attempt from ``address``; False once it has had its share."""
        now = self.clock()
        seen = self._seen.setdefault(address, deque())
        while seen and seen[0] <= now - self.per:
            seen.popleft()
        if len(seen) >= self.attempts:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # addresses gone quiet are forgotten
            self._seen = {a: d for a, d in self._seen.items() if d and d[-1] > now - self.per}
        return True


@dataclass(frozen=True)
class Origin:
    """Where the server is: the origins its own page has (``http://127.0.0.1:8800``; for a
    loopback bind, ``localhost`` too)."""

    host: str
    port: int
    scheme: str = "http"

    @property
    def allowed(self) -> frozenset[str]:
        hosts = {self.host}
        if self.host in ("127.0.0.1", "localhost", "::1"):
            hosts |= {"127.0.0.1", "localhost"}
        return frozenset(f"{self.scheme}://{h}:{self.port}" for h in hosts)

    def accepts(self, origin: str | None) -> bool:
        """A websocket's Origin header: exactly one of the server's own origins."""
        if not origin:
            return False
        parts = urlsplit(origin.strip().lower())
        if parts.path not in ("", "/") or parts.query or parts.username or parts.password:
            return False
        try:
            port = parts.port
        except ValueError:
            return False
        return f"{parts.scheme}://{parts.hostname}:{port}" in self.allowed

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def link(self, token: str) -> str:
        return f"{self.base}/?token={token}"
