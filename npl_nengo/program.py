"""Programs and circuits: what a user asks a reservoir to compute.

A :class:`Program` is a small dynamical system over named state variables,
``d(var)/dt = f(vars, inputs)``, plus optional static outputs (``maps``)
``y = g(vars, inputs)``.  A :class:`Circuit` wires named program instances
together.  Both are inert, validated descriptions: nothing is solved here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np
import sympy

from .basis import MAX_BASIS, power_terms
from .errors import ValidationError
from .expressions import Budget, check_label, check_name, parse_expression

__all__ = ["Program", "Circuit", "Part", "Flat", "Polynomial"]

Range = tuple[float, float]
Expression = Union[str, sympy.Expr, float, int]
#: Largest total degree the ``taylor`` compiler accepts.
MAX_DEGREE = 12
#: Most names (state variables, inputs and maps) in one program.
MAX_NAMES = 1_000
#: Most coefficient products spent expanding one program's right-hand sides into polynomials
#: (measured about 0.5 microseconds each: this bounds the expansion to about half a second).
MAX_EXPANSION = 1_000_000


def _check_range(value: Any, where: str) -> Range:
    try:
        lo, hi = value
        lo, hi = float(lo), float(hi)
    except OverflowError:  # an int beyond float64
        raise ValidationError(f"{where}: range is not finite (a bound overflows float64)") from None
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: range {value!r} is not a pair (low, high) of numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValidationError(f"{where}: range ({lo}, {hi}) is not finite")
    if not lo < hi:
        raise ValidationError(f"{where}: range ({lo}, {hi}) is inverted or empty (need low < high)")
    return (lo, hi)


def _mapping(value: object, where: str, what: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: {what} must be a dict, got {type(value).__name__}")
    return value


class Program:
    """A dynamical system to run on a reservoir.

    Parameters
    ----------
    name
        Name of the program, used in messages and labels.
    derivatives
        ``{var: expression}``: the time derivative of each state variable, in
        units per second.  Expressions are strings (parsed without evaluating
        code; see :mod:`npl_nengo.expressions`) or sympy expressions.
    inputs
        ``{name: (low, high)}``: external inputs and the range they take.
    ranges
        ``{var: (low, high)}``: the range of every state variable.
    maps
        ``{name: expression}``: static outputs, functions of the state
        variables and inputs, read out open loop (not fed back).
    initial
        ``{var: value}``: initial value of state variables (default: the
        reservoir's operating point).
    description
        One line describing the program.

    Examples
    --------
    >>> nand = Program(
    ...     "nand",
    ...     derivatives={"o": "10*(-123.0769*o**3 + 0.2308*o + 0.1 - (s1 + 0.1)*(s2 + 0.1)/0.2)"},
    ...     inputs={"s1": (-0.1, 0.1), "s2": (-0.1, 0.1)},
    ...     ranges={"o": (-0.15, 0.15)},
    ... )

    Attributes
    ----------
    guest
        The system this program approximates, where it can be simulated on its
        own (a :class:`~npl_nengo.networks.virtual.GuestRNN`, set by
        ``guest_program``); ``None`` otherwise.  A comparison report draws it,
        not the program's ODE, as the exact trajectory.
    """

    guest: Any = None

    def __init__(
        self,
        name: str,
        derivatives: Mapping[str, Expression] | None = None,
        inputs: Mapping[str, Range] | None = None,
        ranges: Mapping[str, Range] | None = None,
        maps: Mapping[str, Expression] | None = None,
        initial: Mapping[str, float] | None = None,
        description: str = "",
    ):
        self.name = check_label(name, "Program")
        where = f"Program {name!r}"
        derivatives = _mapping(derivatives, where, "derivatives")
        inputs = _mapping(inputs, where, "inputs")
        ranges = _mapping(ranges, where, "ranges")
        maps = _mapping(maps, where, "maps")
        initial = _mapping(initial, where, "initial")
        if not derivatives and not maps:
            raise ValidationError(f"{where}: the program is empty (give derivatives or maps)")
        n_names = len(derivatives) + len(inputs) + len(maps)
        if n_names > MAX_NAMES:
            raise ValidationError(
                f"{where}: {n_names} state variables, inputs and maps (more than {MAX_NAMES}); "
                f"split it into smaller programs (parts of a Circuit)"
            )
        seen: dict[str, str] = {}
        for kind, names in (("state variable", derivatives), ("input", inputs), ("map", maps)):
            for var in names:
                check_name(var, where, kind)
                if var in seen:
                    raise ValidationError(f"{where}: duplicate name {var!r} (both {seen[var]} and {kind})")
                seen[var] = kind
        self.states: tuple[str, ...] = tuple(derivatives)
        self.inputs: tuple[str, ...] = tuple(inputs)
        self.maps: tuple[str, ...] = tuple(maps)
        self.input_ranges: dict[str, Range] = {
            k: _check_range(v, f"{where}: input {k!r}") for k, v in inputs.items()
        }
        for var in ranges:
            if var not in derivatives and var not in maps:
                raise ValidationError(f"{where}: range given for {var!r}, which is not a state variable or map")
        missing = [v for v in self.states if v not in ranges]
        if missing:
            raise ValidationError(f"{where}: state variable {missing[0]!r} has no range in 'ranges'")
        self.ranges: dict[str, Range] = {k: _check_range(v, f"{where}: variable {k!r}") for k, v in ranges.items()}
        self.symbols: dict[str, sympy.Symbol] = {v: sympy.Symbol(v, real=True) for v in self.variables}
        budget = Budget()  # bounds the parsing of all expressions together
        self.derivatives: dict[str, sympy.Expr] = {
            v: parse_expression(e, self.symbols, f"{where}: d({v})/dt", budget) for v, e in derivatives.items()
        }
        self.map_expressions: dict[str, sympy.Expr] = {
            v: parse_expression(e, self.symbols, f"{where}: map {v!r}", budget) for v, e in maps.items()
        }
        self.initial: dict[str, float] = {}
        for var, value in initial.items():
            if var not in self.states:
                raise ValidationError(f"{where}: initial value given for {var!r}, which is not a state variable")
            try:
                value = float(value)
            except OverflowError:  # an int beyond float64
                value = math.inf
            except (TypeError, ValueError):
                raise ValidationError(f"{where}: initial value of {var!r} is not a number") from None
            if not math.isfinite(value):
                raise ValidationError(f"{where}: initial value of {var!r} is not finite")
            self.initial[var] = value
        self.description = str(description)

    # -- structure -----------------------------------------------------------------
    @property
    def variables(self) -> tuple[str, ...]:
        """All variables the expressions may use: state variables, then inputs."""
        return self.states + self.inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        """Named outputs: state variables, then maps."""
        return self.states + self.maps

    @property
    def expressions(self) -> dict[str, sympy.Expr]:
        """Right-hand side of every output: derivatives for states, the map for maps."""
        return {**self.derivatives, **self.map_expressions}

    def variable_ranges(self) -> dict[str, Range]:
        """Range of every variable (states and inputs), in :attr:`variables` order."""
        return {v: (self.ranges[v] if v in self.ranges else self.input_ranges[v]) for v in self.variables}

    def range_of(self, output: str) -> Range | None:
        """Declared range of an output (None for a map without a declared range)."""
        return self.ranges.get(output)

    def __repr__(self) -> str:
        return f"Program({self.name!r}, states={list(self.states)}, inputs={list(self.inputs)}, maps={list(self.maps)})"

    # -- polynomial view (taylor compiler) ------------------------------------------
    @cached_property
    def polynomials(self) -> dict[str, Polynomial] | None:
        """Each output's right-hand side as a polynomial in :attr:`variables`, or None if one is not.

        The cost of expanding is estimated from the expression tree first (the
        multinomial count of every power of a sum, the product of the term counts
        of every product), and a program whose expansion could exceed
        :data:`~npl_nengo.basis.MAX_BASIS` monomials or :data:`MAX_EXPANSION`
        coefficient products is refused (:class:`ValidationError`) before expanding.
        """
        shapes = {}
        for name, expr in self.expressions.items():
            shape = _Shape.of(expr, {})
            if shape.degree > MAX_DEGREE:
                return None
            shapes[name] = shape
        work = 0
        for name, shape in shapes.items():
            if shape.terms > MAX_BASIS:
                raise ValidationError(
                    f"Program {self.name!r}: {name!r} could expand to {shape.terms} monomials (more than "
                    f"{MAX_BASIS}, the largest basis the taylor method builds); lower its degree, expand it "
                    f"yourself or use method='sampled'"
                )
            work += shape.work
            if work > MAX_EXPANSION:
                raise ValidationError(
                    f"Program {self.name!r}: expanding {name!r} (and the outputs before it) into polynomials "
                    f"would take about {work:.3g} coefficient products (more than {MAX_EXPANSION:.3g}); "
                    f"expand it yourself or use method='sampled'"
                )
        gens = [self.symbols[v] for v in self.variables]
        return {name: _polynomial(expr, gens, f"Program {self.name!r}: {name!r}")
                for name, expr in self.expressions.items()}

    def non_polynomial_term(self) -> tuple[str, str] | None:
        """``(output, term)`` for the first term that is not a polynomial, or None (found without expanding)."""
        for name, expr in self.expressions.items():
            bound = _degree_bound(expr)
            if math.isfinite(bound):
                if bound > MAX_DEGREE:
                    return name, f"degree above {MAX_DEGREE}"
                continue
            term = expr
            while True:  # descend to the smallest sub-expression that is not a polynomial
                inner = next((a for a in term.args if not math.isfinite(_degree_bound(a))), None)
                if inner is None:
                    return name, str(term)
                term = inner
        return None

    @property
    def degree(self) -> int:
        """Largest total degree of any right-hand side (taylor programs only)."""
        polys = self.polynomials
        if polys is None:
            raise ValidationError(f"Program {self.name!r} is not polynomial")
        return max([p.total_degree() for p in polys.values()] + [1])

    def coefficients(self, output: str, basis) -> np.ndarray:
        """Coefficient vector of an output's right-hand side in ``basis`` (over :attr:`variables`)."""
        polys = self.polynomials
        if polys is None:
            raise ValidationError(f"Program {self.name!r} is not polynomial")
        poly = polys[output]
        vec = np.zeros(len(basis))
        for monom, coeff in poly.terms():
            if monom not in basis.index:
                raise ValidationError(
                    f"Program {self.name!r}: {output!r} has a term of degree {sum(monom)} above the basis degree {basis.degree}"
                )
            try:
                vec[basis.index[monom]] = float(coeff)
            except OverflowError:
                vec[basis.index[monom]] = math.inf
        if not np.all(np.isfinite(vec)):
            raise ValidationError(f"Program {self.name!r}: {output!r} has non-finite coefficients")
        return vec

    # -- numeric view (sampled compiler, metrics) ------------------------------------
    @cached_property
    def _functions(self) -> dict[str, Callable[..., np.ndarray]]:
        gens = [self.symbols[v] for v in self.variables]
        # lambdify generates code from our own, whitelisted sympy tree (see expressions.py):
        # only validated identifiers and sympy's printing of numbers and operators reach it.
        return {k: sympy.lambdify(gens, e, modules="numpy") for k, e in self.expressions.items()}

    def evaluate(self, output: str, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Evaluate an output's right-hand side at ``values`` (``{variable: array}``)."""
        args = [np.asarray(values[v], dtype=float) for v in self.variables]
        shape = np.broadcast_shapes(*(a.shape for a in args)) if args else ()
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self._functions[output](*args), dtype=float), shape).copy()


