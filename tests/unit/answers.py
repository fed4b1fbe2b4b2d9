"""What a test's HTTP request to a socklab server got back: status, headers, the body as JSON
(or bytes, when it is not JSON). The browser's and the class server's unit tests share it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def answer(request: urllib.request.Request,
           opener: urllib.request.OpenerDirector | None = None) -> tuple[int, dict[str, str], Any]:
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, got, json.loads(raw)
    except ValueError:
        return status, got, raw
