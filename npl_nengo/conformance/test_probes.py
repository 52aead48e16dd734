"""Targeted probes: one property of a simulator per test, against numbers no simulator produced.

Rate runs are held to the zero-order-hold system every backend simulates
(:func:`~npl_nengo.conformance.probes.exact_rate`): the units' leak integrated exactly over each
step, the drive held over the step, the input of step k read at ``(k - 1) dt``.  Measured on this
project's simulators: nengo and Brian2 agree with it to 1e-14 of the output, NengoDL in float32
to 1.1e-6; a forward-Euler leak is 2e-2 off, an input one step late 1e-1 of its jump.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from .probes import exact_rate, open_loop, unit_rates

#: Rate probes: largest |simulated - exact| as a fraction of the output's largest value.  float32
#: rounding passes (NengoDL, measured 1.1e-6); a wrong discretization or input timing (>= 2e-2) fails.
RATE_TOL = 1e-5
#: Regular spikes: each unit's count over the run within this many spikes of ``rate * duration``
#: (a regular train's phase decides one spike at each end).
REGULAR_SPIKES = 1.5
#: Poisson-like spikes: each unit within this many standard deviations (sqrt of the expected count).
POISSON_SIGMAS = 5.0
#: LIF spikes: within this many spikes, plus this fraction of the expected count.
LIF_SPIKES, LIF_FRACTION = 1.5, 0.01


def _require(simulator, neurons: str, activation: str = "tanh") -> None:
    why = simulator.runs(neurons, activation)
    if why is not None:
        pytest.skip(why)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    got = np.asarray(got, dtype=float)
    assert got.shape == want.shape, f"{got.shape[0]} samples, expected {want.shape[0]} (one per step)"
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


@pytest.mark.parametrize("activation", ["tanh", "lif"])
def test_leak_discretization(simulator, activation):
    """Each step moves a unit exactly along its leak ``dr/dt = gamma (phi(J) - r)`` (zero-order hold).

    16 units, no recurrence, constant input, from rest (``initial="zero"``), gamma = 100, 100 steps of
    1 ms: the output must be the closed form ``W (1 - exp(-gamma t)) phi`` at every sample, to
    :data:`RATE_TOL` of its largest value.  Forward Euler (``(1 - gamma dt)^k``) is 1.9e-2 off.
    """
    _require(simulator, "rate", activation)
    rnn = open_loop(activation=activation)
    duration, dt = 0.1, 1e-3
    result = simulator.run(rnn, {"u": 0.3}, duration, dt=dt, initial="zero")
    t = np.arange(1, int(round(duration / dt)) + 1) * dt
    phi = rnn.activate(np.asarray(rnn.B_ext)[:, 0] * 0.3 + np.asarray(rnn.d))
    want = (1.0 - np.exp(-rnn.gamma * t)) * float(np.asarray(rnn.W)[0] @ phi)
    err = _relative_error(result["o"], want)
    assert err <= RATE_TOL, f"output off the zero-order-hold leak by {err:.3g} of its size (tolerance {RATE_TOL:g})"


@pytest.mark.parametrize("initial", ["zero", "rstar", "array"])
def test_initial_state(simulator, initial):
    """A run starts from the initial state it is given, in the units and in their synapses.

    The open-loop network's output from state ``r0`` under a constant input is
    ``W (a^k r0 + (1 - a^k) phi)``, ``a = exp(-gamma dt)``: the first 20 samples must match it to
    :data:`RATE_TOL`.  A simulator whose synapses start at rest (0) misses ``a^k W r0``.
    """
    _require(simulator, "rate")
    rnn = open_loop()
    r0 = {"zero": "zero", "rstar": "rstar", "array": np.linspace(-0.6, 0.6, rnn.n_neurons)}[initial]
    result = simulator.run(rnn, {"u": -0.4}, 0.02, initial=r0)
    want = exact_rate(rnn, {"u": -0.4}, 0.02, initial=r0)["o"]
    err = _relative_error(result["o"], want)
    assert err <= RATE_TOL, f"first 20 samples off the exact start by {err:.3g} of the output (tolerance {RATE_TOL:g})"


def _step(t: float) -> float:
    return -0.5 if t < 0.05 - 1e-9 else 0.5


@pytest.mark.parametrize("form", ["array", "callable"])
def test_input_timing(simulator, form):
    """Step k uses the input at ``(k - 1) dt``: an input that jumps at t = 50 ms moves the output
    from the sample at 51 ms on, for inputs given as one sample per step and as a function of t.

    Checked against the exact system over 100 steps to :data:`RATE_TOL`; an input one step late or
    early is off by ``(1 - a)`` of the jump's effect (9.5e-2).
    """
    _require(simulator, "rate")
    rnn = open_loop()
    dt, duration = 1e-3, 0.1
    u = np.array([_step(k * dt) for k in range(int(round(duration / dt)))]) if form == "array" else _step
    result = simulator.run(rnn, {"u": u}, duration, dt=dt, initial="zero")
    want = exact_rate(rnn, {"u": u}, duration, dt=dt, initial="zero")["o"]
    err = _relative_error(result["o"], want)
    assert err <= RATE_TOL, f"output off the exact input timing by {err:.3g} of its size (tolerance {RATE_TOL:g})"


@pytest.mark.parametrize("weights", ["sampled", "min-norm"])
def test_precision(simulator, compiled, weights):
    """A recurrent programmed network (NAND) at rate level, against the exact system for 0.5 s.

    ``sampled``: the noise-aware fit (||W|| ~ 0.1), which float32 simulates to ~3e-7;
    ``min-norm``: the paper's minimum-norm weights (||W|| ~ 1e7), whose cancellations float32
    cannot hold (float32 NengoDL is 0.3 off; float64 simulators ~1e-9).  Tolerance: 1e-4 absolute
    (0.1 % of the logic level 0.1).
    """
    _require(simulator, "rate")
    _, _, rnn = compiled("nand", "recommended" if weights == "sampled" else "taylor")
    inputs = {"s1": 0.1, "s2": -0.1}
    result = simulator.run(rnn, inputs, 0.5)
    want = exact_rate(rnn, inputs, 0.5)["o"]
    err = float(np.max(np.abs(np.asarray(result["o"]) - want)))
    assert err <= 1e-4, f"‖W‖ = {rnn.weight_norm:.3g}: output off the exact system by {err:.3g} (tolerance 1e-4)"


@pytest.mark.parametrize("neurons", ["regular", "poisson", "stochastic", "lif"])
def test_spike_counts(simulator, neurons):
    """Each unit fires at its rate: ``max_rate tanh(J)`` signed spikes per second (tanh units at
    max_rate = 1000 Hz), or the LIF rate (``neurons="lif"``), over 1 s at a constant input.

    Regular: every count within :data:`REGULAR_SPIKES` of ``rate * 1 s``; Poisson and stochastic:
    within :data:`POISSON_SIGMAS` standard deviations, and so must all units' spikes together
    (each counted in its unit's sign); LIF: within
    :data:`LIF_SPIKES` + :data:`LIF_FRACTION` of the count.
    """
    activation = "lif" if neurons == "lif" else "tanh"
    _require(simulator, neurons, activation)
    rnn = open_loop(activation=activation)
    result = simulator.run(rnn, {"u": 0.3}, 1.0, neurons=neurons, seed=1, record_spikes=True)
    assert result.spikes is not None, "the simulator recorded no spikes (record_spikes=True)"
    counts = np.asarray(result.spikes).sum(axis=0)
    want = unit_rates(rnn, 0.3) * 1.0
    if neurons == "regular":
        allowed = np.full(len(want), REGULAR_SPIKES)
    elif neurons == "lif":
        allowed = LIF_SPIKES + LIF_FRACTION * np.abs(want)
    else:
        allowed = POISSON_SIGMAS * np.sqrt(np.abs(want) + 1.0)
        expected_total = float(np.abs(want).sum())  # every unit's spikes counted in its own sign
        total = abs(float(np.sign(want) @ counts) - expected_total)
        assert total <= POISSON_SIGMAS * math.sqrt(expected_total), \
            f"all units together off by {total:.0f} of {expected_total:.0f} spikes ({POISSON_SIGMAS:g} sd: " \
            f"{POISSON_SIGMAS * math.sqrt(expected_total):.0f})"
    off = np.abs(counts - want)
    worst = int(np.argmax(off - allowed))
    assert np.all(off <= allowed), (f"unit {worst}: {counts[worst]:.0f} spikes in 1 s, expected {want[worst]:.1f} "
                                    f"± {allowed[worst]:.1f}")


def _crossings(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Times of upward zero crossings, interpolated between samples."""
    i = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    return t[i] + (t[i + 1] - t[i]) * (-y[i]) / (y[i + 1] - y[i])


@pytest.mark.parametrize("duration", [
    20.0, pytest.param(120.0, marks=pytest.mark.conformance_full)], ids=["20s", "120s"])
def test_long_run_drift(simulator, compiled, duration):
    """The ring oscillator (three NAND inverters) keeps the exact system's period over a long run.

    Rate level; the period of the last ten cycles must equal the exact system's to 0.5 %, and the
    first ten cycles' period the last ten's to 0.5 % (no drift of the time base or of the state).
    """
    _require(simulator, "rate")
    _, _, rnn = compiled("ring_oscillator", "recommended")
    result = simulator.run(rnn, {}, duration, sample_every=1)
    t = np.asarray(result.t)
    got = _crossings(t, np.asarray(result["o1"]))
    want = _crossings(t, exact_rate(rnn, {}, duration)["o1"])
    assert len(got) >= 20, f"{len(got)} cycles in {duration:g} s (expected {len(want)})"
    first, last, exact = (np.diff(got[1:11]).mean(), np.diff(got[-11:]).mean(), np.diff(want[-11:]).mean())
    assert abs(last - exact) <= 0.005 * exact, f"period {last:.4f} s at the end, exact system {exact:.4f} s"
    assert abs(last - first) <= 0.005 * exact, f"period drifted from {first:.4f} s to {last:.4f} s"
