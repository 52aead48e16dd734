"""Every validation error: clear, naming what is wrong and where, and an NplError."""

import numpy as np
import pytest
import sympy

import npl_nengo as npl
from npl_nengo.networks import logic

IN = {"s1": (-0.1, 0.1), "s2": (-0.1, 0.1)}
RNG = {"o": (-0.15, 0.15)}


def prog(**kw):
    args = dict(derivatives={"o": "-o + s1*s2"}, inputs=IN, ranges=RNG)
    args.update(kw)
    return npl.Program("p", **args)


def test_error_hierarchy():
    assert issubclass(npl.ValidationError, npl.NplError) and issubclass(npl.ValidationError, ValueError)
    assert issubclass(npl.BackendUnavailable, ImportError) and issubclass(npl.FormatError, npl.NplError)


def test_undeclared_symbol():
    with pytest.raises(npl.ValidationError, match=r"Program 'p': d\(o\)/dt: symbol 's3' is not declared"):
        prog(derivatives={"o": "-o + s3"})


def test_undeclared_symbol_in_sympy_expression():
    o, q = sympy.symbols("o q")
    with pytest.raises(npl.ValidationError, match="symbol 'q' is not declared"):
        prog(derivatives={"o": -o + q})


def test_sympy_expression_accepted():
    o, s1 = sympy.symbols("o s1")
    p = prog(derivatives={"o": -o + s1 / 2})
    assert p.degree == 1


def test_duplicate_names():
    with pytest.raises(npl.ValidationError, match="duplicate name 's1'"):
        prog(derivatives={"o": "-o", "s1": "0"}, ranges={"o": (-1, 1), "s1": (-1, 1)})
    with pytest.raises(npl.ValidationError, match="duplicate name 'o'"):
        prog(maps={"o": "s1"})


def test_input_wired_twice():
    nand = logic.gate("nand")
    with pytest.raises(npl.ValidationError, match=r"input 'b.s1' is wired twice"):
        npl.Circuit("c", parts={"a": nand, "b": nand},
                    wires=[("a.o", "b.s1")], inputs={"x": ["a.s1", "a.s2", "b.s1", "b.s2"]})


def test_wire_to_missing_port_or_part():
    nand = logic.gate("nand")
    with pytest.raises(npl.ValidationError, match=r"part 'b' has no input 's3'"):
        npl.Circuit("c", parts={"a": nand, "b": nand}, wires=[("a.o", "b.s3")])
    with pytest.raises(npl.ValidationError, match=r"names part 'z', which does not exist"):
        npl.Circuit("c", parts={"a": nand}, wires=[("z.o", "a.s1")])
    with pytest.raises(npl.ValidationError, match=r"part 'a' has no output 'q'"):
        npl.Circuit("c", parts={"a": nand, "b": nand}, wires=[("a.q", "b.s1")])
    with pytest.raises(npl.ValidationError, match=r"must be written 'part.name'"):
        npl.Circuit("c", parts={"a": nand}, wires=[("ao", "a.s1")])


def test_unconnected_input():
    with pytest.raises(npl.ValidationError, match=r"input 'a.s2' is not connected"):
        npl.Circuit("c", parts={"a": logic.gate("nand")}, inputs={"x": ["a.s1"]})


def test_non_polynomial_under_taylor():
    p = prog(derivatives={"o": "-o + sin(s1)"})
    with pytest.raises(npl.ValidationError, match=r"'o' is not a polynomial .*term sin\(s1\).*method='sampled'"):
        npl.compile(p, n_neurons=30, method="taylor")
    rnn = npl.compile(p, n_neurons=100, method="sampled")  # the sampled compiler accepts it
    assert rnn.n_neurons == 100


def test_non_finite_numbers():
    with pytest.raises(npl.ValidationError, match="not finite"):
        prog(derivatives={"o": "-o + 1e999"})
    with pytest.raises(npl.ValidationError, match="not finite"):
        prog(ranges={"o": (-np.inf, 1.0)})
    with pytest.raises(npl.ValidationError, match="not finite"):
        prog(initial={"o": float("nan")})
    with pytest.raises(npl.ValidationError, match="division by zero"):
        prog(derivatives={"o": "o/0"})


def test_empty_program():
    with pytest.raises(npl.ValidationError, match="Program 'p': the program is empty"):
        npl.Program("p")
    with pytest.raises(npl.ValidationError, match="expression is empty"):
        prog(derivatives={"o": "  "})


def test_inverted_range():
    with pytest.raises(npl.ValidationError, match=r"input 's1': range \(0.1, -0.1\) is inverted"):
        prog(inputs={"s1": (0.1, -0.1), "s2": (-0.1, 0.1)})
    with pytest.raises(npl.ValidationError, match=r"variable 'o': range \(0.0, 0.0\) is inverted or empty"):
        prog(ranges={"o": (0, 0)})
    with pytest.raises(npl.ValidationError, match="is not a pair"):
        prog(ranges={"o": 3})


def test_missing_range_and_bad_names():
    with pytest.raises(npl.ValidationError, match="state variable 'o' has no range"):
        prog(ranges={})
    with pytest.raises(npl.ValidationError, match="'lambda' is reserved"):
        prog(derivatives={"lambda": "0"}, ranges={"lambda": (-1, 1)})
    with pytest.raises(npl.ValidationError, match="'sin' is reserved"):
        prog(inputs={"sin": (-1, 1)}, derivatives={"o": "-o"})
    with pytest.raises(npl.ValidationError, match="is not valid"):
        prog(inputs={"s 1": (-1, 1)}, derivatives={"o": "-o"})


def test_compile_argument_errors(nand_program):
    with pytest.raises(npl.ValidationError, match="method 'magic'"):
        npl.compile(nand_program, method="magic")
    with pytest.raises(npl.ValidationError, match="gamma must be a positive"):
        npl.compile(nand_program, gamma=-1)
    with pytest.raises(npl.ValidationError, match="n_neurons for part 'nand' must be a positive integer"):
        npl.compile(nand_program, n_neurons=0)
    with pytest.raises(npl.ValidationError, match="degree=2 is below the program's degree 3"):
        npl.compile(nand_program, degree=2)
    with pytest.raises(npl.ValidationError, match="expected a Program or Circuit"):
        npl.compile("nand")


def test_numpy_numbers_are_accepted_wherever_python_ones_are(nand_program):
    """One set of checks (npl_nengo.validation): numpy integers and floats pass everywhere, bools never."""
    rnn = npl.compile(nand_program, method="sampled", seed=np.int64(1), n_neurons=np.int32(60),
                      gamma=np.float32(30.0), max_rate=np.float64(1000.0))
    res = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, np.float64(0.05), dt=np.float32(1e-3), seed=np.int64(2),
                  sample_every=np.int64(5))
    assert res.seed == 2 and len(res.t) == 10
    spec = npl.nef(nand_program, n_neurons=np.int64(50), seed=np.int64(1), tau=np.float64(0.1))
    assert spec.seed == 1 and isinstance(spec.seed, int)
    for call, match in [(lambda: npl.run(rnn, {}, 0.1, seed=True), "run: seed must be a non-negative integer"),
                        (lambda: npl.nef(nand_program, seed=np.int64(-1)), "nef: seed must be a non-negative integer"),
                        (lambda: npl.compile(nand_program, gamma=np.nan), "compile: gamma must be a positive number"),
                        (lambda: npl.run(rnn, {}, float("inf")), "run: duration must be a positive number of seconds")]:
        with pytest.raises(npl.ValidationError, match=match):
            call()
