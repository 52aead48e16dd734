"""Hostile program input ends in an NplError naming the program and the field, or in acceptance
that keeps the program's meaning -- fast, in bounded memory, and without running any code.

Two kinds of test:

* a corpus, ``tests/hostile/texts/*.txt``: plain text, one expression per line after a ``#``
  header that says what the file holds and what to expect (``# expect: error`` -- every line is
  refused; ``# expect: any`` -- refused, or accepted with its meaning unchanged;
  ``# compile: taylor`` -- accepted programs are also compiled).  Each line is the right-hand
  side ``d(x)/dt`` of a program over states x, y, z and inputs a..h;
* property-based tests (hypothesis, derandomized: the same examples on every run) for each class
  of hostile input: functions of huge constants, powers of sums, non-finite and complex
  constants, huge integers, overflowing constants, Unicode look-alikes, sympy objects.

"Meaning unchanged" is checked against an independent float64 evaluation of the text (a small
evaluator over Python's ``ast`` in this file, not the library's): wherever that gives a finite
value, the program must give the same value.

Bounds: each item must end within :data:`SECONDS` (the issue's 2 s) and allocate at most
:data:`MEGABYTES` (tracemalloc peak; the issue allows 200 MB beyond the imports).  Measured on a
loaded 2-core machine: the slowest corpus item took about 0.45 s and the largest peak was about
15 MB, so both bounds hold with a margin of 3x or more.  Each item runs with sympy's cache cleared,
so it pays the full (cold) cost; the time is measured without tracemalloc, the memory in a second run.
"""

from __future__ import annotations

import ast
import math
import os
import time
import tracemalloc
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.core.cache import clear_cache

import npl_nengo as npl
from npl_nengo.expressions import MAX_DEPTH, MAX_PROGRAM_NODES, parse_expression
from npl_nengo.program import MAX_NAMES

CORPUS = Path(__file__).parent / "hostile" / "texts"
SECONDS = 2.0  # the bound per item; about 4x the slowest item measured (0.45 s)
MEGABYTES = 50.0  # about 3x the largest peak measured (15 MB); the bound is 200 MB
STATES = ("x", "y", "z")
INPUTS = tuple("abcdefgh")
NAME = "hostile"
CANARY = "/tmp/npl_hostile_canary"
FUZZ = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """sympy imports modules on first use (about 0.3 s): not a cost of the hostile input."""
    npl.compile(build("x + sin(y)*0 + a"), n_neurons=30, method="sampled", seed=0)


# -- the program under test and an independent float64 evaluator -----------------------------
def build(rhs: object) -> npl.Program:
    """A program over states x, y, z and inputs a..h with ``d(x)/dt = rhs``."""
    return npl.Program(
        NAME,
        derivatives={"x": rhs, "y": "-y", "z": "-z"},
        inputs={v: (-0.1, 0.1) for v in INPUTS},
        ranges={v: (-0.2, 0.2) for v in STATES},
    )


def points(n: int = 24) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    values = {v: rng.uniform(-0.2, 0.2, n) for v in STATES}
    values.update({v: rng.uniform(-0.1, 0.1, n) for v in INPUTS})
    values["x"][:2] = (0.0, 0.15)  # a zero and a round value
    return values


_NP = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
       "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "atan": np.arctan, "abs": np.abs}
_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide, ast.Pow: np.power}


