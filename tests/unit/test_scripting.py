import ast
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.scripting import (
    SAFE_BUILTINS,
    RestrictedEnvironment,
    RestrictedScriptEngine,
    UnsafeScriptError,
    check_expression,
    check_script,
)
from tests.unit.builders import CLOCK_TIME, completed, start_checkout

UNSAFE_EXPRESSIONS = [
    "__import__('os')",
    "().__class__.__bases__",
    "open('/etc/passwd')",
    "getattr(x, '__class__')",
    "'{0.__class__}'.format(1)",
    "'{0.__class__}'.format_map",
    "eval('1')",
    "exec('x=1')",
    "[c for c in ().__class__.__mro__]",
    "globals()",
    "__builtins__",
    "f'{().__class__}'",
    "dict(__class__=1)",
    "(g for g in [1]).gi_frame.f_back.f_globals",
    "int.mro()",
    "type(x)",
    "\U0001d41e\U0001d42f\U0001d41a\U0001d425('1')",  # mathematical bold "eval"
]
UNSAFE_STATEMENTS = [
    "import os",
    "double = lambda p: p * 2",
    "from os import system",
    "def f():\n    return 1",
    "class C:\n    pass",
    "with x:\n    pass",
    "global x",
]


@pytest.mark.parametrize(
    ("condition", "data", "expected"),
    [
        ('payment_method == "card"', {"payment_method": "card"}, True),
        ('payment_method == "card"', {"payment_method": "invoice"}, False),
        ("attempts >= 2", {"attempts": 2}, True),
        ("attempts >= 2", {"attempts": 1}, False),
        ("  attempts >= 2", {"attempts": 3}, True),
    ],
)
def test_conditions_evaluate_on_task_data(environment, condition, data, expected):
    assert environment.evaluate(condition, data) is expected


def test_a_script_sets_variables_in_the_task_data(environment):
    data = {"a": 1}
    environment.execute("x = a + 1", data)
    assert data == {"a": 1, "x": 2}


def test_a_script_that_deletes_a_variable_removes_it_from_the_task_data(environment):
    data = {"a": 1, "b": 2}
    environment.execute("del b", data)
    assert data == {"a": 1}


def test_helpers_and_builtins_named_by_a_script_are_not_written_to_the_task_data(environment):
    data = {"prices": [5, 7]}
    environment.execute("clock = now\nlength = len\ncount = length(prices)", data)
    assert data == {"prices": [5, 7], "count": 2}


def test_a_failing_script_leaves_the_task_data_untouched(environment):
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        environment.execute("x = 1\na = a / 0", data)
    assert data == {"a": 1}


def test_an_evaluated_expression_does_not_change_the_task_data(environment):
    data = {"a": 1}
    assert environment.evaluate("(b := a + 1)", data) == 2
    assert data == {"a": 1}


def test_comprehensions_see_the_task_data(environment):
    data = {"prices": [5, 120], "limit": 100}
    assert environment.evaluate("any(p > limit for p in prices)", data)
    assert environment.evaluate("[p for p in prices if p < limit]", data) == [5]


def test_whitelisted_builtins_work(environment):
    data = {"items": [3, 1, 2]}
    assert environment.evaluate("len(items)", data) == 3
    assert environment.evaluate("sorted(items)", data) == [1, 2, 3]
    assert environment.evaluate("min(items)", data) == 1
    assert environment.evaluate("dict(zip('ab', range(2)))", data) == {"a": 0, "b": 1}


def test_a_script_can_catch_ordinary_errors(environment):
    data = {"values": {}}
    environment.execute("try:\n    v = values['x']\nexcept KeyError:\n    v = None", data)
    assert data["v"] is None


def test_builtins_outside_the_whitelist_are_undefined(environment):
    with pytest.raises(NameError):
        environment.evaluate("chr(65)", {})


def test_safe_builtins_offer_no_import_and_cannot_be_changed():
    assert "__import__" not in SAFE_BUILTINS
    with pytest.raises(TypeError):
        SAFE_BUILTINS["open"] = open


def test_task_data_cannot_replace_the_builtins(environment):
    data = {"__builtins__": {"len": lambda _: "hacked"}}
    assert environment.evaluate("len([1])", data) == 1


def test_now_is_an_aware_utc_datetime_from_the_injected_clock():
    paris = timezone(timedelta(hours=1))
    environment = RestrictedEnvironment(clock=lambda: datetime(2025, 3, 1, 13, 0, tzinfo=paris))
    now = environment.evaluate("now()", {})
    assert now == CLOCK_TIME
    assert now.tzinfo is UTC


def test_timedelta_is_available_for_date_arithmetic(environment):
    result = environment.evaluate("now() + timedelta(days=1)", {})
    assert result == CLOCK_TIME + timedelta(days=1)


