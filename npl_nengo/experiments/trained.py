"""Decompiling a conventionally trained reservoir (docs/method.md §4.7).

An echo-state reservoir ``dr/dt = gamma (-r + tanh(A r + B x + d))`` with a
random, full-rank recurrent matrix ``A`` (spectral radius ``radius``), random
input weights ``B`` and operating point ``r*`` (``d = atanh(r*) - A r*``) is
driven by a chaotic input (the Thomas attractor of
:mod:`npl_nengo.experiments.rotation`, at the 0.1 scale) and its readout ``W`` is
trained *from data* by ridge regression to output the 90° rotation
``R_z x(t)``.  ``A`` and ``B`` stay random: only the readout is trained.

The trained network is then decompiled (:func:`npl_nengo.decompile`) into its
machine code: ``C1`` (the state as a polynomial in ``x``) and ``C2`` (the
coefficients of ``x^p dx_j/dt``, the reservoir's lag).  The trained readout's
own program is ``W C1`` and ``W C2``: :func:`decompile_readout` returns it,
and :func:`prediction_error` measures how well that polynomial, evaluated on
held-out input ``x(t)`` (and ``dx/dt``), predicts the trained network's output
``W r(t)``.  The decompilation is first order in ``A``, so the prediction
error grows with the spectral radius.

:meth:`TrainedReservoir.to_rnn` expresses the trained network as a
:class:`~npl_nengo.rnn.ProgrammedRNN` (``A = B_rec W_rec`` by SVD), so it runs
on every backend; :func:`readout_metric` scores such a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse

from .._version import __version__
from ..simulation import run
from ..basis import MonomialBasis, tanh_derivatives
from ..decompile import MachineCode, bias_for, decompile, with_spectral_radius
from ..errors import ValidationError
from ..metrics import Score, fails_on_divergence
from ..ode import rk4_step
from ..rnn import ProgrammedRNN
from .rotation import R_Z, thomas_rhs

__all__ = [
    "TrainedReservoir",
    "DecompiledReadout",
    "Segment",
    "PredictionError",
    "train",
    "drive",
    "decompile_readout",
    "exact_static_code",
    "prediction_error",
    "readout_metric",
    "relative_error",
    "INPUTS",
    "OUTPUTS",
]

#: Input and output names of the ProgrammedRNN built by :meth:`TrainedReservoir.to_rnn`.
INPUTS = ("x", "y", "z")
OUTPUTS = ("o1", "o2", "o3")


# -- argument checks ------------------------------------------------------------------------------------------

def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValidationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _number(name: str, value: Any, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise ValidationError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValidationError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValidationError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {v}")
    return v


def relative_error(output: np.ndarray, reference: np.ndarray) -> float:
    """``||output - reference||_F / ||reference - mean(reference)||_F`` (mean per column).

    The error relative to the reference signal's own variation: 0 is perfect,
    1 is as bad as outputting the reference's mean.
    """
    output, reference = np.asarray(output, float), np.asarray(reference, float)
    if output.shape != reference.shape:
        raise ValidationError(f"relative_error: shapes {output.shape} and {reference.shape} differ")
    return float(np.linalg.norm(output - reference) / np.linalg.norm(reference - reference.mean(axis=0)))


# -- the drive and the joint RK4 integration ---------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A stretch of the joint (drive, reservoir) RK4 integration.

    Attributes
    ----------
    t : ndarray (n,)
        Times (s) of the recorded samples, after each recorded step.
    x, dx : ndarray (n, 3)
        The drive and its exact time derivative (the Thomas right-hand side).
    r : ndarray (n, N)
        Reservoir states.
    x_end, r_end : ndarray
        The state after the last step (to continue the integration).
    dt, stride
        Step (s); samples are ``stride`` steps apart.
    """

    t: np.ndarray
    x: np.ndarray
    dx: np.ndarray
    r: np.ndarray
    x_end: np.ndarray
    r_end: np.ndarray
    dt: float
    stride: int


#: Thomas' damping (the default of :func:`~npl_nengo.experiments.rotation.thomas_rhs`).
THOMAS_B = 0.208186
#: Steps whose stage currents are computed at once.
_CHUNK = 2048


def _thomas(x: np.ndarray, scale: float, speed: float) -> np.ndarray:
    """The scaled drive's right-hand side for ``x`` of shape (3, ...) (``thomas_rhs`` along axis 0)."""
    return speed * scale * thomas_rhs(x / scale, THOMAS_B)