def reference(text: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """``text`` evaluated in float64 with numpy, node by node as written (iteratively: chains are deep)."""
    root = ast.parse(text.strip(), mode="eval").body
    shape = next(iter(values.values())).shape
    out: dict[int, np.ndarray] = {}
    stack = [(root, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, done = stack.pop()
            if not done:
                stack.append((node, True))
                children = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
                stack.extend((c, False) for c in children if isinstance(c, ast.expr))
                continue
            if isinstance(node, ast.Constant):
                value = np.full(shape, float(node.value))
            elif isinstance(node, ast.Name):
                value = values[node.id]
            elif isinstance(node, ast.UnaryOp):
                value = -out[id(node.operand)] if isinstance(node.op, ast.USub) else out[id(node.operand)]
            elif isinstance(node, ast.Call):
                value = _NP[node.func.id](out[id(node.args[0])])  # type: ignore[attr-defined]
            else:
                assert isinstance(node, ast.BinOp)
                value = _OPS[type(node.op)](out[id(node.left)], out[id(node.right)])
            out[id(node)] = np.asarray(value, dtype=float)
    return out[id(root)]


def assert_same_meaning(program: npl.Program, text: str) -> None:
    """Wherever the text's own float64 value is finite, the program computes the same value."""
    values = points()
    want = reference(text, values)
    got = program.evaluate("x", values)
    finite = np.isfinite(want)
    scale = 1.0 + float(np.max(np.abs(want[finite]), initial=0.0))
    assert np.all(np.isfinite(got[finite])), f"{text[:80]!r}: finite {want[finite]} became {got[finite]}"
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-9 * scale, err_msg=text[:80])


def assert_names_field(error: npl.NplError, compiling: bool = False) -> None:
    message = str(error)
    assert NAME in message, message
    if not compiling:
        assert "d(x)/dt" in message or "'x'" in message, message


def run_item(text: str, compile_taylor: bool) -> tuple[str, object]:
    """Build the program (and look at it as the compilers do); ``("error", e)`` or ``("ok", program)``."""
    try:
        program = build(text)
    except npl.NplError as error:
        assert_names_field(error)
        return "error", error
    try:
        if program.polynomials is None:
            assert program.non_polynomial_term() is not None
        else:
            assert program.degree <= 12
    except npl.NplError as error:
        assert_names_field(error)
        return "error", error
    if compile_taylor and program.polynomials is not None:
        try:
            rnn = npl.compile(program, n_neurons=30, method="taylor", seed=0)
        except npl.NplError as error:
            assert_names_field(error, compiling=True)
            return "error", error
        assert np.all(np.isfinite(rnn.W))
    return "ok", program


def measured(call):
    """``(result, seconds, megabytes)``: time without tracemalloc, then memory in a second run;
    sympy's cache is cleared before each so both pay the full cost."""
    clear_cache()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    clear_cache()
    tracemalloc.start()
    try:
        call()
        megabytes = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return result, seconds, megabytes


# -- the corpus ------------------------------------------------------------------------------
def _corpus() -> list:
    items = []
    for path in sorted(CORPUS.glob("*.txt")):
        header: dict[str, str] = {}
        # split on "\n" only: a line may hold U+2028 or other characters str.splitlines() splits on
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            line = line.rstrip("\r")
            if line.startswith("#"):
                key, _, value = line[1:].partition(":")
                if key.strip() in ("expect", "compile"):
                    header[key.strip()] = value.strip()
                continue
            if line == "":
                continue
            items.append(pytest.param(line, header.get("expect", "any"), header.get("compile") == "taylor",
                                      id=f"{path.stem}:{number}"))
    return items


CORPUS_ITEMS = _corpus()


def test_corpus_is_there():
    files = {p.stem for p in CORPUS.glob("*.txt")}
    assert {"transcendental", "powers", "nonfinite", "integers", "overflow", "complex", "unicode", "injection",
            "structure"} <= files
    assert len(CORPUS_ITEMS) > 250


@pytest.mark.parametrize("text, expect, compile_taylor", CORPUS_ITEMS)
def test_corpus_line(text, expect, compile_taylor):
    (outcome, value), seconds, megabytes = measured(lambda: run_item(text, compile_taylor))
    assert seconds < SECONDS, f"took {seconds:.2f} s"
    assert megabytes < MEGABYTES, f"allocated {megabytes:.0f} MB"
    if expect == "error":
        assert outcome == "error", f"accepted: {value}"
    if outcome == "ok":
        assert_same_meaning(value, text)
    assert not os.path.exists(CANARY), "hostile text executed code"


def test_unicode_refusals_say_what_python_would_have_read():
    with pytest.raises(npl.ValidationError, match=r"U\+FF58 FULLWIDTH LATIN SMALL LETTER X.*not ASCII.*read it as 'x'"):
        build("\uff58")
    with pytest.raises(npl.ValidationError, match=r"Program 'hostile': d\(x\)/dt: character '\U0001d431'"):
        build("\U0001d431 + y")
    with pytest.raises(npl.ValidationError, match=r"U\+0430 CYRILLIC SMALL LETTER A.*not ASCII"):
        build("\u0430*x")  # no ASCII folding: refused all the same


# -- property-based tests, one per class --------------------------------------------------------
def _timed(call, seconds: float = SECONDS):
    start = time.perf_counter()
    try:
        result = call()
    except npl.NplError as error:
        result = error
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    return result


FLOAT_FUNCTIONS = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
                   "sqrt": math.sqrt, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh, "atan": math.atan,
                   "abs": abs}
big_constants = st.one_of(st.floats(-1e308, 1e308, allow_nan=False), st.integers(-10**30, 10**30),
                          st.sampled_from([0, 1, -1, 20.0, 700.0, 710.0, 1e300, 1e-300, 5e-324]))


def _float64(names: list[str], constant: float) -> float | None:
    """The nested call in float64, or None where it is not a finite real number."""
    value = float(constant)
    try:
        for name in reversed(names):
            value = FLOAT_FUNCTIONS[name](value)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


@settings(FUZZ, max_examples=200)
@given(names=st.lists(st.sampled_from(sorted(FLOAT_FUNCTIONS)), min_size=1, max_size=12), constant=big_constants,
       times_x=st.booleans())
def test_functions_of_constants_are_folded_in_float64_or_refused(names, constant, times_x):
    text = "".join(f"{n}(" for n in names) + repr(constant) + ")" * len(names) + ("*x" if times_x else "")
    result = _timed(lambda: build(text))
    want = _float64(names, constant)
    if want is None:  # overflow, log(0), sqrt(-1), ...: refused, naming the field
        assert isinstance(result, npl.ValidationError), text
        assert_names_field(result)
    elif isinstance(result, npl.NplError):  # only a value float64 cannot hold: an underflow to 0
        assert "underflows" in str(result) or "overflows" in str(result), (text, result)
    else:
        got = result.derivatives["x"] / (result.symbols["x"] if times_x else 1)
        assert float(got) == pytest.approx(want, rel=1e-15, abs=1e-300), text


wrappers = st.sampled_from(["{f}({x})", "{f}(a+{x})", "{f}(a*{x})", "{f}({x})**2", "{f}(-{x})", "{f}({x}/b)",
                            "{f}(2*{x}+1)", "{f}({x}**-1)", "{f}({x})-a", "{f}({x})*{f}(x+{x})"])


@settings(FUZZ, max_examples=80)
@given(steps=st.lists(st.tuples(wrappers, st.sampled_from(sorted(FLOAT_FUNCTIONS))), min_size=1, max_size=30))
def test_nested_functions_of_variables_build_fast_and_keep_their_meaning(steps):
    text = "x"
    for wrapper, name in steps:
        text = wrapper.format(f=name, x=text)
    result = _timed(lambda: build(text))
    if isinstance(result, npl.NplError):  # only the size limits refuse these
        assert "nested too deeply" in str(result) or "terms" in str(result), (text, result)
    else:
        assert_same_meaning(result, text)


@settings(FUZZ, max_examples=60)
@given(n_vars=st.integers(1, 11), power=st.integers(1, 16), constant=st.sampled_from(["", "+1", "+0.5"]),
       copies=st.integers(1, 3))
def test_powers_of_sums_are_sized_before_expanding(n_vars, power, constant, copies):
    names = (STATES + INPUTS)[:n_vars]
    text = "*".join([f"({'+'.join(names)}{constant})**{power}"] * copies)
    result = _timed(lambda: run_item(text, compile_taylor=False))
    outcome, value = result
    if outcome == "error":
        assert any(s in str(value) for s in ("monomials", "coefficient products", "syntax nodes")), value
        return
    program = value
    if power * copies > 12:
        assert program.polynomials is None and program.non_polynomial_term()[1] == "degree above 12"
    else:  # the expansion has the multinomial number of terms
        terms = math.comb(n_vars + (1 if constant else 0) + power * copies - 1, power * copies)
        assert len(program.polynomials["x"].terms()) == terms
        assert_same_meaning(program, text)


nonfinite_templates = st.sampled_from(["log({c})", "log({c})*x", "x/({c}-{c})", "({c}-{c})**-1", "exp({c})*x",
                                       "cosh({c})", "x*{c}**-2", "sqrt({c})*x", "log(sin({c}))", "1/log({c})"])


@settings(FUZZ, max_examples=120)
@given(template=nonfinite_templates, c=st.one_of(st.floats(-1e4, 1e4, allow_nan=False), st.integers(-1000, 1000),
                                                  st.sampled_from([0, 0.0, 1, 1.0, -1, 709.0, 711.0])))
def test_non_finite_constants_are_refused(template, c):
    text = template.format(c=f"({c!r})")
    result = _timed(lambda: build(text))
    if isinstance(result, npl.NplError):
        assert_names_field(result)
        return
    assert_same_meaning(result, text)  # accepted: then it is finite, and the same number
    values = points()
    want = reference(text, values)
    assert np.all(np.isfinite(want)) or not np.all(np.isfinite(result.evaluate("x", values)))


@settings(FUZZ, max_examples=80)
@given(digits=st.integers(32, 12000), lead=st.sampled_from("123456789"), form=st.sampled_from(["text", "int", "sympy"]))
def test_huge_integers_are_refused_without_valueerror(digits, lead, form):
    if form == "text":
        rhs: object = lead + "7" * (digits - 1) + "*x"
    else:
        value = int(lead) * 10 ** (digits - 1) + 7
        rhs = value if form == "int" else sympy.Integer(value) * sympy.Symbol("x")
    result = _timed(lambda: build(rhs))
    assert isinstance(result, npl.ValidationError), result
    assert_names_field(result)
    assert "digits" in str(result) and len(str(result)) < 400


@settings(FUZZ, max_examples=100)
@given(a=st.floats(1e150, 1.7e308), b=st.floats(1e-10, 1e160), op=st.sampled_from(["*", "+", "/"]),
       symbolic=st.sampled_from(["", "x*", "sin(x)*", "(x+y)**2*"]))
def test_constants_that_overflow_float64_are_refused(a, b, op, symbolic):
    text = f"{symbolic}{a!r}{op}{b!r}" if op != "+" else f"{symbolic}({a!r}+{a!r})"
    result = _timed(lambda: build(text))
    exact = a * b if op == "*" else (a / b if op == "/" else a + a)
    if math.isfinite(exact) and exact != 0:
        assert not isinstance(result, npl.NplError), (text, result)
        assert_same_meaning(result, text)
    else:
        assert isinstance(result, npl.ValidationError) and "float64" in str(result), (text, result)
        assert_names_field(result)


@settings(FUZZ, max_examples=100)
@given(c=st.floats(1e-300, 1e300), template=st.sampled_from(
    ["sqrt(-{c})", "x*sqrt(-{c})", "log(-{c})*x", "(-{c})**0.5", "x + (-{c})**0.25", "x*{c}j", "abs(sqrt(-{c}))*x"]))
def test_complex_constants_are_refused_not_truncated(c, template):
    result = _timed(lambda: build(template.format(c=repr(c))))
    assert isinstance(result, npl.ValidationError), result
    assert_names_field(result)
    assert "real" in str(result) or "complex" in str(result)


def _lookalikes() -> dict[str, list[str]]:
    """Non-ASCII characters Python's parser folds (NFKC) to an ASCII letter or digit."""
    found: dict[str, list[str]] = {}
    for code in range(0x80, 0x20000):
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            found.setdefault(folded, []).append(ch)
    return found


LOOKALIKES = _lookalikes()
lookalike = st.sampled_from(sorted(LOOKALIKES)).flatmap(lambda a: st.tuples(st.just(a), st.sampled_from(LOOKALIKES[a])))


@settings(FUZZ, max_examples=150)
@given(base=st.sampled_from(["x + 2*y - sin(a)", "exp(-x)*b", "x*tanh(c) + 10", "sqrt(abs(x)) + h"]),
       pair=lookalike, where=st.integers(0, 100))
def test_unicode_lookalikes_are_refused_not_renamed(base, pair, where):
    ascii_char, fake = pair
    spots = [i for i, ch in enumerate(base) if ch == ascii_char] or [where % (len(base) + 1)]
    i = spots[where % len(spots)]
    text = base[:i] + fake + base[i + (1 if base[i:i + 1] == ascii_char else 0):]
    result = _timed(lambda: build(text))
    assert isinstance(result, npl.ValidationError), (text, result)
    assert_names_field(result)
    assert "not ASCII" in str(result) and f"U+{ord(fake):04X}" in str(result)


@settings(FUZZ, max_examples=100)
@given(name=st.sampled_from(["x", "s1", "gate"]), pair=lookalike, where=st.integers(0, 3))
def test_unicode_lookalike_names_are_refused(name, pair, where):
    fake = name[: where % len(name)] + pair[1] + name[where % len(name) + 1:]
    with pytest.raises(npl.ValidationError, match="ASCII"):
        npl.Program(fake, derivatives={"x": "-x"}, ranges={"x": (-1, 1)})
    with pytest.raises(npl.ValidationError, match="ASCII"):
        npl.Program("p", derivatives={fake: "-x"}, ranges={fake: (-1, 1)})


@settings(FUZZ, max_examples=150)
@given(text=st.text(min_size=1, max_size=40).filter(lambda s: not s.isascii()))
def test_any_non_ascii_text_is_refused(text):
    result = _timed(lambda: build(text))
    assert isinstance(result, npl.ValidationError), (text, result)
    assert "not ASCII" in str(result) or "empty" in str(result)


# sympy objects: whitelisted functions are accepted with their meaning, the rest refused clearly
X, U = sympy.Symbol("x"), sympy.Symbol("a")
SYMPY_FUNCTIONS = [sympy.sin, sympy.cos, sympy.tan, sympy.exp, sympy.log, sympy.sqrt, sympy.tanh, sympy.sinh,
                   sympy.cosh, sympy.atan, sympy.Abs]
sympy_leaves = st.one_of(st.sampled_from([X, U, sympy.pi, sympy.E, sympy.Rational(1, 3)]),
                         st.floats(-5, 5).map(sympy.Float), st.integers(-5, 5).map(sympy.Integer))
sympy_exprs = st.recursive(
    sympy_leaves,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(SYMPY_FUNCTIONS), inner).map(lambda p: p[0](p[1])),
        st.tuples(inner, inner).map(lambda p: p[0] + p[1]),
        st.tuples(inner, inner).map(lambda p: p[0] * p[1]),
        st.tuples(inner, st.integers(-3, 4)).map(lambda p: p[0] ** p[1]),
    ),
    max_leaves=8,
)


