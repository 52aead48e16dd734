"""Anchor points of a program: its fixed points, where a fit must be exact.

A fitted network runs ``dx/dt = f(x) + gamma e(x)``, where ``e`` is the fit's
error: wherever ``e`` is not zero it moves the program's fixed points and
changes their growth rates by ``gamma`` times the error's slope.  The
noise-aware compiler therefore pins the program at its fixed points (value
and Jacobian) and fits everything else in the least-squares sense.

:func:`fixed_points` finds them: for every corner of the input box (inputs
at the ends of their declared ranges, e.g. the logic levels) it solves
``f(x, u) = 0`` from quasi-random starts in the state box with scipy's
``root`` and keeps the distinct roots inside the box.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.optimize

from .program import Program

__all__ = ["fixed_points", "MAX_CORNERS"]

#: Most input-box corners (2^m for m inputs) to anchor at; a program with more is anchored at its
#: mid-range inputs only.
MAX_CORNERS = 64


def _input_points(program: Program) -> np.ndarray:
    """Input vectors to anchor at: every corner of the input box (or its centre if there are too many)."""
    ranges = [program.input_ranges[u] for u in program.inputs]
    if not ranges:
        return np.zeros((1, 0))
    if 2 ** len(ranges) > MAX_CORNERS:
        return np.array([[0.5 * (lo + hi) for lo, hi in ranges]])
    return np.array(list(itertools.product(*ranges)), dtype=float)


def fixed_points(program: Program, starts: int | None = None, seed: int = 0) -> np.ndarray:
    """The program's fixed points inside its state box, for inputs at the corners of theirs.

    Returns an array ``(P, n_variables)`` over :attr:`Program.variables`
    (states, then inputs).  Roots within 1e-6 of a box width of one another
    count once; roots on or outside the box's edge are dropped (they are not
    where the network runs).
    """
    from scipy.stats import qmc

    from .ode import jacobian, vector_field

    k = len(program.states)
    if k == 0:
        return np.zeros((0, len(program.variables)))
    f, J = vector_field(program), jacobian(program)
    lo = np.array([program.ranges[v][0] for v in program.states])
    hi = np.array([program.ranges[v][1] for v in program.states])
    width = hi - lo
    n = starts if starts is not None else 8 * k
    x0s = qmc.scale(qmc.Sobol(d=k, scramble=True, seed=seed).random_base2(max(1, int(np.ceil(np.log2(n))))), lo, hi)
    out: list[np.ndarray] = []
    for u in _input_points(program):
        found: list[np.ndarray] = []
        for x0 in x0s:
            with np.errstate(all="ignore"):
                sol = scipy.optimize.root(lambda x, u=u: f(x, u), x0, jac=lambda x, u=u: J(x, u), method="hybr")
            x = sol.x
            if not (sol.success and np.all(np.isfinite(x))):
                continue
            if np.max(np.abs(f(x, u))) > 1e-9 * max(1.0, float(np.max(np.abs(f(x0, u))))):
                continue
            if np.any(x <= lo + 1e-3 * width) or np.any(x >= hi - 1e-3 * width):
                continue
            if any(np.max(np.abs(x - y) / width) < 1e-6 for y in found):
                continue
            found.append(x)
        out += [np.concatenate([x, u]) for x in found]
    return np.array(out).reshape(-1, len(program.variables))