def _attractor_start(scale: float, seed: int) -> np.ndarray:
    """A point on the Thomas attractor (scaled): a random start near the origin run for 200 time units.

    scipy's adaptive DOP853 does this burn-in; the reservoir never sees it.
    """
    rng = np.random.default_rng(seed)
    sol = scipy.integrate.solve_ivp(lambda _, u: thomas_rhs(u), (0.0, 200.0), rng.uniform(-1, 1, 3),
                                    method="DOP853", rtol=1e-9, atol=1e-12)
    return sol.y[:, -1] * scale


def drive(
    A: Any,
    B: np.ndarray,
    d: np.ndarray,
    gamma: float,
    x0: np.ndarray,
    r0: np.ndarray,
    n_steps: int,
    dt: float = 1e-3,
    scale: float = 0.1,
    speed: float = 1.0,
    stride: int = 1,
) -> Segment:
    """Integrate the Thomas drive and the reservoir as one RK4 system (the authors' way).

    ``dx/dt = speed * scale * thomas(x / scale)``,
    ``dr/dt = gamma (-r + tanh(A r + B x + d))``.

    Written out rather than with ``scipy.integrate.solve_ivp``: the authors use
    fixed-step classical RK4 with the driver inside the same step, and the
    reference backend does the same, so both see identical numbers.

    Parameters
    ----------
    A
        (N, N) recurrent matrix, dense or scipy.sparse.
    B, d, gamma
        Input weights (N, 3), bias (N,), rate constant (1/s).
    x0, r0
        Initial drive (3,) and reservoir state (N,).
    n_steps, dt
        Number and size (s) of the steps.
    scale, speed
        The drive is ``scale * thomas(speed * t)``.
    stride
        Record every ``stride``-th step.
    """
    n_steps = _positive_int("n_steps", n_steps)
    stride = _positive_int("stride", stride)
    dt = _number("dt", dt, lo=0.0, lo_open=True)
    B, d = np.asarray(B, dtype=float), np.asarray(d, dtype=float)
    N = len(d)
    # The drive does not depend on r, so its RK4 stage values (x, x + dt k1/2, x + dt k2/2,
    # x + dt k3) are computed first; the reservoir's RK4 then uses them at its four stages,
    # which is the joint RK4 step exactly, at a fraction of the per-step overhead.
    stages, x_end = _thomas_stages(np.asarray(x0, dtype=float), n_steps, dt, scale, speed)
    n_rec = n_steps // stride
    X, R = stages[stride - 1 :: stride, 4][:n_rec], np.empty((n_rec, N))
    r = np.array(r0, dtype=float)
    g = gamma

    def rate(r: np.ndarray, dr: np.ndarray | None, J: np.ndarray) -> np.ndarray:
        y = r if dr is None else r + dr
        return g * (np.tanh(A @ y + J) - y)

    for c0 in range(0, n_steps, _CHUNK):
        c1 = min(n_steps, c0 + _CHUNK)
        J = stages[c0:c1, :4] @ B.T + d  # (steps, 4, N): input current of each stage
        for i in range(c1 - c0):
            r = rk4_step(rate, r, dt, J[i])
            step = c0 + i + 1
            if step % stride == 0 and step // stride <= n_rec:
                R[step // stride - 1] = r
    if not np.all(np.isfinite(r)):
        raise ValidationError("drive: the integration diverged (lower dt, radius or input_scale)")
    t = (np.arange(n_rec) + 1) * stride * dt
    dX = _thomas(X.T, scale, speed).T if n_rec else np.empty((0, 3))
    return Segment(t, X, dX, R, x_end, r, dt, stride)


def _thomas_stages(x0: np.ndarray, n_steps: int, dt: float, scale: float, speed: float,
                   b: float = THOMAS_B) -> tuple[np.ndarray, np.ndarray]:
    """RK4 of the scaled Thomas drive; returns (n_steps, 5, 3): the four stage points of each
    step and the state after it, and the final state.

    Plain float arithmetic (three variables): the library's one RK4 step written out rather
    than :func:`npl_nengo.ode.rk4_step`, which on numpy 3-vectors gives the same numbers
    20 times slower (measured: 20 000 steps in 1.8 s against 0.1 s; :func:`drive` at
    N = 200 would take nearly twice as long).
    """
    out = np.empty((n_steps, 5, 3))
    x, y, z = (float(v) for v in x0)
    c, s_ = speed * scale, 1.0 / scale
    sin = math.sin

    def f(x: float, y: float, z: float) -> tuple[float, float, float]:
        return (c * (sin(y * s_) - b * x * s_), c * (sin(z * s_) - b * y * s_), c * (sin(x * s_) - b * z * s_))

    h = 0.5 * dt
    for i in range(n_steps):
        a1, a2, a3 = f(x, y, z)
        p2 = (x + h * a1, y + h * a2, z + h * a3)
        b1, b2, b3 = f(*p2)
        p3 = (x + h * b1, y + h * b2, z + h * b3)
        c1, c2, c3 = f(*p3)
        p4 = (x + dt * c1, y + dt * c2, z + dt * c3)
        d1, d2, d3 = f(*p4)
        row = out[i]
        row[0] = (x, y, z)
        row[1] = p2
        row[2] = p3
        row[3] = p4
        x += dt / 6.0 * (a1 + 2 * b1 + 2 * c1 + d1)
        y += dt / 6.0 * (a2 + 2 * b2 + 2 * c2 + d2)
        z += dt / 6.0 * (a3 + 2 * b3 + 2 * c3 + d3)
        row[4] = (x, y, z)
    return out, np.array([x, y, z])


# -- the trained reservoir ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TrainedReservoir:
    """A random echo-state reservoir with a readout trained by ridge regression.

    Attributes
    ----------
    A : ndarray (N, N)
        Random recurrent matrix (spectral radius :attr:`radius`, full rank).
    B : ndarray (N, 3)
        Random input weights, U(-input_scale, input_scale).
    r_star, d : ndarray (N,)
        Operating point, U(-0.5, 0.5), and bias ``atanh(r*) - A r*``.
    W : ndarray (3, N)
        The trained readout (outputs ``o1, o2, o3``).
    target : ndarray (3, 3)
        The trained linear map (``R_z``): the readout learns ``target @ x``.
    gamma, radius, input_scale, density, ridge, seed
        How it was built and trained.
    dt, scale, speed
        The drive's step and parameters (``scale * thomas(speed * t)``).
    train_rms : ndarray (3,)
        RMS training error per output (absolute).
    train_error : float
        :func:`relative_error` of the readout on the training data.
    x_end, r_end : ndarray
        State of the joint integration where training stopped; held-out data continues from here.
    info : dict
        Training report.
    """

    A: np.ndarray
    B: np.ndarray
    r_star: np.ndarray
    d: np.ndarray
    W: np.ndarray
    target: np.ndarray
    gamma: float
    radius: float
    input_scale: float
    density: float
    ridge: float
    seed: int
    dt: float
    scale: float
    speed: float
    train_rms: np.ndarray
    train_error: float
    x_end: np.ndarray
    r_end: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        """Number of neurons N."""
        return len(self.d)

    def held_out(self, n_steps: int, stride: int = 1) -> Segment:
        """Continue the joint RK4 integration from where training stopped (data never trained on)."""
        return drive(self.A, self.B, self.d, self.gamma, self.x_end, self.r_end, n_steps, self.dt,
                     self.scale, self.speed, stride)

    def code(self, degree: int = 2) -> MachineCode:
        """The reservoir's machine code: :func:`npl_nengo.decompile` with the trained network's ``A``."""
        degree = _positive_int("degree", degree)
        return decompile(self.B, self.r_star, A=self.A, gamma=self.gamma, degree=degree, derivatives=True)

    def to_rnn(self, rank: int | None = None, name: str = "trained_rotation") -> ProgrammedRNN:
        """The trained network as a :class:`~npl_nengo.rnn.ProgrammedRNN`, to run on any backend.

        ``A`` is factored by its SVD ``U S V^T``: ``B_rec = U S``, ``W_rec = V^T``
        (one fed-back signal ``a<i>`` per singular value), ``B_ext = B`` (inputs
        ``x, y, z``), ``W`` the trained readout (outputs ``o1, o2, o3``).

        Parameters
        ----------
        rank
            Keep this many singular values (None: every one above
            ``N * eps * s_max``, which for a random A is all N).  A truncation's
            relative Frobenius error is recorded in ``info["svd_error"]``.
        name
            Name of the network.
        """
        U, s, Vt = scipy.linalg.svd(np.asarray(self.A), full_matrices=False)
        full = int(np.sum(s > s[0] * len(s) * np.finfo(float).eps)) if s.size and s[0] > 0 else 0
        if rank is None:
            rank = full
        else:
            rank = _positive_int("rank", rank)
            if rank > len(s):
                raise ValidationError(f"rank must be <= N = {len(s)}, got {rank}")
        svd_error = float(np.sqrt(np.sum(s[rank:] ** 2)) / np.sqrt(np.sum(s ** 2))) if s.size and s[0] > 0 else 0.0
        N = self.n_neurons
        lo, hi = 2.0 * self.scale * np.array([-1.0, 1.0])  # the scaled Thomas attractor stays within about ±0.6 scale
        info = {
            "library_version": __version__,
            "training": {
                "kind": "echo-state readout trained by ridge regression (A, B random, only W trained)",
                "solver": "scipy.linalg.solve on the normal equations (R R^T + n ridge I) W^T = R Y^T",
                "target": np.asarray(self.target).tolist(),
                "drive": f"{self.scale} * thomas({self.speed} t), joint RK4, dt = {self.dt}",
                **self.info,
            },
            "reservoir": {"radius": self.radius, "input_scale": self.input_scale, "density": self.density},
            "svd_rank": int(rank),
            "svd_full_rank": full,
            "svd_error": svd_error,
        }
        return ProgrammedRNN(
            name=name,
            B_rec=U[:, :rank] * s[:rank],
            W_rec=Vt[:rank],
            B_ext=self.B,
            d=self.d,
            r_star=self.r_star,
            W=self.W,
            gamma=self.gamma,
            signal_names=tuple(f"a{i}" for i in range(rank)),
            input_names=INPUTS,
            output_names=OUTPUTS,
            input_ranges=np.tile([lo, hi], (3, 1)),
            output_ranges=np.tile([lo, hi], (3, 1)),
            signal_initial=np.full(rank, np.nan),
            block_names=("reservoir",),
            block_sizes=np.array([N]),
            method="trained",
            seed=self.seed,
            residual=self.train_rms,
            noise_gain=np.linalg.norm(self.W, axis=1),
            info=info,
        )


def _random_A(N: int, radius: float, density: float, rng: np.random.Generator) -> np.ndarray:
    """Random N x N matrix (Gaussian entries, a ``density`` fraction nonzero) rescaled to spectral radius ``radius``."""
    G = rng.standard_normal((N, N))
    if density < 1.0:
        G = G * (rng.random((N, N)) < density)
    try:
        return with_spectral_radius(G, radius)
    except ValidationError:
        raise ValidationError(f"density {density} is too small for N = {N}: the random A is nilpotent") from None


def train(
    N: int = 200,
    radius: float = 0.5,
    input_scale: float = 0.1,
    density: float = 1.0,
    gamma: float = 100.0,
    ridge: float = 1e-6,
    n_steps: int = 20_000,
    washout: int = 1_000,
    dt: float = 1e-3,
    scale: float = 0.1,
    speed: float = 4.0,
    stride: int = 1,
    target: np.ndarray = R_Z,
    seed: int = 0,
) -> TrainedReservoir:
    """Build a random echo-state reservoir and train its readout to rotate a chaotic drive.

    The reservoir is driven (joint RK4 with the drive, :func:`drive`) from
    ``r*`` and a point on the Thomas attractor; after ``washout`` steps the
    states ``R`` (every ``stride``-th step) and targets ``Y = target @ x`` are
    fitted by ridge regression, ``min_W mean ||W r - y||^2 + ridge ||W||^2``.

    The normal equations ``(R R^T + n ridge I) W^T = R Y^T`` are solved with
    ``scipy.linalg.solve(assume_a="pos")`` (a Cholesky solve).  ``ridge`` is an
    absolute Tikhonov term, so it reads directly as the variance of independent
    per-neuron noise the readout is made robust to (``nengo.solvers.LstsqL2``
    instead scales its ``reg`` by the largest activity, which hides that).

    Parameters
    ----------
    N
        Neurons.
    radius
        Spectral radius of ``A`` (> 0, < 1 for the echo-state property).
    input_scale
        ``B`` is U(-input_scale, input_scale).
    density
        Fraction of nonzero entries of ``A`` (1: dense).
    gamma
        Rate constant (1/s).
    ridge
        Ridge penalty per sample (>= 0).
    n_steps, washout
        Steps trained on, after ``washout`` discarded steps.
    dt, scale, speed
        Step (s) and drive ``scale * thomas(speed * t)``.
    stride
        Use every ``stride``-th step for training.
    target
        (3, 3) linear map the readout learns (default ``R_z``, 90° about z).
    seed
        Seed of A, B, r* and the drive's start.

    Returns
    -------
    TrainedReservoir
    """
    N = _positive_int("N", N, minimum=3)
    radius = _number("radius", radius, lo=0.0, lo_open=True, hi=1.0, hi_open=True)
    input_scale = _number("input_scale", input_scale, lo=0.0, lo_open=True)
    density = _number("density", density, lo=0.0, lo_open=True, hi=1.0)
    gamma = _number("gamma", gamma, lo=0.0, lo_open=True)
    ridge = _number("ridge", ridge, lo=0.0)
    n_steps = _positive_int("n_steps", n_steps)
    washout = _positive_int("washout", washout, minimum=0)
    dt = _number("dt", dt, lo=0.0, lo_open=True)
    if gamma * dt >= 2.0:
        raise ValidationError(f"dt: gamma * dt = {gamma * dt:g} must be < 2 for a stable RK4 step")
    scale = _number("scale", scale, lo=0.0, lo_open=True)
    speed = _number("speed", speed, lo=0.0, lo_open=True)
    stride = _positive_int("stride", stride)
    if n_steps // stride < 2:
        raise ValidationError(f"n_steps: {n_steps} steps at stride {stride} leave fewer than 2 training samples")
    target = np.asarray(target, dtype=float)
    if target.shape != (3, 3) or not np.all(np.isfinite(target)):
        raise ValidationError(f"target must be a finite (3, 3) matrix, got shape {target.shape}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {seed!r}")

    rng_A, rng_B, rng_r, rng_x = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4))
    A = _random_A(N, radius, density, rng_A)
    B = rng_B.uniform(-input_scale, input_scale, size=(N, 3))
    r_star = rng_r.uniform(-0.5, 0.5, size=N)
    d = bias_for(r_star, A)
    A_op = scipy.sparse.csr_matrix(A) if density < 0.3 else A
    x0 = _attractor_start(scale, int(rng_x.integers(2 ** 31)))
    if washout:
        warm = drive(A_op, B, d, gamma, x0, r_star, washout, dt, scale, speed, stride=washout)
        x0, r0 = warm.x_end, warm.r_end
    else:
        r0 = r_star
    seg = drive(A_op, B, d, gamma, x0, r0, n_steps, dt, scale, speed, stride)
    Y = seg.x @ target.T  # (n, 3)
    R = seg.r
    n = len(R)
    W = scipy.linalg.solve(R.T @ R + n * ridge * np.eye(N), R.T @ Y, assume_a="pos").T
    fit = R @ W.T
    train_rms = np.sqrt(np.mean((fit - Y) ** 2, axis=0))
    info = {"n_samples": n, "washout_steps": washout, "train_steps": n_steps, "stride": stride,
            "train_error": relative_error(fit, Y), "weight_norm": float(np.linalg.norm(W))}
    return TrainedReservoir(A=A, B=B, r_star=r_star, d=d, W=W, target=target, gamma=gamma, radius=radius,
                            input_scale=input_scale, density=density, ridge=ridge, seed=int(seed), dt=dt,
                            scale=scale, speed=speed, train_rms=train_rms, train_error=relative_error(fit, Y),
                            x_end=seg.x_end, r_end=seg.r_end, info=info)


