"""Camunda's own DMN examples (tests/data/camunda-dmn, unchanged) deploy and decide as
Camunda's examples say they do: the dish by season and guests, and the beverages of a
decision requirements graph (a COLLECT table that requires the dish)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.registry import Registry
from tests.builders import engine_system
from tests.decisions.builders import decided, deploy, process

DATA = Path(__file__).resolve().parents[1] / "data" / "camunda-dmn"


@pytest.fixture
def system(config):
    return engine_system(config, Registry())


def example(name: str) -> tuple[str, bytes]:
    return name, (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("season", "guests", "dish"),
    [
        ("Fall", 6, "Spareribs"),
        ("Winter", 8, "Roastbeef"),
        ("Spring", 3, "Dry Aged Gourmet Steak"),
        ("Spring", 7, "Steak"),
        ("Winter", 12, "Stew"),
        ("Summer", 30, "Light Salad and a nice Steak"),
    ],
)
def test_the_dish_decision(system, season, guests, dish):
    task = process("decision", mapping="singleEntry")
    deploy(system, example("dish-decision.dmn"), ("p.bpmn", task))
    assert decided(system, {"season": season, "guestCount": guests})["outcome"] == dish


@pytest.mark.parametrize(
    ("season", "guests", "children", "beverages"),
    [
        ("Fall", 6, False, ["Aecht Schlenkerla Rauchbier", "Water"]),
        ("Spring", 7, True, ["Pinot Noir", "Apple Juice", "Water"]),
        ("Winter", 12, False, ["Guiness", "Water"]),
    ],
)
def test_the_beverages_of_the_dinner_decision_graph(system, season, guests, children, beverages):
    deployed = deploy(
        system,
        example("dinnerDecisions.dmn"),
        ("p.bpmn", process("beverages", mapping="collectEntries")),
    )
    assert {(d.kind, d.key) for d in deployed} >= {("decision", "beverages"), ("decision", "dish")}
    data = {"season": season, "guestCount": guests, "guestsWithChildren": children}
    assert decided(system, data)["outcome"] == beverages