@settings(FUZZ, max_examples=80)
@given(expr=sympy_exprs)
def test_sympy_expressions_with_whitelisted_functions_are_accepted(expr):
    if not isinstance(expr, sympy.Expr) or not expr.is_finite and expr.is_number:
        return
    result = _timed(lambda: build(expr))
    if isinstance(result, npl.NplError):  # only for a constant that is not a finite real float64 number
        assert_names_field(result)
        words = ("finite real", "float64", "division by zero", "exponent", "complex")
        assert any(s in str(result) for s in words), result
        return
    values = points()
    f = sympy.lambdify([X, U], expr, modules="numpy")
    with np.errstate(all="ignore"):
        want = np.broadcast_to(np.asarray(f(values["x"], values["a"]), dtype=complex), values["x"].shape)
    real = np.isfinite(want) & (want.imag == 0)
    got = result.evaluate("x", values)
    np.testing.assert_allclose(got[real], want.real[real], rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(want[real]),
                                                                                             initial=0)))


@pytest.mark.parametrize("rhs", [
    sympy.tanh(X), sympy.sin(X) + sympy.exp(U), sympy.Abs(X) * sympy.sqrt(U ** 2 + 1), sympy.log(X ** 2 + 1),
    sympy.atan(X) - sympy.cosh(U) / 3, sympy.pi * X, X ** sympy.Rational(1, 2),
])
def test_sympy_whitelisted_functions_in_a_program(rhs):
    program = build(rhs)  # was a raw TypeError from an isinstance check
    values = points()
    f = sympy.lambdify([X, U], rhs, modules="numpy")
    with np.errstate(all="ignore"):
        want = np.asarray(f(values["x"], values["a"]), dtype=float)
    ok = np.isfinite(want)
    np.testing.assert_allclose(program.evaluate("x", values)[ok], want[ok], rtol=1e-12)


