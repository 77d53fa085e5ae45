"""Every journey email links to the customer's order page (TOKENFLOW_BASE_URL) and says
what to do next; the interview reminder carries the join link."""

from __future__ import annotations

from pathlib import Path

import pytest

from service_layer.config import Config, ConfigError
from tests.builders import journey_system
from tests.journey.builders_proofing import emails, order_to_proofing, reach_interview


def test_journey_emails_link_to_the_order_page_and_say_what_to_do_next(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, country="DE")
    journey.message("token_delivered", {})
    reach_interview(journey)
    order_page = f"{config.base_url}/orders/{journey.instance_id}"
    sent = emails(system)
    subjects = [text.splitlines()[0] for text in sent]
    for wanted in (
        "Your order SO-",
        "Your license key",
        "Your token is on its way",
        "Your token has arrived",
        "Your video appointment on",
        "Reminder: your video appointment",
    ):
        [text] = [t for t in sent if t.startswith(wanted)]
        assert order_page in text, wanted
        assert "What to do next" in text, wanted
    assert len(subjects) == len(sent)
    [reminder] = [t for t in sent if t.startswith("Reminder:")]
    assert journey.variables["appointment_join_url"] in reminder


def test_the_base_url_comes_from_the_environment_and_is_checked(tmp_path: Path) -> None:
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path)}
    assert Config.from_env(env).base_url == "http://127.0.0.1:5000"
    given = {**env, "TOKENFLOW_BASE_URL": "https://tokens.example.com/"}
    assert Config.from_env(given).base_url == "https://tokens.example.com"
    for bad in ("tokens.example.com", "javascript:alert(1)", "https://a b"):
        with pytest.raises(ConfigError, match="TOKENFLOW_BASE_URL"):
            Config.from_env({**env, "TOKENFLOW_BASE_URL": bad})