def _degree_bound(expr: sympy.Expr) -> float:
    """An upper bound of the polynomial degree without expanding (inf for non-polynomials)."""
    if expr.is_Symbol:
        return 1
    if expr.is_number:
        return 0
    if expr.is_Add:
        return max(_degree_bound(a) for a in expr.args)
    if expr.is_Mul:
        return sum(_degree_bound(a) for a in expr.args)
    if expr.is_Pow:
        base, exp = expr.args
        if exp.is_Integer and exp >= 0:
            return _degree_bound(base) * int(exp)
        return math.inf
    return math.inf


@dataclass(frozen=True)
class _Shape:
    """What expanding an expression costs, found from its tree without expanding.

    ``degree`` bounds its total degree (inf if it is not a polynomial), ``names`` are
    its variables, ``terms`` bounds its number of monomials once expanded, and
    ``work`` counts the coefficient products :func:`_expand` spends on it.
    """

    degree: float
    names: frozenset
    terms: int
    work: int

    @staticmethod
    def of(expr: sympy.Expr, memo: dict) -> _Shape:
        if expr in memo:
            return _Shape(memo[expr].degree, memo[expr].names, memo[expr].terms, 0)  # shared: expanded once
        if expr.is_Number:
            shape = _Shape(0, frozenset(), 1, 1)
        elif expr.is_Symbol:
            shape = _Shape(1, frozenset([expr]), 1, 1)
        elif expr.is_Add or expr.is_Mul or expr.is_Pow:
            shape = _Shape._compound(expr, memo)
        else:
            shape = _Shape(math.inf, frozenset(), 1, 0)
        memo[expr] = shape
        return shape

    @staticmethod
    def _compound(expr: sympy.Expr, memo: dict) -> _Shape:
        if expr.is_Pow:
            base_expr, exp = expr.args
            if not (exp.is_Integer and exp >= 0):
                return _Shape(math.inf, frozenset(), 1, 0)
            base, n = _Shape.of(base_expr, memo), int(exp)
            if not math.isfinite(base.degree):
                return _Shape(math.inf, frozenset(), 1, 0)
            degree = base.degree * n
            if degree > MAX_DEGREE:  # refused by degree: no cost to count (n may be huge: x**16**16 is folded)
                return _Shape(degree, base.names, 1, 0)
            cap = _monomials(len(base.names), degree)
            work, acc = base.work, base.terms
            for k in range(2, n + 1):  # _expand multiplies by the base n - 1 times
                work += acc * base.terms
                acc = min(power_terms(base.terms, k), cap)
            return _Shape(degree, base.names, min(acc, cap), work)
        parts = [_Shape.of(a, memo) for a in expr.args]
        if any(not math.isfinite(p.degree) for p in parts):
            return _Shape(math.inf, frozenset(), 1, 0)
        names = frozenset().union(*(p.names for p in parts))
        degree = max(p.degree for p in parts) if expr.is_Add else sum(p.degree for p in parts)
        if degree > MAX_DEGREE:
            return _Shape(degree, names, 1, 0)
        if expr.is_Add:
            terms = min(sum(p.terms for p in parts), _monomials(len(names), degree))
            return _Shape(degree, names, terms, sum(p.work for p in parts) + terms)
        cap = _monomials(len(names), degree)
        work, acc = parts[0].work, parts[0].terms
        for p in parts[1:]:
            work += p.work + acc * p.terms
            acc = min(acc * p.terms, cap)
        return _Shape(degree, names, acc, work)


