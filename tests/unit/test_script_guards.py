"""What the script guards allow (plain data and its safe methods) and what they deny at
run time; the budgets of one evaluation. The static check is in test_scripting.py."""

import time

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.scripting import (
    RestrictedEnvironment,
    RestrictedScriptEngine,
    ScriptAccessDenied,
    ScriptBudgetExceeded,
    ScriptLimits,
    check_expression,
    check_script,
)

# -- what the guards allow: plain data and its safe methods ------------------------------


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ("country.upper() == 'US'", {"country": "us"}, True),
        ("name.strip().title()", {"name": " ada lovelace "}, "Ada Lovelace"),
        ("', '.join(sorted(tags))", {"tags": ["b", "a"]}, "a, b"),
        ("order.get('total', 0) > 100", {"order": {"total": 120}}, True),
        ("list(order.keys())", {"order": {"a": 1}}, ["a"]),
        ("items[1:]", {"items": [1, 2, 3]}, [2, 3]),
        ("items[::-1][0]", {"items": [1, 2, 3]}, 3),
        ("f'{number:05d}-{name!r}'", {"number": 42, "name": "x"}, "00042-'x'"),
        (
            "'%s has %d items' % (name, len(items))",
            {"name": "cart", "items": [1]},
            "cart has 1 items",
        ),
        ("now().year", {}, 2025),
        ("(now() + timedelta(hours=2)).isoformat()", {}, "2025-03-01T14:00:00+00:00"),
        ("timedelta(days=2).days", {}, 2),
        (
            "isinstance(name, str) and isinstance(items, (list, tuple))",
            {"name": "n", "items": []},
            True,
        ),
        ("2 ** 10 + (1 << 4) + 3 * 4", {}, 1024 + 16 + 12),
        ("sum(range(5)) + sum(p for p in prices)", {"prices": [1.5, 2.5]}, 14.0),
        ("str([1, 'a'])", {}, "[1, 'a']"),
    ],
)
def test_plain_data_and_its_safe_methods_work(environment, expression, data, expected):
    assert check_expression(expression) == []
    assert environment.evaluate(expression, data) == expected


def test_augmented_assignment_changes_lists_in_place_as_python_does(environment):
    data = {"items": [1], "counts": {"a": 1}}
    environment.execute("alias = items\nitems += [2]\nitems *= 2\ncounts['a'] += 2", data)
    assert data["alias"] == data["items"] == [1, 2, 1, 2]
    assert data["counts"] == {"a": 3}


def test_every_piece_of_code_in_the_shipped_diagrams_passes_the_check():
    from pathlib import Path

    from lxml import etree

    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "processes").glob("*.bpmn")) + sorted(root.glob("tests/*/*.bpmn"))
    checked = 0
    for path in files:
        tree = etree.parse(str(path))
        for element in tree.iter(f"{bpmn}script"):
            assert check_script(element.text or "") == [], (path.name, element.text)
            checked += 1
        for tag in ("conditionExpression", "timeDuration", "timeDate", "timeCycle"):
            for element in tree.iter(f"{bpmn}{tag}"):
                assert check_expression(element.text or "") == [], (path.name, element.text)
                checked += 1
    assert checked > 30


def test_an_attribute_that_plain_data_does_not_offer_is_denied_at_run_time(environment):
    with pytest.raises(ScriptAccessDenied, match=r"'function' offers diagram code no attribute"):
        environment.evaluate("now.replace", {})


def test_task_data_cannot_replace_the_guards(environment):
    data = {"_tf_getattr": "not a guard", "_tf_tick": None}
    with pytest.raises(ScriptAccessDenied):
        environment.evaluate("now.replace", data)


def test_a_script_cannot_catch_its_budget_and_carry_on(environment):
    script = "try:\n    x = 0\n    while x >= 0:\n        x += 1\nexcept Exception:\n    done = 1"
    data = {}
    with pytest.raises(ScriptBudgetExceeded):
        environment.execute(script, data)
    assert data == {}


def test_a_script_cannot_catch_a_refused_access(environment):
    with pytest.raises(ScriptAccessDenied):
        environment.execute("try:\n    f = now.replace\nexcept Exception:\n    f = None", {})


def test_a_script_may_catch_its_own_ordinary_errors(environment):
    data = {}
    environment.execute("try:\n    x = 1 / 0\nexcept ZeroDivisionError:\n    x = 0", data)
    assert data == {"x": 0}


def test_the_time_budget_is_configurable():
    quick = RestrictedEnvironment(limits=ScriptLimits(time_budget=0.02, max_operations=10**9))
    started = time.monotonic()
    with pytest.raises(ScriptBudgetExceeded, match="longer than 20 ms"):
        quick.execute("x = 0\nwhile x >= 0:\n    x += 1", {})
    assert time.monotonic() - started < 1


def test_the_iteration_budget_is_configurable():
    counted = RestrictedEnvironment(limits=ScriptLimits(max_operations=1000))
    with pytest.raises(ScriptBudgetExceeded, match="more than 1,000 loop iterations"):
        counted.evaluate("[i for i in range(2000)]", {})
    assert counted.evaluate("len([i for i in range(999)])", {}) == 999


def test_budgets_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        ScriptLimits(time_budget=0)


def test_the_engine_says_why_it_stopped_a_condition(task):
    with pytest.raises(WorkflowTaskException) as stopped:
        RestrictedScriptEngine().evaluate(task, "len('a' * 10 ** 10) > 0")
    assert "a repeated str would be too large" in str(stopped.value)


def test_a_script_that_writes_too_much_leaves_the_task_data_untouched(environment):
    data = {"a": 1}
    with pytest.raises(ScriptBudgetExceeded, match="what the script writes"):
        environment.execute("x = 'a' * 900000\ny = 'b' * 900000", data)
    assert data == {"a": 1}