@pytest.mark.parametrize("rhs, words", [
    (sympy.erf(X), "'erf' is not allowed"), (sympy.Max(X, U), "Max is not allowed"),
    (sympy.Piecewise((X, X > 0), (0, True)), "'Piecewise' is not allowed"),
    (sympy.Function("f")(X), "'f' is not allowed"), (sympy.Integral(X, X), "Integral is not allowed"),
    (sympy.Derivative(sympy.sin(X), X), "Derivative is not allowed"), (sympy.asin(X), "'asin' is not allowed"),
    (sympy.sign(X), "'sign' is not allowed"), (sympy.floor(X), "'floor' is not allowed"),
    (sympy.I * X, "complex"), (sympy.zoo, "not a finite real"), (sympy.nan * X, "not a finite real"),
    (sympy.oo * X, "not a finite real"), (sympy.EulerGamma * X, "not allowed"), (sympy.Eq(X, 1), "not an expression"),
    (sympy.Matrix([X]), "expected a string or sympy expression"), (sympy.Symbol("q") * X, "'q' is not declared"),
    (sympy.Pow(X, 10**6, evaluate=False), "exponent"), (sympy.Float("1e400") * X, "float64"),
    (sympy.Integer(10**5000) * X, "digits"), (sympy.log(X, 2, evaluate=False), "exactly one argument"),
    (sympy.exp(sympy.exp(sympy.Integer(20))) * X, "not a finite real"),
    (sympy.sin(sympy.exp(sympy.exp(sympy.Float(20.0)), evaluate=False), evaluate=False), "not a finite real"),
])
def test_sympy_objects_outside_the_whitelist_are_refused_clearly(rhs, words):
    result = _timed(lambda: build(rhs))
    assert isinstance(result, npl.ValidationError), result
    assert words in str(result), str(result)
    assert_names_field(result)