def _monomials(n_vars: int, degree: float) -> int:
    """Monomials of total degree <= ``degree`` in ``n_vars`` variables (capped to keep it cheap)."""
    if degree > 4 * MAX_DEGREE:
        return 1 << 62
    return math.comb(n_vars + int(degree), int(degree))


_BITS = 5  # bits per exponent in a packed monomial (exponents stay <= MAX_DEGREE < 32)


def _expand(expr: sympy.Expr, index: dict, memo: dict) -> dict[int, int | float]:
    """A polynomial expression as ``{packed monomial: coefficient}``.

    A monomial is packed into one integer, ``_BITS`` bits per variable, so multiplying
    monomials is adding integers.  Coefficients are Python ints while exact, floats
    otherwise (a rational becomes its float64 value).  The caller has bounded the
    degree (every exponent stays below ``2**_BITS``) and the work (:class:`_Shape`).
    """
    if expr in memo:
        return memo[expr]
    out: dict[int, int | float]
    if expr.is_Integer:
        out = {0: int(expr)}
    elif expr.is_Number:
        out = {0: float(expr)}
    elif expr.is_Symbol:
        out = {1 << (_BITS * index[expr]): 1}
    elif expr.is_Add:
        out = {}
        for arg in expr.args:
            for m, c in _expand(arg, index, memo).items():
                out[m] = out.get(m, 0) + c
    elif expr.is_Mul:
        out = _expand(expr.args[0], index, memo)
        for arg in expr.args[1:]:
            out = _times(out, _expand(arg, index, memo))
    else:  # a power by a whole number >= 0 (checked by _Shape)
        base, n = _expand(expr.args[0], index, memo), int(expr.args[1])
        out = base if n else {0: 1}
        for _ in range(n - 1):
            out = _times(out, base)
    memo[expr] = out
    return out


