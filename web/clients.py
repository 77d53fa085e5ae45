"""Who is on the other end of a request, as the login throttle and the session list see it.

The client address is `request.remote_addr`: behind a reverse proxy, wrap the app in
werkzeug's ProxyFix (README, "Security: sessions and logins"), so that it is the visitor's
address from the headers the operator's proxy sets, never a header a visitor could forge.
"""

from __future__ import annotations

from flask import request

from .sessions import device_of


def client_address() -> str:
    return request.remote_addr or "unknown"


def device() -> str:
    return device_of(request.headers.get("User-Agent", "")[:512])