hostile_numbers = st.one_of(st.integers(-10**400, 10**400), st.floats(), st.text(max_size=8),
                            st.sampled_from([sympy.I, sympy.zoo, sympy.nan, sympy.Integer(10**400),
                                             sympy.Float("1e400"), None, [], (1, 2, 3), "9" * 5000, 10**5000]))


@settings(FUZZ, max_examples=150)
@given(value=hostile_numbers, other=st.sampled_from([-0.1, 0.1, 10**400]),
       field=st.sampled_from(["range", "input", "initial"]))
def test_hostile_ranges_and_initial_values(value, other, field):
    def make():
        ranges = {"x": (value, other) if field == "range" else (-0.2, 0.2)}
        inputs = {"a": (value, other) if field == "input" else (-0.1, 0.1)}
        initial = {"x": value} if field == "initial" else None
        return npl.Program(NAME, derivatives={"x": "-x + a"}, inputs=inputs, ranges=ranges, initial=initial)

    result = _timed(make)
    if isinstance(result, npl.NplError):
        assert NAME in str(result) and ("'x'" in str(result) or "'a'" in str(result)), result
    else:
        assert all(math.isfinite(v) for pair in (result.ranges["x"], result.input_ranges["a"]) for v in pair)
        assert all(math.isfinite(v) for v in result.initial.values())


