"""The compile-time half of the diagram-code sandbox: which Python syntax diagram code may
use (an allowlist), and the rewrite that routes its attribute and item access, its
size-growing operators and its loops through `engine/script_guards.py` and
`engine/script_budget.py`.

Refused, and why: `def`, `lambda` and `class` make functions and types (recursion, objects
with frames and globals); `import`, `global`, `nonlocal`; `with` (context managers are
objects, not data); `match` (a class pattern reads attributes without an attribute access:
`case str(format=f)`); `yield`/`await`/`async` (frames); `try ... except*`; annotated
assignments (they write `__annotations__`). Allowed with care: `try`/`except` (the diagrams
use it to test whether a variable exists: each `except` block first re-raises budgets and
refusals), `raise`, `assert`, `del`, loops (each iteration ticks the budget), comprehensions
(each item ticks), f-strings (their values are measured, their format specs are constants
with small widths).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from types import CodeType

from .script_budget import MAX_FORMAT_WIDTH
from .script_guards import ATTRIBUTE_NAMES

ALLOWED_NODES = frozenset(
    {
        ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.While,
        ast.If, ast.Try, ast.ExceptHandler, ast.Raise, ast.Assert, ast.Delete, ast.Pass,
        ast.Break, ast.Continue,
        ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set,
        ast.List, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
        ast.comprehension, ast.Compare, ast.Call, ast.keyword, ast.FormattedValue,
        ast.JoinedStr, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
        ast.Name, ast.Load, ast.Store, ast.Del,
        ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
        ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.MatMult,
        ast.Invert, ast.Not, ast.UAdd, ast.USub,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
        ast.NotIn,
    }
)  # fmt: skip
_SYNTAX_NAMES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.Global: "global",
    ast.Nonlocal: "nonlocal", ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def",
    ast.Lambda: "lambda", ast.ClassDef: "class", ast.Await: "await", ast.AsyncFor: "async for",
    ast.AsyncWith: "async with", ast.With: "with", ast.Yield: "yield",
    ast.YieldFrom: "yield from", ast.Match: "match", ast.TryStar: "except*",
    ast.AnnAssign: "an annotated assignment", ast.Return: "return",
}  # fmt: skip
DENIED_NAMES = frozenset(
    {
        "eval", "exec", "compile", "open", "input", "globals", "locals", "vars", "dir",
        "getattr", "setattr", "delattr", "hasattr", "breakpoint", "help", "memoryview",
        "type", "object", "super", "classmethod", "staticmethod", "property", "exit", "quit",
        "format", "iter", "next", "id", "print", "repr", "ascii", "map", "filter",
        "__builtins__",
    }
)  # fmt: skip
_IDENTIFIER_FIELDS = ("id", "attr", "arg", "name")
MAX_FSTRING_FIELDS = 50
_GUARDED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "_tf_add", ast.Mult: "_tf_mul", ast.Pow: "_tf_pow", ast.LShift: "_tf_lshift",
    ast.Mod: "_tf_mod",
}  # fmt: skip
_OPERATOR_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&", ast.MatMult: "@",
}  # fmt: skip


def analyse(source: str, mode: str) -> tuple[tuple[str, ...], CodeType | None]:
    """The problems of `source` ("exec" or "eval"), or none and its guarded code."""
    return _analyse(source, mode)


@functools.lru_cache(maxsize=1024)
def _analyse(source: str, mode: str) -> tuple[tuple[str, ...], CodeType | None]:
    try:
        tree = ast.parse(source, mode=mode)
        problems = tuple(message for _, message in sorted(_problems(tree), key=lambda p: p[0]))
        if problems:
            return problems, None
        guarded = ast.fix_missing_locations(_Guard().visit(tree))
        # "<string>" is the file name SpiffWorkflow looks for to report the failing line.
        return (), compile(guarded, "<string>", mode)
    except SyntaxError as err:
        return (f"line {err.lineno}: syntax error: {err.msg}",), None
    except (ValueError, RecursionError, MemoryError) as err:
        return (f"cannot be parsed ({type(err).__name__})",), None


def _problems(tree: ast.AST) -> Iterator[tuple[int, str]]:
    pending = [tree]
    while pending:
        node = pending.pop()
        line = getattr(node, "lineno", 0)
        where = f"line {line}"
        if type(node) not in ALLOWED_NODES:
            what = _SYNTAX_NAMES.get(type(node), type(node).__name__)
            yield line, f"{where}: '{what}' is not allowed in diagram code"
            continue  # what it holds would only repeat the same refusal
        pending.extend(ast.iter_child_nodes(node))
        for field in _IDENTIFIER_FIELDS:
            identifier = getattr(node, field, None)
            if not isinstance(identifier, str):
                continue
            if identifier.startswith("_") and identifier != "_":
                yield line, f"{where}: '{identifier}' is private (names may not start with '_')"
            elif isinstance(node, ast.Name) and identifier in DENIED_NAMES:
                yield line, f"{where}: '{identifier}' is not available to diagram code"
        if isinstance(node, ast.Attribute):
            if node.attr not in ATTRIBUTE_NAMES:
                yield line, f"{where}: attribute '.{node.attr}' is not allowed"
            elif not isinstance(node.ctx, ast.Load):
                yield line, f"{where}: attributes cannot be assigned or deleted"
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            yield from _format_spec_problems(node.format_spec, line)
        elif isinstance(node, ast.JoinedStr) and _fields(node) > MAX_FSTRING_FIELDS:
            # Each value may be a string of MAX_STRING characters: their number is bounded.
            yield line, f"{where}: an f-string with more than {MAX_FSTRING_FIELDS} values"
        elif isinstance(node, ast.While) and _runs_forever(node):
            yield line, f"{where}: this 'while' loop has no 'break' and never ends"


def _fields(text: ast.JoinedStr) -> int:
    return sum(isinstance(value, ast.FormattedValue) for value in text.values)


def _format_spec_problems(spec: ast.expr, line: int) -> Iterator[tuple[int, str]]:
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    constants = [part for part in parts if isinstance(part, ast.Constant)]
    if len(constants) < len(parts):
        yield line, f"line {line}: an f-string format spec must be written out, not computed"
        return
    digits = "".join(c if c.isdigit() else " " for part in constants for c in str(part.value))
    if any(int(number) > MAX_FORMAT_WIDTH for number in digits.split()):
        yield line, f"line {line}: an f-string width above {MAX_FORMAT_WIDTH} is not allowed"


def _runs_forever(loop: ast.While) -> bool:
    if not (isinstance(loop.test, ast.Constant) and loop.test.value):
        return False
    pending: list[ast.AST] = list(loop.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Break | ast.Raise):
            return False
        if not isinstance(node, ast.For | ast.While):  # their breaks are their own
            pending.extend(ast.iter_child_nodes(node))
    return True


def _call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=list(args), keywords=[])


class _Guard(ast.NodeTransformer):
    """Rewrites checked code so that every access and every loop goes through the guards."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return ast.copy_location(_call("_tf_getattr", node.value, ast.Constant(node.attr)), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        key = _slice_call(node.slice)
        return ast.copy_location(_call("_tf_getitem", node.value, key), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = _GUARDED_OPERATORS.get(type(node.op))
        if helper is None:
            return node
        return ast.copy_location(_call(helper, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        symbol = ast.Constant(_OPERATOR_SYMBOLS[type(node.op)])
        target = node.target
        if isinstance(target, ast.Subscript):
            update = _call("_tf_augitem", target.value, _slice_call(target.slice), symbol)
            update.args.append(node.value)
            return ast.copy_location(ast.Expr(update), node)
        assert isinstance(target, ast.Name)  # attribute targets were refused by the check
        value = _call("_tf_aug", symbol, ast.Name(id=target.id, ctx=ast.Load()), node.value)
        return ast.copy_location(ast.Assign(targets=[target], value=value), node)

    def visit_For(self, node: ast.For | ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_tf_tick")), node))
        return node

    visit_While = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, _call("_tf_tick"))
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_tf_rethrow")), node))
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        # A new tuple of values is measured: hashing and comparing tuples recurse in C.
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or all(
            isinstance(element, ast.Constant) for element in node.elts
        ):
            return node
        return ast.copy_location(_call("_tf_tuple", node), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.left = _measured(node.left, "_tf_cmp")
        node.comparators = [
            _measured(value, "_tf_in" if isinstance(op, ast.In | ast.NotIn) else "_tf_cmp")
            for op, value in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                argument.value = ast.copy_location(_call("_tf_star", argument.value), argument)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        node.value = ast.copy_location(_call("_tf_text", node.value), node.value)
        return node


def _measured(value: ast.expr, helper: str) -> ast.expr:
    if isinstance(value, ast.Constant):
        return value
    return ast.copy_location(_call(helper, value), value)


def _slice_call(key: ast.expr) -> ast.expr:
    """A slice written in brackets as a value that can be passed to a guard."""
    if isinstance(key, ast.Slice):
        bounds = [part or ast.Constant(None) for part in (key.lower, key.upper, key.step)]
        return ast.copy_location(_call("_tf_slice", *bounds), key)
    if isinstance(key, ast.Tuple):
        key.elts = [_slice_call(element) for element in key.elts]
    return key
