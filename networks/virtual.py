"""Virtualization: a host reservoir runs a guest tanh RNN (docs/method.md §4.4).

The guest is a small continuous-time tanh RNN

    dr/dt = gamma_g (-r + tanh(A_g r + B_g u + d_g)),   d_g = atanh(r*) - A_g r*,

whose operating point ``r*`` is a fixed point for ``u = 0``.  Its dynamics are
not polynomial, so :func:`guest_program` Taylor-expands the tanh to ``order``
(1, 2 or 3) in the argument's deviation ``z = A_g (r - r*) + B_g u``

    tanh(atanh(r*) + z) = r* + sum_j tanh^(j)(atanh r*) z^j / j!

and writes it over scaled deviations ``x = (r - r*) * 0.1 / deviation`` (the
0.1 scale the taylor compiler's basis is accurate at).  The program's maps read
the guest's states ``r_i = r*_i + (deviation / 0.1) x_i`` back out (linear, so
exact).  Compiling that program gives the host reservoir.

Two error sources are kept apart by :func:`virtualization`:

* truncation: the polynomial program (integrated with ``solve_ivp``) against
  the true guest (``solve_ivp`` of the tanh RNN);
* compile/backend: the host run against its own polynomial program.

:func:`npl_nengo.experiments.guest_sweep.virtualization_sweep` measures both over guest size and
expansion order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy
from scipy.integrate import solve_ivp

from ..simulation import run
from ..basis import tanh_derivatives
from ..compiler import compile as npl_compile
from ..decompile import with_spectral_radius
from ..errors import ValidationError
from .. import validation
from ..metrics import Score, fails_on_divergence
from ..ode import integrate
from ..program import Program
from ..rnn import ProgrammedRNN

__all__ = [
    "GuestRNN",
    "SineDrive",
    "random_guest",
    "sine_drive",
    "simulate_guest",
    "guest_program",
    "simulate_program",
    "virtualization",
    "LEVEL",
]

#: Scale of the program variables: a guest deviation of ``deviation`` maps to ``LEVEL``.
LEVEL = 0.1
#: Orders :func:`guest_program` expands to (the taylor basis holds degree <= 3 by default).
ORDERS = (1, 2, 3)


def _finite_array(value: object, name: str, ndim: int) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"GuestRNN: {name} must be a numeric array, got {type(value).__name__}") from None
    if arr.ndim != ndim:
        raise ValidationError(f"GuestRNN: {name} must be {ndim}-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"GuestRNN: {name} holds non-finite values")
    arr.setflags(write=False)
    return arr


def _positive(value: object, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(f"{where}: {name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValidationError(f"{where}: {name} must be a positive number, got {value!r}")
    return value


def _count(value: object, name: str, where: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValidationError(f"{where}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class GuestRNN:
    """A guest tanh RNN ``dr/dt = gamma (-r + tanh(A r + B u + d))``.

    Parameters
    ----------
    A : array (n, n)
        Recurrent weights.
    B : array (n, m)
        Input weights (``m >= 1`` inputs).
    d : array (n,)
        Bias.
    gamma : float
        Rate constant (1/s); keep it below the host's (100 /s), e.g. 10-20.
    r_star : array (n,), optional
        The operating point (a fixed point for ``u = 0``).  Checked if given;
        otherwise solved for by :meth:`operating_point`.
    """

    A: np.ndarray
    B: np.ndarray
    d: np.ndarray
    gamma: float
    r_star: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        A = _finite_array(self.A, "A", 2)
        B = _finite_array(self.B, "B", 2)
        d = _finite_array(self.d, "d", 1)
        n = A.shape[0]
        if n < 1 or A.shape != (n, n):
            raise ValidationError(f"GuestRNN: A must be square and non-empty, got shape {A.shape}")
        if B.shape[0] != n or B.shape[1] < 1:
            raise ValidationError(f"GuestRNN: B must have shape ({n}, m) with m >= 1 inputs, got {B.shape}")
        if d.shape != (n,):
            raise ValidationError(f"GuestRNN: d must have shape ({n},), got {d.shape}")
        gamma = _positive(self.gamma, "gamma", "GuestRNN")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "gamma", gamma)
        if self.r_star is not None:
            rs = _finite_array(self.r_star, "r_star", 1)
            if rs.shape != (n,) or np.any(np.abs(rs) >= 1):
                raise ValidationError(f"GuestRNN: r_star must have shape ({n},) with |r*| < 1")
            gap = np.max(np.abs(np.tanh(A @ rs + d) - rs))
            if gap > 1e-8:
                raise ValidationError(f"GuestRNN: r_star is not a fixed point for u = 0 (|tanh(A r* + d) - r*| = {gap:.3g})")
            object.__setattr__(self, "r_star", rs)

    @property
    def n(self) -> int:
        """Number of guest neurons."""
        return self.A.shape[0]

    @property
    def m(self) -> int:
        """Number of guest inputs."""
        return self.B.shape[1]

    def rhs(self, r: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``dr/dt`` at states ``r`` (..., n) and inputs ``u`` (..., m)."""
        r, u = np.asarray(r, dtype=float), np.asarray(u, dtype=float)
        return self.gamma * (-r + np.tanh(r @ self.A.T + u @ self.B.T + self.d))

    def operating_point(self) -> np.ndarray:
        """The fixed point ``r* = tanh(A r* + d)`` (``u = 0``) the expansion is taken around."""
        if self.r_star is not None:
            return np.array(self.r_star)
        from scipy.optimize import root

        sol = root(lambda r: np.tanh(self.A @ r + self.d) - r, np.tanh(self.d), tol=1e-13)
        gap = np.max(np.abs(np.tanh(self.A @ sol.x + self.d) - sol.x))
        if not sol.success or gap > 1e-10:
            raise ValidationError(f"GuestRNN: no operating point found for u = 0 (residual {gap:.3g}); give r_star")
        return sol.x


