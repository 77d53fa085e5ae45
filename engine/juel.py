"""JUEL, the expression language of Camunda 7 diagrams (`${amount > 1000}`, `#{order.total}`),
read with a real grammar and compiled to Tokenflow's own small evaluator.

Analysts who use Camunda Modeler write conditions, timers and multi-instance expressions in
JUEL. The subset supported here is what such diagrams use: variables and property access
(`order.total`, `order["total"]`, `items[0]`), literals ('..', "..", ints, floats, true,
false, null), comparisons (`== != < > <= >=` and `eq ne lt gt le ge`), logic (`&& || !`,
`and or not`), `empty`, arithmetic (`+ - * / div % mod`, unary minus), `?:` and
parentheses. Text with expressions in it (`Hello ${name}`) evaluates to a string.

Date arithmetic as Camunda writes it (`dateTime().plusDays(2)`, `juel_dates.py`) is the
only call. Anything else (other method and function calls, lambdas, assignments, collection
literals) is refused when the diagram is deployed, naming the expression and what is not
supported.
The evaluator never calls a method of the data: property access reads dict keys, list
items and the plain attributes the diagram-code sandbox allows (`script_guards.py`), with
that sandbox's budgets. Semantics follow the EL specification; `juel_ops.py` says where
and why they differ.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    VisitError,
)

from . import juel_dates as dates
from . import juel_ops as ops
from .juel_ops import JuelError, JuelEvaluationError
from .juel_text import is_juel, segments, shortened
from .script_budget import MAX_STRING, Budget, ScriptLimits, measure, too_large

__all__ = [
    "JuelError",
    "JuelEvaluationError",
    "check",
    "evaluate",
    "free_names",
    "is_juel",
    "is_text",
    "variable_name",
]

MAX_SOURCE = 10_000  # characters of one expression text; diagrams need a few dozen
MAX_NESTING = 64  # levels of the compiled tree, so evaluation never nears the stack's depth

_GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr "?" expr ":" expr          -> conditional

?or_expr: and_expr
        | or_expr (OR_SYM | OR_KW) and_expr   -> or_
?and_expr: eq_expr
         | and_expr (AND_SYM | AND_KW) eq_expr -> and_
?eq_expr: rel_expr
        | eq_expr EQ_OP rel_expr          -> binary
?rel_expr: add_expr
         | rel_expr REL_OP add_expr       -> binary
?add_expr: mul_expr
         | add_expr ADD_OP mul_expr       -> binary
?mul_expr: unary
         | mul_expr MUL_OP unary          -> binary
?unary: value
      | "-" unary                         -> negate
      | (NOT_SYM | NOT_KW) unary          -> not_
      | EMPTY unary                       -> empty
?value: primary
      | value "." NAME                    -> property
      | value "[" expr "]"                -> index
      | value "." NAME "(" [args] ")"     -> method_call
      | NAME "(" [args] ")"               -> function_call
args: expr ("," expr)*
?primary: NAME                            -> variable
        | STRING                          -> string
        | INT                             -> integer
        | FLOAT                           -> floating
        | TRUE                            -> true
        | FALSE                           -> false
        | NULL                            -> null
        | "(" expr ")"

OR_SYM: "||"
OR_KW: "or"
AND_SYM: "&&"
AND_KW: "and"
NOT_SYM: "!"
NOT_KW: "not"
EMPTY: "empty"
TRUE: "true"
FALSE: "false"
NULL: "null"
EQ_OP: "==" | "!=" | "eq" | "ne"
REL_OP: "<=" | ">=" | "<" | ">" | "le" | "ge" | "lt" | "gt"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%" | "div" | "mod"
NAME: /(?!(?:KEYWORDS)\b)[A-Za-z_$][A-Za-z0-9_$]*/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/
FLOAT: /\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/
INT: /\d+/

%ignore /\s+/
"""

# EL's reserved words are no variable names (`instanceof` is reserved, and not supported).
_KEYWORDS = "and|or|not|eq|ne|lt|gt|le|ge|div|mod|empty|true|false|null|instanceof"
_PARSER = Lark(_GRAMMAR.replace("KEYWORDS", _KEYWORDS), parser="lalr", maybe_placeholders=False)


