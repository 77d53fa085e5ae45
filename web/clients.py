"""Who is on the other end of a request, as the login throttle and the session list see it.

Behind a reverse proxy every request comes from the proxy's address, which would put all
visitors under one throttle. So when gunicorn serves the request and the peer is one of
the proxies it trusts (`FORWARDED_ALLOW_IPS`, the setting that already decides whether
`X-Forwarded-Proto` counts), the client is the rightmost address in `X-Forwarded-For`
that is not itself a trusted proxy: the one our own proxy saw. Addresses further left
were written by whoever sent the request and prove nothing. `tokenflow run` (werkzeug)
trusts no proxy header, as for the scheme: there the client is the peer.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from flask import request

from domain.accounts.sessions import device_of
from web.context import system

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address() -> str:
    peer = request.environ.get("REMOTE_ADDR") or "unknown"
    trusted = _networks(system().config.trusted_proxies)
    if "gunicorn.socket" not in request.environ or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return peer


def device() -> str:
    return device_of(request.headers.get("User-Agent", "")[:512])


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...] | None:
    """The trusted proxies as networks; None when every address is trusted ("*")."""
    if "*" in entries:
        return None
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, trusted: tuple[Network, ...] | None) -> bool:
    if trusted is None:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # a name, "unknown" or garbage: not an address we trust
        return False
    return any(ip in network for network in trusted)