def _times(a: dict[int, int | float], b: dict[int, int | float]) -> dict[int, int | float]:
    out: dict[int, int | float] = {}
    get = out.get
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = ma + mb
            out[m] = get(m, 0) + ca * cb
    return out


@dataclass(frozen=True)
class Polynomial:
    """A right-hand side expanded into monomials: ``{exponents: coefficient}`` over ``gens``.

    Sparse (sympy's ``Poly`` is dense in every generator: slow for a dozen variables).
    Coefficients are ints while exact, else floats; none is zero.
    """

    gens: tuple[sympy.Symbol, ...]
    monomials: dict[tuple[int, ...], int | float]

    def terms(self) -> list[tuple[tuple[int, ...], int | float]]:
        """``[(exponents, coefficient), ...]``."""
        return list(self.monomials.items())

    def coeffs(self) -> list[int | float]:
        return list(self.monomials.values())

    def total_degree(self) -> int:
        """Largest total degree of a term (0 for the zero polynomial)."""
        return max((sum(m) for m in self.monomials), default=0)

    def as_expr(self) -> sympy.Expr:
        return sympy.Add(*(sympy.Mul(sympy.Integer(c) if isinstance(c, int) else sympy.Float(c),
                                     *(g**e for g, e in zip(self.gens, m))) for m, c in self.monomials.items()))


