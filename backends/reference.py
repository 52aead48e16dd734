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
* **Batches** (``BATCHES = True``): ``inputs`` a list of input dicts and/or ``initial`` a list of
  initial states run as one vectorized simulation, states of shape ``(trials, N)``; outputs have
  shape ``(trials, samples)`` and spikes ``(trials, steps, units)``, as on nengo_dl.  Seeds: every
  trial draws from its own generator ``numpy.random.default_rng(seed)`` (regular spikes: its
  phases; Poisson spikes: its counts), so trial ``i`` is the single run of its inputs and initial
  state with the same ``seed``, to rounding: the batch's matrix products round differently from a
  single run's, by about ``||W|| eps`` in the outputs (measured on NAND: 2e-16 for the sampled fit,
  1.5e-9 for the min-norm weights, ``||W||`` = 5e6).  A batch of one equals the single run bit for
  bit, and a single run is bit for bit what it was before batching.
* **Divergence** is checked every :data:`CHECK_EVERY` steps (and at the end), not every step: on a
  non-finite output the first non-finite recorded sample is located and reported (output, time
  and, in a batch, trial), as a check every step would have.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from .. import validation
from ..errors import SimulationError, ValidationError
from ..inputs import Inputs
from ..progress import Progress, Throttled, check as check_progress
from ..result import Result, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

NAME = "reference"
NEURONS = ("rate", "regular", "poisson")
INTEGRATORS = ("rk4", "euler")
#: The backend runs a list of trials at once (see npl_nengo.run): one vectorized simulation.
BATCHES = True
_CHUNK = 4096  # steps whose input values are computed at once
#: Steps between two checks for non-finite outputs (and progress reports).
CHECK_EVERY = 256
#: Bytes per recorded value (measured; :func:`npl_nengo.simulation.estimate`): outputs are float64
#: (and copied once at the end), spike counts int16.
RECORD_BYTES = {"sample": 24, "spike": 2, "input": 0}


def _trials(inputs: Any, initial: Any) -> tuple[list, list, bool]:
    """Per-trial inputs and initial states, and whether this is a batch."""
    batch_inputs = isinstance(inputs, (list, tuple))
    if batch_inputs and (not inputs or not all(x is None or isinstance(x, Mapping) for x in inputs)):
        raise ValidationError("reference: inputs must be a dict {name: value} or a non-empty list of such dicts "
                              "(a batch)")
    if not (batch_inputs or isinstance(initial, list)):
        return [inputs], [initial], False
    n = len(inputs) if batch_inputs else len(initial)
    if isinstance(initial, list) and len(initial) != n:
        raise ValidationError(f"reference: {len(initial)} initial states for a batch of {n} trials")
    return (list(inputs) if batch_inputs else [inputs] * n), (initial if isinstance(initial, list) else [initial] * n), True


def _first_bad(outs: np.ndarray, i0: int, i1: int) -> tuple[int, int, int] | None:
    """(sample, trial, output) of the first non-finite value in ``outs[i0:i1]`` (samples, trials, outputs)."""
    bad = np.argwhere(~np.isfinite(outs[i0:i1]))
    if not bad.size:
        return None
    return i0 + int(bad[0, 0]), int(bad[0, 1]), int(bad[0, 2])