# -- decompiling the trained readout -----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class DecompiledReadout:
    """The trained readout's program: its machine code ``W C1`` and ``W C2``.

    Attributes
    ----------
    basis : MonomialBasis
        Monomials of the inputs ``x, y, z`` up to ``degree``.
    static : ndarray (3, K)
        ``W C1``: coefficient of each monomial in each output.
    lag : ndarray (3, K, 3)
        ``W C2``: coefficient of ``x^p dx_j/dt``.
    """

    basis: MonomialBasis
    static: np.ndarray
    lag: np.ndarray

    @property
    def constant(self) -> np.ndarray:
        """(3,) constant term ``W r*``."""
        return self.static[:, 0]

    @property
    def linear(self) -> np.ndarray:
        """(3, 3) linear block: output i's coefficient of input j (should approximate the target map)."""
        return self.static[:, 1:4]

    @property
    def nonlinear(self) -> np.ndarray:
        """(3, K - 4) coefficients of the monomials of degree >= 2."""
        return self.static[:, 4:]

    @property
    def lag_linear(self) -> np.ndarray:
        """(3, 3) coefficients of ``dx_j/dt`` (the lag of the output behind its input, in s)."""
        return self.lag[:, 0, :]

    def predict(self, x: np.ndarray, dx: np.ndarray | None = None) -> np.ndarray:
        """Evaluate the polynomial: ``W C1 m(x)`` (+ ``sum_j W C2[:, :, j] m(x) dx_j`` if ``dx`` is given).

        Parameters
        ----------
        x, dx
            (n, 3) inputs and their time derivatives.
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValidationError(f"x must have shape (n, 3), got {x.shape}")
        m = self.basis.evaluate(x)  # (n, K)
        out = m @ self.static.T
        if dx is not None:
            rates = np.atleast_2d(np.asarray(dx, dtype=float))
            if rates.shape != x.shape:
                raise ValidationError(f"dx must have the shape of x {x.shape}, got {rates.shape}")
            out = out + np.einsum("nk,nj,okj->no", m, rates, self.lag)
        return out


def decompile_readout(trained: TrainedReservoir, degree: int = 2, exact: bool = False) -> DecompiledReadout:
    """Decompile ``trained`` into its machine code and apply its readout: ``W C1``, ``W C2``.

    Parameters
    ----------
    trained
        The trained reservoir.
    degree
        Degree of the monomial basis.
    exact
        False: the authors' code (:func:`npl_nengo.decompile`, first order in
        ``A``).  True: ``C1`` replaced by :func:`exact_static_code` (all orders
        in ``A``) and the ``dx_j/dt`` columns of ``C2`` by the exact linear lag
        ``-M^-1 C1[:, x_j] / gamma`` (``M = I - diag(g'(dv)) A``); the
        ``x^p dx_j/dt`` columns with ``|p| >= 1`` stay the authors'.
    """
    if not isinstance(trained, TrainedReservoir):
        raise ValidationError(f"trained must be a TrainedReservoir, got {type(trained).__name__}")
    if not isinstance(exact, (bool, np.bool_)):
        raise ValidationError(f"exact must be True or False, got {exact!r}")
    code = trained.code(degree)
    C1, C2 = code.C1, np.array(code.C2)
    if exact:
        C1, lag = exact_static_code(trained, degree, lag=True)
        C2[:, 0, :] = lag
    return DecompiledReadout(code.basis, trained.W @ C1, np.einsum("on,nkj->okj", trained.W, C2))


def exact_static_code(trained: TrainedReservoir, degree: int = 2, lag: bool = False):
    """The equilibrium ``r(x) = tanh(A r + B x + d)`` as a polynomial in ``x``, exact in ``A``.

    The Taylor coefficients of the equilibrium, degree by degree: with the
    argument ``a(x) = A (r(x) - r*) + B x`` known below degree ``n``, the
    degree-``n`` part of ``tanh(dv + a)`` is ``g' A C_n`` plus known terms, so
    ``C_n = M^-1 [known terms]`` with ``M = I - diag(g'(dv)) A``.  For
    ``A = 0`` this is the authors' ``C1``; otherwise it differs from it at first
    order in ``A`` (the authors' linear block is ``M^-1 (g' - g'' A r*) B``,
    the exact one ``M^-1 g' B``).

    Parameters
    ----------
    trained
        The reservoir (its ``A``, ``B``, ``r*``).
    degree
        Degree of the basis.
    lag
        Also return the exact coefficients of ``dx_j/dt`` (N, 3): the adiabatic
        correction ``-M^-1 C[:, x_j] / gamma`` of the linear response.

    Returns
    -------
    ndarray (N, K), or a tuple (C, L) with ``L`` of shape (N, 3) when ``lag``.
    """
    if not isinstance(trained, TrainedReservoir):
        raise ValidationError(f"trained must be a TrainedReservoir, got {type(trained).__name__}")
    degree = _positive_int("degree", degree)
    basis = MonomialBasis(3, degree)
    A, B, r_star = np.asarray(trained.A), trained.B, trained.r_star
    N, K = len(r_star), len(basis)
    g = tanh_derivatives(np.arctanh(r_star), degree)  # (degree + 1, N)
    lu = scipy.linalg.lu_factor(np.eye(N) - g[1][:, None] * A)
    Bp = np.zeros((N, K))
    Bp[:, 1:4] = B
    C = np.zeros((N, K))
    C[:, 0] = r_star
    for n in range(1, degree + 1):
        a = A @ C
        a[:, 0] = 0.0
        a += Bp
        total, power = np.zeros((N, K)), np.zeros((N, K))
        power[:, 0] = 1.0
        for j in range(1, degree + 1):  # sum_j g^(j) a^j / j!, degree-n columns only needed
            power = basis.multiply(power, a)
            total += g[j][:, None] * power / math.factorial(j)
        cols = basis.degrees == n
        C[:, cols] = scipy.linalg.lu_solve(lu, total[:, cols])
    if not lag:
        return C
    return C, -scipy.linalg.lu_solve(lu, C[:, 1:4]) / trained.gamma


@dataclass(frozen=True)
class PredictionError:
    """How well the decompiled polynomial predicts the trained readout on held-out data.

    All errors are :func:`relative_error` values over the held-out samples.

    Attributes
    ----------
    static, lag : float
        ``W r`` against the static polynomial ``W C1 m(x)`` / with the lag code ``+ W C2 m(x) dx``
        (the authors' code, :func:`npl_nengo.decompile`).
    static_exact, lag_exact : float
        The same with the code exact in ``A`` (:func:`decompile_readout` with ``exact=True``).
    test : float
        ``W r`` against the training target ``target @ x`` (the readout's held-out error).
    linear, linear_exact : float
        ``||W C1[:, x] - target||_F / ||target||_F``: the decompiled linear block against the
        trained map (authors' code / exact code).
    nonlinear_max : float
        Largest ``|coefficient|`` of a degree >= 2 monomial in ``W C1``.
    """

    static: float
    lag: float
    static_exact: float
    lag_exact: float
    test: float
    linear: float
    linear_exact: float
    nonlinear_max: float
    segment: Segment = field(repr=False)
    output: np.ndarray = field(repr=False)
    prediction: np.ndarray = field(repr=False)


def prediction_error(trained: TrainedReservoir, n_steps: int = 5_000, degree: int = 2, stride: int = 1) -> PredictionError:
    """Drive ``trained`` on held-out data and compare ``W r(t)`` with its decompiled polynomial.

    Parameters
    ----------
    trained
        The trained reservoir.
    n_steps
        Held-out steps (continuing the training run).
    degree
        Degree of the decompilation basis.
    stride
        Compare every ``stride``-th step.
    """
    if not isinstance(trained, TrainedReservoir):
        raise ValidationError(f"trained must be a TrainedReservoir, got {type(trained).__name__}")
    dec = decompile_readout(trained, degree)
    exact = decompile_readout(trained, degree, exact=True)
    seg = trained.held_out(n_steps, stride)
    out = seg.r @ trained.W.T
    lagged = dec.predict(seg.x, seg.dx)
    target = seg.x @ trained.target.T
    norm = np.linalg.norm(trained.target)
    return PredictionError(
        static=relative_error(dec.predict(seg.x), out),
        lag=relative_error(lagged, out),
        static_exact=relative_error(exact.predict(seg.x), out),
        lag_exact=relative_error(exact.predict(seg.x, seg.dx), out),
        test=relative_error(out, target),
        linear=float(np.linalg.norm(dec.linear - trained.target) / norm),
        linear_exact=float(np.linalg.norm(exact.linear - trained.target) / norm),
        nonlinear_max=float(np.max(np.abs(dec.nonlinear))) if dec.nonlinear.size else 0.0,
        segment=seg,
        output=out,
        prediction=lagged,
    )


# -- running on the backends -------------------------------------------------------------------------------------

@fails_on_divergence("trained_readout")
def readout_metric(
    trained: TrainedReservoir,
    rnn: ProgrammedRNN | None = None,
    duration: float = 1.0,
    tol: float = 0.05,
    degree: int = 2,
    **run_options: Any,
) -> Score:
    """Run the trained network on a backend with held-out drive and score it.

    The drive (continuing the training run) is passed as arrays, one sample
    per step, sampled at mid-step ``x((i + 1/2) dt)``; the run starts from the
    reservoir state where training stopped.  The error is
    :func:`relative_error` of the backend's outputs against the target
    ``R_z x(t)``; the details also give it against the joint-RK4 readout
    ``W r(t)`` (``vs_rk4``), against the decompiled polynomial with the lag
    code (``vs_decompiled``: the authors' code; ``vs_decompiled_exact``: exact
    in ``A``), and the spike-noise share of the error that
    :meth:`~npl_nengo.rnn.ProgrammedRNN.expected_noise` predicts
    (``predicted_noise``, spiking modes only).  Passes when the error against
    the target is at most ``tol``.

    Parameters
    ----------
    trained
        The trained reservoir.
    rnn
        Its ProgrammedRNN (default ``trained.to_rnn()``).
    duration
        Seconds simulated (a multiple of the drive's ``dt``).
    tol
        Largest passing error against the target.
    degree
        Degree of the decompilation.
    **run_options
        Passed to :func:`npl_nengo.run` (backend, neurons, max_rate, seed, ...);
        ``dt`` is the training drive's.
    """
    if not isinstance(trained, TrainedReservoir):
        raise ValidationError(f"trained must be a TrainedReservoir, got {type(trained).__name__}")
    duration = _number("duration", duration, lo=0.0, lo_open=True)
    tol = _number("tol", tol, lo=0.0)
    if "dt" in run_options and run_options["dt"] != trained.dt:
        raise ValidationError(f"dt: the drive is sampled at the training dt = {trained.dt}, got {run_options['dt']}")
    run_options.pop("dt", None)
    rnn = trained.to_rnn() if rnn is None else rnn
    if not isinstance(rnn, ProgrammedRNN) or rnn.n_neurons != trained.n_neurons:
        raise ValidationError("rnn must be the ProgrammedRNN of this trained reservoir (trained.to_rnn())")
    n_steps = int(round(duration / trained.dt))
    if n_steps < 2:
        raise ValidationError(f"duration {duration} s is shorter than two steps of dt = {trained.dt} s")
    # Held-out data at half steps: sample i of the array is x((i + 1/2) dt), the value a
    # zero-order hold should carry over step i for second-order accuracy.
    half = drive(trained.A, trained.B, trained.d, trained.gamma, trained.x_end, trained.r_end, 2 * n_steps,
                 trained.dt / 2, trained.scale, trained.speed)
    seg_x, seg_dx, seg_r = half.x[1::2], half.dx[1::2], half.r[1::2]  # at (i + 1) dt
    mid = half.x[0::2]  # at (i + 1/2) dt
    options = {"initial": trained.r_end, **run_options}
    result = run(rnn, {name: mid[:, j] for j, name in enumerate(INPUTS)}, duration=n_steps * trained.dt,
                 dt=trained.dt, **options)
    out = np.stack([result[name] for name in OUTPUTS], axis=1)
    n = min(len(out), len(seg_x))
    out, seg_x, seg_dx, seg_r = out[:n], seg_x[:n], seg_dx[:n], seg_r[:n]
    target = seg_x @ trained.target.T
    rk4 = seg_r @ trained.W.T
    dec = decompile_readout(trained, degree).predict(seg_x, seg_dx)
    dec_exact = decompile_readout(trained, degree, exact=True).predict(seg_x, seg_dx)
    error = relative_error(out, target)
    neurons = run_options.get("neurons", "rate")
    spread = float(np.linalg.norm(target - target.mean(axis=0)) / math.sqrt(n))
    details = {
        "tol": tol,
        "vs_rk4": relative_error(out, rk4),
        "vs_decompiled": relative_error(out, dec),
        "vs_decompiled_exact": relative_error(out, dec_exact),
        "rk4_vs_target": relative_error(rk4, target),
        # predicted spike-noise part of the error: ||noise_gain|| sigma / rms spread of the target
        "predicted_noise": float(np.linalg.norm(rnn.expected_noise(run_options.get("max_rate", 1000.0), neurons)) / spread)
        if neurons in ("regular", "poisson") else 0.0,
    }
    return Score("trained_readout", bool(error <= tol), error, [], details, result)
