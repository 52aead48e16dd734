"""A restricted parser for program expressions.

``sympy.sympify`` and ``parse_expr`` call ``eval`` on their input, so a program
string could run arbitrary code.  This module parses the text with Python's
``ast`` module (which only parses) and builds the sympy expression itself from a
whitelist of node types: numbers, declared symbols, ``+ - * / **``, unary
signs and calls of a few named functions.  A sympy expression given instead of
text is rebuilt over the same whitelist.  Anything else is a
:class:`~npl_nengo.errors.ValidationError`.

The cost of an expression is bounded before sympy sees it: text length
(:data:`MAX_TEXT`), syntax-tree nodes (:data:`MAX_NODES`), nesting depth
(:data:`MAX_DEPTH`), digits in a literal (:data:`MAX_DIGITS`), exponent size
(:data:`MAX_POWER`), and only plain ASCII text (Python's parser would silently
read a look-alike such as a fullwidth ``ｘ`` as ``x``).  Constant sub-expressions
(``sin(2.0)``, ``3**0.5``, ``log(7)``) are evaluated in float64 as they are
built, so sympy never evaluates a transcendental function of a number (which
can take unbounded time and memory, e.g. ``sin(exp(exp(20.0)))``), and every
constant is checked to be a real number that float64 represents: ``sqrt(-1)``,
``log(0)``, ``exp(1000)`` or ``1e308*10`` are refused, never truncated.  Above a
function call or a fractional or negative power the expression is kept as written
(sympy's automatic evaluation of nested transcendental expressions has no cost
bound); polynomial parts are evaluated by sympy as usual.  A :class:`Budget`
bounds the syntax nodes of all the expressions of one program together
(:data:`MAX_PROGRAM_NODES`).
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
import warnings
from typing import Callable, Mapping, cast

import sympy

from .errors import ValidationError

__all__ = [
    "parse_expression", "check_name", "check_label", "FUNCTIONS", "MAX_TEXT", "MAX_NODES", "MAX_POWER",
    "MAX_DEPTH", "MAX_DIGITS", "MAX_INTEGER", "MAX_PROGRAM_NODES", "Budget",
]

#: Functions a program may call.  Only the ``sampled`` compiler accepts them
#: (the ``taylor`` compiler needs polynomials).
FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
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
#: The same functions in float64: a call on a constant is evaluated with these.
_FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "atan": math.atan,
    "abs": abs,
}
#: sympy's classes of the whitelisted functions (``sqrt(x)`` is ``Pow(x, 1/2)`` in sympy).
_SYMPY_FUNCTIONS: dict[type, str] = {f: name for name, f in FUNCTIONS.items() if isinstance(f, type)}
#: Names a variable may not take (they would shadow functions or constants).
RESERVED = frozenset(FUNCTIONS) | {"pi", "E", "I", "oo", "nan", "inf", "t"}
MAX_TEXT = 20_000  # characters in one expression
MAX_NODES = 4_000  # syntax-tree nodes in one expression
MAX_DEPTH = 64  # nesting of parentheses, calls and powers in one expression
MAX_POWER = 16  # largest |exponent| of a power
MAX_DIGITS = 400  # digits in one number literal
MAX_INTEGER = 10**30  # largest |integer| literal (write larger numbers as floats: 1e40)
MAX_NAME = 64  # characters in a name
MAX_PROGRAM_NODES = 12_000  # syntax nodes in all the expressions of one program
_FLOAT_MAX = 1.7976931348623157e308  # largest finite float64
_MAX_EXACT = 10**300  # largest numerator or denominator of an exact fraction in a built expression

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_LONG_NUMBER = re.compile(r"[0-9_]{%d,}" % (MAX_DIGITS + 1))

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
#: Operators sympy flattens into one node: a chain of them is not nesting.
_GROUPS = {ast.Add: "+", ast.Sub: "+", ast.Mult: "*", ast.Div: "*"}


def check_name(name: object, where: str, what: str = "name") -> str:
    """Return ``name`` if it is a valid identifier for a variable, part or input.

    Valid names start with an ASCII letter, hold ASCII letters, digits and
    underscores, are not Python keywords, and do not shadow a function (``sin``)
    or constant (``pi``).
    """
    if not isinstance(name, str):
        raise ValidationError(f"{where}: {what} {name!r} is not a string")
    if len(name) > MAX_NAME or not _NAME.fullmatch(name):
        shown = name if len(name) <= MAX_NAME + 2 else name[:MAX_NAME] + "..."
        raise ValidationError(
            f"{where}: {what} {shown!r} is not valid (use an ASCII letter followed by letters, "
            f"digits or '_', at most {MAX_NAME} characters)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ValidationError(f"{where}: {what} {name!r} is reserved")
    return name


_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def check_label(name: object, where: str) -> str:
    """Return ``name`` if it is a valid program or circuit name (ASCII letters, digits, '_', '-')."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not _LABEL.fullmatch(name):
        shown = name[:MAX_NAME] + "..." if isinstance(name, str) and len(name) > MAX_NAME + 2 else name
        raise ValidationError(
            f"{where}: name {shown!r} is not valid (ASCII letters, digits, '_' or '-', at most {MAX_NAME} characters)"
        )
    return name