def run(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
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
    inputs
        One dict, or a list of dicts: a batch of trials run at once (vectorized).
    integrator
        ``"rk4"`` or ``"euler"`` (rate neurons only).
    max_rate
        Spike rate (Hz) of a unit at ``tanh(J) = +-1``.
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`), or a list with
        one per trial (a batch; with ``inputs`` a dict the trials share it).
    sample_every
        Record every n-th step (bounded memory for long runs).
    record_spikes
        Record spike counts of the first n neurons (True: all); a batch:
        ``(trials, steps, units)``.
    progress
        ``progress(done, total)`` steps (:mod:`npl_nengo.progress`), at most every 0.2 s.
    """
    if integrator not in INTEGRATORS:
        raise ValidationError(f"reference: integrator {integrator!r} is not one of {INTEGRATORS}")
    check_sample_every(sample_every, "reference")
    check_progress(progress, "reference")
    report = Throttled(progress, int(round(duration / dt))) if progress is not None else None
    max_rate = validation.number(max_rate, "max_rate", "reference", positive=True, unit="Hz")
    trial_inputs, trial_initial, batch = _trials(inputs, initial)
    signals = [Inputs(rnn.input_names, x, dt) for x in trial_inputs]  # validates every trial
    n_trials = len(signals)
    n_steps = int(round(duration / dt))
    rngs = [np.random.default_rng(seed) for _ in range(n_trials)]  # every trial: its own draws, from `seed`
    first_u = [s.at(np.array([0.0]))[0] for s in signals]
    r = np.stack([rnn.initial_state(x0, u) for x0, u in zip(trial_initial, first_u)]) if batch \
        else rnn.initial_state(trial_initial[0], first_u[0])
    n_out = len(rnn.output_names)
    n_rec = n_steps // sample_every
    outs = np.empty((n_rec, n_trials, n_out))
    rec_view = outs if batch else outs[:, 0, :]  # where step k's sample r @ W.T is written
    n_spk = spike_units(record_spikes, neurons != "rate", rnn.n_neurons, "reference")
    spikes = np.zeros((n_trials, n_steps, n_spk), dtype=np.int16) if n_spk else None
    g = float(rnn.gamma)
    interrupted = False
    if neurons == "regular":  # each trial's phases, drawn as a single run draws them
        phase = np.stack([q.uniform(0.0, 1.0, size=rnn.n_neurons) for q in rngs]) if batch \
            else rngs[0].uniform(0.0, 1.0, size=rnn.n_neurons)
    decay = math.exp(-g * dt)
    WrT, BrT, d, BeT, W, WT = rnn.W_rec.T, rnn.B_rec.T, rnn.d, rnn.B_ext.T, rnn.W, rnn.W.T
    tanh = rnn.activation == "tanh"

    def act(y: np.ndarray) -> np.ndarray:  # in place where it can
        return np.tanh(y, out=y) if tanh else rnn.activate(y)
    has_inputs = bool(rnn.B_ext.shape[1])
    constant = all(s.constant for s in signals)
    h, dt6, gdt = 0.5 * dt, dt / 6.0, dt * g
    spike_scale = dt * max_rate

    def bias(u: np.ndarray) -> np.ndarray | None:
        """``B_ext u`` for inputs ``u`` ((inputs,) or (trials, inputs)); None without inputs."""
        return np.asarray(u, dtype=float) @ BeT if has_inputs else None

    def inputs_at(t: np.ndarray) -> np.ndarray:
        """Inputs at times ``t``: (steps, inputs), a batch (steps, trials, inputs)."""
        if not batch:
            return signals[0].at(t)
        return np.stack([s.at(t) for s in signals], axis=1)

    def slope(x: np.ndarray, c: np.ndarray | None, base: np.ndarray, dr: np.ndarray | None) -> np.ndarray:
        """``g (act(B_rec W_rec x + c) - base - dr)`` with ``x = base + dr`` (the increment subtracted
        on its own: the rounding this backend's recorded results have)."""
        y = (x @ WrT) @ BrT
        y += d
        if c is not None:
            y += c
        y = act(y)
        y -= base
        if dr is not None:
            y -= dr
        y *= g
        return y

    start = time.perf_counter()
    step = recorded = checked = 0  # completed steps, recorded samples, samples checked for finiteness
    bad = None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below, by time
            c0 = ch = c1 = bias(np.asarray(first_u if batch else first_u[0]))
            for k0 in range(0, n_steps, _CHUNK):
                k1 = min(n_steps, k0 + _CHUNK)
                t0 = np.arange(k0, k1) * dt
                rk4 = neurons == "rate" and integrator == "rk4"
                if not constant:
                    u0 = inputs_at(t0)
                    if rk4:
                        uh, u1 = inputs_at(t0 + dt / 2), inputs_at(t0 + dt)
                for i in range(k1 - k0):
                    if not constant:
                        c0 = bias(u0[i])
                    if neurons == "rate":
                        if rk4:
                            if not constant:
                                ch, c1 = bias(uh[i]), bias(u1[i])
                            k1_ = slope(r, c0, r, None)
                            d1 = h * k1_
                            k2 = slope(r + d1, ch, r, d1)
                            d2 = h * k2
                            k3 = slope(r + d2, ch, r, d2)
                            d3 = dt * k3
                            k4 = slope(r + d3, c1, r, d3)
                            k2 *= 2.0
                            k3 *= 2.0
                            k1_ += k2
                            k1_ += k3
                            k1_ += k4
                            k1_ *= dt6
                            r = r + k1_
                        else:
                            y = (r @ WrT) @ BrT
                            y += d
                            if c0 is not None:
                                y += c0
                            y = act(y)
                            y -= r
                            y *= gdt
                            r = r + y
                    else:
                        y = (r @ WrT) @ BrT
                        y += d
                        if c0 is not None:
                            y += c0
                        rate = max_rate * act(y)
                        if neurons == "regular":
                            phase += dt * rate
                            n = np.floor(phase)
                            phase -= n
                        elif batch:
                            n = np.sign(rate) * np.stack([q.poisson(np.abs(x) * dt) for q, x in zip(rngs, rate)])
                        else:
                            n = np.sign(rate) * rngs[0].poisson(np.abs(rate) * dt)
                        if spikes is not None:
                            if batch:
                                spikes[:, step, :] = n[:, :n_spk]
                            else:
                                spikes[0, step, :] = n[:n_spk]
                        r = decay * r + (1.0 - decay) * n / spike_scale
                    step += 1
                    if step % sample_every == 0:
                        np.matmul(r, WT, out=rec_view[recorded]) if batch else np.matmul(W, r, out=rec_view[recorded])
                        recorded += 1
                    if step % CHECK_EVERY == 0 or step == n_steps:
                        bad = _first_bad(outs, checked, recorded)
                        if bad is not None:
                            break
                        checked = recorded
                        if report is not None:
                            report(step)
                if bad is not None:
                    break
    except KeyboardInterrupt:  # Ctrl-C: keep the steps completed (a step cut short is not counted)
        interrupted = True
    except ValueError:  # Poisson counts of a non-finite rate: the state diverged
        if neurons != "poisson" or np.all(np.isfinite(r)):
            raise
        bad = _first_bad(outs, checked, recorded)
        if bad is None:  # not recorded yet: the outputs of the state that has diverged, at this step
            with np.errstate(over="ignore", invalid="ignore"):
                now = np.atleast_2d(r @ WT)
            j, o = (int(a[0]) for a in np.nonzero(~np.isfinite(now)))
            raise _diverged(rnn, batch, step * dt, o, j) from None
    # Ctrl-C may land between a step and its record: the record ends at the last sample written
    n_done = min(recorded, step // sample_every)
    if bad is None and interrupted:  # the samples recorded since the last check
        bad = _first_bad(outs, checked, n_done)
    if bad is not None:
        sample, trial, out = bad
        raise _diverged(rnn, batch, (sample + 1) * sample_every * dt, out, trial)
    t = (np.arange(n_done) + 1) * sample_every * dt
    if batch:
        outputs = {name: outs[:n_done, :, i].T.copy() for i, name in enumerate(rnn.output_names)}
    else:
        outputs = {name: outs[:n_done, 0, i].copy() for i, name in enumerate(rnn.output_names)}
    if spikes is not None:
        spikes = spikes[:, :step] if batch else spikes[0, :step]
    info = {
        "wall_seconds": time.perf_counter() - start,
        "integrator": integrator if neurons == "rate" else "spikes",
        "max_rate": max_rate if neurons != "rate" else None,
        "interrupted": interrupted,
        "steps": step,
        "final_state": r,
    }
    if batch:
        info["trials"] = n_trials
    return Result(t=t, outputs=outputs, backend=NAME, neurons=neurons, dt=dt, seed=seed, name=rnn.name,
                  spikes=spikes, info=info)


def _diverged(rnn: ProgrammedRNN, batch: bool, t: float, out: int, trial: int) -> SimulationError:
    where = f" (trial {trial})" if batch else ""
    return SimulationError(f"reference: {rnn.name!r} diverged: output {rnn.output_names[out]!r} is not finite "
                           f"at t={t:.6g} s{where}")
