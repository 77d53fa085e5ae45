"""The client address the login throttle counts: behind a proxy gunicorn trusts
(`FORWARDED_ALLOW_IPS`), the visitor's address from `X-Forwarded-For`; otherwise, and
whatever a visitor writes into that header, the peer's."""

from __future__ import annotations

import dataclasses

import pytest

from service_layer.config import Config, ConfigError
from web.clients import client_address

GUNICORN = {"gunicorn.socket": object()}


@pytest.fixture
def app(config):
    from tokenflow.system import build_system
    from web.app import create_app

    proxied = dataclasses.replace(config, trusted_proxies=("127.0.0.1", "::1", "10.1.0.0/16"))
    return create_app(build_system(proxied))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "served_by", "client"),
    [
        ("203.0.113.9", None, GUNICORN, "203.0.113.9"),
        # Our proxy on this host appended the visitor's address.
        ("127.0.0.1", "198.51.100.7", GUNICORN, "198.51.100.7"),
        # A visitor's own X-Forwarded-For is kept by the proxy, to the left: ignored.
        ("127.0.0.1", "192.0.2.1, 198.51.100.7", GUNICORN, "198.51.100.7"),
        # Two proxies of ours: the address the outer one saw.
        ("127.0.0.1", "198.51.100.7, 10.1.2.3", GUNICORN, "198.51.100.7"),
        # Not through a trusted proxy: the header proves nothing.
        ("203.0.113.9", "198.51.100.7", GUNICORN, "203.0.113.9"),
        # `tokenflow run` (werkzeug) trusts no proxy header.
        ("127.0.0.1", "198.51.100.7", {}, "127.0.0.1"),
        ("127.0.0.1", "", GUNICORN, "127.0.0.1"),
    ],
)
def test_the_client_is_the_address_our_own_proxy_saw(app, peer, forwarded_for, served_by, client):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    environ = {"REMOTE_ADDR": peer, **served_by}
    with app.test_request_context("/login", headers=headers, environ_base=environ):
        assert client_address() == client


def test_trusted_proxies_are_read_from_gunicorns_variable_and_checked(tmp_path):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path)}
    assert Config.from_env(env).trusted_proxies == ("127.0.0.1", "::1")
    given = Config.from_env({**env, "FORWARDED_ALLOW_IPS": "10.0.0.5, 10.1.0.0/16"})
    assert given.trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    with pytest.raises(ConfigError, match=r"FORWARDED_ALLOW_IPS: 'proxy\.example' is not"):
        Config.from_env({**env, "FORWARDED_ALLOW_IPS": "proxy.example"})