class Budget:
    """Syntax nodes left for the expressions of one program (:data:`MAX_PROGRAM_NODES` in all).

    Each expression is bounded on its own; the budget bounds their sum, so a program
    of many large expressions is refused instead of building for minutes.
    """

    def __init__(self, nodes: int = MAX_PROGRAM_NODES):
        self.total = nodes
        self.left = nodes

    def take(self, nodes: int, where: str) -> None:
        self.left -= nodes
        if self.left < 0:
            raise ValidationError(
                f"{where}: the program's expressions have more than {self.total} syntax nodes in all; "
                f"split it into smaller programs (parts of a Circuit)"
            )


# -- constants ----------------------------------------------------------------------
def _digits(value: int) -> int:
    """About how many decimal digits ``value`` has (without converting it to text)."""
    return int(abs(value).bit_length() * 0.30103) + 1


def _float(value: sympy.Expr, where: str, what: str = "constant") -> float:
    """float64 value of a sympy number; refuse one float64 cannot hold (overflow, underflow, complex)."""
    if isinstance(value, sympy.Integer):
        if abs(int(value)) > _FLOAT_MAX:
            raise ValidationError(f"{where}: {what} with about {_digits(int(value))} digits overflows float64")
        return float(int(value))
    if isinstance(value, sympy.Rational):
        try:
            result = int(value.p) / int(value.q)
        except OverflowError:
            raise ValidationError(f"{where}: {what} overflows float64 (|value| > {_FLOAT_MAX:.4g})") from None
    elif isinstance(value, sympy.Float):
        result = float(value)
    else:
        raise ValidationError(f"{where}: {what} {_show(value)} is not a finite real number")
    if not math.isfinite(result):
        raise ValidationError(f"{where}: {what} {_show(value)} overflows float64 (|value| > {_FLOAT_MAX:.4g})")
    if result == 0.0 and not value.is_zero:
        raise ValidationError(f"{where}: {what} {_show(value)} underflows float64 (it would silently become 0)")
    return result


def _show(expr: object, limit: int = 60) -> str:
    if isinstance(expr, sympy.Integer) and _digits(int(expr)) > 40:
        return f"<integer with about {_digits(int(expr))} digits>"
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tame(value: sympy.Expr, where: str) -> sympy.Expr:
    """Check a constant result; a rational with huge numerator or denominator becomes its float64 value."""
    number = _float(value, where)
    if isinstance(value, sympy.Rational) and not isinstance(value, sympy.Integer):
        if abs(int(value.p)) > MAX_INTEGER or int(value.q) > MAX_INTEGER:
            return sympy.Float(number)
    return value


def _number(value: object, where: str) -> sympy.Expr:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "complex" if isinstance(value, complex) else type(value).__name__
        raise ValidationError(f"{where}: constant {_show(value)} ({kind}) is not a real number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where}: constant {value!r} is not finite (or overflows float64)")
        return sympy.Float(value)
    if abs(value) > MAX_INTEGER:
        raise ValidationError(
            f"{where}: integer constant with about {_digits(value)} digits is too large "
            f"(at most 10**30; write large numbers as floats, e.g. 1e40)"
        )
    return sympy.Integer(value)