def check(text: str) -> list[str]:
    """Why `text` cannot be evaluated as JUEL, in words; empty if it can."""
    try:
        _compiled(text)
    except JuelError as exc:
        return [str(exc)]
    return []


def is_text(text: str) -> bool:
    """Whether `text` is text with expressions in it, whose value is a string, rather than
    one expression (blanks around it allowed) that keeps its value's type."""
    parts = _compiled(text).parts
    return len(parts) != 1 or isinstance(parts[0], str)


_BARE_VARIABLE = re.compile(r"\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*")


def variable_name(text: str) -> str | None:
    """`items` for `${items}`: an expression that only names a variable, else None."""
    match = _BARE_VARIABLE.fullmatch(text)
    return match.group(1) if match else None


def free_names(text: str) -> set[str]:
    """The variables `text` reads; empty if it does not compile (check() says why)."""
    try:
        return set(_compiled(text).names)
    except JuelError:
        return set()


def evaluate(
    text: str,
    variables: Mapping[str, Any],
    limits: ScriptLimits | None = None,
    now: Callable[[], datetime] | None = None,
) -> Any:
    """The value of `text` over `variables`. One expression alone (blanks around it
    allowed) gives its value; text with expressions in it gives a string. `now` is the
    clock behind `dateTime()`."""
    compiled = _compiled(text)
    budget = Budget(limits or ScriptLimits())
    with budget:
        return compiled.run(ops.Scope(variables, budget, now))


# -- composite text ----------------------------------------------------------------------

Node = Callable[[ops.Scope], Any]


@dataclass(frozen=True)
class _Compiled:
    parts: tuple[str | Node, ...]
    names: frozenset[str]

    def run(self, scope: ops.Scope) -> Any:
        if len(self.parts) == 1 and callable(self.parts[0]):
            value = self.parts[0](scope)
            measure(value, MAX_STRING, "the expression's value")
            return value
        pieces: list[str] = []
        length = 0
        for part in self.parts:
            piece = part if isinstance(part, str) else ops.as_text(part(scope))
            length += len(piece)
            if length > MAX_STRING:
                raise too_large("the expression's text")
            pieces.append(piece)
        return "".join(pieces)


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> _Compiled:
    if len(text) > MAX_SOURCE:
        raise JuelError(f"expression is longer than {MAX_SOURCE:,} characters")
    pieces: Sequence[str | tuple[str, str]] = segments(text)
    expressions = [s for s in pieces if isinstance(s, tuple)]
    # One expression with only blanks around it keeps its type (a number, a list...).
    if len(expressions) == 1 and all(isinstance(s, tuple) or not s.strip() for s in pieces):
        pieces = expressions
    parts: list[str | Node] = []
    names: set[str] = set()
    for segment in pieces:
        if isinstance(segment, str):
            parts.append(segment)
            continue
        source, body = segment
        source = shortened(source)
        builder = _Builder(source)
        try:
            parts.append(builder.transform(_parse(source, body)))
        except VisitError as exc:  # lark wraps what the builder raises
            if isinstance(exc.orig_exc, JuelError):
                raise exc.orig_exc from None
            if isinstance(exc.orig_exc, RecursionError):
                raise JuelError(f"{source}: nested too deeply") from None
            raise
        except RecursionError:
            raise JuelError(f"{source}: nested too deeply") from None
        names.update(builder.names)
    return _Compiled(tuple(parts), frozenset(names))


_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_SUPPORTED = (
    "JUEL here has variables, properties, literals, comparisons, logic, empty, arithmetic and ?:"
)


def _parse(source: str, body: str) -> Any:
    if not body.strip():
        raise JuelError(f"{source}: the expression is empty")
    try:
        return _PARSER.parse(body)
    except UnexpectedCharacters as exc:
        pos = cast(int, exc.pos_in_stream)  # always set on UnexpectedCharacters
        word = _WORD.match(body, pos)
        raise JuelError(
            f"{source}: {word.group() if word else body[pos]!r} at column "
            f"{exc.column} is not supported; {_SUPPORTED}"
        ) from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        if isinstance(exc, UnexpectedEOF) or token is None or token.type == "$END":
            raise JuelError(f"{source}: the expression ends too early") from None
        raise JuelError(
            f"{source}: {str(token)!r} at column {exc.column} is not supported here; {_SUPPORTED}"
        ) from None
    except LarkError as exc:
        raise JuelError(f"{source}: cannot be read: {exc}") from None


