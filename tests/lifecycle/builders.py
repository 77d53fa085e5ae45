"""Helpers for the credential's life: a wired app with people and relying applications,
credentials as registration leaves them (with known token secrets), and the calls an
application or a customer makes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.credentials.models import Credential
from domain.phone.models import PhoneCredential
from domain.relying_apps.apps import create_app as create_relying_app
from domain.tokens.models import HardwareToken
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from service_layer.system import System
from tests.builders import PASSWORD, journey_system, person
from tests.journey.builders_proofing import outbox_files
from tests.journey.builders_tokens import TestToken, add_token
from tests.journey.builders_tokens import token_row as journey_token_row
from web.app import create_app

PEOPLE = {"alice": "customer", "bob": "customer", "sam": "support", "root": "admin"}
APPS = {"aerospace-portal": "hardware_token", "intranet": "hardware_token,phone"}
WRONG = "000000"  # tried first as a wrong code; wrong_code skips it if it is valid now


@dataclass
class Life:
    """One wired Tokenflow: the system, a test client, user ids and application keys."""

    system: System
    client: FlaskClient
    users: dict[str, int]
    keys: dict[str, str]
    _logins: dict[str, dict[str, str]] = field(default_factory=dict)

    def actor(self, username: str) -> Actor:
        return Actor(username, frozenset({PEOPLE[username]}), user_id=self.users[username])

    def verify(self, app: str, username: str, code: str) -> dict[str, Any]:
        answer = self.client.post(
            "/api/v1/otp/verify",
            json={"username": username, "code": code},
            headers={"Authorization": f"Bearer {self.keys[app]}"},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    def phone_code(self, app: str, username: str) -> Any:
        return self.client.post(
            "/api/v1/otp/phone-code",
            json={"username": username},
            headers={"Authorization": f"Bearer {self.keys[app]}"},
        )

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._logins:
            answer = self.client.post(
                "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.json
            self._logins[username] = {"Authorization": f"Bearer {answer.json['token']}"}
        return self._logins[username]

    def post(self, username: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.headers(username), **kwargs)


def wire(config: Any) -> Life:
    system = journey_system(config)
    users, keys = {}, {}
    with unit_of_work(system.session_factory) as s:
        for name, role in PEOPLE.items():
            users[name] = person(s, name, [role], email=f"{name}@example.com").id
        for name, accepts in APPS.items():
            keys[name] = create_relying_app(s, name, accepts)[1]
    app = create_app(system)
    app.config["TESTING"] = True
    return Life(system, app.test_client(), users, keys)


def issue_credential(
    life: Life,
    username: str,
    serial: str,
    *,
    kind: str = "totp",
    digits: int = 6,
    period: int | None = 30,
    algorithm: str = "SHA1",
    secret: bytes | None = None,
    phone: str | None = None,
    expires_at: datetime | None = None,
    order_number: str = "SO-10001",
) -> TestToken:
    """A credential as registration leaves it: the token active and bound to the user,
    a one-year term (unless told), and optionally a verified backup phone."""
    token = add_token(
        life.system,
        serial,
        kind=kind,
        digits=digits,
        period=period,
        algorithm=algorithm,
        secret=secret,
    )
    owner = life.users[username]
    with unit_of_work(life.system.session_factory) as s:
        row = s.scalars(select(HardwareToken).where(HardwareToken.serial == serial)).one()
        row.status, row.owner_id, row.order_number = "active", owner, order_number
        now = clock.now()
        s.add(
            Credential(
                order_number=order_number,
                instance_id="00000000-0000-0000-0000-000000000000",
                owner_id=owner,
                token_serial=serial,
                status="active",
                purchased_at=now,
                activated_at=now,
                expires_at=expires_at or now + timedelta(days=365),
            )
        )
        if phone:
            s.add(
                PhoneCredential(
                    owner_id=owner,
                    order_number=order_number,
                    phone_number=phone,
                    channel="sms",
                    verified_at=now,
                )
            )
    return token


def token_row(life: Life, serial: str) -> HardwareToken:
    return journey_token_row(life.system, serial)


def credential_row(life: Life, order_number: str = "SO-10001") -> Credential:
    with unit_of_work(life.system.session_factory) as s:
        row = s.scalars(select(Credential).where(Credential.order_number == order_number)).one()
        s.expunge(row)
        return row


def code_now(token: TestToken, steps_ahead: int = 0) -> str:
    return token.code_at(token.current_step() + steps_ahead)


def wrong_code(token: TestToken) -> str:
    """A six-digit code that no step near now produces."""
    near = {code_now(token, n) for n in range(-10, 11)}
    return next(c for c in (WRONG, "111111", "222222", "333333") if c not in near)


def lock(life: Life, token: TestToken, times: int = 10) -> None:
    """`times` wrong codes in a row from aerospace-portal for alice (ten lock the token)."""
    for _ in range(times):
        assert life.verify("aerospace-portal", "alice", wrong_code(token))["valid"] is False


def newest_sms_code(system: System) -> str:
    text = outbox_files(system, "sms")[-1].read_text()
    match = re.search(r"code is (\d{6})", text)
    assert match, text
    return match.group(1)