# -- operations (shared by text and sympy input) -------------------------------------
# A built value is ``(expression, opaque)``.  Polynomial parts (numbers, symbols, + - *,
# powers by a whole number >= 0) are built with sympy's usual evaluation, as before.
# Anything above a function call or a fractional or negative power is "opaque": built
# as written (``evaluate=False``), because sympy's evaluation of nested transcendental
# expressions asks its assumption system questions whose cost grows without bound with
# the nesting (``cosh(sin(tan(a*cos(...))**-1)/b)`` can run for minutes).  The
# expression means exactly what the text says; only its term collection is skipped.
Value = tuple[sympy.Expr, bool]


def _power(base: Value, exponent: Value, where: str) -> Value:
    b, e = base[0], exponent[0]
    if not e.is_Number:
        raise ValidationError(f"{where}: exponent {_show(e)} must be a number")
    value = _float(e, where, "exponent")
    if abs(value) > MAX_POWER:
        raise ValidationError(f"{where}: exponent {_show(e)} must be a real number with |n| <= {MAX_POWER}")
    if e.is_integer is not True and value.is_integer():
        e = sympy.Integer(int(value))
    if b.is_Number:
        # Numeric powers are evaluated as floats: bounded cost, no huge integers.
        x = _float(b, where)
        try:
            result = x**value
        except (OverflowError, ZeroDivisionError) as exc:
            raise ValidationError(f"{where}: ({_show(b)})**({_show(e)}) cannot be evaluated ({exc})") from None
        if isinstance(result, complex) or not math.isfinite(result):
            raise ValidationError(f"{where}: ({_show(b)})**({_show(e)}) is not a finite real number")
        return _tame(sympy.Float(result), where), False
    if e.is_Integer and e >= 0 and not base[1]:
        return b**e, False
    return sympy.Pow(b, e, evaluate=False), True


def _call(name: str, arg: Value, where: str) -> Value:
    a = arg[0]
    if a.is_Number:
        # A function of a constant is evaluated in float64, here: sympy would evaluate it
        # symbolically, at a cost unbounded in the size of the constant.
        x = _float(a, where)
        try:
            result = _FLOAT_FUNCTIONS[name](x)
        except (ValueError, OverflowError, ZeroDivisionError):
            result = math.nan
        if not math.isfinite(result):
            raise ValidationError(f"{where}: {name}({x!r}) is not a finite real number")
        return _tame(sympy.Float(result), where), False
    return FUNCTIONS[name](a, evaluate=False), True  # type: ignore[call-arg]


def _add(args: list[Value], where: str) -> Value:
    if any(opaque for _, opaque in args):
        flat = [t for a, _ in args for t in (a.args if isinstance(a, sympy.Add) else (a,))]
        return _unevaluated(sympy.Add, flat, where), True
    return _checked(sympy.Add(*[a for a, _ in args]), where), False


def _mul(args: list[Value], where: str) -> Value:
    if any(opaque for _, opaque in args):
        flat = [f for a, _ in args for f in (a.args if isinstance(a, sympy.Mul) else (a,))]
        return _unevaluated(sympy.Mul, flat, where), True
    return _checked(sympy.Mul(*[a for a, _ in args]), where), False


def _unevaluated(op: type[sympy.Add] | type[sympy.Mul], args: list[sympy.Expr], where: str) -> sympy.Expr:
    """``op(*args)`` as written, except that its numbers are combined into one (and checked).

    ``tanh(x)*1e200*1e200`` is refused like ``x*1e200*1e200``: its constant overflows.
    """
    numbers = [a for a in args if a.is_Number]
    rest = [a for a in args if not a.is_Number]
    if len(numbers) > 1:
        numbers = [_checked(op(*numbers), where)]
    if numbers and numbers[0] == op.identity and rest:  # x + 0, 1*x
        numbers = []
    return op(*numbers, *rest, evaluate=False)


def _neg(arg: Value, where: str) -> Value:
    return _mul([(sympy.Integer(-1), False), arg], where)


def _reciprocal(value: Value, where: str) -> Value:
    v = value[0]
    if v.is_Number:
        if v.is_zero:
            raise ValidationError(f"{where}: division by zero")
        return _checked(1 / v, where), False
    return _power(value, (sympy.Integer(-1), False), where)


