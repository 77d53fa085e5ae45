"""Hostile diagram code: escapes from the sandbox, resource exhaustion and plain errors.

Every case is either refused by the deploy-time check, or stops at run time with a
controlled exception well within the time budget and without eating memory. A subset runs
end to end through a deployed diagram, and the test system's seed key, secret key and an
environment variable appear in no reply, variable, database row or log record.
"""

from __future__ import annotations

import ast
import time
import tracemalloc

import pytest

from engine.scripting import (
    RestrictedEnvironment,
    ScriptAccessDenied,
    ScriptBudgetExceeded,
    ScriptLimits,
    UnsafeScriptError,
    check_expression,
    check_script,
)
from tests.hostile.builders import ISSUE_MATCH_ESCAPE, RUNAWAY

pytestmark = pytest.mark.hostile

REFUSED, DENIED, BUDGET, ERROR = "refused", "denied", "over budget", "error"
SHARED = "x = [1]\nfor i in range(60):\n    x = [x, x]\n"
SHARED_TWICE = SHARED + "y = [1]\nfor i in range(60):\n    y = [y, y]\n"

# (name, source, what must happen). Sources that are expressions run as conditions too.
CORPUS = [
    # -- escapes: formats, frames, bound methods, types, dunders ----------------------
    ("the issue's match class pattern", ISSUE_MATCH_ESCAPE, REFUSED),
    ("a match mapping pattern", "match d:\n    case {'k': v}:\n        r = v", REFUSED),
    ("str.format on a literal", "'{0.__globals__}'.format(now)", REFUSED),
    ("str.format_map", "'{x.__class__}'.format_map({'x': now})", REFUSED),
    ("str.format fetched from the str builtin", "str.format('{0.__globals__}', now)", REFUSED),
    ("format() builtin", "format(now, '')", REFUSED),
    ("getattr of a private name", "getattr(now, '__globals__')", REFUSED),
    ("a function's globals", "now.__globals__", REFUSED),
    ("a closure's cells", "now.__closure__[0].cell_contents", REFUSED),
    ("a bound method's __self__", "'x'.upper.__self__", REFUSED),
    ("a builtin's __self__ (the builtins module)", "len.__self__", REFUSED),
    ("a generator's frame", "(g for g in [1]).gi_frame.f_back.f_globals", REFUSED),
    ("a generator's code", "(g for g in [1]).gi_code", REFUSED),
    (
        "a traceback",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    t = e.__traceback__",
        REFUSED,
    ),
    (
        "a traceback via with_traceback",
        "try:\n    1 / 0\nexcept Exception as e:\n    t = e.with_traceback(None)",
        REFUSED,
    ),
    ("an exception's args", "try:\n    1 / 0\nexcept Exception as e:\n    a = e.args", REFUSED),
    ("a coroutine", "async def f():\n    pass", REFUSED),
    ("await", "await now()", REFUSED),
    ("yield", "def g():\n    yield 1", REFUSED),
    ("lambda", "(lambda: 0)()", REFUSED),
    ("class", "class A:\n    pass", REFUSED),
    ("__class__ and __subclasses__", "().__class__.__bases__[0].__subclasses__()", REFUSED),
    ("mro", "int.mro()", REFUSED),
    ("type()", "type(now)", REFUSED),
    ("vars()", "vars()", REFUSED),
    ("globals()", "globals()", REFUSED),
    ("dir()", "dir(now)", REFUSED),
    ("__builtins__", "__builtins__", REFUSED),
    ("__import__", "__import__('os')", REFUSED),
    ("import", "import os", REFUSED),
    ("eval", "eval('1')", REFUSED),
    ("eval spelled in mathematical bold", "\U0001d41e\U0001d42f\U0001d41a\U0001d425('1')", REFUSED),
    ("open", "open('/etc/passwd')", REFUSED),
    ("a dunder keyword", "dict(__class__=1)", REFUSED),
    ("with", "with now:\n    pass", REFUSED),
    ("global", "global x", REFUSED),
    ("an annotated assignment", "x: int = 1", REFUSED),
    ("except*", "try:\n    pass\nexcept* ValueError:\n    pass", REFUSED),
    ("assigning an attribute", "x = {}\nx.update = 1", REFUSED),
    ("a computed f-string format spec", "f'{1:{99}}'", REFUSED),
    ("str.translate", "'a'.translate({97: 'b'})", REFUSED),
    ("a datetime's tzinfo", "now().tzinfo", REFUSED),
    ("an allowed method name on a function", "now.replace", DENIED),
    ("an allowed method name on a type", "dict.get", DENIED),
    ("an allowed method name on the str builtin", "str.join", DENIED),
    ("an allowed attribute on timedelta the type", "timedelta.days", DENIED),
    ("an item of a function", "now['x']", DENIED),
    ("a '*' width in a %-format", "'%*d' % (5, 1)", DENIED),
    ("summing lists", "sum([[1]] * 1000, [])", DENIED),
    # -- resource exhaustion ---------------------------------------------------------
    ("while True with no break", "while True:\n    pass", REFUSED),
    ("a loop that never ends", RUNAWAY, BUDGET),
    (
        "a runaway loop that catches its budget",
        "try:\n    x = 0\n    while x >= 0:\n        x += 1\nexcept Exception:\n    caught = True",
        BUDGET,
    ),
    ("nested loops", "for i in range(100000):\n    for j in range(100000):\n        pass", BUDGET),
    ("nested comprehensions", "[[i for i in range(10000)] for j in range(10000)]", BUDGET),
    ("a power tower", "9 ** 9 ** 9", BUDGET),
    ("string repetition", "'a' * 10 ** 10", BUDGET),
    ("list repetition", "[0] * 10 ** 9", BUDGET),
    ("a huge range", "sum(range(10 ** 12))", BUDGET),
    ("max of a huge range", "max(range(10 ** 9))", BUDGET),
    ("a huge left shift", "1 << 10 ** 9", BUDGET),
    ("a huge product", "(10 ** 4000) * (10 ** 4000)", BUDGET),
    ("a huge int turned into a string", "str(2 ** 100000)", BUDGET),
    ("a huge int parsed from a string", "int('9' * 100000)", ERROR),
    ("ljust", "'x'.ljust(10 ** 10)", BUDGET),
    ("center", "'x'.center(10 ** 10)", BUDGET),
    ("zfill", "'1'.zfill(10 ** 10)", BUDGET),
    ("expandtabs", "'\\t'.expandtabs(10 ** 9)", BUDGET),
    ("replace", "s = 'a' * 100000\nt = s.replace('a', s)", BUDGET),
    ("join", "','.join(['x' * 100000] * 100000)", BUDGET),
    ("string doubling", "s = 'ab'\nfor i in range(64):\n    s += s", BUDGET),
    ("list doubling with extend", "x = [1]\nfor i in range(64):\n    x.extend(x)", BUDGET),
    ("list doubling with +=", "x = [1]\nfor i in range(64):\n    x += x", BUDGET),
    ("a %-format width", "'%100000000d' % 1", BUDGET),
    ("an f-string width", "f'{1:>100000000}'", REFUSED),
    ("an f-string of many big values", "s = 'a' * 1000000\nt = f'" + "{s}" * 1000 + "'", REFUSED),
    ("a %-format of many big values", "s = ('a' * 1000000,) * 1000\nt = '%s' * 1000 % s", BUDGET),
    (
        "a shared list turned into a string",
        "x = [1]\nfor i in range(60):\n    x = [x, x]\ns = str(x)",
        BUDGET,
    ),
    (
        "a shared list in an f-string",
        "x = [1]\nfor i in range(60):\n    x = [x, x]\ns = f'{x}'",
        BUDGET,
    ),
    (
        "a shared list in a %-format",
        "x = [1]\nfor i in range(60):\n    x = [x, x]\ns = '%s' % (x,)",
        BUDGET,
    ),
    ("deeply nested data written out", "x = []\nfor i in range(1000):\n    x = [x]", BUDGET),
    ("map, which loops in C", "list(map(list, [range(100000)] * 1000))", REFUSED),
    ("filter, which loops in C", "list(filter(bool, range(10)))", REFUSED),
    ("zip of many sequences", "list(zip(*[range(100000)] * 1000))", BUDGET),
    ("a set union of many ranges", "set().union(*[range(100000)] * 1000)", BUDGET),
    ("a sort key that builds lists", "sorted([range(100000)] * 1000, key=list)", BUDGET),
    ("a max key that builds lists", "max([range(100000)] * 1000, key=list)", BUDGET),
    (
        "list.sort with a key that builds lists",
        "x = [range(100000)] * 1000\nx.sort(key=list)",
        BUDGET,
    ),
    ("comparing two lists that hold themselves over and over", SHARED_TWICE + "r = x == y", BUDGET),
    ("sorting lists that hold themselves over and over", SHARED + "y = sorted([x, x])", BUDGET),
    (
        "hashing a tuple that holds itself over and over",
        "t = (1,)\nfor i in range(60):\n    t = (t, t)\ns = {t}",
        BUDGET,
    ),
    (
        "doubling a tuple through dict items",
        "p = (1, 1)\nfor i in range(60):\n    p = list({p: p}.items())[0]",
        BUDGET,
    ),
    (
        "doubling a tuple through popitem",
        "p = (1, 1)\nfor i in range(60):\n    p = {p: p}.popitem()",
        BUDGET,
    ),
    (
        "doubling a tuple through zip",
        "p = 1\nfor i in range(60):\n    p = list(zip([p], [p]))[0]\ns = {p}",
        BUDGET,
    ),
    (
        "doubling a tuple through repetition",
        "p = (1,)\nfor i in range(60):\n    p = (p,) * 2\ns = {p}",
        BUDGET,
    ),
    (
        "a tuple nested 100,000 deep, hashed",
        "t = ()\nfor i in range(100000):\n    t = (t,)\ns = {t}",
        BUDGET,
    ),
    (
        "searching a list of one big list repeated",
        "x = [list(range(100000))] * 100000\nr = [1] in x",
        BUDGET,
    ),
    (
        "counting in a list of one big list repeated",
        "x = [list(range(1000))] * 1000\nr = x.count([0])",
        BUDGET,
    ),
    ("a big write", "x = 'a' * 900000\ny = 'b' * 900000", BUDGET),
    # -- plain errors ----------------------------------------------------------------
    ("division by zero", "1 / 0", ERROR),
    ("an undefined name", "undefined_variable + 1", ERROR),
    ("a missing key", "{}['missing']", ERROR),
    ("a missing index", "[][1]", ERROR),
    ("a raised error", "raise ValueError('boom')", ERROR),
    ("a failed assert", "assert False, 'no'", ERROR),
    ("adding a number to a datetime", "now() + 1", ERROR),
    ("a builtin that is not offered", "chr(65)", ERROR),
]
LIMITS = ScriptLimits(time_budget=0.1)
SLACK = 0.9  # seconds on top of the budget: a shared 2-core machine, a garbage collection
MEMORY = 64 * 1024 * 1024


