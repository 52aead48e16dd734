"""Property-based tests: random and hostile program text, names, ranges, degrees and sizes.

Whatever goes in, only :class:`npl_nengo.NplError` subclasses come out, within a bounded time, and
nothing is executed.  Hypothesis runs derandomized (a fixed sequence of examples: the suite stays
deterministic) and without an example database.
"""

import math
import os
import time

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npl_nengo as npl
from npl_nengo.expressions import parse_expression

SYMS = {n: sympy.Symbol(n, real=True) for n in ("x", "y", "u")}
FUZZ = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CANARY = "/tmp/npl_fuzz_canary"

# Pieces of expressions, friendly and hostile: calls that would execute code if evaluated,
# attribute access, containers, huge and non-finite numbers, every operator Python has.
TOKENS = [
    "x", "y", "u", "z", "t", "pi", "1", "0", "2.5", "1e308", "1e-320", "10**10", "9" * 40, "nan", "inf", "1j",
    "+", "-", "*", "/", "**", "//", "%", "@", "<<", "&", "|", "^", "~", "<", "==", "and", "not", "if", "else",
    "(", ")", "(", ")", "[", "]", "{", "}", ",", ":", ".", "'", '"', "lambda", "=", ":=", " ",
    "sin", "exp", "tanh", "abs", "sqrt", "log", "eval", "exec", "__import__", "open", "getattr", "globals",
    "os", "system", "__class__", "__subclasses__", "__builtins__", f"'touch {CANARY}'",
    # constants sympy could not evaluate in bounded time, non-finite and complex ones, look-alikes
    "exp(exp(20.0))", "log(0)", "sqrt(-1)", "1e308", "9" * 500, "\uff58", "\U0001d431", "\u200b",
]
token_text = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40).map("".join)
hostile_calls = st.sampled_from([
    f"__import__('os').system('touch {CANARY}')",
    f"eval(\"__import__('os').system('touch {CANARY}')\")",
    "().__class__.__bases__[0].__subclasses__()",
    f"(lambda: __import__('os').system('touch {CANARY}'))()",
    f"open('{CANARY}', 'w')",
    "x.__class__", "[x for x in ()]", "x if y else u", "globals()", "sin(x).func", "x[0]", "x; y", "y = x",
])


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """sympy imports modules the first time it adds terms: an import, not a cost of the text under test."""
    parse_expression("x + y*sin(u)", SYMS, "warm-up")


def _only_npl_errors(call):
    """Run ``call``; return its value, or ``None`` if it raised an NplError. Anything else fails the test."""
    try:
        return call()
    except npl.NplError:
        return None


def _no_canary():
    assert not os.path.exists(CANARY), "hostile text executed code"


@settings(FUZZ, max_examples=1000)
@given(st.one_of(st.text(max_size=200), token_text, hostile_calls,
                 st.tuples(token_text, hostile_calls, token_text).map("".join)))
def test_any_text_parses_or_is_refused_in_bounded_time(text):
    start = time.perf_counter()
    expr = _only_npl_errors(lambda: parse_expression(text, SYMS, "fuzz"))
    assert expr is None or isinstance(expr, sympy.Expr)
    if expr is not None:  # anything accepted uses only declared names and finite numbers
        assert expr.free_symbols <= set(SYMS.values())
        assert all(a.is_finite for a in expr.atoms(sympy.Number))
    assert time.perf_counter() - start < 2.0
    _no_canary()


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**40, 10**40),
                    st.sampled_from([0.1, -0.1, 0.15, 1.0, -1.0]))
ranges = st.one_of(st.tuples(numbers, numbers), st.sampled_from([(-0.2, 0.2), (-1.0, 1.0)]),
                   st.sampled_from([None, "wide", (1,), (0, 1, 2), [], {"lo": 0}]))
names = st.one_of(st.text(max_size=12), st.sampled_from(["x", "o", "s1", "class", "sin", "pi", "t", "_x", "x" * 80]))
polys = st.sampled_from(["-x + u", "x - x**3 + 0.5*u", "10*(-123.0769*x**3 + 0.2308*x + u)", "x*u**2 - x",
                         "(x + u)**6 - x", "x**12 + u", "sin(x) + u", "-x/0.5"])


@settings(FUZZ, max_examples=400)
@given(name=names, var=names, inp=names, rhs=st.one_of(polys, token_text, hostile_calls), state_range=ranges,
       input_range=ranges, initial=st.one_of(st.none(), numbers, st.text(max_size=5)))
def test_random_programs_build_or_are_refused(name, var, inp, rhs, state_range, input_range, initial):
    def build():
        text = rhs.replace("x", var).replace("u", inp) if var.isidentifier() and inp.isidentifier() else rhs
        return npl.Program(name, derivatives={var: text}, inputs={inp: input_range}, ranges={var: state_range},
                           initial=None if initial is None else {var: initial})

    program = _only_npl_errors(build)
    if program is not None:
        lo, hi = program.ranges[var]
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    _no_canary()


@settings(FUZZ, max_examples=150)
@given(rhs=polys, method=st.sampled_from(["taylor", "sampled", "magic"]),
       n_neurons=st.one_of(st.integers(-5, 400), st.sampled_from([10**9, 0, 2.5, "30", None])),
       degree=st.one_of(st.none(), st.integers(-3, 40), st.sampled_from([True, 3.0, "3"])),
       gamma=st.one_of(st.just(100.0), numbers), seed=st.one_of(st.integers(-2, 3), st.sampled_from([1.5, "0"])))
def test_compile_with_random_degrees_and_sizes_succeeds_or_is_refused_quickly(rhs, method, n_neurons, degree, gamma,
                                                                              seed):
    program = npl.Program("fuzz", derivatives={"x": rhs}, inputs={"u": (-0.1, 0.1)}, ranges={"x": (-0.2, 0.2)})
    start = time.perf_counter()
    rnn = _only_npl_errors(lambda: npl.compile(program, n_neurons=n_neurons, method=method, degree=degree,
                                               gamma=gamma, seed=seed))
    assert time.perf_counter() - start < 20.0
    if rnn is not None:
        assert rnn.n_neurons == n_neurons or n_neurons is None
        assert np.all(np.isfinite(rnn.W)) and np.all(np.isfinite(rnn.B_rec))


def test_size_limits_refuse_before_allocating():
    # 6 variables at degree 12: 18 564 monomials; the default N = 2K would need a 37 128 x 18 564 matrix
    chain = {f"v{i}": f"-v{i} + 0.1*v{(i + 1) % 6}**12" for i in range(6)}
    program = npl.Program("big", derivatives=chain, ranges={v: (-0.1, 0.1) for v in chain})
    start = time.perf_counter()
    with pytest.raises(npl.ValidationError, match="too large"):
        npl.compile(program)
    with pytest.raises(npl.ValidationError, match="too large"):
        npl.compile(npl.networks.get("nand").build(), n_neurons=10**6, method="sampled")
    assert time.perf_counter() - start < 5.0
