"""Metrics: how well a run does what its program means.

Tolerances follow the dynamics: truth tables after settling for logic, held
state after set/reset pulses for latches, period and amplitude for oscillators.
Each metric runs the network (on any backend) and returns a :class:`Score`.
"""

from __future__ import annotations

import collections
import functools
import itertools
from dataclasses import dataclass, field
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import chaos, ode
from .simulation import run
from .errors import SimulationError, ValidationError
from .inputs import protocol
from .program import Program
from .result import Result
from .rnn import ProgrammedRNN

__all__ = ["Score", "truth_table", "latch", "oscillation", "attractor", "dram", "LEVEL", "fails_on_divergence",
           "map_accuracy", "settling", "integration", "random_points"]

#: Logic level: True is +LEVEL, False is -LEVEL (docs/method.md §4.2).
LEVEL = 0.1


@dataclass
class Score:
    """The outcome of a metric.

    Attributes
    ----------
    metric : str
        Which metric (``"truth_table"``, ``"latch"``, ``"oscillation"``).
    passed : bool
        Whether the run meets the metric's tolerance.
    error : float
        The metric's main error (e.g. the largest deviation from a logic level).
    rows : list of dict
        Per-case details (one per truth-table row, latch phase, ...).
    details : dict
        Further numbers (period, amplitude, tolerance, ...).
    result : Result
        The run the score was computed from.
    """

    metric: str
    passed: bool
    error: float
    rows: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    result: Result | None = field(default=None, repr=False)

    def summary(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        extra = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.details.items())
        return f"{self.metric}: {verdict} (error {self.error:.3g}{', ' + extra if extra else ''})"


def fails_on_divergence(name: str) -> Callable[[Callable[..., Score]], Callable[..., Score]]:
    """Decorate a metric so that a diverged run scores as a failure instead of raising.

    A divergence (:class:`SimulationError`: an output that is not finite or far
    outside its range) is the program failing, not a usage error: the Score has
    ``passed=False``, ``error=inf``, ``details["diverged"]`` (the message, with
    output and time) and no result.
    """

    def decorate(metric: Callable[..., Score]) -> Callable[..., Score]:
        @functools.wraps(metric)
        def scored(*args: Any, **kwargs: Any) -> Score:
            try:
                return metric(*args, **kwargs)
            except SimulationError as exc:
                return Score(name, False, float("inf"), [], {"diverged": str(exc)}, None)

        return scored

    return decorate


def _settled(result: Result, name: str, t0: float, t1: float, window: float) -> float:
    return result.mean(name, max(t0, t1 - window * (t1 - t0)), t1)


@fails_on_divergence("truth_table")
def truth_table(
    rnn: ProgrammedRNN,
    function: Callable[..., Sequence[bool]],
    outputs: Sequence[str],
    hold: float = 1.0,
    tol: float = 0.005,
    window: float = 0.1,
    **run_options: Any,
) -> Score:
    """Run every input pattern (±LEVEL) in sequence and compare settled outputs.

    Parameters
    ----------
    function
        Boolean function of the inputs (in ``rnn.input_names`` order) returning
        the expected value of each name in ``outputs``.
    hold
        Seconds each pattern is held.
    tol
        Largest allowed ``|output - expected level|`` after settling.
    window
        Fraction of each hold (its end) the settled value is averaged over.
    **run_options
        Passed to :func:`npl_nengo.run` (backend, neurons, dt, seed, ...).
    """
    names = rnn.input_names
    patterns = list(itertools.product([False, True], repeat=len(names)))
    proto = protocol([(hold, {n: LEVEL if b else -LEVEL for n, b in zip(names, p)}) for p in patterns])
    result = run(rnn, proto.inputs(), duration=proto.duration, **run_options)
    rows, worst, wrong = [], 0.0, 0
    for p, (t0, t1) in zip(patterns, proto.bounds):
        expected = function(*p)
        row: dict = {n: b for n, b in zip(names, p)}
        for out, want in zip(outputs, expected):
            value = _settled(result, out, t0, t1, window)
            err = abs(value - (LEVEL if want else -LEVEL))
            worst = max(worst, err)
            wrong += (value > 0) != bool(want)
            row[out] = value
            row[f"{out}_expected"] = bool(want)
        rows.append(row)
    return Score("truth_table", bool(worst <= tol), float(worst), rows,
                 {"tol": tol, "wrong_signs": wrong, "cases": len(patterns) * len(outputs),
                  "decided_by": "worst distance from ±0.1"}, result)


