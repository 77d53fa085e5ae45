"""After proofing, neither SSN digits nor an activation code can be found in clear in the
database, the logs, the audit trail or the outbox (save the letter that delivers a code)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from engine.db import unit_of_work
from engine.queries import instance_events
from service_layer.config import Config
from tests.builders import ADMIN, journey_system
from tests.journey.builders_proofing import (
    SSN_LAST4,
    activation_code_in_letter,
    order_to_proofing,
    outbox_files,
    proven_by_video,
    try_experian,
)
from tests.journey.builders_purchase import stored_text

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def mentions(text: str, value: str) -> bool:
    """True when `value` stands on its own in `text`: random ids and digests may hold
    any four digits by chance, a leak sits between quotes, spaces or punctuation."""
    text = _UUID.sub("<uuid>", text)
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text, re.I) is not None


def files_text(paths: list[Path]) -> str:
    return "\n".join(p.read_text(errors="replace") for p in paths if p.is_file())


def test_no_ssn_digits_or_activation_code_in_clear_anywhere_after_proofing(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    system = journey_system(config)
    by_post = order_to_proofing(system)
    by_post.complete("choose_proofing_method", {"method": "experian"})
    try_experian(by_post, wrong=3)
    try_experian(by_post, wrong=1)
    mailed = activation_code_in_letter(system)
    by_post.complete("activate_token", {"activation_code": mailed})

    by_video = order_to_proofing(system)
    shown = proven_by_video(by_video)
    by_video.complete("activate_token", {"activation_code": shown})
    assert "activate_token" not in by_post.active + by_video.active

    with unit_of_work(system.session_factory) as s:
        audit = json.dumps([instance_events(s, ADMIN, j.instance_id) for j in (by_post, by_video)])
    letters = outbox_files(system, "letter")
    everything_but_letters = [p for p in system.config.instance_dir.rglob("*") if p not in letters]
    places = {
        "database": stored_text(system),
        "logs": caplog.text,
        "audit trail": audit,
        "instance views": json.dumps([by_post.view(), by_video.view()]),
        "outbox and sandboxes": files_text(everything_but_letters),
    }
    secrets = [SSN_LAST4]
    for code in (mailed, shown):
        secrets += [code, code.replace("-", "")]
    for place, text in places.items():
        for secret in secrets:
            assert not mentions(text, secret), f"{secret} found in the {place}"
    assert mailed in files_text(letters)
