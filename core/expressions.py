"""Arithmetic over named integers, written as text by a user and evaluated without running their code.

A submitted kernel bundle states its shapes (``cdiv(N, 2) * 2``), constraints (``BLOCK_N >= 32 *
num_warps``) and FLOPs (``2 * M * N * K``) as expressions. They are parsed into a small tree of
numbers, names, arithmetic, comparisons, ``and``/``or``/``not``, conditionals and the functions
below; anything else (attributes, calls of other names, subscripts, strings, lambdas) is refused
with the part that is not allowed. Evaluating one cannot reach Python's builtins or import anything.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tuneforge.core.errors import UserInputError

MAX_TEXT = 256
MAX_NODES = 128
MAX_POWER = 64  # 2**64 is as large as an exponent needs to be for sizes and counts
MAX_MAGNITUDE = 10**30  # larger intermediate values are typos or attacks, not problem sizes

_BINARY: dict[type, Callable] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                                 ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv, ast.Mod: operator.mod,
                                 ast.Pow: operator.pow}
_COMPARE: dict[type, Callable] = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
                                  ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
FUNCTIONS: dict[str, Callable] = {"min": min, "max": max, "abs": abs, "cdiv": lambda a, b: -(-a // b),
                                  "next_pow2": lambda n: 1 << max(0, (int(n) - 1).bit_length()),
                                  "log2": math.log2}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
            ast.Load, ast.Constant, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or, *_BINARY, *_COMPARE)


@dataclass(frozen=True)
class Expression:
    """A parsed expression; ``names`` are the variables it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]

    def __call__(self, values: Mapping[str, float | int]) -> float | int | bool:
        try:
            return _eval(self.tree.body, values)
        except ZeroDivisionError:
            raise UserInputError(f"{self.text!r} divides by zero at {dict(values)}") from None
        except (OverflowError, ValueError, TypeError) as exc:
            raise UserInputError(f"{self.text!r} cannot be evaluated at {dict(values)}: {exc}") from None


def parse_expression(text: str, names: set[str] | frozenset[str], *, what: str) -> Expression:
    """Parse ``text`` reading only ``names``; UserInputError says which part of ``what`` to change."""
    if len(text) > MAX_TEXT:
        raise UserInputError(f"{what}: an expression is at most {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:  # ValueError: a null byte
        raise UserInputError(f"{what}: {text!r} is not an expression ({getattr(exc, 'msg', exc)})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise UserInputError(f"{what}: {text!r} is too long (at most {MAX_NODES} parts)")
    used: set[str] = set()
    for node in nodes:
        if not isinstance(node, _ALLOWED):
            raise UserInputError(f"{what}: {text!r} uses {type(node).__name__}, which is not allowed; write "
                                 "arithmetic (+ - * / // % **), comparisons, and/or/not, x if c else y, and "
                                 f"{', '.join(FUNCTIONS)} over {', '.join(sorted(names)) or 'numbers'}")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or
                                               not isinstance(node.value, (int, float))):
            raise UserInputError(f"{what}: {text!r} holds {node.value!r}; only numbers are allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise UserInputError(f"{what}: {text!r} calls something other than {', '.join(FUNCTIONS)}")
        elif isinstance(node, ast.Name) and not _is_function_name(node, tree):
            if node.id not in names:
                raise UserInputError(f"{what}: {text!r} reads {node.id!r}, which is not one of "
                                     f"{', '.join(sorted(names)) or '(no names here)'}")
            used.add(node.id)
    return Expression(text=text.strip(), tree=tree, names=frozenset(used))


def _is_function_name(name: ast.Name, tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _checked(value):
    if isinstance(value, complex):  # (-8) ** 0.5
        raise ValueError("the result is not a real number")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not abs(value) <= MAX_MAGNITUDE:
        raise OverflowError(f"a value exceeds {MAX_MAGNITUDE:.0e}")
    return value


def _eval(node: ast.AST, values: Mapping[str, float | int]):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return not operand if isinstance(node.op, ast.Not) else (-operand if isinstance(node.op, ast.USub)
                                                                   else +operand)
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER:
            raise OverflowError(f"exponent {right} is larger than {MAX_POWER}")
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.BoolOp):
        results = (_eval(v, values) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, values) if _eval(node.test, values) else _eval(node.orelse, values)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return _checked(FUNCTIONS[node.func.id](*(_eval(a, values) for a in node.args)))
    raise ValueError(f"unexpected {type(node).__name__}")  # parse_expression admits nothing else
