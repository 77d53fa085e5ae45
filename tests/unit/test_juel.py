"""JUEL as Camunda 7 diagrams write it: every supported form, its EL semantics, and the
refusal of what is not supported, by message."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import juel
from engine.juel import JuelError, JuelEvaluationError
from engine.script_budget import ScriptAccessDenied, ScriptBudgetExceeded, ScriptLimits
from engine.scripting import RestrictedEnvironment, check_expression, is_juel

DATA = {
    "order": {"total": 1200, "items": ["token", "case"], "customer": None},
    "amount": 1500,
    "name": "Ann",
    "blank": "",
    "nothing": None,
    "no_items": [],
    "no_fields": {},
    "status": "gold",
    "flag": True,
    "count_text": "5",
    "price": 2.5,
    "born": date(1990, 5, 17),
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        # variables and property access
        ("${amount}", 1500),
        ("${order.total}", 1200),
        ("${order['total']}", 1200),
        ('${order["total"]}', 1200),
        ("${order.items[1]}", "case"),
        ("${order.items[5]}", None),
        ("${order.missing}", None),
        ("${order.customer.name}", None),
        ("${born.year}", 1990),
        # literals
        ("${'single'}", "single"),
        ('${"double"}', "double"),
        ("${'it\\'s'}", "it's"),
        ("${42}", 42),
        ("${2.5}", 2.5),
        ("${1e3}", 1000.0),
        ("${true}", True),
        ("${false}", False),
        ("${null}", None),
        # comparisons, symbols and words
        ("${amount == 1500}", True),
        ("${amount eq 1500}", True),
        ("${amount != 1500}", False),
        ("${amount ne 1500}", False),
        ("${amount > 1000}", True),
        ("${amount gt 1000}", True),
        ("${amount < 1000}", False),
        ("${amount lt 1000}", False),
        ("${amount >= 1500}", True),
        ("${amount ge 1501}", False),
        ("${amount <= 1500}", True),
        ("${amount le 1499}", False),
        ("${status == 'gold'}", True),
        ("${name < 'Bob'}", True),
        ("${count_text == 5}", True),
        ("${flag == 'true'}", True),
        # logic, symbols and words
        ("${amount > 1000 && status == 'gold'}", True),
        ("${amount > 1000 and status == 'silver'}", False),
        ("${amount < 1000 || flag}", True),
        ("${amount < 1000 or !flag}", False),
        ("${not flag}", False),
        ("${!(amount > 1000)}", False),
        # empty
        ("${empty nothing}", True),
        ("${empty blank}", True),
        ("${empty no_items}", True),
        ("${empty no_fields}", True),
        ("${empty name}", False),
        ("${not empty order.items}", True),
        # arithmetic
        ("${1 + 2 * 3}", 7),
        ("${(1 + 2) * 3}", 9),
        ("${amount - 500}", 1000),
        ("${7 / 2}", 3.5),
        ("${7 div 2}", 3.5),
        ("${7 % 3}", 1),
        ("${7 mod 3}", 1),
        ("${-7 mod 3}", -1),
        ("${-amount}", -1500),
        ("${price * 2}", 5.0),
        ("${count_text + 1}", 6),
        ("${nothing + 1}", 1),
        # the ternary
        ("${amount > 1000 ? 'large' : 'small'}", "large"),
        ("${empty nothing ? 0 : 1}", 0),
        # #{...} is read as ${...}
        ("#{amount ge 1500}", True),
        # blanks around one expression keep its type
        ("  ${amount}\n", 1500),
    ],
)
def test_each_supported_juel_form_evaluates_as_camunda_does(expression, value):
    result = juel.evaluate(expression, DATA)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Hello ${name}!", "Hello Ann!"),
        ("${name} owes ${amount}", "Ann owes 1500"),
        ("flag=${flag}, none=[${nothing}]", "flag=true, none=[]"),
        ("group-${status == 'gold' ? 'vip' : 'standard'}", "group-vip"),
        ("cost \\${amount} is ${amount}", "cost ${amount} is 1500"),
        ("${'}'} closes", "} closes"),
    ],
)
def test_text_with_expressions_in_it_evaluates_to_a_string(text, value):
    assert juel.evaluate(text, DATA) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "${order.total()}",
            "${order.total()}: method calls such as .total(...) are not supported",
        ),
        ("${size(items)}", "${size(items)}: function calls such as size(...) are not supported"),
        ("${fn:length(items)}", "${fn:length(items)}: ':' at column 3 is not supported here"),
        ("${x = 3}", "${x = 3}: '=' at column 3 is not supported"),
        ("${a instanceof b}", "${a instanceof b}: 'instanceof' at column 3 is not supported"),
        ("${[1, 2]}", "${[1, 2]}: '[' at column 1 is not supported here"),
        ("${x -> x}", "${x -> x}: '>' at column 4 is not supported here"),
        ("${a; b}", "${a; b}: ';' at column 2 is not supported"),
        ("${amount >}", "${amount >}: the expression ends too early"),
        ("${}", "${}: the expression is empty"),
        ("${amount", "${amount: the expression has no closing }"),
        ("${" + "-" * 5000 + "1}", "nested too deeply"),
        ("${" + "1+" * 6000 + "1}", "expression is longer than 10,000 characters"),
    ],
)
def test_unsupported_juel_is_refused_naming_the_expression_and_what_is_missing(expression, message):
    [problem] = juel.check(expression)
    assert message in problem
    with pytest.raises(JuelError):
        juel.evaluate(expression, DATA)


@pytest.mark.parametrize(
    ("expression", "error", "message"),
    [
        ("${missing > 1}", JuelEvaluationError, "unknown variable 'missing'"),
        ("${'a' + 'b'}", JuelEvaluationError, "text cannot be read as a number"),
        ("${amount / 0}", JuelEvaluationError, "division by zero"),
        ("${amount mod 0}", JuelEvaluationError, "division by zero"),
        ("${amount > 'x'}", JuelEvaluationError, "text cannot be read as a number"),
        ("${order > 1}", JuelEvaluationError, "a map cannot be read as a number"),
        ("${order > born}", JuelEvaluationError, "a map and a date cannot be ordered"),
        ("${order.items[1.5]}", JuelEvaluationError, "a list index must be a whole number"),
        ("${order && true}", JuelEvaluationError, "a map cannot be read as true or false"),
        ("${name.upper}", ScriptAccessDenied, ".upper of a str is a method"),
        ("${born.isoformat}", ScriptAccessDenied, ".isoformat of a date is a method"),
        ("${amount.__class__}", ScriptAccessDenied, "no attribute '.__class__'"),
        ("${name['__class__']}", ScriptAccessDenied, "no attribute '.__class__'"),
        ("${name[0]}", ScriptAccessDenied, "'str' offers diagram code no items"),
        ("${order[order]}", JuelEvaluationError, "a dict cannot be a key"),
    ],
)
def test_values_an_operator_cannot_take_fail_the_evaluation_with_the_reason(
    expression, error, message
):
    assert juel.check(expression) == []
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        juel.evaluate(expression, DATA)


def test_equality_with_null_is_true_only_for_null():
    assert juel.evaluate("${nothing == null}", DATA) is True
    assert juel.evaluate("${amount == null}", DATA) is False
    assert juel.evaluate("${nothing != 0}", DATA) is True
    assert juel.evaluate("${nothing < 1}", DATA) is False
    assert juel.evaluate("${nothing <= null}", DATA) is True


def test_a_variable_named_like_a_word_operator_prefix_is_still_a_variable():
    assert juel.evaluate("${andy and notes}", {"andy": True, "notes": "true"}) is True


def test_logic_stops_at_the_first_operand_that_decides():
    assert juel.evaluate("${false && missing}", DATA) is False
    assert juel.evaluate("${true || missing}", DATA) is True
    assert juel.evaluate("${flag ? 'ok' : missing}", DATA) == "ok"


def test_products_that_would_grow_without_bound_go_over_the_size_budget():
    big = {"n": 10**4000}
    with pytest.raises(ScriptBudgetExceeded, match="a product would be too large"):
        juel.evaluate("${n * n * n * n}", big)


def test_evaluation_ticks_the_operation_budget():
    with pytest.raises(ScriptBudgetExceeded):
        juel.evaluate("${" + " + ".join(["1"] * 50) + "}", {}, ScriptLimits(max_operations=10))


def test_the_names_an_expression_reads_are_its_variables_not_its_properties():
    assert juel.free_names("${order.total > limit ? a['k'] : b}") == {"order", "limit", "a", "b"}
    assert juel.free_names("${broken(}") == set()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${amount > 1}", True),
        ("  #{amount > 1}", True),
        ("Hello ${name}", True),
        ("amount > 1", False),
        ("'Total: ${amount}'", False),  # a Python string that happens to hold ${
    ],
)
def test_juel_is_told_from_python_by_its_braces_unless_the_text_is_python(source, expected):
    assert is_juel(source) is expected


def test_the_sandbox_evaluates_juel_and_python_alike_and_checks_both():
    environment = RestrictedEnvironment()
    assert environment.evaluate("${amount > 1000}", {"amount": 1500}) is True
    assert environment.evaluate("amount > 1000", {"amount": 1500}) is True
    assert check_expression("${amount > 1000}") == []
    assert check_expression("${amount.bit_length()}") == [
        "${amount.bit_length()}: method calls such as .bit_length(...) are not supported; "
        "read properties and compute with operators (dates: plusDays(n) and the like)"
    ]


NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("${dateTime()}", NOW),
        ("${dateTime().plusDays(2)}", datetime(2026, 2, 2, 9, 30, tzinfo=UTC)),
        ("${dateTime().plusDays(days).toDate()}", datetime(2026, 2, 3, 9, 30, tzinfo=UTC)),
        ("${dateTime().minusHours(10)}", datetime(2026, 1, 30, 23, 30, tzinfo=UTC)),
        (
            "${dateTime().plusMinutes(30).plusSeconds(5)}",
            datetime(2026, 1, 31, 10, 0, 5, tzinfo=UTC),
        ),
        ("${dateTime().plusWeeks(1)}", datetime(2026, 2, 7, 9, 30, tzinfo=UTC)),
        ("${dateTime().plusMonths(1)}", datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        ("${born.plusYears(36)}", date(2026, 5, 17)),
        ("${born.minusMonths(5)}", date(1989, 12, 17)),
        ("${dateTime().plusDays(1) > dateTime()}", True),
        ("due ${dateTime().plusDays(1)}", "due 2026-02-01T09:30:00+00:00"),
    ],
)
def test_date_arithmetic_as_camunda_writes_it_works_on_the_engine_clock(expression, value):
    assert juel.evaluate(expression, {**DATA, "days": 3}, now=lambda: NOW) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${amount.plusDays(1)}", ".plusDays(...) needs a date"),
        ("${dateTime().plusDays(1.5)}", ".plusDays(...) takes a whole number"),
        ("${dateTime().plusDays()}", ".plusDays(...) takes 1 argument(s)"),
        ("${dateTime().plusDays(99999999)}", ".plusDays(...) leaves the calendar"),
        ("${born.plusHours(1)}", "a date without a time has no hours"),
    ],
)
def test_date_arithmetic_refuses_what_is_no_date_or_no_whole_number(expression, message):
    with pytest.raises(JuelEvaluationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        juel.evaluate(expression, DATA, now=lambda: NOW)


def test_date_time_is_the_only_function_and_takes_nothing():
    assert "dateTime() is the one function" in juel.check("${dateTime(1)}")[0]
    assert "function calls such as now(...) are not supported" in juel.check("${now()}")[0]
    with pytest.raises(JuelEvaluationError, match="needs the engine's clock"):
        juel.evaluate("${dateTime()}", {})


def test_the_sandbox_gives_date_time_its_own_clock():
    environment = RestrictedEnvironment(clock=lambda: NOW)
    assert environment.evaluate("${dateTime().plusDays(1)}", {}) == datetime(
        2026, 2, 1, 9, 30, tzinfo=UTC
    )


def test_a_failing_operator_names_the_kind_of_value_never_the_value():
    with pytest.raises(JuelEvaluationError) as caught:
        juel.evaluate("${pin + 1}", {"pin": "8462-secret"})
    assert "8462" not in str(caught.value)


JUELISH = st.lists(
    st.sampled_from(
        ["${", "#{", "}", "amount", "order", ".", "total", "items", "[", "]", "(", ")", "'",
         '"', "\\", "?", ":", "==", "<", "&&", "||", "!", "not", "empty", "+", "-", "*",
         "/", "mod", "div", "1", "0", "2.5", "null", "true", ",", "dateTime", "plusDays",
         "born", " ", "__class__"]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@given(JUELISH | st.text(max_size=200))
def test_arbitrary_text_is_refused_in_words_or_evaluates_within_the_guards(text):
    problems = juel.check(text)
    assert all(isinstance(problem, str) for problem in problems)
    if problems:
        return
    with contextlib.suppress(JuelEvaluationError, ScriptAccessDenied, ScriptBudgetExceeded):
        juel.evaluate(text, DATA, ScriptLimits(), now=lambda: NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("${a}", False), ("  #{a > 1} ", False), ("Dear ${a}", True), ("${a}${b}", True)],
)
def test_text_with_expressions_in_it_is_told_from_one_expression(text, expected):
    assert juel.is_text(text) is expected
