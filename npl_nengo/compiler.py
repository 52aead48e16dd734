"""The NPL compiler: Program / Circuit -> ProgrammedRNN.

Two methods share one wiring step:

``taylor`` (the paper's dNPL, docs/method.md §2-3)
    Per part: random ``B`` (U(-input_scale, input_scale)), ``r*`` U(-0.5, 0.5),
    ``d = atanh(r*)``; the code ``R`` = Taylor coefficients of ``tanh(B x + d)``
    in the graded monomial basis; the source ``O = E + F / gamma`` (identity on
    the fed-back state, the program's coefficients over gamma; ``O = G`` for
    open-loop maps); ``W`` = minimum-norm least squares of ``W R = O``.
    Exact at rate level, but ``||W||`` reaches 1e5-1e7, which amplifies any
    spike noise by as much.

``sampled`` (noise-aware)
    Per part: larger input gains (each column of ``B`` scaled by ``input_scale``
    over the variable's range), the same target ``x + f(x)/gamma`` (``g(x)`` for
    maps) fitted over quasi-random samples of the declared ranges, with ridge
    regression whose penalty is the per-neuron spike noise the network must
    survive (``sigma = rate / (max_rate sqrt(12))`` for regular spikes filtered
    by the program's relaxation ``rate``, ``sqrt(|a| rate / (2 max_rate))`` for
    Poisson, or ``noise=`` given directly).  Ridge regression with penalty
    ``n sigma**2`` is exactly least squares on activities that carry independent
    noise of standard deviation ``sigma``.  Ridge shrinks the decoded identity,
    and in the closed loop a shrinkage ``eps`` is a leak ``-gamma eps x``; so the
    fit is *pinned*: exact (value and slope) at the program's fixed points
    (:mod:`npl_nengo.anchors`), which keeps logic levels and growth rates where
    the program puts them whatever the penalty.

A circuit compiles each part on its own neurons and turns every wire into a
factored coupling: the source's decoder row becomes a row of ``W_rec`` and the
receiving part's input column is added to that signal's column of ``B_rec``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from . import validation
from ._version import __version__
from .basis import MonomialBasis, basis_size
from .decompile import drive_code
from .errors import CompileError, ValidationError
from .program import Circuit, Flat, Program, digest, flatten
from .rnn import ProgrammedRNN, lif_rate

__all__ = ["compile", "METHODS"]

METHODS = ("taylor", "sampled")
#: Largest matrix a compile may build (elements; 2.5e8 float64 = 2 GB): the taylor drive code is
#: N x K, the sampled fit S x N (S samples).  Larger requests are refused before anything is allocated.
MAX_MATRIX = 250_000_000
_DEFAULT_INPUT_SCALE = {"taylor": 0.025, "sampled": 2.0}


@dataclass
class _PartFit:
    B: np.ndarray  # (N, n_vars) over program.variables
    d: np.ndarray
    r_star: np.ndarray
    W: np.ndarray  # (n_outputs, N) over program.outputs
    residual: np.ndarray
    info: dict


def compile(  # noqa: A001  (the public name the API promises)
    program: Program | Circuit,
    n_neurons: int | Mapping[str, int] | None = None,
    method: str = "taylor",
    seed: int = 0,
    gamma: float = 100.0,
    degree: int | None = None,
    input_scale: float | None = None,
    max_rate: float = 1000.0,
    noise: float | None = None,
    n_samples: int | None = None,
    max_residual: float | None = None,
    activation: str = "tanh",
    spikes: str = "regular",
    pin: bool = True,
    reservoir: tuple | Mapping[str, tuple] | None = None,
    lif: Mapping[str, float] | None = None,
) -> ProgrammedRNN:
    """Compile a program or circuit into a :class:`ProgrammedRNN`.

    Parameters
    ----------
    program
        A :class:`Program` or :class:`Circuit`.
    n_neurons
        Neurons per part (an int, or ``{part path: int}``).  Default: taylor
        ``max(30, 2 K)`` with ``K`` the basis size; sampled ``100`` per variable.
    method
        ``"taylor"`` (paper-faithful, minimum norm) or ``"sampled"`` (noise-aware).
    seed
        Seed of every random draw (one ``SeedSequence``, spawned per part).
    gamma
        Rate constant of the units in 1/s (time constant ``1/gamma``).
    degree
        taylor: basis degree (default ``max(3, program degree)``).
    input_scale
        taylor: half-width of the uniform ``B`` entries (default 0.025, as the
        paper's gates).  sampled: the largest ``|B x|`` a variable at the edge of
        its range produces (default 2.0).
    max_rate
        sampled: the spike rate (Hz) the weights must be robust at.
    noise
        sampled: per-neuron noise standard deviation (overrides ``max_rate``).
    n_samples
        sampled: samples of the declared ranges (default ``max(2048, 4 N)``,
        rounded up to a power of two for the Sobol sequence).
    max_residual
        Raise :class:`CompileError` if any output's residual exceeds this.
    activation
        The units: ``"tanh"`` (the paper's), or ``"lif"`` (sampled only): LIF
        rate units, ``LIF_RATE_PARAMS``, with NEF-style encoders, intercepts
        and maximum rates, that run as ``nengo.LIF`` spiking neurons.
    lif
        ``activation="lif"``: the units' ``tau_rc`` and ``tau_ref`` (s), replacing
        those of ``LIF_RATE_PARAMS`` (0.02, 0.002); e.g. ``lif={"tau_ref": 0}``
        for a network NIR can carry (:func:`npl_nengo.to_nir`).
    spikes
        sampled: the spike noise the weights are made robust to, ``"regular"``
        (default) or ``"poisson"`` (larger, and integrated by the loop; see
        ``docs/spiking-fidelity.md``).  Ignored when ``noise`` is given.
    pin
        sampled: make the fit exact at the program's fixed points (value and
        slope, for inputs at the ends of their ranges; :mod:`npl_nengo.anchors`),
        so ridge regression cannot move them or change their growth rates.
    reservoir
        Program a given reservoir instead of drawing one: ``(B, r_star)`` with
        ``B`` of shape ``(N, n_variables)`` over ``program.variables`` (states,
        then inputs) and ``r_star`` (the operating point, ``|r*| < 1``) of shape
        ``(N,)``; for a circuit, ``{part path: (B, r_star)}`` (parts not named
        draw their own).  ``B`` is used as given (``input_scale`` does not
        apply), ``d = atanh(r*)``, and ``N`` is ``B``'s row count.  tanh units only.
    """
    if method not in METHODS:
        raise ValidationError(f"compile: method {method!r} is not one of {METHODS}")
    if activation not in ("tanh", "lif"):
        raise ValidationError(f"compile: activation {activation!r} is not 'tanh' or 'lif'")
    if activation == "lif" and method != "sampled":
        raise ValidationError("compile: activation='lif' needs method='sampled' (the taylor basis is tanh's)")
    gamma = validation.number(gamma, "gamma", "compile", positive=True)
    if input_scale is not None:
        input_scale = validation.number(input_scale, "input_scale", "compile", positive=True)
    if spikes not in ("regular", "poisson"):
        raise ValidationError(f"compile: spikes {spikes!r} is not 'regular' or 'poisson'")
    max_rate = validation.number(max_rate, "max_rate", "compile", positive=True, unit="Hz")
    if noise is not None:
        noise = validation.number(noise, "noise", "compile", minimum=0.0)
    seed = validation.seed(seed, "compile")
    lif_params = _lif_params(lif, activation)
    flat = flatten(program)
    given = _given_reservoirs(reservoir, flat, activation, input_scale)
    start = time.perf_counter()
    seeds = np.random.SeedSequence(int(seed)).spawn(len(flat.parts))
    fits = []
    for part, ss in zip(flat.parts, seeds):
        res = given.get(part.path)
        if res is not None:
            N = _check_neurons_match(n_neurons, part.path, res[0].shape[0])
        else:
            N = _neurons_for(n_neurons, part.path, part.program, method, degree)
        _check_cost(part.program, part.path, N, method, degree, n_samples)
        scale = input_scale if input_scale is not None else _DEFAULT_INPUT_SCALE[method]
        if method == "taylor":
            fit = _fit_taylor(part.program, N, ss, gamma, degree, scale, res)
        else:
            fit = _fit_sampled(part.program, N, ss, gamma, scale, noise, max_rate, n_samples, activation, spikes,
                               bool(pin), res, lif_params)
        fit.info["reservoir"] = "given" if res is not None else "drawn"
        fits.append(fit)
    rnn = _assemble(flat, fits, method, int(seed), float(gamma), time.perf_counter() - start,
                    lif_params if activation == "lif" else None)
    if max_residual is not None:
        worst = int(np.argmax(rnn.residual))
        if rnn.residual[worst] > max_residual:
            raise CompileError(
                f"{type(program).__name__.lower()} {flat.name!r} output {rnn.output_names[worst]!r}: residual "
                f"{rnn.residual[worst]:.3g} > {max_residual:g} with N={rnn.n_neurons}; try more neurons"
            )
    return rnn


def _neurons_for(n_neurons, path: str, program: Program, method: str, degree: int | None) -> int:
    if isinstance(n_neurons, Mapping):
        n = n_neurons.get(path)
    else:
        n = n_neurons
    if n is None:
        if method == "taylor":
            K = basis_size(len(program.variables), _taylor_degree(program, degree), f"Program {program.name!r}")
            return max(30, 2 * K)
        return 100 * max(1, len(program.variables))
    n = validation.integer(n, f"n_neurons for part {path!r}", "compile", minimum=1)
    if n > 10_000_000:
        raise ValidationError(f"compile: n_neurons={n} for part {path!r} is too large")
    return int(n)


def _given_reservoirs(reservoir, flat: Flat, activation: str, input_scale) -> dict[str, tuple]:
    """Validate ``compile(reservoir=...)``: ``{part path: (B, r_star)}`` as float arrays."""
    if reservoir is None:
        return {}
    if activation != "tanh":
        raise ValidationError("compile: reservoir= programs a tanh reservoir; it does not apply to activation='lif'")
    if input_scale is not None:
        raise ValidationError("compile: reservoir= gives B as it is; input_scale= cannot rescale it (drop one)")
    paths = [part.path for part in flat.parts]
    if isinstance(reservoir, Mapping):
        unknown = sorted(set(reservoir) - set(paths))
        if unknown:
            raise ValidationError(f"compile: reservoir names parts {unknown} that {flat.name!r} does not have "
                                  f"(its parts: {paths})")
        items = dict(reservoir)
    elif len(paths) == 1:
        items = {paths[0]: reservoir}
    else:
        raise ValidationError(f"compile: {flat.name!r} has {len(paths)} parts; give reservoir= as "
                              f"{{part path: (B, r_star)}} for the parts {paths}")
    out = {}
    for part in flat.parts:
        if part.path not in items:
            continue
        where = f"compile: reservoir for part {part.path!r}"
        pair = items[part.path]
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValidationError(f"{where} must be a pair (B, r_star), got {type(pair).__name__}")
        try:
            B, r_star = (np.array(a, dtype=float) for a in pair)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{where}: B and r_star must be numeric arrays ({exc})") from None
        k = len(part.program.variables)
        if B.ndim != 2 or B.shape[1] != k or B.shape[0] < 1:
            raise ValidationError(f"{where}: B has shape {B.shape}, expected (N, {k}) over the variables "
                                  f"{list(part.program.variables)}")
        if r_star.shape != (B.shape[0],):
            raise ValidationError(f"{where}: r_star has shape {r_star.shape}, expected ({B.shape[0]},) (one per row of B)")
        if not (np.all(np.isfinite(B)) and np.all(np.isfinite(r_star))):
            raise ValidationError(f"{where}: B and r_star must be finite")
        if np.any(np.abs(r_star) >= 1):
            i = int(np.argmax(np.abs(r_star)))
            raise ValidationError(f"{where}: every |r_star| must be < 1 (tanh's range); r_star[{i}] = {r_star[i]:g}")
        out[part.path] = (B, r_star)
    return out


def _check_neurons_match(n_neurons, path: str, N: int) -> int:
    n = n_neurons.get(path) if isinstance(n_neurons, Mapping) else n_neurons
    if n is not None and n != N:
        raise ValidationError(f"compile: n_neurons={n!r} for part {path!r} but its given reservoir has {N} units")
    return N


def _samples(N: int, n_samples: int | None) -> int:
    """Samples of the sampled fit: ``max(2048, 4 N)`` or ``n_samples``, rounded up to a power of two."""
    if n_samples is not None:
        n_samples = validation.integer(n_samples, "n_samples", "compile")
    S = int(n_samples) if n_samples is not None else max(2048, 4 * N)
    if S < 16:
        raise ValidationError(f"compile: n_samples must be at least 16, got {S}")
    return 1 << (S - 1).bit_length()  # Sobol points are balanced in powers of two


def _check_cost(program: Program, path: str, N: int, method: str, degree: int | None, n_samples: int | None) -> None:
    """Refuse a compile whose largest matrix exceeds :data:`MAX_MATRIX` elements, before allocating it."""
    if method == "taylor":
        rows, what = basis_size(len(program.variables), _taylor_degree(program, degree), f"Program {program.name!r}"), "monomials"
    else:
        rows, what = _samples(N, n_samples), "samples"
    if N * rows > MAX_MATRIX:
        raise ValidationError(
            f"compile: part {path!r} is too large: N={N} neurons x {rows} {what} = {N * rows:.3g} matrix entries "
            f"(limit {MAX_MATRIX:.3g}, {8 * MAX_MATRIX / 1e9:.0f} GB); use fewer neurons"
            + (", a lower degree or smaller parts" if method == "taylor" else " or fewer samples (n_samples=)"))


def _taylor_degree(program: Program, degree: int | None) -> int:
    if program.polynomials is None:
        output, term = program.non_polynomial_term() or ("?", "?")
        raise ValidationError(
            f"Program {program.name!r}: {output!r} is not a polynomial in {list(program.variables)} "
            f"(term {term}); the taylor method needs polynomials: expand it, or use method='sampled'"
        )
    need = program.degree
    if degree is None:
        return max(3, need)
    degree = validation.integer(degree, "degree", "compile", minimum=1, maximum=12)
    if degree < need:
        raise ValidationError(f"Program {program.name!r}: degree={degree} is below the program's degree {need}")
    return int(degree)


def _draw(program: Program, N: int, ss: np.random.SeedSequence):
    rng_B, rng_r, rng_x = (np.random.default_rng(s) for s in ss.spawn(3))
    k = len(program.variables)
    B = rng_B.uniform(-1.0, 1.0, size=(N, k))
    r_star = rng_r.uniform(-0.5, 0.5, size=N)
    return B, r_star, rng_x


def _fit_taylor(program: Program, N: int, ss, gamma: float, degree: int | None, scale: float,
                given: tuple | None = None) -> _PartFit:
    D = _taylor_degree(program, degree)
    basis = MonomialBasis(len(program.variables), D)
    if given is None:
        B, r_star, _ = _draw(program, N, ss)
        B *= scale
    else:
        B, r_star = given
    d = np.arctanh(r_star)
    R = drive_code(B, d, basis)  # (N, K)
    O = np.zeros((len(program.outputs), len(basis)))  # noqa: E741  (the paper's name for the source)
    for i, out in enumerate(program.outputs):
        coeffs = program.coefficients(out, basis)
        if out in program.derivatives:
            O[i] = coeffs / gamma
            O[i, basis.linear(program.variables.index(out))] += 1.0  # the identity E
        else:
            O[i] = coeffs  # open-loop map: O = G (not G/gamma; the port's bug 3)
    # Minimum-norm least squares (the authors' lsqminnorm).  The columns of R span
    # many orders of magnitude (B^p ~ 1e-5 for cubes), so no singular value may be cut.
    Wt, *_ = np.linalg.lstsq(R.T, O.T, rcond=1e-15)
    W = Wt.T
    residual = np.linalg.norm(W @ R - O, axis=1)
    return _PartFit(B, d, r_star, W, residual, {"basis_size": len(basis), "degree": D})


#: LIF units of ``activation="lif"``: nengo's LIF defaults; ``amplitude`` scales a
#: rate in Hz to the network's units (a unit at 400 Hz has activity 1).
LIF_RATE_PARAMS: dict[str, Any] = {"kind": "lif", "tau_rc": 0.02, "tau_ref": 0.002, "amplitude": 1.0 / 400.0}


def _lif_params(lif: Mapping[str, float] | None, activation: str) -> dict[str, Any]:
    """``LIF_RATE_PARAMS`` with the ``lif`` option's ``tau_rc`` / ``tau_ref`` (checked)."""
    params = dict(LIF_RATE_PARAMS)
    if lif is None:
        return params
    if activation != "lif":
        raise ValidationError("compile: lif= sets LIF units' parameters; it needs activation='lif'")
    if not isinstance(lif, Mapping):
        raise ValidationError(f"compile: lif must be a dict such as {{'tau_ref': 0.0}}, got {type(lif).__name__}")
    for key, value in lif.items():
        if key not in ("tau_rc", "tau_ref"):
            raise ValidationError(f"compile: lif[{key!r}]: only 'tau_rc' and 'tau_ref' can be set")
        if key == "tau_rc":
            params[key] = validation.number(value, "lif['tau_rc']", "compile", positive=True, unit="s")
        else:
            params[key] = validation.number(value, "lif['tau_ref']", "compile", minimum=0.0, unit="s")
    return params


def _lif_encoding(program: Program, N: int, ss, half: np.ndarray, params: Mapping[str, Any] = LIF_RATE_PARAMS):
    """NEF-style LIF units over the normalized box: random unit encoders,
    intercepts U(-0.9, 0.9), maximum rates U(200, 400) Hz; gains and biases
    from nengo's LIFRate.gain_bias (so a unit reaches its maximum rate where
    its encoder points at radius 1)."""
    import nengo

    rng_e, rng_i, rng_x = (np.random.default_rng(s) for s in ss.spawn(3))
    k = len(program.variables)
    enc = nengo.dists.UniformHypersphere(surface=True).sample(N, k, rng=np.random.RandomState(rng_e.integers(2**31)))
    intercepts = rng_i.uniform(-0.9, 0.9, size=N)
    max_rates = rng_i.uniform(200.0, 400.0, size=N)
    lif = nengo.LIFRate(tau_rc=params["tau_rc"], tau_ref=params["tau_ref"])
    gain, bias = lif.gain_bias(max_rates, intercepts)
    return gain[:, None] * enc / half, bias, rng_x


def _fit_sampled(program: Program, N: int, ss, gamma, scale, noise, max_rate, n_samples,
                 activation: str = "tanh", spikes: str = "regular", pin: bool = True,
                 given: tuple | None = None, lif_params: Mapping[str, Any] = LIF_RATE_PARAMS) -> _PartFit:
    from scipy.stats import qmc

    ranges = np.array(list(program.variable_ranges().values())).reshape(-1, 2)
    half = np.maximum(np.abs(ranges[:, 0]), np.abs(ranges[:, 1]))
    if activation == "lif":
        B, d, rng_x = _lif_encoding(program, N, ss, half, lif_params)
        r_star = _lif(d, lif_params)
        max_rate = 1.0 / lif_params["amplitude"]
    else:
        if given is None:
            B, r_star, rng_x = _draw(program, N, ss)
            B *= scale / half
        else:  # the samples' stream is the drawn reservoir's third, drawn or not
            (B, r_star), rng_x = given, np.random.default_rng(ss.spawn(3)[2])
        d = np.arctanh(r_star)
    S = _samples(N, n_samples)
    k = len(program.variables)
    # Scrambled Sobol points cover the box evenly (nengo.dists has no box sampler).
    sobol = qmc.Sobol(d=max(k, 1), scramble=True, seed=rng_x)
    X = qmc.scale(sobol.random_base2(S.bit_length() - 1)[:, :k], ranges[:, 0], ranges[:, 1]) if k else np.zeros((S, 0))
    values = {v: X[:, j] for j, v in enumerate(program.variables)}
    Y = _target(program, values, gamma)
    if not np.all(np.isfinite(Y)):
        out = program.outputs[int(np.argmin(np.all(np.isfinite(Y), axis=0)))]
        raise ValidationError(f"Program {program.name!r}: {out!r} is not finite over the declared ranges")
    rate = _relaxation_rate(program, values, gamma)
    act = (lambda Z: _lif(Z @ B.T + d, lif_params)) if activation == "lif" else (lambda Z: np.tanh(Z @ B.T + d))
    A = act(X)
    if noise is not None:
        sigma = noise
    elif spikes == "poisson":
        # Poisson counts: white noise of intensity |a| / max_rate per unit; the loop integrates it
        # over 1/rate, so the variance that reaches the state is |a| rate / (2 max_rate).
        sigma = math.sqrt(float(np.mean(np.abs(A))) * rate / (2 * max_rate))
    else:
        sigma = rate / (max_rate * math.sqrt(12))
    C, D = _anchor_rows(program, act, gamma, ranges) if pin else (None, None)
    # Ridge penalty S sigma^2 (nengo's LstsqL2 with reg = sigma / max A), with the anchors as constraints.
    Wt = _pinned_ridge(A, Y, S * sigma**2, C, D)
    W = np.asarray(Wt).T
    err = A @ Wt - Y
    residual = np.sqrt(np.mean(err**2, axis=0))
    info = {"noise_std": sigma, "n_samples": S, "relaxation_rate": rate, "spikes": spikes,
            "anchors": 0 if C is None else int(len(C) // (1 + len(program.variables)))}
    if C is not None:
        info["anchor_error"] = float(np.max(np.abs(C @ Wt - D)))
    return _PartFit(B, d, r_star, W, residual, info)


def _target(program: Program, values: dict, gamma: float) -> np.ndarray:
    """The fit's target at ``values``: ``x + f/gamma`` for state outputs, the map for maps."""
    cols = []
    for out in program.outputs:
        f = program.evaluate(out, values)
        cols.append(values[out] + f / gamma if out in program.derivatives else f)
    return np.stack(cols, axis=-1)


def _anchor_rows(program: Program, act, gamma: float, ranges: np.ndarray):
    """Equality rows ``C W = D``: the target's value and slopes at the program's fixed points.

    Pinning the value keeps every fixed point where the program puts it (a fit error
    ``e`` there moves it by ``gamma e / |f'|``); pinning the slopes along the state
    variables keeps its growth rates (the Jacobian's eigenvalues; an error in a slope
    is multiplied by ``gamma`` too), and along the inputs its gain (leaving those free
    cut a NAND's Poisson noise by a third but changed the ring oscillator's period
    2.3-fold).  Slopes are central differences over ``1e-4`` of each variable's
    range, for units and program alike.
    """
    from .anchors import fixed_points

    P = fixed_points(program)
    if len(P) == 0:
        return None, None

    def target(Z):
        return _target(program, {v: Z[:, j] for j, v in enumerate(program.variables)}, gamma)

    rows, targets = [act(P)], [target(P)]
    h = 1e-4 * (ranges[:, 1] - ranges[:, 0])
    for j in range(len(program.variables)):
        step = np.zeros(len(program.variables))
        step[j] = h[j]
        rows.append((act(P + step) - act(P - step)) / (2 * h[j]))
        targets.append((target(P + step) - target(P - step)) / (2 * h[j]))
    return np.vstack(rows), np.vstack(targets)


def _pinned_ridge(A: np.ndarray, Y: np.ndarray, lam: float, C, D) -> np.ndarray:
    """``argmin |A W - Y|^2 + lam |W|^2`` subject to ``C W = D`` (``C`` None: plain ridge).

    nengo.solvers has no equality-constrained solver; this is its LstsqL2 plus
    the Lagrange multipliers of the constraints (dependent rows are handled by
    a least-squares solve for the multipliers).  With fewer samples than units
    (``n_samples < N``) it solves the samples' S x S system instead of the units'
    N x N one (the push-through identity ``(A^T A + lam I)^-1 A^T = A^T (A A^T + lam I)^-1``):
    O(S^2 N) instead of O(N^3), which makes N = 20 000 per part compile in minutes."""
    import scipy.linalg

    S, N = A.shape
    if S < N:  # fewer samples than units (n_samples < N): the same solution through the S x S system
        K = A @ A.T
        lam = max(lam, 1e-12 * np.trace(K) / N)
        H = scipy.linalg.cho_factor(K + lam * np.eye(S))

        def solve(B: np.ndarray) -> np.ndarray:  # (A^T A + lam I)^-1 B = (B - A^T (A A^T + lam I)^-1 A B) / lam
            return (B - A.T @ scipy.linalg.cho_solve(H, A @ B)) / lam

        W0 = A.T @ scipy.linalg.cho_solve(H, Y)
        GC = solve(C.T) if C is not None else None
    else:
        AA = A.T @ A
        G = scipy.linalg.cho_factor(AA + max(lam, 1e-12 * np.trace(AA) / N) * np.eye(N))
        W0 = scipy.linalg.cho_solve(G, A.T @ Y)
        GC = scipy.linalg.cho_solve(G, C.T) if C is not None else None
    if C is None:
        return W0
    mu, *_ = np.linalg.lstsq(C @ GC, C @ W0 - D, rcond=1e-12)
    return W0 - GC @ mu


def _lif(J: np.ndarray, params: Mapping[str, Any] = LIF_RATE_PARAMS) -> np.ndarray:
    return lif_rate(J, params)


def _relaxation_rate(program: Program, values: dict[str, np.ndarray], gamma: float) -> float:
    """The rate (1/s) at which the program's state variables relax: median ``|df_v/dv|``.

    The loop averages spike noise over this time scale; open-loop maps only
    over the synapse (``gamma``).  Clipped to ``[1, gamma]``.
    """
    rates = []
    for v in program.states:
        lo, hi = program.ranges[v]
        h = 1e-4 * (hi - lo)
        up = program.evaluate(v, {**values, v: values[v] + h})
        down = program.evaluate(v, {**values, v: values[v] - h})
        rates.append(np.median(np.abs(up - down) / (2 * h)))
    if program.maps or not rates:
        rates.append(gamma)
    rate = float(np.max(rates))
    return float(np.clip(rate if np.isfinite(rate) else gamma, 1.0, gamma))


def _assemble(flat: Flat, fits: list[_PartFit], method: str, seed: int, gamma: float, seconds: float,
              activation: dict | None = None) -> ProgrammedRNN:
    sizes = [f.d.shape[0] for f in fits]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    N = int(offsets[-1])
    blk = lambda p: slice(offsets[p], offsets[p + 1])  # noqa: E731

    # Signals: every state variable (own feedback), plus any other wired source.
    signals: list[tuple[int, str]] = [(p, v) for p, part in enumerate(flat.parts) for v in part.program.states]
    for src in flat.wires.values():
        if src not in signals:
            signals.append(src)
    k = len(signals)
    W_rec = np.zeros((k, N))
    B_rec = np.zeros((N, k))

    def col(p: int, var: str) -> np.ndarray:
        return fits[p].B[:, flat.parts[p].program.variables.index(var)]

    def row(p: int, var: str) -> np.ndarray:
        return fits[p].W[flat.parts[p].program.outputs.index(var)]

    for j, (p, v) in enumerate(signals):
        W_rec[j, blk(p)] = row(p, v)
        if v in flat.parts[p].program.states:
            B_rec[blk(p), j] += col(p, v)
    for (q, inp), src in flat.wires.items():
        B_rec[blk(q), signals.index(src)] += col(q, inp)
    inputs = list(flat.inputs)
    B_ext = np.zeros((N, len(inputs)))
    for j, e in enumerate(inputs):
        for q, inp in flat.inputs[e]:
            B_ext[blk(q), j] += col(q, inp)
    outputs = list(flat.outputs)
    W = np.zeros((len(outputs), N))
    residual = np.zeros(len(outputs))
    for i, o in enumerate(outputs):
        p, v = flat.outputs[o]
        W[i, blk(p)] = row(p, v)
        residual[i] = fits[p].residual[flat.parts[p].program.outputs.index(v)]

    def name(p: int, v: str) -> str:
        return v if len(flat.parts) == 1 else f"{flat.parts[p].path}.{v}"

    signal_initial = np.array([flat.parts[p].program.initial.get(v, np.nan) for p, v in signals])
    out_ranges = np.array([r if r is not None else (np.nan, np.nan) for r in flat.output_ranges.values()], float)
    info = {
        "library_version": __version__,
        "compile_seconds": seconds,
        "program": digest(flat),
        "parts": {
            part.path: {"n_neurons": s, "residual_max": float(f.residual.max()), **f.info}
            for part, s, f in zip(flat.parts, sizes, fits)
        },
    }
    if activation is not None:
        info["activation"] = dict(activation)
    return ProgrammedRNN(
        name=flat.name,
        B_rec=B_rec,
        W_rec=W_rec,
        B_ext=B_ext,
        d=np.concatenate([f.d for f in fits]),
        r_star=np.concatenate([f.r_star for f in fits]),
        W=W,
        gamma=gamma,
        signal_names=tuple(name(p, v) for p, v in signals),
        input_names=tuple(inputs),
        output_names=tuple(outputs),
        input_ranges=np.array([flat.input_ranges[e] for e in inputs], float).reshape(-1, 2),
        output_ranges=out_ranges.reshape(-1, 2),
        signal_initial=signal_initial,
        block_names=tuple(p.path for p in flat.parts),
        block_sizes=np.array(sizes),
        method=method,
        seed=seed,
        residual=residual,
        noise_gain=np.linalg.norm(W, axis=1),
        info=info,
    )
