"""Metrics: how well a run does what its program means.

Tolerances follow the dynamics: truth tables after settling for logic, held
state after set/reset pulses for latches, period and amplitude for oscillators.
Each metric runs the network (on any backend) and returns a :class:`Score`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .backend import run
from .errors import ValidationError
from .inputs import protocol
from .result import Result
from .rnn import ProgrammedRNN

__all__ = ["Score", "truth_table", "latch", "oscillation", "LEVEL"]

#: Logic level: True is +LEVEL, False is -LEVEL (REFERENCE.md §4.2).
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


def _settled(result: Result, name: str, t0: float, t1: float, window: float) -> float:
    return result.mean(name, max(t0, t1 - window * (t1 - t0)), t1)


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
                 {"tol": tol, "wrong_signs": wrong, "cases": len(patterns) * len(outputs)}, result)


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
    return Score("latch", bool(worst <= tol), float(worst), rows, {"tol": tol, "wrong_signs": wrong}, result)


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
               "min": float(y[thirds[2]].min()), "max": float(y[thirds[2]].max())}
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