def _polynomial(expr: sympy.Expr, gens: list[sympy.Symbol], where: str) -> Polynomial:
    """``expr`` (a polynomial whose expansion :class:`_Shape` has bounded) as a :class:`Polynomial`."""
    index = {g: i for i, g in enumerate(gens)}
    try:
        packed = _expand(expr, index, {})
    except OverflowError:  # an int coefficient too large to meet a float
        packed = {0: math.inf}
    mask = (1 << _BITS) - 1
    shifts = [_BITS * i for i in range(len(gens))]
    monomials: dict[tuple[int, ...], int | float] = {}
    for m, c in packed.items():
        if c == 0:
            continue
        if isinstance(c, float) or abs(c) > 2**53:
            try:
                finite = math.isfinite(float(c))
            except OverflowError:
                finite = False
            if not finite:
                raise ValidationError(f"{where}: a coefficient overflows float64 once the expression is expanded")
        monomials[tuple((m >> k) & mask for k in shifts)] = c
    return Polynomial(tuple(gens), monomials)


# ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One program instance of a flattened circuit (``path`` like ``"fa.g1"``)."""

    path: str
    program: Program


@dataclass(frozen=True)
class Flat:
    """A circuit flattened to program instances and port-level wiring.

    Ports are ``(part_index, name)``.  ``wires`` map each driven input port to its
    source output port; ``inputs`` map each external input to the input ports it
    drives; ``outputs`` map each output name to its source port.
    """

    name: str
    parts: tuple[Part, ...]
    wires: dict[tuple[int, str], tuple[int, str]]
    inputs: dict[str, list[tuple[int, str]]]
    outputs: dict[str, tuple[int, str]]
    input_ranges: dict[str, Range]
    output_ranges: dict[str, Range | None]