def test_nesting_depth_and_program_size_limits():
    assert build("sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1))  # MAX_DEPTH levels, x included
    with pytest.raises(npl.ValidationError, match="nested too deeply"):
        build("sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    nested = X
    for _ in range(MAX_DEPTH):
        nested = sympy.sin(nested, evaluate=False)
    with pytest.raises(npl.ValidationError, match="nested too deeply"):
        build(nested)
    # each expression is bounded alone; together they share MAX_PROGRAM_NODES
    term = "+".join(["0.5*x*y"] * 350)
    n = MAX_PROGRAM_NODES // sum(1 for _ in ast.walk(ast.parse(term, mode="eval"))) + 1
    start = time.perf_counter()
    with pytest.raises(npl.ValidationError, match=r"Program 'big': d\(v\d\)/dt: the program's expressions have more"):
        npl.Program("big", derivatives={f"v{i}": term.replace("x", f"v{i}").replace("y", "v0") for i in range(n)},
                    ranges={f"v{i}": (-1, 1) for i in range(n)})
    assert time.perf_counter() - start < SECONDS
    with pytest.raises(npl.ValidationError, match=f"more than {MAX_NAMES}"):
        npl.Program("many", derivatives={f"v{i}": "-v0" for i in range(MAX_NAMES + 1)},
                    ranges={f"v{i}": (-1, 1) for i in range(MAX_NAMES + 1)})


def test_names_are_ascii_and_whole():
    for bad in ("x\n", "x\u00a0", "\uff58", "x\u200b", "gate\n"):
        with pytest.raises(npl.ValidationError, match="not valid"):
            npl.Program("p", derivatives={bad: "-x"}, ranges={bad: (-1, 1)})
        with pytest.raises(npl.ValidationError, match="not valid"):
            npl.Program(bad, derivatives={"x": "-x"}, ranges={"x": (-1, 1)})


def test_parse_expression_budget_is_optional():
    syms = {"x": sympy.Symbol("x", real=True)}
    assert parse_expression("sin(2.0)*x", syms, "t") == sympy.Float(math.sin(2.0)) * syms["x"]
