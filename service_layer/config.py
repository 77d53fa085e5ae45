"""Configuration from the environment (see README): one place reads os.environ."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from engine.durations import parse_duration
from engine.retention import InvalidTimeToLive, parse_days


class ConfigError(ValueError):
    """A setting in the environment that cannot be used as given."""


class Secret:
    """A key that is no plain attribute: its value lives in a closure, `reveal()` gives it to
    the composition root, and its repr hides it. Code that walks objects by their
    attributes (a log formatter, a debugger dump, diagram code that escaped its sandbox)
    meets no key on the way; a caller that knows to call `reveal()` still gets it."""

    __slots__ = ("reveal",)

    def __init__(self, value: str) -> None:
        self.reveal: Callable[[], str] = lambda: value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        # Loud rather than a key silently made of the placeholder text.
        raise TypeError("a Secret is not text: call reveal() where the key is needed")

    def __format__(self, spec: str) -> str:
        return str(self)


@dataclass(frozen=True)
class Config:
    instance_dir: Path
    database_url: str
    secret_key: Secret
    seed_key: Secret
    smtp_host: str | None
    smtp_port: int | None
    mail_from: str
    host: str
    port: int
    worker_interval: float = 1.0
    worker_lease: float = 60.0
    worker_threads: int = 2
    script_time_budget_ms: float = 100.0
    extra_handlers: tuple[str, ...] = ()
    metrics_token: str | None = None
    metrics_dir: Path | None = None
    force_https: bool = False
    # NIST SP 800-63B 7.2 (AAL2): reauthenticate after 30 idle minutes, at least every 12 h.
    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    # gunicorn's own setting, read from the same variable with the same default: the
    # proxies whose X-Forwarded-Proto gunicorn trusts are those whose X-Forwarded-For we do.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # How long the sandbox carrier takes from shipping to the door.
    sandbox_delivery_after: timedelta = timedelta(days=3)
    # Days a finished instance keeps its personal data when its diagram names no
    # camunda:historyTimeToLive (engine/retention.py); None keeps it for good.
    history_ttl_days: int | None = 180
    # Where people reach the web app: the links in emails start with it.
    base_url: str = "http://127.0.0.1:5000"
    testing: bool = False

    @property
    def outbox_dir(self) -> Path:
        return self.instance_dir / "outbox"

    @property
    def sandbox_dir(self) -> Path:
        return self.instance_dir / "sandbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = os.environ if env is None else env
        instance = Path(env.get("TOKENFLOW_INSTANCE_DIR", "instance")).resolve()
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)  # keys, database, outbox
        default_db = f"sqlite:///{instance / 'tokenflow.db'}"
        smtp_port = env.get("TOKENFLOW_SMTP_PORT")
        host = env.get("TOKENFLOW_HOST", "127.0.0.1")
        values: dict[str, object] = {
            "instance_dir": instance,
            "database_url": env.get("TOKENFLOW_DATABASE_URL", default_db),
            "secret_key": Secret(
                env.get("TOKENFLOW_SECRET_KEY") or _secret_file(instance, "secret_key")
            ),
            "seed_key": Secret(env.get("TOKENFLOW_SEED_KEY") or _secret_file(instance, "seed_key")),
            "smtp_host": env.get("TOKENFLOW_SMTP_HOST") or None,
            "smtp_port": int(smtp_port) if smtp_port else None,
            "mail_from": env.get("TOKENFLOW_MAIL_FROM", "no-reply@tokenflow.local"),
            "host": host,
            "port": int(env.get("TOKENFLOW_PORT", "5000")),
            "worker_interval": float(env.get("TOKENFLOW_WORKER_INTERVAL", "1")),
            "worker_lease": float(env.get("TOKENFLOW_WORKER_LEASE", "60")),
            "worker_threads": max(1, int(env.get("TOKENFLOW_WORKER_THREADS", "2"))),
            "script_time_budget_ms": float(env.get("TOKENFLOW_SCRIPT_TIME_BUDGET_MS", "100")),
            "extra_handlers": tuple(
                m.strip() for m in env.get("TOKENFLOW_EXTRA_HANDLERS", "").split(",") if m.strip()
            ),
            "metrics_token": env.get("TOKENFLOW_METRICS_TOKEN") or None,
            "metrics_dir": Path(env["TOKENFLOW_METRICS_DIR"])
            if env.get("TOKENFLOW_METRICS_DIR")
            else None,
            # Reachable from other machines: passwords and codes must not cross in clear.
            "force_https": _flag(
                "TOKENFLOW_FORCE_HTTPS", env.get("TOKENFLOW_FORCE_HTTPS"), not is_loopback(host)
            ),
            "session_idle": _lifetime(env, "TOKENFLOW_SESSION_IDLE", "PT30M"),
            "session_max": _lifetime(env, "TOKENFLOW_SESSION_MAX", "PT12H"),
            "trusted_proxies": _proxies(env.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")),
            "sandbox_delivery_after": _lifetime(env, "TOKENFLOW_SANDBOX_DELIVERY_AFTER", "P3D"),
            "history_ttl_days": _time_to_live(env.get("TOKENFLOW_HISTORY_TIME_TO_LIVE")),
            "base_url": _base_url(env.get("TOKENFLOW_BASE_URL"), host, env),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _base_url(given: str | None, host: str, env: Mapping[str, str]) -> str:
    """TOKENFLOW_BASE_URL, or the address the app listens on (fine on one machine)."""
    if not given:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{env.get('TOKENFLOW_PORT', '5000')}"
    url = given.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigError(
            "TOKENFLOW_BASE_URL must be an http(s) address such as https://tokens.example.com"
        )
    return url


def _lifetime(env: Mapping[str, str], name: str, default: str) -> timedelta:
    try:
        value = parse_duration(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    if value <= timedelta(0):
        raise ConfigError(f"{name} must be longer than zero")
    return value


def _time_to_live(value: str | None) -> int | None:
    """Days, as a diagram's historyTimeToLive takes them (`180`, `P180D`); `never` keeps
    the instances of diagrams without one for good. Unset: 180 days, Camunda Modeler's
    default for new diagrams."""
    if value is None or not value.strip():
        return 180
    if value.strip().lower() == "never":
        return None
    try:
        return parse_days(value)
    except InvalidTimeToLive as exc:
        raise ConfigError(f"TOKENFLOW_HISTORY_TIME_TO_LIVE: {exc}") from None


def _proxies(value: str) -> tuple[str, ...]:
    entries = tuple(entry.strip() for entry in value.split(",") if entry.strip())
    for entry in entries:
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(
                    f"FORWARDED_ALLOW_IPS: {entry!r} is not an address or network"
                ) from None
    return entries


def _secret_file(instance: Path, name: str) -> str:
    """A random key generated once into instance/ with mode 0600."""
    path = instance / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the server to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name other than localhost, or "" (every interface)
        return False


def _flag(name: str, value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")
