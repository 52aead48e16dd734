"""A restricted parser for program expressions.

``sympy.sympify`` and ``parse_expr`` call ``eval`` on their input, so a program
string could run arbitrary code.  This module parses the text with Python's
``ast`` module (which only parses) and builds the sympy expression itself from a
whitelist of node types: numbers, declared symbols, ``+ - * / **``, unary
signs and calls of a few named functions.  Anything else is a
:class:`~npl_nengo.errors.ValidationError`.  The cost of an expression is bounded
(text length, node count, exponent size) so hostile input cannot hang the parser.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import warnings
from typing import Mapping, cast

import sympy

from .errors import ValidationError

__all__ = ["parse_expression", "check_name", "check_label", "FUNCTIONS", "MAX_TEXT", "MAX_NODES", "MAX_POWER"]

#: Functions a program may call.  Only the ``sampled`` compiler accepts them
#: (the ``taylor`` compiler needs polynomials).
FUNCTIONS: dict[str, sympy.Function] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "atan": sympy.atan,
    "abs": sympy.Abs,
}
#: Names a variable may not take (they would shadow functions or constants).
RESERVED = frozenset(FUNCTIONS) | {"pi", "E", "I", "oo", "nan", "inf", "t"}
MAX_TEXT = 20_000  # characters in one expression
MAX_NODES = 4_000  # syntax-tree nodes in one expression
MAX_POWER = 16  # largest |exponent| of a power
MAX_NAME = 64  # characters in a name

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def check_name(name: object, where: str, what: str = "name") -> str:
    """Return ``name`` if it is a valid identifier for a variable, part or input.

    Valid names start with a letter, hold letters, digits and underscores, are
    not Python keywords, and do not shadow a function (``sin``) or constant (``pi``).
    """
    if not isinstance(name, str):
        raise ValidationError(f"{where}: {what} {name!r} is not a string")
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise ValidationError(
            f"{where}: {what} {name!r} is not valid (use a letter followed by letters, "
            f"digits or '_', at most {MAX_NAME} characters)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ValidationError(f"{where}: {what} {name!r} is reserved")
    return name


_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def check_label(name: object, where: str) -> str:
    """Return ``name`` if it is a valid program or circuit name (letters, digits, '_', '-')."""
    if not isinstance(name, str) or not _LABEL.match(name) or len(name) > MAX_NAME:
        raise ValidationError(
            f"{where}: name {name!r} is not valid (letters, digits, '_' or '-', at most {MAX_NAME} characters)"
        )
    return name


def _number(value: object, where: str) -> sympy.Expr:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{where}: constant {value!r} is not a real number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where}: constant {value!r} is not finite")
        return sympy.Float(value)
    if abs(value) > 10**30:
        raise ValidationError(f"{where}: constant {value} is too large")
    return sympy.Integer(value)


def _power(base: sympy.Expr, exponent: sympy.Expr, where: str) -> sympy.Expr:
    if not exponent.is_number:
        raise ValidationError(f"{where}: exponent {exponent} must be a number")
    value = complex(exponent)
    if value.imag != 0 or not math.isfinite(value.real) or abs(value.real) > MAX_POWER:
        raise ValidationError(f"{where}: exponent {exponent} must be a real number with |n| <= {MAX_POWER}")
    if exponent.is_integer is not True and float(exponent).is_integer():
        exponent = sympy.Integer(int(float(exponent)))
    if base.is_number:
        # Numeric powers are evaluated as floats: bounded cost, no huge integers.
        try:
            result = float(base) ** float(exponent)
        except (OverflowError, ZeroDivisionError, TypeError) as exc:
            raise ValidationError(f"{where}: {base}**{exponent} cannot be evaluated ({exc})") from None
        if isinstance(result, complex) or not math.isfinite(result):
            raise ValidationError(f"{where}: {base}**{exponent} is not a finite real number")
        return sympy.Float(result)
    return base**exponent


def parse_expression(text: object, symbols: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    """Parse ``text`` (a string or a sympy expression) into a sympy expression.

    Parameters
    ----------
    text
        The expression, e.g. ``"10*(-123.0769*o**3 + 0.2308*o)"``, or a sympy expression.
    symbols
        The names the expression may use, mapped to their sympy symbols.
    where
        Prefix for error messages, e.g. ``"Program 'nand': d(o)/dt"``.

    Raises
    ------
    ValidationError
        If the text does not parse, uses something outside the whitelist, uses an
        undeclared name, or holds a non-finite number.
    """
    if isinstance(text, sympy.Basic):
        return _from_sympy(text, symbols, where)
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _number(text, where)
    if not isinstance(text, str):
        raise ValidationError(f"{where}: expected a string or sympy expression, got {type(text).__name__}")
    if not text.strip():
        raise ValidationError(f"{where}: expression is empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{where}: expression is longer than {MAX_TEXT} characters")
    try:
        with warnings.catch_warnings():  # e.g. "1if": a SyntaxWarning would reach the user's console
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValidationError(f"{where}: cannot parse {shown!r} ({msg})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ValidationError(f"{where}: expression has more than {MAX_NODES} terms")
    try:
        return _convert(tree.body, symbols, where)
    except RecursionError:
        raise ValidationError(f"{where}: expression is nested too deeply") from None


def _convert(root: ast.AST, symbols: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    # Iterative post-order walk: a long chain like a+a+...+a is a deep tree,
    # and a recursive walk would hit Python's recursion limit.
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    values: dict[int, sympy.Expr] = {}
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node, symbols, where))
            continue
        values[id(node)] = _build(node, values, symbols, where)
    return values[id(root)]


def _children(node: ast.AST, symbols, where) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS and not isinstance(node.op, ast.Pow):
            raise ValidationError(f"{where}: operator {type(node.op).__name__} is not allowed")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ValidationError(f"{where}: operator {type(node.op).__name__} is not allowed")
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.dump(node.func)[:40]
            raise ValidationError(f"{where}: function {name!r} is not allowed (allowed: {', '.join(FUNCTIONS)})")
        if node.keywords or len(node.args) != 1:
            raise ValidationError(f"{where}: {node.func.id}() takes exactly one argument")
        return [node.args[0]]
    if isinstance(node, (ast.Constant, ast.Name)):
        return []
    raise ValidationError(f"{where}: {type(node).__name__} is not allowed in an expression")


def _build(node: ast.AST, values: dict[int, sympy.Expr], symbols, where) -> sympy.Expr:
    # _children has validated the node: a call is to a Name in FUNCTIONS, anything else left is a BinOp
    if isinstance(node, ast.Constant):
        return _number(node.value, where)
    if isinstance(node, ast.Name):
        if node.id not in symbols:
            raise ValidationError(f"{where}: symbol {node.id!r} is not declared")
        return symbols[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = values[id(node.operand)]
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return FUNCTIONS[cast(ast.Name, node.func).id](values[id(node.args[0])])
    node = cast(ast.BinOp, node)
    left, right = values[id(node.left)], values[id(node.right)]
    if isinstance(node.op, ast.Pow):
        return _power(left, right, where)
    if isinstance(node.op, ast.Div) and right.is_number and right == 0:
        raise ValidationError(f"{where}: division by zero")
    result = _BINOPS[type(node.op)](left, right)
    if result.is_number and not result.is_finite:
        raise ValidationError(f"{where}: expression evaluates to a non-finite number")
    return result


def _from_sympy(expr: sympy.Basic, symbols: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    if not isinstance(expr, sympy.Expr):
        raise ValidationError(f"{where}: {type(expr).__name__} is not an expression")
    by_name = {}
    for sym in expr.free_symbols:
        if sym.name not in symbols:
            raise ValidationError(f"{where}: symbol {sym.name!r} is not declared")
        by_name[sym] = symbols[sym.name]
    for atom in expr.atoms(sympy.Number):
        if not atom.is_finite or not atom.is_real:
            raise ValidationError(f"{where}: constant {atom} is not a finite real number")
    allowed = tuple(FUNCTIONS.values())
    for func in expr.atoms(sympy.Function):
        if not isinstance(func, allowed):
            raise ValidationError(f"{where}: function {func.func.__name__!r} is not allowed")
    return expr.xreplace(by_name)
