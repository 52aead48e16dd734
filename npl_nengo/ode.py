"""The program itself, integrated as an ODE: the ground truth a network is measured against.

:func:`integrate` solves ``d(var)/dt = f(vars, inputs)`` of a :class:`Program`
with scipy's ``solve_ivp`` (DOP853, tight tolerances) and samples it at the
times a backend's :class:`Result` has; :func:`jacobian` gives the program's
Jacobian (sympy, exact) for tangent-space computations such as Lyapunov
exponents.  :func:`rk4_step` is the library's one fixed-step classical RK4
step (the reference backend's and the experiments' integrator).
"""

from __future__ import annotations

import functools

from typing import Any, Callable, Mapping

import numpy as np
import scipy.integrate
import sympy

from .errors import SimulationError, ValidationError
from .program import Program

__all__ = ["integrate", "jacobian", "vector_field", "state_vector", "rk4_step"]


def state_vector(program: Program, values: Mapping[str, float] | None) -> np.ndarray:
    """``values`` (default: the program's ``initial``, else 0) as a vector over ``program.states``."""
    values = dict(program.initial if values is None else values)
    unknown = [k for k in values if k not in program.states]
    if unknown:
        raise ValidationError(f"Program {program.name!r}: {unknown[0]!r} is not a state variable ({list(program.states)})")
    try:
        x0 = np.array([float(values.get(v, program.initial.get(v, 0.0))) for v in program.states])
    except (TypeError, ValueError):
        raise ValidationError(f"Program {program.name!r}: initial values must be numbers, got {values!r}") from None
    if not np.all(np.isfinite(x0)):
        raise ValidationError(f"Program {program.name!r}: initial values must be finite, got {values!r}")
    return x0


def _input_functions(program: Program, inputs: Mapping[str, Any] | None) -> list[Callable[[float], float]]:
    inputs = dict(inputs or {})
    unknown = [k for k in inputs if k not in program.inputs]
    if unknown:
        raise ValidationError(f"Program {program.name!r}: {unknown[0]!r} is not an input ({list(program.inputs) or 'none'})")
    out: list[Callable[[float], float]] = []
    for name in program.inputs:
        value = inputs.get(name, 0.0)
        if callable(value):
            out.append(functools.partial(_call, value))
        else:
            try:
                c = float(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Program {program.name!r}: input {name!r} must be a number or a callable of t for an ODE run"
                ) from None
            out.append(functools.partial(_constant, c))
    return out


def _call(f: Callable[[float], Any], t: float) -> float:
    return float(f(t))


def _constant(c: float, t: float) -> float:
    return c


def rk4_step(f: Callable[[Any, Any, Any], Any], y: Any, dt: float, args: tuple = (None, None, None, None)) -> Any:
    """One step of classical RK4 (weights 1, 2, 2, 1): ``y(t + dt)`` from ``y(t)``.

    Parameters
    ----------
    f
        ``f(y, dy, a)``: the derivative at the stage point ``y + dy`` (``dy`` is
        None at the first stage, whose point is ``y``).  The base and the
        increment come apart so that ``f`` decides how to round: the reference
        backend forms ``gamma (drive(y + dy) - y - dy)``, the experiments
        ``gamma (tanh(... (y + dy) ...) - (y + dy))``.
    y
        The state at ``t`` (an array, or anything with ``+`` and scalar ``*``).
    dt
        Step (s).
    args
        What ``f`` receives as ``a`` at the four stages (``t``, ``t + dt/2``
        twice, ``t + dt``), e.g. the inputs sampled there.

    The arithmetic is the written-out step's, operation for operation
    (``y + (dt/2) k1``, ``y + dt k3``, ``y + (dt/6) (k1 + 2 k2 + 2 k3 + k4)``),
    so moving a loop onto it changes no bit of its results.
    """
    h = 0.5 * dt
    k1 = f(y, None, args[0])
    k2 = f(y, h * k1, args[1])
    k3 = f(y, h * k2, args[2])
    k4 = f(y, dt * k3, args[3])
    return y + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(
    program: Program,
    t: np.ndarray,
    initial: Mapping[str, float] | None = None,
    inputs: Mapping[str, Any] | None = None,
    t0: float = 0.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> dict[str, np.ndarray]:
    """Integrate the program's state variables and sample them at times ``t``.

    Parameters
    ----------
    program
        The program (its maps are evaluated along the solution too).
    t
        Increasing sample times (s), all ``>= t0``.
    initial
        ``{state: value}`` at ``t0`` (default: the program's ``initial``; 0 elsewhere).
    inputs
        ``{input: number or callable of t}`` (default 0).
    t0
        Start time (s).

    Returns
    -------
    dict
        ``{output: array}`` for every state variable and map, sampled at ``t``.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) == 0 or np.any(np.diff(t) <= 0) or t[0] < t0:
        raise ValidationError("integrate: t must be a non-empty increasing array of times >= t0")
    x0 = state_vector(program, initial)
    sources = _input_functions(program, inputs)
    f = vector_field(program)

    def rhs(time: float, x: np.ndarray) -> np.ndarray:
        return f(x, [g(time) for g in sources])

    sol = scipy.integrate.solve_ivp(rhs, (t0, float(t[-1])), x0, method="DOP853", t_eval=t, rtol=rtol, atol=atol)
    if not sol.success or sol.y.shape[1] != len(t) or not np.all(np.isfinite(sol.y)):
        raise SimulationError(f"integrate: program {program.name!r} could not be integrated ({sol.message})")
    out = {v: sol.y[i] for i, v in enumerate(program.states)}
    if program.maps:
        vals = {**out, **{n: np.array([g(s) for s in t]) for n, g in zip(program.inputs, sources)}}
        out.update({m: program.evaluate(m, vals) for m in program.maps})
    return out


def _lambdify(program: Program, matrix: sympy.Matrix) -> Callable[..., np.ndarray]:
    xs = [program.symbols[v] for v in program.states]
    us = [program.symbols[v] for v in program.inputs]
    # lambdify prints our own validated sympy tree (see Program._functions), never user text.
    f = sympy.lambdify(xs + us, matrix, modules="numpy")

    def call(x: np.ndarray, u=None) -> np.ndarray:
        args = list(np.asarray(x, dtype=float)) + list(np.zeros(len(us)) if u is None else np.asarray(u, dtype=float))
        return np.asarray(f(*args), dtype=float)

    return call


def vector_field(program: Program) -> Callable[..., np.ndarray]:
    """The state derivatives as one fast function ``f(x, u) -> (n_states,)`` (``u`` over the inputs)."""
    g = _lambdify(program, sympy.Matrix([program.derivatives[v] for v in program.states]))
    return lambda x, u=None: g(x, u).reshape(-1)


def jacobian(program: Program) -> Callable[..., np.ndarray]:
    """The Jacobian of the state derivatives with respect to the state variables.

    Returns ``J(x, u)`` with ``x`` over ``program.states`` and ``u`` over
    ``program.inputs``, a ``(n_states, n_states)`` array.
    """
    xs = [program.symbols[v] for v in program.states]
    return _lambdify(program, sympy.Matrix([[sympy.diff(program.derivatives[v], x) for x in xs] for v in program.states]))
