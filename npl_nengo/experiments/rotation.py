"""Open-loop programming: rotate a chaotic input (docs/method.md §4.1a, check 13).

A random reservoir with a weak recurrent matrix (5 % dense, spectral radius
0.01) is decompiled into its sNPL code (static ``C1`` plus the lag code ``C2``),
programmed so that ``W r(t) = R_z x(t)`` (a 90° rotation about z) with zero
coefficients on every other monomial and on every ``dx/dt`` column, and driven
open loop by a Thomas attractor.  The driver and the reservoir are integrated
as one RK4 system, as the authors do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from ..decompile import bias_for, decompile, with_spectral_radius
from ..ode import rk4_step

__all__ = ["RotationResult", "rotation", "thomas_rhs", "R_Z"]

#: 90° rotation about z.
R_Z = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def thomas_rhs(x: np.ndarray, b: float = 0.208186) -> np.ndarray:
    """Thomas' cyclically symmetric attractor: ``dx/dt = sin(y) - b x`` (and cyclic), for ``x`` of shape (3, ...)."""
    return np.sin(np.roll(x, -1, axis=0)) - b * x


@dataclass
class RotationResult:
    """Outcome of :func:`rotation`.

    ``error = ||R_z X - W R|| / ||R_z X - X||`` over the kept samples, for the
    sNPL program (``C1`` and ``C2``) and for the static-only program (``C1``).
    """

    error: float
    error_static: float
    t: np.ndarray
    target: np.ndarray
    output: np.ndarray
    weight_norm: float


def rotation(
    N: int = 1000,
    n_steps: int = 100_000,
    dt: float = 1e-3,
    gamma: float = 100.0,
    scale: float = 0.1,
    speed: float = 1.0,
    discard: float = 0.2,
    seed: int = 0,
) -> RotationResult:
    """Program a reservoir to rotate a Thomas-attractor drive and measure the error.

    Parameters
    ----------
    N
        Neurons.
    n_steps, dt
        Steps of the joint RK4 integration and their size (s).
    scale, speed
        The drive is ``scale * thomas(speed * t)`` started from (0, 0, 1).
    discard
        Fraction of the run discarded as transient.
    """
    rng_A, rng_B, rng_r = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    A = scipy.sparse.random(N, N, density=0.05, random_state=rng_A, data_rvs=lambda n: rng_A.uniform(-0.5, 0.5, n))
    A = with_spectral_radius(A.tocsr(), 0.01)
    B = rng_B.uniform(-0.1, 0.1, size=(N, 3))
    r_star = rng_r.uniform(-0.5, 0.5, size=N)
    d = bias_for(r_star, A)
    code = decompile(B, r_star, A=A, gamma=gamma, degree=2, derivatives=True)

    def program(R: np.ndarray) -> np.ndarray:
        O = np.zeros((3, R.shape[1]))  # noqa: E741 (the paper's target matrix O)
        O[:, 1:4] = R_Z  # linear monomials x1, x2, x3; everything else (and all dx/dt columns) zero
        Wt, *_ = np.linalg.lstsq(R.T, O.T, rcond=1e-15)
        return Wt.T

    W = program(code.snpl())
    W_static = program(code.C1)

    def f(state: np.ndarray) -> np.ndarray:
        x, r = state[:3], state[3:]
        dx = speed * thomas_rhs(x / scale) * scale
        dr = gamma * (-r + np.tanh(A @ r + B @ x + d))
        return np.concatenate([dx, dr])

    state = np.concatenate([[0.0, 0.0, scale], r_star])
    X = np.empty((n_steps, 3))
    Rs = np.empty((n_steps, 2, 3))  # W r and W_static r per step
    def stage(state: np.ndarray, d_state: np.ndarray | None, _) -> np.ndarray:
        return f(state if d_state is None else state + d_state)

    for i in range(n_steps):
        state = rk4_step(stage, state, dt)
        X[i] = state[:3]
        Rs[i, 0] = W @ state[3:]
        Rs[i, 1] = W_static @ state[3:]
    keep = slice(int(discard * n_steps), None)
    target = X[keep] @ R_Z.T
    denom = np.linalg.norm(target - X[keep])
    err = np.linalg.norm(target - Rs[keep, 0]) / denom
    err_static = np.linalg.norm(target - Rs[keep, 1]) / denom
    t = (np.arange(n_steps) + 1) * dt
    return RotationResult(float(err), float(err_static), t[keep], target, Rs[keep, 0], float(np.linalg.norm(W)))
