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

from .errors import ValidationError
from .expressions import check_label, check_name, parse_expression

__all__ = ["Program", "Circuit", "Part", "Flat"]

Range = tuple[float, float]
Expression = Union[str, sympy.Expr, float, int]
#: Largest total degree the ``taylor`` compiler accepts.
MAX_DEGREE = 12


def _check_range(value: Any, where: str) -> Range:
    try:
        lo, hi = value
        lo, hi = float(lo), float(hi)
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
    """

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
        self.derivatives: dict[str, sympy.Expr] = {
            v: parse_expression(e, self.symbols, f"{where}: d({v})/dt") for v, e in derivatives.items()
        }
        self.map_expressions: dict[str, sympy.Expr] = {
            v: parse_expression(e, self.symbols, f"{where}: map {v!r}") for v, e in maps.items()
        }
        self.initial: dict[str, float] = {}
        for var, value in initial.items():
            if var not in self.states:
                raise ValidationError(f"{where}: initial value given for {var!r}, which is not a state variable")
            try:
                value = float(value)
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
    def polynomials(self) -> dict[str, sympy.Poly] | None:
        """Each output's right-hand side as a polynomial in :attr:`variables`, or None if one is not."""
        gens = [self.symbols[v] for v in self.variables]
        out = {}
        for name, expr in self.expressions.items():
            if _degree_bound(expr) > MAX_DEGREE:
                return None
            try:
                poly = sympy.Poly(expr, *gens) if gens else sympy.Poly(expr, sympy.Symbol("_unused"))
            except sympy.PolynomialError:
                return None
            if not all(c.is_number and c.is_real for c in poly.coeffs()):
                return None
            out[name] = poly
        return out

    def non_polynomial_term(self) -> tuple[str, str] | None:
        """``(output, term)`` for the first term that is not a polynomial, or None."""
        gens = set(self.symbols.values())
        for name, expr in self.expressions.items():
            bound = _degree_bound(expr)
            if math.isfinite(bound) and bound > MAX_DEGREE:
                return name, f"degree above {MAX_DEGREE}"
            for term in sympy.Add.make_args(sympy.expand(expr) if math.isfinite(bound) else expr):
                if not term.is_polynomial(*gens):
                    return name, str(term)
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
            monom = tuple(monom) if self.variables else ()
            if monom not in basis.index:
                raise ValidationError(
                    f"Program {self.name!r}: {output!r} has a term of degree {sum(monom)} above the basis degree {basis.degree}"
                )
            vec[basis.index[monom]] = float(coeff)
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