def _checked(result: sympy.Expr, where: str) -> sympy.Expr:
    return _tame(result, where) if result.is_Number else result


def _finish(expr: sympy.Expr, symbols: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    """Check every atom of a built expression: declared symbols and float64 numbers only.

    Term collection can make a coefficient out of range (``1e308*x + 1e308*x``), so this
    looks at the result, not only at the literals.  Nothing is rebuilt here.
    """
    declared = set(symbols.values())
    for atom in expr.atoms():
        if isinstance(atom, sympy.Symbol):
            if atom not in declared:  # pragma: no cover  (the builders only emit declared symbols)
                raise ValidationError(f"{where}: symbol {atom.name!r} is not declared")
        elif isinstance(atom, (sympy.Rational, sympy.Float)):
            _float(atom, where, "coefficient")
            if isinstance(atom, sympy.Rational) and max(abs(int(atom.p)), int(atom.q)) > _MAX_EXACT:
                raise ValidationError(
                    f"{where}: an exact fraction in the expression has about "
                    f"{_digits(max(abs(int(atom.p)), int(atom.q)))} digits; write its terms with float constants"
                )
        elif atom is sympy.I:
            raise ValidationError(f"{where}: the expression has a complex value (it holds I = sqrt(-1))")
        else:
            raise ValidationError(f"{where}: constant {_show(atom)} is not a finite real number")
    return expr


# -- text -----------------------------------------------------------------------------
def parse_expression(
    text: object, symbols: Mapping[str, sympy.Symbol], where: str, budget: Budget | None = None
) -> sympy.Expr:
    """Parse ``text`` (a string, a number or a sympy expression) into a sympy expression.

    Parameters
    ----------
    text
        The expression, e.g. ``"10*(-123.0769*o**3 + 0.2308*o)"``, or a sympy expression
        over the same whitelist (symbols are matched by name).
    symbols
        The names the expression may use, mapped to their sympy symbols.
    where
        Prefix for error messages, e.g. ``"Program 'nand': d(o)/dt"``.
    budget
        The syntax nodes left to the program this expression belongs to; this
        expression's nodes are taken from it.

    Raises
    ------
    ValidationError
        If the text does not parse, is not ASCII, is too long, too large or nested too
        deeply, uses something outside the whitelist or an undeclared name, or holds a
        constant that is not a real float64 number (``sqrt(-1)``, ``log(0)``, ``1e400``).
    """
    if isinstance(text, sympy.Basic):
        limit = MAX_NODES if budget is None else max(0, min(MAX_NODES, budget.left))
        expr, nodes = _from_sympy(text, symbols, where, limit)
        if budget is not None:
            budget.take(nodes, where)
        return _finish(expr, symbols, where)
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _finish(_number(text, where), symbols, where)
    if not isinstance(text, str):
        raise ValidationError(f"{where}: expected a string or sympy expression, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{where}: expression is longer than {MAX_TEXT} characters ({len(text)})")
    if not text.strip():
        raise ValidationError(f"{where}: expression is empty")
    if not text.isascii():
        _refuse_non_ascii(text, where)
    long_number = _LONG_NUMBER.search(text)
    if long_number:
        raise ValidationError(f"{where}: number at position {long_number.start()} has more than {MAX_DIGITS} digits")
    try:
        with warnings.catch_warnings():  # e.g. "1if": a SyntaxWarning would reach the user's console
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValidationError(f"{where}: cannot parse {shown!r} ({msg})") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ValidationError(f"{where}: expression has more than {MAX_NODES} terms ({nodes} syntax nodes)")
    if budget is not None:
        budget.take(nodes, where)
    if _ast_depth(tree.body) > MAX_DEPTH:
        raise ValidationError(f"{where}: expression is nested too deeply (more than {MAX_DEPTH} levels)")
    try:
        expr = _convert(tree.body, text.strip(), symbols, where)
    except RecursionError:  # pragma: no cover  (the depth is bounded above)
        raise ValidationError(f"{where}: expression is nested too deeply") from None
    return _finish(expr, symbols, where)


def _refuse_non_ascii(text: str, where: str) -> None:
    i, ch = next((i, ch) for i, ch in enumerate(text) if not ch.isascii())
    folded = unicodedata.normalize("NFKC", ch)
    hint = (f"; Python would silently read it as {folded!r}, so it is refused rather than renamed"
            if folded != ch and folded.isascii() else "")
    raise ValidationError(
        f"{where}: character {ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}) at position {i} is not "
        f"ASCII; expressions must be plain ASCII{hint}"
    )


def _ast_depth(root: ast.AST) -> int:
    """Nesting depth of an expression's syntax tree; a chain ``a + b - c`` or ``a * b / c`` counts once."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        group = _GROUPS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.operator, ast.unaryop, ast.expr_context)):
                continue
            same = group is not None and isinstance(child, ast.BinOp) and _GROUPS.get(type(child.op)) == group
            stack.append((child, depth if same else depth + 1))
    return deepest


def _convert(root: ast.AST, text: str, symbols: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    # Iterative post-order walk: a long chain like a+a+...+a is a deep tree,
    # and a recursive walk would hit Python's recursion limit.  A chain of + and -
    # (or of * and /) is built as one n-ary sympy node: pairwise, each step would
    # re-sort all terms so far (quadratic in the length of a long polynomial).
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    values: dict[int, Value] = {}
    chains: dict[int, list[tuple[ast.AST, ast.operator | None]]] = {}
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            chain = _chain(node)
            if chain is not None:
                chains[id(node)] = chain
                children = [operand for operand, _ in chain]
            else:
                children = _children(node, symbols, where)
            stack.extend((child, False) for child in children)
            continue
        chain = chains.pop(id(node), None)
        values[id(node)] = (_build_chain(chain, values, where) if chain is not None
                            else _build(node, values, text, symbols, where))
    return values[id(root)][0]


def _chain(node: ast.AST) -> list[tuple[ast.AST, ast.operator | None]] | None:
    """``a - b + c`` as ``[(a, None), (b, Sub), (c, Add)]`` (the left spine of one operator group)."""
    if not isinstance(node, ast.BinOp) or type(node.op) not in _GROUPS:
        return None
    group = _GROUPS[type(node.op)]
    out: list[tuple[ast.AST, ast.operator | None]] = []
    cur: ast.AST = node
    while isinstance(cur, ast.BinOp) and _GROUPS.get(type(cur.op)) == group:
        out.append((cur.right, cur.op))
        cur = cur.left
    out.append((cur, None))
    out.reverse()
    return out


def _build_chain(chain: list[tuple[ast.AST, ast.operator | None]], values: dict[int, Value], where: str) -> Value:
    first = values[id(chain[0][0])]
    if isinstance(chain[1][1], (ast.Add, ast.Sub)):
        terms = [first] + [values[id(n)] if isinstance(op, ast.Add) else _neg(values[id(n)], where)
                           for n, op in chain[1:]]
        return _add(terms, where)
    factors = [first] + [values[id(n)] if isinstance(op, ast.Mult) else _reciprocal(values[id(n)], where)
                         for n, op in chain[1:]]
    return _mul(factors, where)


def _children(node: ast.AST, symbols, where) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINOPS) and not isinstance(node.op, ast.Pow):
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


def _build(node: ast.AST, values: dict[int, Value], text: str, symbols, where) -> Value:
    # _children has validated the node: a call is to a Name in FUNCTIONS, anything else left is a BinOp
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float) and node.value == 0.0:
            literal = ast.get_source_segment(text, node) or ""
            if re.search(r"[1-9]", re.split(r"[eE]", literal)[0]):
                raise ValidationError(
                    f"{where}: constant {_show(literal)} underflows float64 (it would silently become 0)"
                )
        return _number(node.value, where), False
    if isinstance(node, ast.Name):
        if node.id not in symbols:
            raise ValidationError(f"{where}: symbol {node.id!r} is not declared")
        return symbols[node.id], False
    if isinstance(node, ast.UnaryOp):
        operand = values[id(node.operand)]
        return _neg(operand, where) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return _call(cast(ast.Name, node.func).id, values[id(node.args[0])], where)
    node = cast(ast.BinOp, node)  # a power: chains of + - * / are built by _build_chain
    return _power(values[id(node.left)], values[id(node.right)], where)


# -- sympy input ----------------------------------------------------------------------
def _from_sympy(
    expr: sympy.Basic, symbols: Mapping[str, sympy.Symbol], where: str, limit: int
) -> tuple[sympy.Expr, int]:
    """Rebuild a sympy expression over the whitelist, with the same bounds and folding as text.

    Returns the expression and its number of nodes (at most ``limit``).
    """
    if not isinstance(expr, sympy.Expr):
        raise ValidationError(f"{where}: {type(expr).__name__} is not an expression")
    stack: list[tuple[sympy.Basic, bool, int]] = [(expr, False, 1)]
    values: list[Value] = []
    seen = 0
    while stack:
        node, done, depth = stack.pop()
        if not done:
            seen += 1
            if seen > limit:
                if limit < MAX_NODES:
                    raise ValidationError(
                        f"{where}: the program's expressions have more than {MAX_PROGRAM_NODES} syntax nodes in all; "
                        f"split it into smaller programs (parts of a Circuit)"
                    )
                raise ValidationError(f"{where}: expression has more than {MAX_NODES} terms")
            if depth > MAX_DEPTH:
                raise ValidationError(f"{where}: expression is nested too deeply (more than {MAX_DEPTH} levels)")
            if _sympy_leaf(node, symbols, values, where):
                continue
            stack.append((node, True, depth))
            flat = isinstance(node, (sympy.Add, sympy.Mul))  # a chain a + (b + c) is one level, as in text
            stack.extend((arg, False, depth if flat and type(arg) is type(node) else depth + 1)
                         for arg in reversed(node.args))
            continue
        n = len(node.args)
        args, values[-n:] = values[-n:], []
        if isinstance(node, sympy.Add):
            values.append(_add(args, where))
        elif isinstance(node, sympy.Mul):
            values.append(_mul(args, where))
        elif isinstance(node, sympy.Pow):
            values.append(_power(args[0], args[1], where))
        else:
            values.append(_call(_SYMPY_FUNCTIONS[type(node)], args[0], where))
    return values[0][0], seen


def _sympy_leaf(node: sympy.Basic, symbols: Mapping[str, sympy.Symbol], values: list[Value], where: str) -> bool:
    """Push the value of a leaf and return True; return False for an allowed inner node; refuse the rest."""
    if isinstance(node, sympy.Symbol):
        if node.name not in symbols:
            raise ValidationError(f"{where}: symbol {node.name!r} is not declared")
        values.append((symbols[node.name], False))
        return True
    if isinstance(node, sympy.Integer):
        if abs(int(node)) > MAX_INTEGER:
            raise ValidationError(
                f"{where}: integer constant with about {_digits(int(node))} digits is too large "
                f"(at most 10**30; write large numbers as floats, e.g. 1e40)"
            )
        values.append((node, False))
        return True
    if isinstance(node, (sympy.Rational, sympy.Float)):
        value = _tame(node, where)
        values.append((sympy.Float(_float(value, where)) if isinstance(value, sympy.Float) else value, False))
        return True
    if node is sympy.pi or node is sympy.E:
        values.append((sympy.Float(math.pi if node is sympy.pi else math.e), False))
        return True
    if isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)):
        return False
    if isinstance(node, sympy.NumberSymbol):
        raise ValidationError(f"{where}: constant {node} is not allowed (of sympy's constants only pi and E are)")
    if type(node) in _SYMPY_FUNCTIONS:
        if len(node.args) != 1:
            raise ValidationError(f"{where}: {_SYMPY_FUNCTIONS[type(node)]}() takes exactly one argument")
        return False
    if isinstance(node, sympy.Function):
        raise ValidationError(
            f"{where}: function {type(node).__name__!r} is not allowed (allowed: {', '.join(FUNCTIONS)})"
        )
    if node is sympy.I:
        raise ValidationError(f"{where}: the expression has a complex value (it holds I = sqrt(-1))")
    if isinstance(node, sympy.Expr) and (node.is_Atom or node.is_number):
        raise ValidationError(f"{where}: constant {_show(node)} is not a finite real number")
    raise ValidationError(f"{where}: {type(node).__name__} is not allowed in an expression")
