"""Probe networks whose every sample is known, and the discrete-time system a rate simulator must produce.

Every backend simulates a ProgrammedRNN as the same discrete-time system (``docs/method.md``):
each step holds the drive over the step and moves the units' state exactly along their leak
``dr/dt = gamma (phi(J) - r)`` (the zero-order hold, ``nengo.Lowpass(1/gamma)``)::

    a = exp(-gamma dt)
    r_k = a r_(k-1) + (1 - a) phi(B_rec W_rec r_(k-1) + B_ext u((k-1) dt) + d)
    o_k = W r_k                       (the sample at t = k dt)

:func:`exact_rate` computes it in numpy, step by step, so a rate run is checked against numbers
no simulator produced.  :func:`open_loop` makes networks without recurrence, where that recursion
has a closed form for a constant input (``o_k = W (a^k r_0 + (1 - a^k) phi)``) and where
each unit's spike rate is known (``max_rate |tanh J|``, or the LIF rate).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from ..rnn import ProgrammedRNN, lif_rate

__all__ = ["open_loop", "exact_rate", "LIF_UNITS", "unit_rates"]

#: LIF units of the probes: nengo's defaults (the compiler's ``activation="lif"``), 400 Hz per unit of r.
LIF_UNITS: dict[str, Any] = {"kind": "lif", "tau_rc": 0.02, "tau_ref": 0.002, "amplitude": 1.0 / 400.0}


def open_loop(n_neurons: int = 16, activation: str = "tanh", gamma: float = 100.0, seed: int = 0) -> ProgrammedRNN:
    """``n_neurons`` units driven by one input ``u`` (range ±1), no recurrence, one output ``o``.

    Tanh units get biases in ±0.5 and input weights in ±1 (rates in both signs); LIF units
    biases in [1.5, 3] and input weights in ±0.4, so every unit fires for any ``u`` in ±1
    (30-110 Hz).  ``o`` is a weighted mean of the units with weights of both signs.
    """
    rng = np.random.RandomState(seed)
    if activation == "tanh":
        d, b, info = rng.uniform(-0.5, 0.5, n_neurons), rng.uniform(-1.0, 1.0, n_neurons), {}
    elif activation == "lif":
        d, b, info = rng.uniform(1.5, 3.0, n_neurons), rng.uniform(-0.4, 0.4, n_neurons), {"activation": LIF_UNITS}
    else:
        raise ValueError(f"activation {activation!r} is not 'tanh' or 'lif'")
    W = rng.uniform(0.5, 1.5, n_neurons) * np.where(np.arange(n_neurons) % 2, -1.0, 1.0) / n_neurons
    r_star = np.tanh(d) if activation == "tanh" else lif_rate(d, LIF_UNITS)
    return ProgrammedRNN(
        name=f"open_loop_{activation}", B_rec=np.zeros((n_neurons, 0)), W_rec=np.zeros((0, n_neurons)),
        B_ext=b.reshape(-1, 1), d=d, r_star=r_star, W=W.reshape(1, -1), gamma=gamma, signal_names=(),
        input_names=("u",), output_names=("o",), input_ranges=np.array([[-1.0, 1.0]]),
        output_ranges=np.array([[np.nan, np.nan]]), signal_initial=np.zeros(0), block_names=("probe",),
        block_sizes=np.array([n_neurons]), method="probe", seed=seed, residual=np.zeros(1),
        noise_gain=np.array([np.linalg.norm(W)]), info=info,
    )


def exact_rate(rnn: ProgrammedRNN, inputs: Mapping[str, Any], duration: float, dt: float = 1e-3,
               initial: Any = None) -> dict[str, np.ndarray]:
    """The zero-order-hold rate trajectory of ``rnn`` (module docstring): ``{output: samples}`` at
    ``t = dt, 2 dt, ..., duration``; inputs as :func:`npl_nengo.run` takes them (numbers, one
    sample per step, callables of t)."""
    n = int(round(duration / dt))
    u = np.column_stack([_samples(inputs[name], n, dt) for name in rnn.input_names]) if rnn.input_names \
        else np.zeros((n, 0))
    a = math.exp(-rnn.gamma * dt)
    r = rnn.initial_state(initial, u[0] if len(u) else None)
    out = np.empty((n, len(rnn.output_names)))
    W = np.asarray(rnn.W)
    for k in range(n):
        r = a * r + (1.0 - a) * rnn.drive(r, u[k])
        out[k] = W @ r
    return {name: out[:, i] for i, name in enumerate(rnn.output_names)}


def _samples(value: Any, n: int, dt: float) -> np.ndarray:
    """Input values at ``t = 0, dt, ..., (n - 1) dt`` (a step uses the input at its start)."""
    if callable(value):
        f: Callable[[float], float] = value
        return np.array([float(f(k * dt)) for k in range(n)])
    arr = np.asarray(value, dtype=float).reshape(-1)
    if arr.size == 1:
        return np.full(n, float(arr[0]))
    return arr[np.minimum(np.arange(n), arr.size - 1)]


def unit_rates(rnn: ProgrammedRNN, u: float, max_rate: float = 1000.0) -> np.ndarray:
    """Each unit's signed spike rate (Hz) at a constant input ``u`` of an open-loop network:
    ``max_rate tanh(J)`` for tanh units, the LIF rate for LIF units."""
    J = np.asarray(rnn.B_ext)[:, 0] * u + np.asarray(rnn.d)
    if rnn.activation == "tanh":
        return max_rate * np.tanh(J)
    params = rnn.info["activation"]
    return lif_rate(J, params) / params["amplitude"]