def test_a_clock_returning_a_naive_datetime_is_rejected():
    environment = RestrictedEnvironment(clock=lambda: datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        environment.evaluate("now()", {})


def test_a_script_may_not_overwrite_a_helper_through_task_data(environment):
    with pytest.raises(ValueError, match="now"):
        environment.execute("x = 1", {"now": 1})


def test_safe_code_has_no_problems():
    assert check_expression("attempts >= 2 and payment_method in ('card', 'sepa')") == []
    assert check_script("total = 0\nfor p in prices:\n    total += p\n_ = total") == []


def test_syntax_errors_are_reported_with_their_line():
    assert check_script("x = 1\ny = = 2") == ["line 2: syntax error: invalid syntax"]


def test_private_names_are_reported_by_name():
    assert check_expression("__import__('os')") == [
        "line 1: '__import__' is private (names may not start with '_')"
    ]


@pytest.mark.parametrize("source", UNSAFE_EXPRESSIONS)
def test_unsafe_expressions_are_refused_by_the_check(source):
    assert check_expression(source)
    assert check_script(source)


@pytest.mark.parametrize("source", UNSAFE_STATEMENTS)
def test_unsafe_statements_are_refused_by_the_check(source):
    assert check_script(source)


@pytest.mark.parametrize("source", UNSAFE_EXPRESSIONS)
def test_unsafe_expressions_are_refused_without_running(environment, source):
    data = {"seen": [], "x": 1}
    with pytest.raises(UnsafeScriptError) as refused:
        environment.evaluate(f"seen.append(1) or ({source})", data)
    assert refused.value.problems
    assert data["seen"] == []


@pytest.mark.parametrize("source", UNSAFE_EXPRESSIONS + UNSAFE_STATEMENTS)
def test_unsafe_scripts_are_refused_without_running(environment, source):
    data = {"x": 1}
    with pytest.raises(UnsafeScriptError):
        environment.execute(f"marker = 1\n{source}", data)
    assert data == {"x": 1}


def test_the_engine_names_the_task_when_it_refuses_an_expression(task):
    with pytest.raises(WorkflowTaskException) as refused:
        RestrictedScriptEngine().evaluate(task, "seen.append(1) or globals()")
    assert refused.value.task is task
    assert refused.value.error_type == "UnsafeScriptError"
    assert "'globals' is not available" in str(refused.value)
    assert task.data["seen"] == []


def test_the_engine_names_the_task_when_it_refuses_a_script(task):
    with pytest.raises(WorkflowTaskException) as refused:
        RestrictedScriptEngine().execute(task, "marker = 1\nimport os")
    assert refused.value.task is task
    assert "'import' is not allowed" in str(refused.value)
    assert "marker" not in task.data


def test_the_engine_reports_the_failing_line_of_a_script(task):
    with pytest.raises(WorkflowTaskException) as failed:
        RestrictedScriptEngine().execute(task, "x = 1\ny = x / 0")
    assert failed.value.line_number == 2
    assert failed.value.error_line == "y = x / 0"


def test_the_engine_refuses_service_calls_with_a_clear_error(task):
    with pytest.raises(WorkflowTaskException, match="cannot call services") as refused:
        RestrictedScriptEngine().call_service(task, operation_name="charge")
    assert refused.value.task is task


def test_the_environment_refuses_service_calls():
    with pytest.raises(NotImplementedError, match="service tasks"):
        RestrictedEnvironment().call_service({}, operation_name="charge")


def test_repeated_evaluation_of_a_condition_parses_it_once(environment, monkeypatch):
    parses = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda *a, **k: parses.append(a) or real_parse(*a, **k))
    condition = f"attempts >= 2 or {uuid.uuid4().hex!r} == ''"
    for _ in range(3):
        assert environment.evaluate(condition, {"attempts": 2})
    assert len(parses) == 1


PYTHONISH = st.lists(
    st.sampled_from(
        ["x", "_", "__class__", ".", "(", ")", "[", "]", "{", "}", "'", '"', "f'", ":", "=",
         "lambda", "for", "in", "if", "import", "\n", " ", "\t", "1", ",", "-", "*", "\\", "\0"]
    )
).map("".join)  # fmt: skip


@given(st.text() | PYTHONISH)
def test_checks_only_return_problems_on_arbitrary_text(source):
    for check in (check_expression, check_script):
        problems = check(source)
        assert isinstance(problems, list)
        assert all(isinstance(problem, str) for problem in problems)


@pytest.mark.parametrize(
    ("payment_method", "end"), [("card", "card_end"), ("invoice", "invoice_end")]
)
def test_an_exclusive_gateway_follows_its_condition(payment_method, end):
    workflow = start_checkout('payment_method == "card"', payment_method=payment_method, attempts=0)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert completed(workflow, end)
    assert workflow.get_tasks(spec_name=end)[0].data["attempts"] == 1


def test_a_gateway_condition_that_imports_os_raises_instead_of_running(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", calls.append)
    workflow = start_checkout("__import__('os').system('true')", payment_method="card", attempts=0)
    with pytest.raises(WorkflowTaskException) as refused:
        workflow.do_engine_steps()
    assert refused.value.error_type == "UnsafeScriptError"
    assert calls == []
    assert not completed(workflow, "card_end")
    assert not completed(workflow, "invoice_end")