def is_expression(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def check(source: str) -> list[str]:
    """The deploy-time check that applies: a condition's, or a script's."""
    return check_expression(source) if is_expression(source) else check_script(source)


def run(source: str, data: dict | None = None) -> object:
    environment = RestrictedEnvironment(limits=LIMITS)
    if is_expression(source):
        return environment.evaluate(source, dict(data or {}))
    return environment.execute(source, dict(data or {}))


def test_the_corpus_is_big_enough_and_covers_every_outcome():
    assert len(CORPUS) >= 40
    assert {outcome for _, _, outcome in CORPUS} == {REFUSED, DENIED, BUDGET, ERROR}


@pytest.mark.parametrize(
    ("source", "outcome"), [case[1:] for case in CORPUS], ids=[case[0] for case in CORPUS]
)
def test_hostile_code_is_refused_or_stops_quickly_with_a_controlled_error(source, outcome):
    if outcome == REFUSED:
        assert check(source)
        with pytest.raises(UnsafeScriptError):
            run(source)
        return
    assert check(source) == []
    started = time.perf_counter()
    with pytest.raises(Exception) as raised:
        run(source, {"d": {"k": 1}})
    assert time.perf_counter() - started < LIMITS.time_budget + SLACK
    controlled = (ScriptAccessDenied, ScriptBudgetExceeded)
    if outcome == ERROR:
        assert not isinstance(raised.value, controlled), raised.value
    else:
        expected = {DENIED: ScriptAccessDenied, BUDGET: ScriptBudgetExceeded}[outcome]
        assert type(raised.value) is expected, raised.value


@pytest.mark.parametrize(
    "source",
    [case[1] for case in CORPUS if case[2] == BUDGET],
    ids=[case[0] for case in CORPUS if case[2] == BUDGET],
)
def test_code_over_budget_stops_before_it_eats_memory(source):
    # Measured apart from the time: tracing every allocation slows Python down many times.
    tracemalloc.start()
    try:
        with pytest.raises(ScriptBudgetExceeded):
            run(source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY
