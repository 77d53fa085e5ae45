"""Business rule tasks evaluate deployed decision tables: hit policies, Camunda's
`mapDecisionResult` forms, input expressions, and failures that become incidents."""

from __future__ import annotations

import pytest

from engine.errors import ProcessIncident
from engine.registry import Registry
from tests.builders import engine_system
from tests.decisions.builders import decided, deploy, incidents, process, table

TIERS = [
    ([">= 1000"], ['"gold"']),
    (["[100..1000["], ['"silver"']),
    (["< 100"], ['"bronze"']),
]


@pytest.fixture
def system(config):
    return engine_system(config, Registry())


def run(system, rules, data, *, mapping="singleEntry", inputs=("amount",), **options):
    deploy(
        system,
        ("d.dmn", table(rules, inputs=inputs, **options)),
        ("p.bpmn", process(mapping=mapping)),
    )
    return decided(system, data)["outcome"]


@pytest.mark.parametrize(("amount", "tier"), [(5000, "gold"), (1000, "gold"), (100, "silver"),
                                              (99.5, "bronze")])  # fmt: skip
def test_a_unique_table_decides_by_comparisons_and_intervals(system, amount, tier):
    assert run(system, TIERS, {"amount": amount}) == tier


def test_first_takes_the_first_matching_rule_in_order(system):
    rules = [(["> 10"], ['"big"']), (["> 0"], ['"small"']), (["-"], ['"none"'])]
    assert run(system, rules, {"amount": 50}, hit_policy="FIRST") == "big"
    assert run(system, rules, {"amount": 5}, hit_policy="FIRST") == "small"


def test_any_accepts_several_matches_that_agree(system):
    rules = [(["> 10"], ['"yes"']), (["> 5"], ['"yes"']), (["-"], ['"yes"'])]
    assert run(system, rules, {"amount": 50}, hit_policy="ANY") == "yes"


def test_priority_takes_the_match_whose_output_value_comes_first(system):
    rules = [(["> 0"], ['"low"']), (["> 10"], ['"high"']), (["> 5"], ['"medium"'])]
    options = {"hit_policy": "PRIORITY", "output_values": '"high","medium","low"'}
    assert run(system, rules, {"amount": 50}, **options) == "high"
    assert run(system, rules, {"amount": 7}, **options) == "medium"


def test_rule_order_and_collect_give_every_match_in_order(system):
    rules = [(["> 10"], ['"a"']), (["> 5"], ['"b"']), (["> 100"], ['"c"'])]
    for policy in ("RULE ORDER", "COLLECT"):
        got = run(system, rules, {"amount": 50}, hit_policy=policy, mapping="collectEntries")
        assert got == ["a", "b"]


@pytest.mark.parametrize(("aggregation", "expected"), [("SUM", 35), ("MIN", 5), ("MAX", 20),
                                                       ("COUNT", 3)])  # fmt: skip
def test_collect_aggregates_the_matched_outputs(system, aggregation, expected):
    rules = [(["> 0"], ["10"]), (["> 1"], ["20"]), (["> 2"], ["5"]), (["> 1000"], ["99"])]
    got = run(system, rules, {"amount": 50}, hit_policy="COLLECT", aggregation=aggregation)
    assert got == expected


def test_collect_count_of_nothing_is_zero(system):
    rules = [(["> 1000"], ["1"])]
    got = run(system, rules, {"amount": 5}, hit_policy="COLLECT", aggregation="COUNT")
    assert got == 0


def test_the_result_mappings_are_camundas(system):
    rules = [(["> 10", "-"], ['"a"', "1"]), (["> 5", '"x"'], ['"b"', "2"])]
    deploy(
        system,
        ("d.dmn", table(rules, inputs=("amount", "kind"), outputs=("name", "rank"),
                        hit_policy="RULE ORDER")),
        ("list.bpmn", process(process_id="as_list")),
        ("single.bpmn", process(process_id="as_single", mapping="singleResult")),
    )  # fmt: skip
    both = {"amount": 50, "kind": "x"}
    assert decided(system, both, "as_list")["outcome"] == [
        {"name": "a", "rank": 1},
        {"name": "b", "rank": 2},
    ]
    only_first = {"amount": 50, "kind": "y"}
    assert decided(system, only_first, "as_single")["outcome"] == {"name": "a", "rank": 1}


def test_input_expressions_may_be_paths_juel_or_python(system):
    rules = [(['"DE"', "> 1000", "true"], ["true"]), (["-", "-", "-"], ["false"])]
    inputs = ("order.country", "${order.total * 2}", 'len(order["items"]) > 1')
    data = {"order": {"country": "DE", "total": 600, "items": [1, 2]}}
    assert run(system, rules, data, inputs=inputs, hit_policy="FIRST") is True
    data["order"]["items"] = [1]
    assert run(system, rules, data, inputs=inputs, hit_policy="FIRST") is False


def test_lists_and_not_match_text(system):
    rules = [(['"gold","platinum"'], ['"vip"']), (['not("gold","platinum")'], ['"regular"'])]
    deploy(system, ("d.dmn", table(rules, inputs=("status",))),
           ("p.bpmn", process(mapping="singleEntry")))  # fmt: skip
    assert decided(system, {"status": "platinum"})["outcome"] == "vip"
    assert decided(system, {"status": "tin"})["outcome"] == "regular"


def test_a_unique_table_with_two_matches_is_an_incident_at_the_task(system):
    rules = [(["> 10"], ['"a"']), (["> 5"], ['"b"'])]
    with pytest.raises(ProcessIncident) as caught:
        run(system, rules, {"amount": 50})
    assert caught.value.element == "rule"
    assert "rules 1, 2 all match, but its hit policy UNIQUE allows one" in caught.value.detail
    [incident] = incidents(system)
    assert incident["element"] == "rule"


def test_no_match_for_a_single_result_is_an_incident(system):
    with pytest.raises(ProcessIncident) as caught:
        run(system, TIERS, {"amount": "lots"}, mapping="singleResult")
    assert "no rule matched, and singleResult needs one result" in caught.value.detail


def test_no_match_in_a_result_list_is_an_empty_list(system):
    assert run(system, TIERS, {"amount": None}, mapping="resultList") == []


def test_any_with_disagreeing_matches_is_an_incident(system):
    rules = [(["> 10"], ['"a"']), (["> 5"], ['"b"'])]
    with pytest.raises(ProcessIncident) as caught:
        run(system, rules, {"amount": 50}, hit_policy="ANY")
    assert "match with different outputs" in caught.value.detail


def test_a_missing_input_variable_is_an_incident_naming_it(system):
    with pytest.raises(ProcessIncident) as caught:
        run(system, TIERS, {"other": 1})
    assert "variable 'amount' is not set" in caught.value.detail


def test_an_input_expression_runs_in_the_sandbox(system):
    rules = [(["-"], ["1"])]
    with pytest.raises(ProcessIncident) as caught:
        run(system, rules, {"s": "x"}, inputs=("s * 10000000",))
    assert caught.value.element == "rule"
    assert incidents(system)[0]["element"] == "rule"


def test_an_empty_output_cell_gives_no_entry_so_single_entry_takes_the_filled_one(system):
    each_one = table([(["> 5"], ['"a"', ""]), (["<= 5"], ["", '"b"'])], outputs=("x", "y"))
    deploy(system, ("d.dmn", each_one), ("p.bpmn", process(mapping="singleEntry")))
    assert decided(system, {"amount": 9})["outcome"] == "a"
    assert decided(system, {"amount": 1})["outcome"] == "b"


def test_single_entry_on_a_result_of_two_entries_is_an_incident(system):
    two = table([(["-"], ['"a"', '"b"'])], outputs=("x", "y"))
    deploy(system, ("d.dmn", two), ("p.bpmn", process(mapping="singleEntry")))
    with pytest.raises(ProcessIncident) as caught:
        decided(system, {"amount": 1})
    assert "singleEntry needs one output" in caught.value.detail
    assert incidents(system)[0]["element"] == "rule"
