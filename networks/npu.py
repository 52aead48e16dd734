"""Neural processing units: matrix operations, equation solving, trajectory integration.

The library's NPUs (built by :mod:`npl_nengo.programs`) and what each is checked
against: numpy's matrix arithmetic, ``numpy.linalg.lstsq``, ``numpy.roots``
and the exact integral of a velocity.  Every check draws its problems from the
program's declared input ranges with a fixed seed, so every backend and cell
solves the same ones.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .. import programs
from ..metrics import Score, integration, map_accuracy, random_points, settling
from ..program import Circuit, Program
from ..rnn import ProgrammedRNN

__all__ = ["matrix", "matrix_exact", "lstsq", "lstsq_solution", "root", "root_solution", "path", "PATH",
           "matrix_metric", "lstsq_metric", "root_metric", "path_metric"]

#: Seed of the problems every NPU check draws (inputs, not the network).
PROBLEM_SEED = 2026


def matrix() -> Program:
    """Sum, difference, element-wise and matrix product of two 2x2 matrices, entries in ±1."""
    return programs.matrix_ops((2, 2), (2, 2))


def _entries(point: Mapping[str, float], name: str, rows: int, cols: int) -> np.ndarray:
    return np.array([[point[f"{name}{i + 1}{j + 1}"] for j in range(cols)] for i in range(rows)])


def matrix_exact(point: Mapping[str, float], n: int = 2) -> dict[str, float]:
    """numpy's results for the matrix NPU's outputs at ``point``."""
    a, b = _entries(point, "a", n, n), _entries(point, "b", n, n)
    out = {}
    for prefix, value in (("sum", a + b), ("diff", a - b), ("prod", a * b), ("matmul", a @ b)):
        out.update({f"{prefix}{i + 1}{j + 1}": float(value[i, j]) for i in range(n) for j in range(n)})
    return out


def lstsq() -> Circuit:
    """Least squares over 3 equations in 2 unknowns: normal equations chained to a gradient flow."""
    return programs.linear_solver(3, 2)


def lstsq_solution(point: Mapping[str, float], m: int = 3, n: int = 2) -> dict[str, float]:
    """``numpy.linalg.lstsq``'s solution for the problem at ``point``."""
    a = _entries(point, "a", m, n)
    b = np.array([point[f"b{i + 1}"] for i in range(m)])
    x = np.linalg.lstsq(a, b, rcond=None)[0]
    return {f"x{j + 1}": float(x[j]) for j in range(n)}


def root() -> Program:
    """The real root of ``x^3 + c1 x + c0`` (``c1`` in (0.2, 1), ``c0`` in (-0.3, 0.3))."""
    return programs.polynomial_root()


def root_solution(point: Mapping[str, float]) -> dict[str, float]:
    """The real root (``numpy.roots``) of ``x^3 + c1 x + c0``: there is one, as ``c1 > 0``."""
    r = np.roots([1.0, 0.0, point["c1"], point["c0"]])
    return {"x": float(r[np.argmin(np.abs(r.imag))].real)}


def path() -> Program:
    """A 2-D path integrator: positions ``x, y`` in ±1, velocities ``vx, vy`` in ±0.2 units/s."""
    return programs.integrator(("x", "y"), speed=0.2)


#: The path integrator's test path: velocities (units/s) starting and ending at rest, a loop
#: of 0.48 x 0.24 over 10 s, and its exact integral.
_W = 2 * math.pi / 10.0
PATH = {
    "velocity": {"vx": lambda t: 0.15 * math.sin(_W * t), "vy": lambda t: 0.15 * math.sin(2 * _W * t)},
    "position": {"x": lambda t: 0.15 / _W * (1 - math.cos(_W * t)),
                 "y": lambda t: 0.15 / (2 * _W) * (1 - math.cos(2 * _W * t))},
}


def _points(program: Program | Circuit, n: int) -> list[dict[str, float]]:
    from ..program import flatten

    return random_points(flatten(program).input_ranges, n, PROBLEM_SEED)


def matrix_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    """16 random pairs of matrices, each held 1 s; worst error against numpy <= 0.1 (5 % of the products' ±2)."""
    options.setdefault("tol", 0.1)
    return map_accuracy(rnn, matrix_exact, _points(matrix(), options.pop("points", 16)), **options)


def lstsq_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    """8 random problems, each held 2 s; settled error <= 0.05 against ``numpy.linalg.lstsq``, settled in 1.5 s."""
    return settling(rnn, lstsq_solution, _points(lstsq(), options.pop("points", 8)), **options)


def root_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    """8 random cubics, each held 2 s; settled error <= 0.05 against ``numpy.roots``, settled in 1.5 s."""
    return settling(rnn, root_solution, _points(root(), options.pop("points", 8)), **options)


def path_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    """The 10 s loop of :data:`PATH`, then 10 s at rest: path error and drift each <= 0.05."""
    return integration(rnn, PATH["velocity"], PATH["position"], **options)
