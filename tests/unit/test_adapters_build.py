from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import build_adapters
from adapters.email import OutboxEmailSender, SmtpEmailSender
from adapters.store import IdempotencyConflict, JsonFileStore


def test_email_goes_to_the_outbox_unless_an_smtp_host_is_configured(tmp_path: Path) -> None:
    outbox = build_adapters(tmp_path / "state", tmp_path / "outbox", None, None, "a@b.example")
    smtp = build_adapters(tmp_path / "state", tmp_path / "outbox", "mail", None, "a@b.example")
    assert isinstance(outbox.email, OutboxEmailSender)
    assert isinstance(smtp.email, SmtpEmailSender)
    assert smtp.email.port == 25


def test_a_stored_record_is_kept_by_the_first_writer(tmp_path: Path) -> None:
    store = JsonFileStore(tmp_path)
    assert store.create("k", {"n": 1}) == {"n": 1}
    assert store.create("k", {"n": 2}) == {"n": 1}
    assert not list(tmp_path.glob(".tmp-*"))


@pytest.mark.parametrize("key", ["SO-10001:charge:1", "../../etc/passwd", ".hidden", "ü"])
def test_any_key_names_a_file_inside_the_store(tmp_path: Path, key: str) -> None:
    store = JsonFileStore(tmp_path / "store")
    store.create(key, {"key": key})
    assert store.path(key).parent == tmp_path / "store"
    assert json.loads(store.path(key).read_text()) == {"key": key}


def test_a_key_reused_for_another_request_is_a_conflict(tmp_path: Path) -> None:
    store = JsonFileStore(tmp_path)
    assert store.once("k", {"amount": 1}, lambda: {"id": "a"}) == {"id": "a"}
    assert store.once("k", {"amount": 1}, lambda: {"id": "b"}) == {"id": "a"}
    with pytest.raises(IdempotencyConflict):
        store.once("k", {"amount": 2}, lambda: {"id": "c"})