class Circuit:
    """Program instances wired together.

    Parameters
    ----------
    name
        Name of the circuit.
    parts
        ``{part: Program or Circuit}``.  The same program may appear several
        times; each part gets its own neurons.
    wires
        ``[("part.output", "part.input"), ...]``: an output of one part drives
        an input of another (fan-out allowed; every input is driven at most once).
    inputs
        ``{name: ["part.input", ...]}``: external inputs of the circuit, each
        driving one or more part inputs.
    outputs
        ``{name: "part.output"}``: the circuit's named outputs (default: every
        part output, named ``"part.output"``).

    Every part input must be driven by exactly one wire or circuit input.
    """

    def __init__(
        self,
        name: str,
        parts: Mapping[str, Union[Program, "Circuit"]],
        wires: Sequence[tuple[str, str]] = (),
        inputs: Mapping[str, Sequence[str]] | None = None,
        outputs: Mapping[str, str] | None = None,
        description: str = "",
    ):
        self.name = check_label(name, "Circuit")
        where = f"Circuit {name!r}"
        parts = _mapping(parts, where, "parts")
        inputs = _mapping(inputs, where, "inputs")
        if not parts:
            raise ValidationError(f"{where}: the circuit has no parts")
        for part, prog in parts.items():
            check_name(part, where, "part name")
            if not isinstance(prog, (Program, Circuit)):
                raise ValidationError(f"{where}: part {part!r} is a {type(prog).__name__}, not a Program or Circuit")
        self.parts: dict[str, Program | Circuit] = dict(parts)
        driven: dict[str, str] = {}

        def port(text: object, kind: str) -> tuple[str, str]:
            if not isinstance(text, str) or text.count(".") != 1:
                raise ValidationError(f"{where}: {kind} {text!r} must be written 'part.name'")
            part, var = text.split(".")
            if part not in self.parts:
                raise ValidationError(f"{where}: {kind} {text!r} names part {part!r}, which does not exist")
            names = self.parts[part].outputs if kind == "wire source" else self.parts[part].inputs
            if var not in names:
                what = "output" if kind == "wire source" else "input"
                raise ValidationError(
                    f"{where}: {kind} {text!r}: part {part!r} has no {what} {var!r} (it has {', '.join(names) or 'none'})"
                )
            return part, var

        def drive(target: str, by: str) -> None:
            if target in driven:
                raise ValidationError(f"{where}: input {target!r} is wired twice (by {driven[target]} and {by})")
            driven[target] = by

        self.wires: list[tuple[str, str]] = []
        for wire in wires:
            try:
                src, dst = wire
            except (TypeError, ValueError):
                raise ValidationError(f"{where}: wire {wire!r} is not a pair ('part.output', 'part.input')") from None
            port(src, "wire source")
            port(dst, "wire target")
            drive(dst, f"wire from {src!r}")
            self.wires.append((src, dst))
        self.external: dict[str, list[str]] = {}
        for ext, targets in inputs.items():
            check_name(ext, where, "input")
            if isinstance(targets, str):
                targets = [targets]
            targets = list(targets)
            if not targets:
                raise ValidationError(f"{where}: input {ext!r} drives nothing")
            for dst in targets:
                port(dst, "input target")
                drive(dst, f"circuit input {ext!r}")
            self.external[ext] = targets
        for part, prog in self.parts.items():
            for var in prog.inputs:
                if f"{part}.{var}" not in driven:
                    raise ValidationError(f"{where}: input '{part}.{var}' is not connected to a wire or circuit input")
        if outputs is None:
            outputs = {f"{p}.{o}": f"{p}.{o}" for p, prog in self.parts.items() for o in prog.outputs}
        outputs = _mapping(outputs, where, "outputs")
        self.output_ports: dict[str, str] = {}
        for out, src in outputs.items():
            if not isinstance(out, str) or not out or any(c.isspace() for c in out):
                raise ValidationError(f"{where}: output name {out!r} is not valid")
            if out in self.external:
                raise ValidationError(f"{where}: duplicate name {out!r} (both input and output)")
            port(src, "wire source")
            self.output_ports[out] = src
        if not self.output_ports:
            raise ValidationError(f"{where}: the circuit has no outputs")
        self.description = str(description)
        self.flat  # validate ranges and nesting now  # noqa: B018

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.external)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.output_ports)

    def __repr__(self) -> str:
        return f"Circuit({self.name!r}, parts={list(self.parts)}, inputs={list(self.inputs)}, outputs={list(self.outputs)})"

    @cached_property
    def flat(self) -> Flat:
        """This circuit flattened to program instances (nested circuits inlined)."""
        parts: list[Part] = []
        wires: dict[tuple[int, str], tuple[int, str]] = {}
        sources: dict[str, dict[str, tuple[int, str]]] = {}  # part -> output -> port
        sinks: dict[str, dict[str, list[tuple[int, str]]]] = {}  # part -> input -> ports
        for name, prog in self.parts.items():
            if isinstance(prog, Program):
                idx = len(parts)
                parts.append(Part(name, prog))
                sources[name] = {o: (idx, o) for o in prog.outputs}
                sinks[name] = {i: [(idx, i)] for i in prog.inputs}
            else:
                sub = prog.flat
                offset = len(parts)
                parts.extend(Part(f"{name}.{p.path}", p.program) for p in sub.parts)
                wires.update({(a + offset, b): (c + offset, d) for (a, b), (c, d) in sub.wires.items()})
                sources[name] = {o: (p + offset, v) for o, (p, v) in sub.outputs.items()}
                sinks[name] = {i: [(p + offset, v) for p, v in ports] for i, ports in sub.inputs.items()}
        split = lambda s: s.split(".")  # noqa: E731
        for src, dst in self.wires:
            sp, sv = split(src)
            dp, dv = split(dst)
            for target in sinks[dp][dv]:
                wires[target] = sources[sp][sv]
        ext = {e: [t for dst in targets for t in sinks[split(dst)[0]][split(dst)[1]]] for e, targets in self.external.items()}
        outputs = {o: sources[split(src)[0]][split(src)[1]] for o, src in self.output_ports.items()}
        input_ranges = {}
        for e, targets in ext.items():
            lo = min(parts[p].program.input_ranges[v][0] for p, v in targets)
            hi = max(parts[p].program.input_ranges[v][1] for p, v in targets)
            input_ranges[e] = (lo, hi)
        output_ranges = {o: parts[p].program.range_of(v) for o, (p, v) in outputs.items()}
        return Flat(self.name, tuple(parts), wires, ext, outputs, input_ranges, output_ranges)


def flatten(obj: Program | Circuit) -> Flat:
    """A program or circuit as a :class:`Flat` circuit (a program is one part)."""
    if isinstance(obj, Circuit):
        return obj.flat
    if isinstance(obj, Program):
        return Flat(
            obj.name,
            (Part(obj.name, obj),),
            {},
            {i: [(0, i)] for i in obj.inputs},
            {o: (0, o) for o in obj.outputs},
            dict(obj.input_ranges),
            {o: obj.range_of(o) for o in obj.outputs},
        )
    raise ValidationError(f"expected a Program or Circuit, got {type(obj).__name__}")


def digest(obj: Program | Circuit | Flat) -> str:
    """A content hash (sha256 hex) of a program or circuit (or its :class:`Flat` form): every part's equations and initial state,
    the wiring, the inputs and outputs and their ranges.

    The compiler stores it in ``ProgrammedRNN.info["program"]``; a report uses it to
    recognise a compiled network as a library entry's program (and draw that
    program's exact trajectory beside it).
    """
    import hashlib

    flat = obj if isinstance(obj, Flat) else flatten(obj)
    text = repr((flat.name, [(p.path, sorted((k, str(v)) for k, v in p.program.expressions.items()),
                              sorted(p.program.initial.items())) for p in flat.parts],
                 sorted(flat.wires.items()), sorted(flat.inputs.items()), sorted(flat.outputs.items()),
                 sorted(flat.input_ranges.items()), sorted(flat.output_ranges.items())))
    return hashlib.sha256(text.encode()).hexdigest()