@fails_on_divergence("latch")
def latch(
    rnn: ProgrammedRNN,
    set_input: str = "s",
    reset_input: str = "r",
    q: str = "q",
    nq: str = "nq",
    pulse: float = 1.0,
    hold: float = 10.0,
    tol: float = 0.005,
    window: float = 0.05,
    **run_options: Any,
) -> Score:
    """The authors' SR-latch protocol: set, hold, reset, hold, set, hold.

    Pulses last ``pulse`` s, holds (both inputs False) ``hold`` s.  After every
    phase ``(q, nq)`` must sit within ``tol`` of the expected complementary levels.
    """
    lo, hi = -LEVEL, LEVEL
    phases = [("set", {set_input: hi, reset_input: lo}), ("hold", None),
              ("reset", {set_input: lo, reset_input: hi}), ("hold", None),
              ("set", {set_input: hi, reset_input: lo}), ("hold", None)]
    segments, expect, state = [], [], None
    for kind, values in phases:
        if values is None:
            segments.append((hold, {set_input: lo, reset_input: lo}))
        else:
            state = kind == "set"
            segments.append((pulse, values))
        expect.append(state)
    proto = protocol(segments)
    result = run(rnn, proto.inputs(), duration=proto.duration, **run_options)
    rows, worst, wrong = [], 0.0, 0
    for (kind, _), want, (t0, t1) in zip(phases, expect, proto.bounds):
        vq = _settled(result, q, t0, t1, window)
        vn = _settled(result, nq, t0, t1, window)
        eq, en = (hi, lo) if want else (lo, hi)
        worst = max(worst, abs(vq - eq), abs(vn - en))
        wrong += ((vq > 0) != want) + ((vn > 0) == want)
        rows.append({"phase": kind, q: vq, nq: vn, "q_expected": want})
    return Score("latch", bool(worst <= tol), float(worst), rows, {"tol": tol, "wrong_signs": wrong,
                                                               "decided_by": "worst distance from ±0.1"}, result)


