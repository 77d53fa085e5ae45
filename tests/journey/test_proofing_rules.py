"""Which proofing methods a country may use is a decision table (processes/
proofing_methods.dmn), not code: the journey follows the table, and a new version of the
table changes the journey for new customers."""

from __future__ import annotations

import pytest

from engine.actors import SYSTEM
from service_layer.config import Config
from tests.builders import PROCESSES, journey_system
from tests.journey.builders_proofing import start_proofing


@pytest.mark.parametrize("country", ["US", "us", "Us"])
def test_a_us_customer_is_offered_experian(config: Config, country: str) -> None:
    journey = start_proofing(journey_system(config), country=country)
    assert journey.active == ["choose_proofing_method"]
    assert journey.view()["variables"]["experian_allowed"] is True


@pytest.mark.parametrize("country", ["DE", "CA", "gb"])
def test_a_customer_elsewhere_is_not_offered_experian(config: Config, country: str) -> None:
    journey = start_proofing(journey_system(config), country=country)
    assert journey.active == ["schedule_video_proofing"]
    assert journey.view()["variables"]["experian_allowed"] is False


def test_a_new_version_of_the_table_changes_the_journey_for_new_customers(
    config: Config,
) -> None:
    system = journey_system(config)
    before = start_proofing(system, country="CA")
    table = (PROCESSES / "proofing_methods.dmn").read_text()
    assert table.count('"US"') == 2
    with_canada = table.replace('"US"', '"US","CA"')
    [deployed] = system.engine.deploy([("proofing_methods.dmn", with_canada.encode())], SYSTEM)
    assert (deployed.kind, deployed.key, deployed.version) == ("decision", "proofing_methods", 2)
    after = start_proofing(system, order_number="SO-10002", country="CA")
    assert after.active == ["choose_proofing_method"]
    assert before.active == ["schedule_video_proofing"]
