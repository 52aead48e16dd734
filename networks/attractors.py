"""Chaotic attractors, and attractors as addressable memory (dRAM) (docs/method.md §4.3).

All variables sit at the 0.1 scale, as in the paper's programs, so that the
taylor compiler's ``|B x|`` stays small.

:func:`lorenz`
    The port's scaling of Lorenz (sigma, rho, beta) = (10, 28, 8/3): every
    variable divided by 200, ``z`` shifted by 27 (``X = 200 x``, ``Y = 200 y``,
    ``Z = 200 z + 27``).  ``speed`` multiplies the vector field: ``speed=1`` is
    the port's (ten times slower than Lorenz), the default ``speed=10`` runs in
    Lorenz's own time units (largest Lyapunov exponent ~0.9 per second).
:func:`rossler`
    Rössler (a, b, c) = (0.2, 0.2, 5.7) with ``X = 100 x``, ``Y = 100 y``,
    ``Z = 100 z + 10``; default ``speed=5`` (one turn in ~1.2 s).
:func:`dram`
    Several attractors in one program, selected by an ``address`` input: the
    vector field is a polynomial in the address that equals attractor ``i``'s
    at address level ``i`` (two attractors: the blend
    ``((0.1 + c) f_A + (0.1 - c) f_B) / 0.2``, exact at ``c = ±0.1``; degree 3).
"""

from __future__ import annotations

from typing import Sequence

import sympy

from ..errors import ValidationError
from ..program import Program

__all__ = ["lorenz", "rossler", "dram", "ATTRACTORS"]


def _speed(speed: float, where: str) -> sympy.Rational:
    try:
        value = sympy.nsimplify(float(speed), rational=True)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: speed must be a positive number, got {speed!r}") from None
    if not value > 0:
        raise ValidationError(f"{where}: speed must be a positive number, got {speed!r}")
    return value


def lorenz(speed: float = 10.0, name: str = "lorenz") -> Program:
    """Scaled Lorenz system (the port's scaling, docs/method.md §4.3), ``speed`` times the port's pace."""
    s = _speed(speed, "lorenz")
    return Program(
        name,
        derivatives={
            "x": f"{s}*(y - x)",
            "y": f"{s}*(x/10 - y/10 - 20*x*z)",
            "z": f"{s}*(20*x*y - 4/15*z - 36/1000)",
        },
        ranges={"x": (-0.12, 0.12), "y": (-0.15, 0.15), "z": (-0.15, 0.15)},
        initial={"x": 0.01, "y": 0.01, "z": 0.0},
        description=f"Lorenz (10, 28, 8/3), variables / 200, z shifted by 27, speed {speed}",
    )


def rossler(speed: float = 5.0, name: str = "rossler") -> Program:
    """Scaled Rössler system (0.2, 0.2, 5.7): ``X = 100 x``, ``Y = 100 y``, ``Z = 100 z + 10``."""
    s = _speed(speed, "rossler")
    # dX = -Y - Z, dY = X + a Y, dZ = b + Z (X - c), substituted and divided by 100
    return Program(
        name,
        derivatives={
            "x": f"{s}*(-y - z - 1/10)",
            "y": f"{s}*(x + y/5)",
            "z": f"{s}*(2/1000 + 100*x*z + 10*x - 57/10*z - 57/100)",
        },
        ranges={"x": (-0.15, 0.15), "y": (-0.15, 0.15), "z": (-0.15, 0.15)},
        initial={"x": 0.01, "y": 0.0, "z": -0.1},
        description=f"Rössler (0.2, 0.2, 5.7), variables / 100, z shifted by 10, speed {speed}",
    )


#: The attractors :func:`dram` can store, by name.
ATTRACTORS = {"lorenz": lorenz, "rossler": rossler}


def dram(attractors: Sequence[str | Program] = ("lorenz", "rossler"), name: str = "dram",
         level: float = 0.1) -> Program:
    """Attractors as addressable memory: one program, the address input selects the dynamics.

    Two attractors over the same variables are stored at address ``+level``
    (the first) and ``-level`` (the second); the vector field is linear in the
    address in between.  The address input's range is ``(-level, level)``.
    """
    progs: list[Program] = []
    for a in attractors:
        p = ATTRACTORS[a]() if isinstance(a, str) and a in ATTRACTORS else a
        if not isinstance(p, Program):
            raise ValidationError(f"dram: {a!r} is not a Program or one of {sorted(ATTRACTORS)}")
        progs.append(p)
    if len(progs) != 2:
        raise ValidationError(f"dram: stores exactly two attractors, got {len(progs)}")
    first, second = progs
    if first.states != second.states or first.inputs or second.inputs:
        raise ValidationError(
            f"dram: the attractors must share their state variables and have no inputs "
            f"({first.name}: {list(first.states)}, {second.name}: {list(second.states)})"
        )
    if "address" in first.states:
        raise ValidationError("dram: a state variable is already called 'address'")
    lev = sympy.nsimplify(float(level), rational=True)
    if not lev > 0:
        raise ValidationError(f"dram: level must be > 0, got {level!r}")
    c = sympy.Symbol("address", real=True)

    def field(p: Program, v: str) -> sympy.Expr:
        # re-symbolize: each Program makes its own symbols
        return p.derivatives[v].subs({p.symbols[k]: sympy.Symbol(k, real=True) for k in p.states})

    derivatives = {
        v: sympy.expand(((lev + c) * field(first, v) + (lev - c) * field(second, v)) / (2 * lev)) for v in first.states
    }
    ranges = {v: (min(first.ranges[v][0], second.ranges[v][0]), max(first.ranges[v][1], second.ranges[v][1]))
              for v in first.states}
    return Program(
        name,
        derivatives=derivatives,
        inputs={"address": (-float(level), float(level))},
        ranges=ranges,
        initial=dict(first.initial),
        description=f"dRAM: {first.name} at address +{level}, {second.name} at address -{level}",
    )
