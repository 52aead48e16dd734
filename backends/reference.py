"""The numpy reference backend.

Integrates the ProgrammedRNN exactly as the authors' ``ReservoirTanhB`` does,
with the recurrence applied in factored form (O(N k) per step):

* ``neurons="rate"``: ``dr/dt = gamma (-r + tanh(B_rec W_rec r + B_ext u + d))``
  with classical RK4 (weights 1, 2, 2, 1; inputs sampled at ``t, t+dt/2,
  t+dt/2, t+dt``) or forward Euler (``integrator="euler"``).
* ``neurons="regular" | "poisson"``: each unit emits signed spikes at rate
  ``max_rate * tanh(J)`` (regular: an integrate-and-reset phase per unit with a
  random initial phase; Poisson: independent counts per step), and ``r`` is the
  spike train filtered with time constant ``1/gamma`` (exact exponential decay
  per step, each spike adding ``1/max_rate`` in rate units).  The rate model is
  this filter applied to ``tanh(J)``, so spiking replaces a unit's rate by spikes
  and nothing else.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal, Mapping

import numpy as np

from .. import validation
from ..errors import SimulationError, ValidationError
from ..inputs import Inputs
from ..ode import rk4_step
from ..progress import Progress, Throttled, check as check_progress
from ..result import Result, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

NAME = "reference"
NEURONS = ("rate", "regular", "poisson")
INTEGRATORS = ("rk4", "euler")
_CHUNK = 4096  # steps whose input values are computed at once
#: Bytes per recorded value (measured; :func:`npl_nengo.simulation.estimate`): outputs are float64
#: (and copied once at the end), spike counts int16.
RECORD_BYTES = {"sample": 24, "spike": 2, "input": 0}


def run(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | None,
    duration: float,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    integrator: Literal["rk4", "euler"] = "rk4",
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    progress: Progress | None = None,
) -> Result:
    """Run ``rnn`` for ``duration`` seconds; see :func:`npl_nengo.run`.

    Parameters
    ----------
    integrator
        ``"rk4"`` or ``"euler"`` (rate neurons only).
    max_rate
        Spike rate (Hz) of a unit at ``tanh(J) = +-1``.
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`).
    sample_every
        Record every n-th step (bounded memory for long runs).
    record_spikes
        Record spike counts of the first n neurons (True: all).
    progress
        ``progress(done, total)`` steps (:mod:`npl_nengo.progress`), at most every 0.2 s.
    """
    if integrator not in INTEGRATORS:
        raise ValidationError(f"reference: integrator {integrator!r} is not one of {INTEGRATORS}")
    check_sample_every(sample_every, "reference")
    check_progress(progress, "reference")
    report = Throttled(progress, int(round(duration / dt))) if progress is not None else None
    max_rate = validation.number(max_rate, "max_rate", "reference", positive=True, unit="Hz")
    sig = Inputs(rnn.input_names, inputs, dt)
    n_steps = int(round(duration / dt))
    rng = np.random.default_rng(seed)
    r = rnn.initial_state(initial, sig.at(np.array([0.0]))[0])
    n_rec = n_steps // sample_every
    outs = np.empty((n_rec, len(rnn.output_names)))
    n_spk = spike_units(record_spikes, neurons != "rate", rnn.n_neurons, "reference")
    spikes = np.zeros((n_steps, n_spk), dtype=np.int16) if n_spk else None
    g = rnn.gamma
    interrupted = False
    phase = rng.uniform(0.0, 1.0, size=rnn.n_neurons) if neurons == "regular" else None
    decay = math.exp(-g * dt)
    drive = rnn.drive

    def slope(r: np.ndarray, dr: np.ndarray | None, u: np.ndarray) -> np.ndarray:
        """``dr/dt`` at ``r + dr`` (the increment subtracted on its own: the rounding this
        backend's recorded results have)."""
        if dr is None:
            return g * (drive(r, u) - r)
        return g * (drive(r + dr, u) - r - dr)

    start = time.perf_counter()
    step = recorded = 0  # completed steps, recorded samples
    try:
        for c0 in range(0, n_steps, _CHUNK):
            c1 = min(n_steps, c0 + _CHUNK)
            t0 = np.arange(c0, c1) * dt
            if neurons == "rate" and integrator == "rk4":
                u0, uh, u1 = sig.at(t0), sig.at(t0 + dt / 2), sig.at(t0 + dt)
            else:
                u0 = sig.at(t0)
            for i in range(c1 - c0):
                if neurons == "rate":
                    if integrator == "rk4":
                        r = rk4_step(slope, r, dt, (u0[i], uh[i], uh[i], u1[i]))
                    else:
                        r = r + dt * g * (rnn.drive(r, u0[i]) - r)
                else:
                    rate = max_rate * rnn.drive(r, u0[i])
                    if neurons == "regular":
                        assert phase is not None  # drawn for regular spikes
                        phase += dt * rate
                        n = np.floor(phase)
                        phase -= n
                    else:
                        n = np.sign(rate) * rng.poisson(np.abs(rate) * dt)
                    if spikes is not None:
                        spikes[step, :] = n[:n_spk]
                    r = decay * r + (1.0 - decay) * n / (dt * max_rate)
                step += 1
                if step % sample_every == 0:
                    outs[recorded] = rnn.W @ r
                    if not np.all(np.isfinite(outs[recorded])):
                        bad = rnn.output_names[int(np.argmin(np.isfinite(outs[recorded])))]
                        raise SimulationError(
                            f"reference: {rnn.name!r} diverged: output {bad!r} is not finite at t={step * dt:.6g} s"
                        )
                    recorded += 1
                if report is not None and (step % 256 == 0 or step == n_steps):
                    report(step)
    except KeyboardInterrupt:  # Ctrl-C: keep the steps completed (a step cut short is not counted)
        interrupted = True
    # Ctrl-C may land between a step and its record: the record ends at the last sample written
    n_done = min(recorded, step // sample_every)
    t = (np.arange(n_done) + 1) * sample_every * dt
    return Result(
        t=t,
        outputs={name: outs[:n_done, i].copy() for i, name in enumerate(rnn.output_names)},
        backend=NAME,
        neurons=neurons,
        dt=dt,
        seed=seed,
        name=rnn.name,
        spikes=None if spikes is None else spikes[:step],
        info={
            "wall_seconds": time.perf_counter() - start,
            "integrator": integrator if neurons == "rate" else "spikes",
            "max_rate": max_rate if neurons != "rate" else None,
            "interrupted": interrupted,
            "steps": step,
            "final_state": r,
        },
    )