# -- from the parse tree to evaluating functions -----------------------------------------


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Turns the parse tree into nested functions of a Scope; refuses what is unsupported."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.names: set[str] = set()
        self._depth: dict[int, int] = {}

    def _node(self, fn: Node, *children: Any) -> Node:
        depth = 1 + max((self._depth.get(id(c), 0) for c in children), default=0)
        if depth > MAX_NESTING:
            raise JuelError(f"{self.source}: nested deeper than {MAX_NESTING} levels")

        def ticking(scope: ops.Scope) -> Any:
            scope.budget.tick()
            return fn(scope)

        self._depth[id(ticking)] = depth
        return ticking

    def variable(self, name: Token) -> Node:
        self.names.add(str(name))
        return self._node(lambda scope: ops.variable(scope, str(name)))

    def string(self, token: Token) -> Node:
        value = ops.unescape(str(token)[1:-1])
        return self._node(lambda _scope: value)

    def integer(self, token: Token) -> Node:
        value = int(str(token))
        return self._node(lambda _scope: value)

    def floating(self, token: Token) -> Node:
        value = float(str(token))
        return self._node(lambda _scope: value)

    def true(self, _token: Token) -> Node:
        return self._node(lambda _scope: True)

    def false(self, _token: Token) -> Node:
        return self._node(lambda _scope: False)

    def null(self, _token: Token) -> Node:
        return self._node(lambda _scope: None)

    def property(self, target: Node, name: Token) -> Node:
        key = str(name)
        return self._node(lambda scope: ops.read_property(target(scope), key), target)

    def index(self, target: Node, key: Node) -> Node:
        return self._node(lambda scope: ops.read_property(target(scope), key(scope)), target, key)

    def args(self, *nodes: Node) -> tuple[Node, ...]:
        return nodes

    def method_call(self, target: Node, name: Token, arguments: tuple[Node, ...] = ()) -> Node:
        method = str(name)
        if method not in dates.METHODS:
            raise JuelError(
                f"{self.source}: method calls such as .{method}(...) are not supported; "
                "read properties and compute with operators (dates: plusDays(n) and the like)"
            )
        return self._node(
            lambda scope: dates.call_method(target(scope), method, [a(scope) for a in arguments]),
            target,
            *arguments,
        )

    def function_call(self, name: Token, arguments: tuple[Node, ...] = ()) -> Node:
        if str(name) not in dates.FUNCTIONS or arguments:
            raise JuelError(
                f"{self.source}: function calls such as {name}(...) are not supported; "
                "dateTime() is the one function"
            )
        return self._node(lambda scope: dates.date_time(scope.now))

    def negate(self, operand: Node) -> Node:
        return self._node(lambda scope: ops.negate(operand(scope)), operand)

    def not_(self, _op: Token, operand: Node) -> Node:
        return self._node(lambda scope: not ops.as_boolean(operand(scope)), operand)

    def empty(self, _op: Token, operand: Node) -> Node:
        return self._node(lambda scope: ops.is_empty(operand(scope)), operand)

    def and_(self, left: Node, _op: Token, right: Node) -> Node:
        return self._node(
            lambda scope: ops.as_boolean(left(scope)) and ops.as_boolean(right(scope)), left, right
        )

    def or_(self, left: Node, _op: Token, right: Node) -> Node:
        return self._node(
            lambda scope: ops.as_boolean(left(scope)) or ops.as_boolean(right(scope)), left, right
        )

    def binary(self, left: Node, op: Token, right: Node) -> Node:
        apply = ops.BINARY[str(op)]
        return self._node(lambda scope: apply(left(scope), right(scope)), left, right)

    def conditional(self, test: Node, then: Node, otherwise: Node) -> Node:
        return self._node(
            lambda scope: then(scope) if ops.as_boolean(test(scope)) else otherwise(scope),
            test,
            then,
            otherwise,
        )