def random_guest(
    n: int,
    m: int = 1,
    spectral_radius: float = 0.5,
    input_gain: float = 6.0,
    gamma: float = 10.0,
    r_star: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
) -> GuestRNN:
    """A random guest with operating point ``r*``.

    Parameters
    ----------
    n, m
        Guest neurons and inputs.
    spectral_radius
        Spectral radius of ``A`` (Gaussian entries, rescaled); 0 gives ``A = 0``.
    input_gain
        ``B`` entries are U(-input_gain, input_gain); with inputs at the 0.1
        scale, the argument swings by up to ``0.1 * m * input_gain``.
    gamma
        Guest rate constant (1/s).
    r_star
        Operating point (default U(-0.5, 0.5), as the paper's hosts); ``d =
        atanh(r*) - A r*`` makes it a fixed point for ``u = 0``.
    seed
        Seed of the draws.
    """
    where = "random_guest"
    n = _count(n, "n", where)
    m = _count(m, "m", where)
    spectral_radius = validation.number(spectral_radius, "spectral_radius", where, minimum=0.0)
    input_gain = _positive(input_gain, "input_gain", where)
    gamma = _positive(gamma, "gamma", where)
    seed = _count(seed, "seed", where, low=0)
    rng_A, rng_B, rng_r = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    A = with_spectral_radius(rng_A.standard_normal((n, n)), spectral_radius)
    B = rng_B.uniform(-input_gain, input_gain, size=(n, m))
    if r_star is None:
        rs = rng_r.uniform(-0.5, 0.5, size=n)
    else:
        try:
            rs = np.array(r_star, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValidationError(f"{where}: r_star must be {n} numbers in (-1, 1)") from None
        if rs.shape != (n,) or not np.all(np.abs(rs) < 1):
            raise ValidationError(f"{where}: r_star must be {n} numbers in (-1, 1), got {r_star!r}")
    d = np.arctanh(rs) - A @ rs
    return GuestRNN(A, B, d, gamma, rs)


@dataclass(frozen=True)
class SineDrive:
    """``u(t) = amplitude * sum_k w_k sin(2 pi f_k t + phi_k)`` with ``sum_k |w_k| = 1``
    (so ``|u| <= amplitude``).  Callable on scalars and arrays of time (s)."""

    amplitude: float
    weights: tuple[float, ...]
    freqs: tuple[float, ...]
    phases: tuple[float, ...]

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        out = sum(w * np.sin(2 * np.pi * f * t + p) for w, f, p in zip(self.weights, self.freqs, self.phases))
        out = self.amplitude * out
        return float(out) if out.ndim == 0 else out


def sine_drive(m: int, amplitude: float = LEVEL, freqs: tuple[float, float] = (0.5, 2.5), n_sines: int = 3,
               seed: int = 0) -> list[SineDrive]:
    """``m`` smooth drives, each a sum of ``n_sines`` sines with random frequencies
    in ``freqs`` (Hz), weights and phases, bounded by ``amplitude``."""
    where = "sine_drive"
    m = _count(m, "m", where)
    amplitude = _positive(amplitude, "amplitude", where)
    n_sines = _count(n_sines, "n_sines", where)
    seed = _count(seed, "seed", where, low=0)
    try:
        lo, hi = (float(f) for f in freqs)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: freqs must be a pair (low, high) of Hz, got {freqs!r}") from None
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise ValidationError(f"{where}: freqs must satisfy 0 < low <= high, got {freqs!r}")
    rng = np.random.default_rng(seed)
    drives = []
    for _ in range(m):
        w = rng.uniform(0.5, 1.0, n_sines)
        drives.append(SineDrive(amplitude, tuple(w / w.sum()), tuple(rng.uniform(lo, hi, n_sines)),
                                tuple(rng.uniform(0, 2 * np.pi, n_sines))))
    return drives


def _drive_names(m: int) -> list[str]:
    return [f"u{j + 1}" for j in range(m)]


def _check_drive(guest: GuestRNN, drive: object, where: str) -> Sequence[Callable]:
    if drive is None:
        return sine_drive(guest.m)
    if isinstance(drive, Mapping):
        names = _drive_names(guest.m)
        if sorted(drive) != sorted(names):
            raise ValidationError(f"{where}: drive must give exactly the inputs {names}, got {sorted(drive)}")
        drive = [drive[k] for k in names]
    drive = list(drive) if isinstance(drive, (list, tuple)) else None
    if drive is None or len(drive) != guest.m or not all(callable(f) for f in drive):
        raise ValidationError(f"{where}: drive must be {guest.m} callables of t (one per guest input)")
    return drive


def _u_at(drive: Sequence[Callable], t: float) -> np.ndarray:
    return np.array([f(t) for f in drive], dtype=float)


def _u_series(drive: Sequence[Callable], t: np.ndarray) -> np.ndarray:
    """Drive values at every time in ``t``, shape (len(drive), len(t)); one call per sample,
    as the backends make them (a user's callable need not accept arrays)."""
    return np.array([[f(float(ti)) for ti in np.asarray(t, dtype=float)] for f in drive], dtype=float).reshape(len(drive), -1)


def simulate_guest(guest: GuestRNN, drive: Sequence[Callable], t: np.ndarray, r0: np.ndarray | None = None,
                   rtol: float = 1e-10, atol: float = 1e-12) -> np.ndarray:
    """Direct simulation of the guest (``solve_ivp``, DOP853, tight tolerances).

    Parameters
    ----------
    guest
        The guest RNN.
    drive
        One callable ``u_j(t)`` per guest input.
    t
        Increasing sample times (s); integration starts at ``t = 0``.
    r0
        Initial state (default: the operating point ``r*``).

    Returns
    -------
    array (len(t), n)
    """
    drive = _check_drive(guest, drive, "simulate_guest")
    r0 = guest.operating_point() if r0 is None else np.asarray(r0, dtype=float)
    return _integrate(lambda s, r: guest.rhs(r, _u_at(drive, s)), r0, t, rtol, atol)


def _integrate(f: Callable, y0: np.ndarray, t: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 1 or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ValidationError("simulate: t must be increasing sample times >= 0")
    sol = solve_ivp(f, (0.0, float(t[-1])), y0, method="DOP853", t_eval=t, rtol=rtol, atol=atol)
    if not sol.success:
        raise ValidationError(f"simulate: solve_ivp failed: {sol.message}")
    return sol.y.T


def guest_program(
    guest: GuestRNN,
    order: int = 3,
    deviation: float = 0.5,
    input_range: tuple[float, float] = (-LEVEL, LEVEL),
    name: str | None = None,
) -> Program:
    """The guest's dynamics Taylor-expanded to ``order`` as a polynomial Program.

    Parameters
    ----------
    guest
        The guest RNN.
    order
        1 (linearization), 2 or 3: the degree of the tanh expansion in the
        argument deviation ``z = A (r - r*) + B u``.
    deviation
        The largest guest deviation ``|r_i - r*_i|`` expected; it maps to the
        program variable value ``LEVEL = 0.1`` (declared ranges ``±LEVEL``).
    input_range
        Declared range of every guest input ``u1..um`` (program inputs, unscaled).
    name
        Program name (default ``guest<n>_o<order>``).

    Returns
    -------
    Program
        States ``x1..xn`` (``x = (r - r*) LEVEL / deviation``), inputs ``u1..um``,
        maps ``r1..rn`` (the guest's states, linear in ``x``); ``program.guest`` is
        ``guest``: a comparison report draws the direct guest simulation as its
        exact trajectory.
    """
    where = "guest_program"
    if not isinstance(guest, GuestRNN):
        raise ValidationError(f"{where}: guest must be a GuestRNN, got {type(guest).__name__}")
    if isinstance(order, bool) or order not in ORDERS:
        raise ValidationError(f"{where}: order must be one of {ORDERS}, got {order!r}")
    deviation = _positive(deviation, "deviation", where)
    try:
        lo, hi = (float(v) for v in input_range)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: input_range must be a pair (low, high), got {input_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValidationError(f"{where}: input_range must satisfy low < high, got {input_range!r}")
    n, m = guest.n, guest.m
    rs = guest.operating_point()
    g = tanh_derivatives(np.arctanh(rs), order)  # (order + 1, n): tanh^(j) at the operating point
    s = deviation / LEVEL  # r - r* = s x
    xs = sympy.symbols([f"x{i + 1}" for i in range(n)], real=True)
    us = sympy.symbols(_drive_names(m), real=True)
    gens = (*xs, *us)
    derivatives, maps = {}, {}
    for i in range(n):
        # sympy.Poly arithmetic: much faster than expanding expression trees for n ~ 6
        z = sympy.Poly(sum(sympy.Float(s * guest.A[i, k]) * xs[k] for k in range(n))
                       + sum(sympy.Float(guest.B[i, j]) * us[j] for j in range(m)), *gens)
        series, power = sympy.Poly(0, *gens), sympy.Poly(1, *gens)
        for j in range(1, order + 1):
            power = power * z
            series = series + power * sympy.Float(g[j, i] / math.factorial(j))
        # dx/dt = (gamma / s) (-s x + sum_j g^(j) z^j / j!)
        rhs = series * sympy.Float(guest.gamma / s) - sympy.Poly(xs[i], *gens) * sympy.Float(guest.gamma)
        derivatives[f"x{i + 1}"] = rhs.as_expr()
        maps[f"r{i + 1}"] = sympy.Float(rs[i]) + sympy.Float(s) * xs[i]
    program = Program(
        name or f"guest{n}_o{order}",
        derivatives=derivatives,
        inputs={u: (lo, hi) for u in _drive_names(m)},
        ranges={**{f"x{i + 1}": (-LEVEL, LEVEL) for i in range(n)},
                **{f"r{i + 1}": (rs[i] - deviation, rs[i] + deviation) for i in range(n)}},
        maps=maps,
        description=f"{n}-neuron tanh guest (gamma {guest.gamma:g}/s) expanded to order {order} around r*",
    )
    program.guest = guest  # what a report draws as the exact trajectory: the guest itself, not this expansion
    return program


def simulate_program(program: Program, drive: Sequence[Callable], t: np.ndarray, rtol: float = 1e-10,
                     atol: float = 1e-12) -> dict[str, np.ndarray]:
    """Integrate a Program's own ODE with ``solve_ivp`` (DOP853, tight tolerances).

    Starts from the program's initial values (0 where not given);
    :func:`npl_nengo.ode.integrate` with the drive as inputs.

    Parameters
    ----------
    program
        The program (e.g. from :func:`guest_program`).
    drive
        One callable of t per program input, in ``program.inputs`` order.
    t
        Increasing sample times (s).

    Returns
    -------
    dict
        Every state variable and map at ``t``.
    """
    if not isinstance(program, Program):
        raise ValidationError(f"simulate_program: program must be a Program, got {type(program).__name__}")
    if len(drive) != len(program.inputs) or not all(callable(f) for f in drive):
        raise ValidationError(f"simulate_program: drive must be {len(program.inputs)} callables of t")
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or len(t) < 1 or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ValidationError("simulate: t must be increasing sample times >= 0")
    return integrate(program, t, inputs=dict(zip(program.inputs, drive)), rtol=rtol, atol=atol)


def _errors(estimate: np.ndarray, truth: np.ndarray, scale: float) -> tuple[float, float]:
    err = estimate - truth
    return float(np.sqrt(np.mean(err**2)) / scale), float(np.max(np.abs(err)))


@fails_on_divergence("virtualization")
def virtualization(
    guest: GuestRNN,
    order: int = 3,
    rnn: ProgrammedRNN | None = None,
    n_neurons: int | None = None,
    compile_method: str = "taylor",
    duration: float = 2.0,
    drive: Sequence[Callable] | Mapping[str, Callable] | None = None,
    deviation: float = 0.5,
    tol: float = 0.05,
    compile_seed: int = 0,
    compile_options: Mapping[str, Any] | None = None,
    **run_options: Any,
) -> Score:
    """Run the host and the direct guest on the same drive and compare.

    Parameters
    ----------
    guest
        The guest RNN.
    order
        Expansion order of :func:`guest_program`.
    rnn
        A host already compiled from ``guest_program(guest, order, deviation)``
        (default: compiled here with ``n_neurons``, ``method``, ``compile_seed``).
    n_neurons, compile_method, compile_seed, compile_options
        Passed to :func:`npl_nengo.compile` (as ``n_neurons``, ``method``,
        ``seed``, further options) when ``rnn`` is None.
    duration
        Simulated seconds.
    drive
        One callable per guest input (default :func:`sine_drive`, amplitude 0.1).
    deviation
        See :func:`guest_program`.
    tol
        The run passes when the host-vs-guest normalized RMS error is ``<= tol``.
    **run_options
        Passed to :func:`npl_nengo.run` (backend, neurons, dt, seed, ...).

    Returns
    -------
    Score
        ``error``: RMS over the run and the guest neurons of (host - guest),
        divided by the guest trajectory's standard deviation.  ``details``:
        ``nrmse``/``max_error`` (host vs guest), ``truncation_nrmse`` /
        ``truncation_max`` (program ODE vs guest), ``compile_nrmse`` /
        ``compile_max`` (host vs program ODE), ``guest_std``, ``max_x`` (largest
        ``|x|`` of the program variables, against the declared 0.1), ``max_z``
        (largest tanh-argument deviation), ``K``, ``N``, ``weight_norm``.
        ``rows``: per guest neuron errors.
    """
    where = "virtualization"
    if not isinstance(guest, GuestRNN):
        raise ValidationError(f"{where}: guest must be a GuestRNN, got {type(guest).__name__}")
    drive = _check_drive(guest, drive, where)
    tol = _positive(tol, "tol", where)
    duration = _positive(duration, "duration", where)
    program = guest_program(guest, order, deviation)
    if rnn is None:
        rnn = npl_compile(program, n_neurons=n_neurons, method=compile_method, seed=compile_seed, **dict(compile_options or {}))
    elif not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"{where}: rnn must be a ProgrammedRNN, got {type(rnn).__name__}")
    names = _drive_names(guest.m)
    maps = list(program.maps)
    if list(rnn.input_names) != names or list(rnn.output_names) != list(program.outputs):
        raise ValidationError(f"{where}: rnn was not compiled from guest_program for this guest (its outputs "
                              f"{list(rnn.output_names)}, expected {list(program.outputs)})")
    result = run(rnn, dict(zip(names, drive)), duration=duration, **run_options)
    t = np.asarray(result.t)
    rs = guest.operating_point()
    s = deviation / LEVEL
    # The guest's states from the host's fed-back outputs x (exact in closed loop: d(W r)/dt = f
    # for any r); the open-loop maps r_i lag them by the host's 1/gamma (reported as map_nrmse).
    host = rs + s * np.stack([np.asarray(result[x]) for x in program.states], axis=1)
    host_maps = np.stack([np.asarray(result[r]) for r in maps], axis=1)
    truth = simulate_guest(guest, drive, t)
    poly = simulate_program(program, drive, t)
    poly_r = np.stack([poly[r] for r in maps], axis=1)
    scale = float(np.sqrt(np.mean(np.var(truth, axis=0))))
    if scale <= 0:
        raise ValidationError(f"{where}: the guest does not move under this drive (std 0)")
    nrmse, max_err = _errors(host, truth, scale)
    trunc, trunc_max = _errors(poly_r, truth, scale)
    comp, comp_max = _errors(host, poly_r, scale)
    map_err, map_max = _errors(host_maps, truth, scale)
    u = _u_series(drive, t).T
    z = (truth - rs) @ guest.A.T + u @ guest.B.T
    rows = [{"neuron": i + 1, "guest_std": float(np.std(truth[:, i])),
             "nrmse": float(np.sqrt(np.mean((host[:, i] - truth[:, i]) ** 2)) / scale),
             "max_error": float(np.max(np.abs(host[:, i] - truth[:, i])))} for i in range(guest.n)]
    details = {
        "nrmse": nrmse, "max_error": max_err,
        "truncation_nrmse": trunc, "truncation_max": trunc_max,
        "compile_nrmse": comp, "compile_max": comp_max,
        "map_nrmse": map_err, "map_max": map_max,
        "guest_std": scale,
        "max_x": float(np.max(np.abs(truth - rs)) * LEVEL / deviation),
        "max_z": float(np.max(np.abs(z))),
        "K": math.comb(guest.n + guest.m + 3, 3),  # the degree-3 taylor basis over x1..xn, u1..um
        "N": int(rnn.n_neurons),
        "weight_norm": float(np.linalg.norm(rnn.W)),
        "tol": tol,
    }
    return Score("virtualization", bool(np.isfinite(nrmse) and nrmse <= tol), nrmse, rows, details, result)