@fails_on_divergence("oscillation")
def oscillation(
    rnn: ProgrammedRNN,
    output: str,
    duration: float = 7.0,
    min_amplitude: float = 0.05,
    min_sustain: float = 0.8,
    expected_period: float | None = None,
    period_tol: float = 0.05,
    inputs: dict | None = None,
    **run_options: Any,
) -> Score:
    """Sustained oscillation: period and amplitude of ``output``.

    The period is the mean spacing of upward mean-crossings in the second half
    of the run (with hysteresis, so spike noise near a crossing counts once); the amplitude is half the peak-to-peak swing.  Passes when the
    last third's amplitude is at least ``min_amplitude`` and at least
    ``min_sustain`` times the middle third's (not decaying), and, if
    ``expected_period`` is given, the period is within ``period_tol`` of it.
    """
    result = run(rnn, inputs or {}, duration=duration, **run_options)
    t, y = result.t, result[output]
    if len(t) < 30:
        raise ValidationError("oscillation: run too short to measure a period")
    thirds = np.array_split(np.arange(len(t)), 3)
    amp_mid = float(np.ptp(y[thirds[1]]) / 2)
    amp_end = float(np.ptp(y[thirds[2]]) / 2)
    half = t >= t[len(t) // 2]
    yc = y[half] - np.mean(y[half])
    th = t[half]
    cross = _upward_crossings(th, yc, hysteresis=0.3 * float(np.ptp(yc)) / 2)
    period = float(np.mean(np.diff(cross))) if len(cross) >= 2 else float("nan")
    sustained = amp_end >= min_amplitude and amp_end >= min_sustain * amp_mid and np.isfinite(period)
    error = 0.0
    if expected_period is not None:
        error = abs(period - expected_period) / expected_period if np.isfinite(period) else float("inf")
        sustained = sustained and error <= period_tol
    details = {"period": period, "amplitude": amp_end, "amplitude_middle": amp_mid,
               "min": float(y[thirds[2]].min()), "max": float(y[thirds[2]].max()),
               "decided_by": "period" if expected_period is not None and amp_end >= min_amplitude
               else f"amplitude >= {min_amplitude:g}, not decaying"}
    return Score("oscillation", bool(sustained), float(error), [], details, result)


def _upward_crossings(t: np.ndarray, y: np.ndarray, hysteresis: float) -> np.ndarray:
    """Times where ``y`` crosses zero upwards, counted once per excursion below ``-hysteresis``
    and above ``+hysteresis`` (a Schmitt trigger), interpolated linearly."""
    out, armed = [], False
    for i in range(1, len(y)):
        if y[i] < -hysteresis:
            armed = True
        elif armed and y[i] > hysteresis:
            # last upward zero crossing before i
            j = i
            while j > 0 and not (y[j - 1] < 0 <= y[j]):
                j -= 1
            if j > 0:
                out.append(t[j - 1] - y[j - 1] * (t[j] - t[j - 1]) / (y[j] - y[j - 1]))
            armed = False
    return np.array(out)


# -- chaotic attractors -------------------------------------------------------------------
#: Default tolerances of :func:`attractor` (see :func:`npl_nengo.chaos.compare_statistics` for what each measures).
#: Moving-average window (s) of the Lyapunov estimate, for network and ODE alike (:func:`npl_nengo.chaos.statistics`).
LYAPUNOV_SMOOTH = 0.1
ATTRACTOR_TOL = {"short": 0.1, "mean": 0.3, "std": 0.2, "box": 0.2, "lyapunov": 0.6}
#: Seconds of the ODE's attractor that :func:`attractor` measures the spread of window means on.
SPREAD_DURATION = 300.0


def _key(program: Program) -> str:
    return repr((program.name, sorted((k, str(v)) for k, v in program.derivatives.items()), sorted(program.initial.items())))


#: ODE attractors computed so far, keyed by the program's content (not its identity: an equal
#: program built again hits the cache), least recently used first.
_ODE_CACHE: "collections.OrderedDict[tuple, Any]" = collections.OrderedDict()
_ODE_CACHE_SIZE = 32


def _by_content(compute: Callable) -> Callable:
    """Cache ``compute(key, program, *args)`` on ``(compute, key, *args)``; ``key`` is the program's content."""
    @functools.wraps(compute)
    def cached(key: str, program: Program, *args: Any) -> Any:
        k = (compute.__name__, key, *args)
        if k in _ODE_CACHE:
            _ODE_CACHE.move_to_end(k)
            return _ODE_CACHE[k]
        value = _ODE_CACHE[k] = compute(key, program, *args)
        while len(_ODE_CACHE) > _ODE_CACHE_SIZE:
            _ODE_CACHE.popitem(last=False)
        return value

    return cached


@_by_content
def _truth(key: str, program: Program, duration: float, transient: float, sample: float,
           inputs: tuple) -> tuple[chaos.Statistics, np.ndarray, float]:
    """The program's own attractor: statistics over ``duration`` s after ``transient``, its sampled
    cloud, and the Benettin exponent (cached by content; ``key`` identifies it)."""
    t = np.arange(1, int(round((duration + transient) / sample)) + 1) * sample
    tr = ode.integrate(program, t, inputs=dict(inputs), rtol=1e-9, atol=1e-12)
    keep = t > transient
    X = {v: tr[v][keep] for v in program.states}
    stats = chaos.statistics(X, sample, program.states, smooth=LYAPUNOV_SMOOTH)
    benettin = chaos.lyapunov_benettin(program, duration=min(200.0, 2 * duration), inputs=dict(inputs))
    return stats, np.stack([X[v] for v in program.states], 1), benettin


@_by_content
def _long_cloud(key: str, program: Program, sample: float, inputs: tuple) -> np.ndarray:
    """The ODE's attractor over :data:`SPREAD_DURATION` s after 10 s (cached per program)."""
    t = np.arange(1, int(round((SPREAD_DURATION + 10.0) / sample)) + 1) * sample
    tr = ode.integrate(program, t, inputs=dict(inputs), rtol=1e-9, atol=1e-12)
    return np.stack([tr[v][t > 10.0] for v in program.states], 1)


def attractor_truth(program: Program, duration: float = 100.0, transient: float = 10.0, sample: float = 0.01,
                    inputs: dict | None = None) -> tuple[chaos.Statistics, np.ndarray, float]:
    """``(statistics, cloud, largest Lyapunov exponent)`` of the program's own attractor (ODE, cached)."""
    held = tuple(sorted((inputs or {}).items()))
    return _truth(_key(program) + repr(held), program, float(duration), float(transient), float(sample), held)


def _states(result: Result, program: Program, mask=slice(None)) -> np.ndarray:
    return np.stack([result[v][mask] for v in program.states], axis=1)


def _sample_every(dt: float, sample: float) -> int:
    every = int(round(sample / dt))
    if every < 1 or abs(every * dt - sample) > 1e-9:
        raise ValidationError(f"sample={sample} s must be a multiple of dt={dt} s")
    return every


def _tracks_the_ode(run_options: dict) -> bool:
    """Whether a run can be held to the exact ODE's trajectory over a short horizon.

    Only a rate run integrated with RK4 (the reference backend's default).  Under
    spikes the check starts from one noisy state and measures the noise as much as
    the dynamics; first-order stepping (Euler, and the zero-order hold of nengo,
    nengo_dl and Brian2 at rate level) departs from the exact ODE by itself: Lorenz
    at dt = 1 ms, the same network, 0.5 s: 0.04 of the attractor's size with RK4,
    0.13 with Euler, 0.28 with the zero-order hold.  Those runs are judged by the
    invariant statistics; "short" is still reported.
    """
    return (run_options.get("neurons", "rate") == "rate" and run_options.get("backend", "reference") == "reference"
            and run_options.get("integrator", "rk4") == "rk4")


@fails_on_divergence("attractor")
def attractor(
    rnn: ProgrammedRNN,
    program: Program,
    duration: float = 100.0,
    transient: float = 10.0,
    horizon: float = 0.5,
    sample: float = 0.01,
    tol: dict | None = None,
    inputs: dict | None = None,
    **run_options: Any,
) -> Score:
    """A chaotic attractor: short-horizon tracking and invariant statistics.

    The network runs ``duration`` s from the program's initial values.

    * **short**: over ``horizon`` s from ``transient`` (on the attractor: near
      the initial point, e.g. Lorenz's saddle at the origin, any difference is
      amplified much faster), the largest distance between the network's state
      and the ODE integrated from the network's state at ``transient``, over
      the attractor's RMS size ``sqrt(sum std_i^2)``.
    * **statistics** of the run after ``transient`` s against the ODE's over the
      same length (same estimator for the Lyapunov exponent, so that its
      finite-length bias cancels; :func:`npl_nengo.chaos.compare_statistics`).

    Passes when every difference is within ``tol`` (defaults :data:`ATTRACTOR_TOL`; the mean's
    tolerance is at least three times the spread that finite windows give the exact
    ODE itself, :func:`_mean_difference_spread`); "short" counts
    only for RK4 rate runs (the reference backend's default), see :func:`_tracks_the_ode`.
    ``details`` also hold the true exponent from the equations (Benettin).
    """
    tol = {**ATTRACTOR_TOL, **(tol or {})}
    if not isinstance(program, Program) or set(program.states) - set(rnn.output_names):
        raise ValidationError(f"attractor: the network {rnn.name!r} must output the program's state variables")
    if not (duration > transient >= 0 and horizon > 0 and duration - transient > 20 * sample):
        raise ValidationError(f"attractor: need duration > transient >= 0 and horizon > 0, got {duration}, {transient}, {horizon}")
    dt = float(run_options.get("dt", 1e-3))
    run_options.setdefault("initial", dict(program.initial))
    result = run(rnn, inputs or {}, duration=duration, sample_every=_sample_every(dt, sample), **run_options)
    truth, cloud, benettin = attractor_truth(program, duration - transient, 10.0, sample, inputs)
    t = result.t
    start = int(np.searchsorted(t, transient + 1e-12))  # on the attractor, past the approach from x0
    near = (t > t[start]) & (t <= t[start] + horizon)
    size = float(np.sqrt(np.sum(truth.std**2)))
    short = float("inf")
    x0 = {v: float(result[v][start]) for v in program.states}
    if near.sum() >= 2 and all(np.isfinite(list(x0.values()))):
        ref = ode.integrate(program, t[near], initial=x0, inputs=inputs, t0=t[start])
        short = float(np.max(np.linalg.norm(_states(result, program, near) - np.stack([ref[v] for v in program.states], 1),
                                            axis=1)) / size)
    keep = t > transient
    stats = chaos.statistics(_states(result, program, keep), sample, program.states, smooth=LYAPUNOV_SMOOTH)
    long_cloud = cloud if duration - transient >= SPREAD_DURATION else \
        _long_cloud(_key(program) + repr(inputs), program, float(sample), tuple(sorted((inputs or {}).items())))
    tol["mean"] = max(tol["mean"], 3 * _mean_difference_spread(long_cloud, int(keep.sum()), len(cloud), truth.std))
    diffs = {"short": short, **chaos.compare_statistics(stats, truth)}
    judged = {k: v for k, v in diffs.items() if k != "short" or _tracks_the_ode(run_options)}
    passed = all(np.isfinite(v) and v <= tol[k] for k, v in judged.items())
    rows = [{"variable": v, "mean": stats.mean[i], "mean_true": truth.mean[i], "std": stats.std[i],
             "std_true": truth.std[i], "low": stats.low[i], "low_true": truth.low[i], "high": stats.high[i],
             "high_true": truth.high[i]} for i, v in enumerate(program.states)]
    decisive = max(judged, key=lambda k: judged[k] / tol[k] if np.isfinite(judged[k]) else np.inf)
    details = {**{f"{k}_error": v for k, v in diffs.items()}, "lyapunov": stats.lyapunov,
               "decided_by": f"{decisive} error {diffs[decisive]:.3g} (tol {tol[decisive]:.3g})",
               "lyapunov_true_same_estimator": truth.lyapunov, "lyapunov_true_benettin": benettin, "size": size,
               "mean_tol": tol["mean"]}
    return Score("attractor", bool(passed), float(max(judged.values())), rows, details, result)


def _window_mean_spread(cloud: np.ndarray, n: int, std: np.ndarray) -> float:
    """How much the attractor's own mean varies between windows of ``n`` samples, in units of its std.

    The largest, over variables, standard deviation of the means of windows of ``n``
    samples (stride n/20) along the ODE's trajectory ``cloud``.  A segment's mean
    cannot be judged more tightly than this: Lorenz's x and y means over 20 s vary by
    about 0.2 std as the state switches lobes (a 100 s estimate: a 3x margin).
    """
    if n < 2 or n >= len(cloud):
        return 0.0
    c = np.vstack([np.zeros(cloud.shape[1]), np.cumsum(cloud, axis=0)])
    starts = np.arange(0, len(cloud) - n + 1, max(1, n // 20))
    means = (c[starts + n] - c[starts]) / n
    return float(np.max(means.std(axis=0) / std))


def _mean_difference_spread(cloud: np.ndarray, n: int, m: int, std: np.ndarray) -> float:
    """Spread, in units of std, of (a run's ``n``-sample mean) - (the ODE's ``m``-sample mean).

    Both are finite-window means of a chaotic signal and vary on their own.  The
    spread of window means is measured along ``cloud`` (the ODE's attractor) on
    windows a tenth of it long and scaled as ``1/sqrt(length)`` (windows much longer
    than the correlation time).  Measured on Lorenz: the exact ODE's own 50 s means
    fall more than 0.3 std from a 90 s estimate in 8.6 % of 2000 draws (99th
    percentile 0.44).
    """
    w = len(cloud) // 10
    base = _window_mean_spread(cloud, w, std)
    if base == 0.0 or n < 2 or m < 2:
        return 0.0
    return float(base * np.sqrt(w / n + w / m))


@fails_on_divergence("dram")
def dram(
    rnn: ProgrammedRNN,
    program: Program,
    attractors: Sequence[Program],
    levels: Sequence[float] = (0.1, -0.1),
    segment: float = 30.0,
    settle: float = 10.0,
    order: Sequence[int] = (0, 1, 0),
    threshold: float = 0.1,
    sample: float = 0.01,
    tol: dict | None = None,
    **run_options: Any,
) -> Score:
    """Attractors as addressable memory: switch the address, check each attractor and the switch.

    The address input steps through ``levels[i]`` for ``i`` in ``order``, each
    held ``segment`` s.  For each segment, after ``settle`` s: mean, standard
    deviation and bounding box against the stored attractor's own ODE
    statistics (no Lyapunov exponent: a segment is too short to estimate it).
    The **switching time** is the time after the address change from which the
    state stays within ``threshold`` x the attractor's RMS size of the
    attractor's ODE point cloud (distance median-filtered over 0.2 s).  Passes
    when all statistics are within ``tol`` and every switch completes within
    ``settle``; the mean's tolerance is at least three times the spread of the
    attractor's own means over windows as long as the judged part of a segment
    (:func:`_window_mean_spread`).
    """
    tol = {**ATTRACTOR_TOL, **(tol or {})}
    if len(attractors) != len(levels) or not rnn.input_names:
        raise ValidationError("dram: give one address level per attractor, and a network with an address input")
    if segment <= settle:
        raise ValidationError(f"dram: segment ({segment} s) must be longer than settle ({settle} s)")
    address = rnn.input_names[0]
    dt = float(run_options.get("dt", 1e-3))
    run_options.setdefault("initial", dict(program.initial))
    proto = protocol([(segment, {address: float(levels[i])}) for i in order])
    result = run(rnn, proto.inputs(), duration=proto.duration, sample_every=_sample_every(dt, sample), **run_options)
    import scipy.ndimage

    X = _states(result, program)
    rows, worst, switches, decisive = [], 0.0, [], ""
    for n, (i, (t0, t1)) in enumerate(zip(order, proto.bounds)):
        truth, cloud, _ = attractor_truth(attractors[i], 100.0, 10.0, sample)
        size = float(np.sqrt(np.sum(truth.std**2)))
        seg = (result.t > t0) & (result.t <= t1)
        dist = scipy.ndimage.median_filter(chaos.distance_to(X[seg], cloud), size=max(1, int(round(0.2 / sample))))
        off = np.flatnonzero(dist > threshold * size)
        switch = 0.0 if len(off) == 0 else (float("inf") if off[-1] == len(dist) - 1 else float(result.t[seg][off[-1] + 1] - t0))
        late = seg & (result.t > t0 + settle)
        stats = chaos.statistics(X[late], sample, program.states, lyapunov=False)
        diffs = {k: v for k, v in chaos.compare_statistics(stats, truth).items() if k != "lyapunov"}
        seg_tol = {**tol, "mean": max(tol["mean"], 3 * _window_mean_spread(cloud, int(late.sum()), truth.std))}
        for k, v in diffs.items():
            if not v / seg_tol[k] <= worst:
                worst, decisive = v / seg_tol[k], f"{attractors[i].name} {k} error {v:.3g} (tol {seg_tol[k]:.3g})"
        if n > 0:
            switches.append(switch)
        rows.append({"segment": n, "attractor": attractors[i].name, "address": float(levels[i]),
                     "switch_time": switch if n > 0 else None, **{f"{k}_error": v for k, v in diffs.items()},
                     "on_attractor": float(np.mean(dist[result.t[seg] > t0 + settle] <= threshold * size))})
    passed = worst <= 1.0 and all(s <= settle for s in switches)
    details = {"switch_time_max": max(switches) if switches else 0.0, "worst_over_tol": worst,
               "decided_by": decisive if all(s <= settle for s in switches) else f"switching time > {settle:g} s"}
    return Score("dram", bool(passed), float(worst), rows, details, result)


# -- neural processing units -----------------------------------------------------------------
def random_points(ranges: Mapping[str, tuple[float, float]], n: int, seed: int = 0) -> list[dict[str, float]]:
    """``n`` input vectors drawn uniformly (seeded) from the box ``{input: (low, high)}``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValidationError(f"random_points: n must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    box = np.array([ranges[k] for k in ranges], dtype=float).reshape(-1, 2)
    draws = rng.uniform(box[:, 0], box[:, 1], size=(int(n), len(box)))
    return [{k: float(v) for k, v in zip(ranges, row)} for row in draws]


def _held(rnn: Any, points: Sequence[Mapping[str, float]], hold: float, run_options: dict) -> tuple[Result, Any]:
    if not points:
        raise ValidationError("metric: no input points")
    proto = protocol([(hold, dict(p)) for p in points])
    return run(rnn, proto.inputs(), duration=proto.duration, **run_options), proto


@fails_on_divergence("map_accuracy")
def map_accuracy(
    rnn: Any,
    exact: Callable[[Mapping[str, float]], Mapping[str, float]],
    points: Sequence[Mapping[str, float]],
    hold: float = 1.0,
    window: float = 0.2,
    tol: float = 0.05,
    **run_options: Any,
) -> Score:
    """Open-loop maps against an exact computation: each input point held ``hold`` s.

    ``exact(point)`` gives the expected value of every output it names (e.g.
    computed with numpy).  The settled value is the mean over the last
    ``window`` of each hold.  The error is the worst absolute difference over
    every point and output; passes when it is at most ``tol``.  ``details``
    also gives the RMS error and each output group's worst (``sum``, ``prod``,
    ... : the name without its trailing digits and underscores).
    """
    result, proto = _held(rnn, points, hold, run_options)
    rows, errors, groups = [], [], {}  # type: tuple[list[dict], list[float], dict[str, float]]
    for p, (t0, t1) in zip(points, proto.bounds):
        row: dict = dict(p)
        for out, want in exact(p).items():
            got = _settled(result, out, t0, t1, window)
            err = abs(got - float(want))
            errors.append(err)
            group = out.rstrip("0123456789_")
            groups[group] = max(groups.get(group, 0.0), err)
            row[out], row[f"{out}_exact"] = got, float(want)
        rows.append(row)
    worst = float(max(errors))
    details = {"tol": tol, "rms": float(np.sqrt(np.mean(np.square(errors)))), "points": len(points),
               **{f"worst_{g}": e for g, e in groups.items()}, "decided_by": "worst |output - exact|"}
    return Score("map_accuracy", bool(worst <= tol), worst, rows, details, result)


def _settle_time(t: np.ndarray, err: np.ndarray, band: float, smooth: float) -> float:
    """Time after ``t[0]`` from which the ``smooth``-s moving average of ``err`` stays within ``band``."""
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    k = max(1, int(round(smooth / dt)))
    avg = np.convolve(err, np.ones(k) / k, mode="full")[: len(err)]  # trailing average
    avg[: k - 1] = np.inf  # not yet a full window: not settled
    out = np.nonzero(avg > band)[0]
    if len(out) == 0:
        return 0.0
    if out[-1] == len(err) - 1:
        return math.inf
    return float(t[out[-1] + 1] - t[0] + dt)


@fails_on_divergence("settling")
def settling(
    rnn: Any,
    solve: Callable[[Mapping[str, float]], Mapping[str, float]],
    points: Sequence[Mapping[str, float]],
    hold: float = 2.0,
    window: float = 0.2,
    tol: float = 0.05,
    band: float = 0.05,
    max_settle: float = 1.5,
    smooth: float = 0.1,
    **run_options: Any,
) -> Score:
    """A fed-back network solving a problem: each input point (a problem) held ``hold`` s.

    ``solve(point)`` gives the exact solution of every output it names (e.g.
    ``numpy.linalg.lstsq``).  The network starts each problem where the last
    one left it.  Settled error: the worst over problems and outputs of
    ``|mean over the last window - solution|``; settling time: from a problem's
    start until the ``smooth``-s moving average of the worst output error stays
    within ``band``.  Passes when every settled error is at most ``tol`` and
    every problem settles within ``max_settle`` s.
    """
    result, proto = _held(rnn, points, hold, run_options)
    rows, worst, slowest = [], 0.0, 0.0
    for p, (t0, t1) in zip(points, proto.bounds):
        want = {k: float(v) for k, v in solve(p).items()}
        mask = (result.t > t0 + 1e-12) & (result.t <= t1 + 1e-12)
        err = np.max([np.abs(result[k][mask] - v) for k, v in want.items()], axis=0)
        settled = max(abs(_settled(result, k, t0, t1, window) - v) for k, v in want.items())
        settle = _settle_time(result.t[mask], err, band, smooth)
        worst, slowest = max(worst, settled), max(slowest, settle)
        rows.append({**dict(p), **{f"{k}_exact": v for k, v in want.items()},
                     **{k: _settled(result, k, t0, t1, window) for k in want}, "error": settled, "settle_s": settle})
    passed = worst <= tol and slowest <= max_settle
    details = {"tol": tol, "settle_s": slowest, "max_settle": max_settle, "band": band, "points": len(points),
               "mean_error": float(np.mean([r["error"] for r in rows])),
               "decided_by": "worst settled error and slowest settling"}
    return Score("settling", bool(passed), float(worst), rows, details, result)


def _until(f: Callable[[float], float], end: float) -> Callable[[float], float]:
    """``f(t)`` up to ``end`` s, 0 after."""
    return lambda t: f(t) if t <= end else 0.0


@fails_on_divergence("integration")
def integration(
    rnn: Any,
    velocity: Mapping[str, Callable[[float], float]],
    position: Mapping[str, Callable[[float], float]],
    duration: float = 10.0,
    hold: float = 10.0,
    tol: float = 0.05,
    drift_tol: float = 0.05,
    **run_options: Any,
) -> Score:
    """An integrator following a velocity for ``duration`` s, then holding its position ``hold`` s.

    ``velocity`` maps each input to ``v(t)``, ``position`` each output to its
    exact integral ``x(t)`` (from 0 at t = 0); after ``duration`` every input is 0.
    The error is the worst ``|x - exact|`` along the path; the drift is how far
    the held position moves over the hold.  Passes when both are within their
    tolerances.
    """
    if not velocity or not position:
        raise ValidationError("integration: give velocity inputs and exact positions")
    inputs = {k: _until(f, duration) for k, f in velocity.items()}
    result = run(rnn, inputs, duration=duration + hold, **run_options)
    t = result.t
    path, held = t <= duration + 1e-12, t > duration + 1e-12
    rows, worst, drift = [], 0.0, 0.0
    for out, exact in position.items():
        x = result[out]
        ex = np.array([exact(min(s, duration)) for s in t[path]])
        err = float(np.max(np.abs(x[path] - ex)))
        end = float(x[path][-1])
        moved = float(np.max(np.abs(x[held] - end))) if held.any() else 0.0
        worst, drift = max(worst, err), max(drift, moved)
        rows.append({"output": out, "path_error": err, "end": end, "end_exact": float(exact(duration)),
                     "drift": moved})
    passed = worst <= tol and drift <= drift_tol
    details = {"tol": tol, "drift": drift, "drift_tol": drift_tol, "duration": duration, "hold": hold,
               "drift_per_s": drift / hold if hold else 0.0, "decided_by": "worst path error and drift while held"}
    return Score("integration", bool(passed), worst, rows, details, result)
