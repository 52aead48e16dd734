"""The NEST backend (through PyNN): a LIF-compiled ProgrammedRNN as current-based LIF cells.

Runs networks compiled with positive-spike LIF units
(``npl_nengo.compile(..., method="sampled", activation="lif")``), ``neurons="lif"``
only; tanh networks are refused (NEST has no signed tanh spiking unit).

Mapping (PyNN ``IF_curr_exp``, NEST ``iaf_psc_exp``; ``iaf_psc_exp_ps`` with
``spike_precision="off_grid"``, the default):

* membrane: the project's unitless ``v`` (``dv/dt = (J - v)/tau_rc``,
  threshold 1, reset 0) is ``V = v`` mV with ``v_rest = v_reset = 0 mV``,
  ``v_thresh = 1 mV``, ``tau_m = tau_rc``, ``tau_refrac = tau_ref`` and
  ``cm = tau_rc / 1 ms`` nF, so that one unit of ``J`` is 1 nA;
* ``J = d + B_ext u + B_rec W_rec r``: ``d`` (plus ``B_ext u`` for held
  inputs) is each cell's ``i_offset``; a time-varying input is one NEST
  ``step_current_generator`` connected to every unit with weight
  ``B_ext[:, j]`` (NEST scales a generator's current by the connection
  weight; PyNN's own ``StepCurrentSource`` injects one current into every
  cell, which would need one source per unit);
* the loop: ``r`` is the units' spike trains filtered with time constant
  ``1/gamma``, each spike adding ``amplitude gamma``; the recurrent drive
  ``M r`` (``M = B_rec W_rec``, dense N x N) is the cells' exponential
  synaptic current: ``tau_syn_E = tau_syn_I = 1/gamma`` and weight
  ``M_ij amplitude gamma`` nA, split by sign into an excitatory projection and
  an inhibitory one (NEST routes a current-based spike by its weight's sign;
  the weights go straight to ``nest.Connect`` as arrays: PyNN's ``Projection``
  took 19 s for N = 1000, NEST 0.3 s).  The synaptic current starts at
  ``M r0`` as the other backends start their filters (set as a state with
  ``iaf_psc_exp_ps``; a one-spike kick at the first step with ``iaf_psc_exp``);
* ``iaf_psc_exp_ps`` gets ``V_min = 0``, nengo.LIF's floor on the membrane
  (``iaf_psc_exp`` has none: a unit driven below 0 starts further from threshold);
* every connection has NEST's minimum delay, one NEST step (``dt / substeps``,
  0.1 ms by default): a spike reaches its targets that much later than in nengo
  or Brian2, where it acts within its step.  Settled levels do not notice it
  (at 1 ms no NAND level moved by more than 0.0003); transients lag by about
  the delay (1 ms: rms 0.013 from nengo across a switch of NAND's input, 0.1 ms:
  0.006, what Brian2 and nengo differ by);
* spike times: ``"off_grid"`` (default) interpolates them inside the step as
  nengo.LIF does; ``"on_grid"`` fires at step ends, which lowers the rates of
  units firing every few steps (NAND levels 0.04-0.05 off at dt = 1 ms, 0.004
  off with ``substeps=10``);
* outputs: the spikes are recorded and the readout ``y = W r`` rebuilt on the
  ``dt`` grid with nengo's filter (a spike in step n is a pulse of
  ``amplitude / dt`` over that step, through ``Lowpass(1/gamma)``, exact
  zero-order hold), starting at ``W r0``.

Dense weights cost ``N^2`` synapses (NEST: about 50-100 bytes each): 3000 units
are 9e6 synapses; beyond ~5000 units a build takes minutes and gigabytes.
NEST runs one process here (the pip wheel of NEST 3.10 has no MPI); ``threads``
sets NEST's OpenMP threads (1 by default: on a loaded machine busy-waiting
threads are slower, see docs).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import time
import warnings
from typing import Any, Literal, Mapping

import numpy as np

from ..errors import BackendUnavailable, ValidationError
from ..inputs import Inputs
from ..progress import Progress, check as check_progress
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

os.environ.setdefault("PYNEST_QUIET", "1")  # NEST prints a banner on import otherwise
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyNN: "Unable to install NEST extensions" (nest-config); harmless
        # imported by name: neither ships type information (mypy then sees Any)
        nest: Any = importlib.import_module("nest")
        sim: Any = importlib.import_module("pyNN.nest")
except ImportError as exc:
    raise BackendUnavailable(f"the nest backend needs PyNN 0.13 and NEST 3 ({exc}): pip install 'npl_nengo[nest]'") from None

NAME = "nest"
NEURONS = ("lif",)
#: Unit activations this backend runs (the comparison skips the tanh routes on it).
ACTIVATIONS = ("lif",)
#: Bytes per recorded value (estimates): a spike event in NEST's recorder and PyNN's neo copy.
RECORD_BYTES = {"sample": 16, "spike": 64, "input": 24}

__all__ = ["NAME", "NEURONS", "ACTIVATIONS", "build", "run", "readout"]


@contextlib.contextmanager
def _quiet_pynn():
    """PyNN logs "NEST does not allow setting an initial value for I_syn_ex" for every iaf_psc_exp
    population (its defaults name states that model lacks); harmless, not shown."""
    log = logging.getLogger("PyNN")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _check(rnn: Any, neurons: str, dt: float, substeps: int, threads: int) -> None:
    if not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"nest: expected a ProgrammedRNN, got {type(rnn).__name__}")
    if rnn.activation != "lif":
        raise ValidationError(f"nest: nest runs networks compiled with activation='lif' "
                              f"(npl_nengo.compile(..., method='sampled', activation='lif')); {rnn.name!r} has tanh units")
    if neurons != "lif":
        raise ValidationError(f"nest: a LIF network runs with neurons='lif' on nest, not {neurons!r}")
    if not (isinstance(substeps, int) and substeps >= 1):
        raise ValidationError(f"nest: substeps must be a positive int, got {substeps!r}")
    if not (isinstance(threads, int) and threads >= 1):
        raise ValidationError(f"nest: threads must be a positive int, got {threads!r}")
    res_ms = dt * 1e3 / substeps
    # NEST's clock counts in tics of 0.1 us by default: the step must be a whole number of them
    if res_ms < 1e-4 or abs(res_ms * 1e4 - round(res_ms * 1e4)) > 1e-6:
        raise ValidationError(f"nest: dt / substeps = {res_ms:g} ms is not a multiple of NEST's 0.1 us tic")


def build(rnn: ProgrammedRNN, stim: np.ndarray | None, constant: bool, u0: np.ndarray, *, dt: float,
          substeps: int = 10, seed: int = 0, threads: int = 1, r0: np.ndarray | None = None,
          spike_precision: str = "off_grid") -> dict[str, Any]:
    """Set PyNN/NEST up and build the network (NEST's kernel is reset: one network per process).

    ``stim`` holds the inputs at the step starts ``(steps + 1, n_inputs)`` (ignored when
    ``constant``: ``u0`` is then folded into the cells' offsets).  Returns the parts:
    ``"cells"`` (the PyNN Population), ``"projections"``, ``"generators"``.
    """
    lif = rnn.info["activation"]
    tau_rc, tau_ref, amplitude = float(lif["tau_rc"]), float(lif["tau_ref"]), float(lif["amplitude"])
    N = rnn.n_neurons
    res_ms = dt * 1e3 / substeps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NEST deprecation warnings from PyNN's calls
        sim.setup(timestep=res_ms, min_delay=res_ms, max_delay=max(10 * res_ms, 1.0), threads=threads,
                  rng_seed=int(seed) % (2**31 - 1) + 1, spike_precision=spike_precision, verbosity="error")
        nest.set_verbosity("M_ERROR")
        B_ext = np.asarray(rnn.B_ext, dtype=float).reshape(N, -1)
        offset = np.asarray(rnn.d, dtype=float).copy()
        if constant and B_ext.shape[1]:
            offset = offset + B_ext @ np.asarray(u0, dtype=float)
        params = dict(tau_m=tau_rc * 1e3, cm=tau_rc * 1e3, v_rest=0.0, v_reset=0.0, v_thresh=1.0,
                      tau_refrac=tau_ref * 1e3, tau_syn_E=1e3 / rnn.gamma, tau_syn_I=1e3 / rnn.gamma,
                      i_offset=offset)
        with _quiet_pynn():
            cells = sim.Population(N, sim.IF_curr_exp(**params), label=rnn.name)
        r0 = rnn.r_star if r0 is None else r0
        M = np.asarray(rnn.B_rec, dtype=float).reshape(N, -1) @ np.asarray(rnn.W_rec, dtype=float).reshape(-1, N)
        i0 = M * np.asarray(r0, dtype=float)[None, :]  # (post, pre): each pre unit's share of the initial current
        v0 = np.random.default_rng(seed).uniform(0.0, 1.0, size=N)  # as brian2's phases
        with _quiet_pynn():
            cells.initialize(v=v0)
        i0 = M @ np.asarray(r0, dtype=float) * 1e3  # the initial recurrent current, pA
        ids = np.asarray(cells.node_collection.tolist(), dtype=np.int64)
        if spike_precision == "off_grid":
            # iaf_psc_exp_ps: the synaptic current is a state to set (both channels decay alike, so
            # one holds it all), and V_min = 0 is nengo.LIF's floor on the membrane
            cells.node_collection.set(I_syn_ex=i0.tolist(), I_syn_in=[0.0] * N, V_min=0.0)
        elif np.any(i0):
            # iaf_psc_exp lets neither be set: one kick from a spike generator (at the first step NEST
            # allows, arriving one step later) adds the initial current; the membrane has no floor
            kick = nest.Create("spike_generator", params={"spike_times": [res_ms]})
            nest.Connect(kick, cells.node_collection, "all_to_all",
                         syn_spec={"weight": i0.reshape(N, 1), "delay": res_ms})
        weights = M.T * (amplitude * rnn.gamma * 1e3)  # (pre, post), pA (NEST's unit)
        # Dense weights straight through nest.Connect (arrays of node ids, one_to_one): PyNN's
        # Projection reads every connection back, 19 s for N = 1000 (ArrayConnector) against 0.3 s.
        # Excitatory and inhibitory synapses are two connection sets; NEST's current-based cells route
        # a spike by the sign of its weight (negative: I_syn_in).
        projections = []
        for kind, mask in (("excitatory", weights > 0), ("inhibitory", weights < 0)):
            if not mask.any():
                continue
            pre, post = np.nonzero(mask)
            nest.Connect(ids[pre], ids[post], "one_to_one",
                         syn_spec={"weight": weights[pre, post], "delay": np.full(len(pre), res_ms)})
            projections.append((kind, len(pre)))
        generators = []
        if not constant and B_ext.shape[1]:
            assert stim is not None, "time-varying inputs need their table"
            steps = stim.shape[0] - 1
            # the generator's value for step n starts at n dt; a generator reaches its cells one NEST
            # step late (the connection's delay), so its times are moved one step early (PyNN does the
            # same); the value of step 0 starts at the first time NEST allows (one NEST step)
            times = np.round(np.maximum(np.arange(steps + 1) * dt * 1e3 - res_ms, res_ms) / res_ms) * res_ms
            times[1:] = np.maximum(times[1:], times[0] + res_ms * np.arange(1, steps + 1))  # strictly increasing
            nodes = cells.node_collection
            for j in range(B_ext.shape[1]):
                col = B_ext[:, j]
                if not np.any(col):
                    continue
                gen = nest.Create("step_current_generator",
                                  params={"amplitude_times": times.tolist(),
                                          "amplitude_values": (np.asarray(stim[:, j], dtype=float) * 1e3).tolist()})
                nest.Connect(gen, nodes, "all_to_all", syn_spec={"weight": col.reshape(N, 1), "delay": res_ms})
                generators.append(gen)
    return {"cells": cells, "projections": projections, "generators": generators, "M": M}


def readout(counts: np.ndarray, W: np.ndarray, y0: np.ndarray, gamma: float, amplitude: float, dt: float) -> np.ndarray:
    """``W r`` on the dt grid from spike counts per step ``(steps, N)``: nengo's ``Lowpass(1/gamma)``
    (zero-order hold) on pulses of ``amplitude / dt``, starting at ``y0``; returns ``(steps, n_out)``."""
    a = math.exp(-gamma * dt)
    drive = (counts @ np.asarray(W, dtype=float).T) * (amplitude / dt * (1.0 - a))  # (steps, n_out)
    y = np.empty_like(drive)
    state = np.asarray(y0, dtype=float).copy()
    for n in range(drive.shape[0]):
        state = a * state + drive[n]
        y[n] = state
    return y


def _counts(times_ms: np.ndarray, ids: np.ndarray, dt: float, steps: int, N: int) -> np.ndarray:
    """Spike counts per step: a spike at t in (n dt, (n+1) dt] belongs to step n (NEST stamps a spike at
    the end of the step it fired in; off-grid times lie inside it)."""
    step = np.ceil(np.asarray(times_ms) / (dt * 1e3) - 1e-9).astype(np.int64) - 1
    keep = (step >= 0) & (step < steps)
    counts = np.zeros((steps, N), dtype=np.int32)
    np.add.at(counts, (step[keep], np.asarray(ids)[keep]), 1)
    return counts


def run(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | None,
    duration: float,
    neurons: str = "lif",
    dt: float = 1e-3,
    seed: int = 0,
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    substeps: int = 10,
    spike_precision: Literal["off_grid", "on_grid"] = "off_grid",
    threads: int = 1,
    progress: Progress | None = None,
) -> Result:
    """Run a LIF-compiled ``rnn`` on NEST through PyNN; see :func:`npl_nengo.run`.

    Parameters
    ----------
    max_rate
        Accepted for the common interface; LIF units fire at their own rates (unused).
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`): the synaptic currents start at
        ``B_rec W_rec r0`` and the readout at ``W r0``.
    sample_every
        Keep every n-th sample of the outputs.
    record_spikes
        Return the spikes of the first n units (True: all) as counts per step (int16).
    substeps
        NEST steps per ``dt`` (default 10): every connection's delay is NEST's minimum, one NEST
        step, ``dt / substeps``.  With precise spike times the cost is the spikes' (the same at 1
        and 10, measured); a 1 ms loop delay (``substeps=1``) lagged NAND's switch behind nengo's
        (rms 0.013, up to 0.045 apart) where 0.1 ms kept it as close as Brian2 (rms 0.006).
        The outputs are on the ``dt`` grid whatever it is.
    spike_precision
        ``"off_grid"`` (default; NEST's ``iaf_psc_exp_ps``: spike times interpolated inside the
        step, as ``nengo.LIF`` does) or ``"on_grid"`` (``iaf_psc_exp``: spikes at step ends).
    threads
        NEST's OpenMP threads (default 1).
    progress
        ``progress(done, total)``: NEST runs in chunks of ~1/20 of the run when given.
    """
    check_sample_every(sample_every, NAME)
    check_progress(progress, NAME)
    _check(rnn, neurons, dt, substeps, threads)
    sig = Inputs(rnn.input_names, inputs, dt)
    n_steps = int(round(duration / dt))
    rows = n_steps + 1
    stim = sig.at(np.arange(rows) * dt) if len(sig) else np.zeros((rows, 0))
    u0 = stim[0, : len(sig)]
    r0 = rnn.initial_state(initial, u0)
    N = rnn.n_neurons
    n_spk = spike_units(record_spikes, True, N, NAME)
    lif = rnn.info["activation"]
    start = time.perf_counter()
    parts = build(rnn, stim, sig.constant or not len(sig), u0, dt=dt, substeps=substeps, seed=seed, threads=threads,
                  r0=r0, spike_precision=spike_precision)
    cells = parts["cells"]
    cells.record("spikes")
    build_seconds = time.perf_counter() - start
    interrupted = False
    T_ms = n_steps * dt * 1e3
    done_ms = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if progress is None:
                sim.run(T_ms)
                done_ms = T_ms
            else:
                progress(0, n_steps)
                chunk = max(1, n_steps // 20)
                done = 0
                while done < n_steps:
                    step = min(chunk, n_steps - done)
                    sim.run(step * dt * 1e3)
                    done += step
                    done_ms = done * dt * 1e3
                    progress(done, n_steps)
        except KeyboardInterrupt:
            interrupted = True
            done_ms = float(sim.get_current_time())
        spikes_seg = cells.get_data("spikes", clear=True).segments[0].spiketrains
    done_steps = min(n_steps, int(round(done_ms / (dt * 1e3))))
    times = np.concatenate([np.asarray(st.magnitude, dtype=float) for st in spikes_seg]) if spikes_seg else np.zeros(0)
    ids = np.concatenate([np.full(len(st), i, dtype=np.int64) for i, st in enumerate(spikes_seg)]) if spikes_seg \
        else np.zeros(0, dtype=np.int64)
    counts = _counts(times, ids, dt, done_steps, N)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim.end()
    y = readout(counts, np.asarray(rnn.W).reshape(len(rnn.output_names), N), np.asarray(rnn.W).reshape(-1, N) @ r0,
                rnn.gamma, float(lif["amplitude"]), dt)
    wall = time.perf_counter() - start
    n_rec = done_steps // sample_every
    idx = (np.arange(n_rec) + 1) * sample_every - 1
    t = (np.arange(n_rec) + 1) * sample_every * dt
    outputs = {name: y[idx, i].copy() for i, name in enumerate(rnn.output_names)}
    check_finite(outputs, t, NAME, rnn.name)
    spikes = counts[:, :n_spk].astype(np.int16) if n_spk else None
    return Result(
        t=t, outputs=outputs, backend=NAME, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": wall, "build_seconds": build_seconds, "interrupted": interrupted,
              "steps": n_rec * sample_every, "substeps": substeps, "spike_precision": spike_precision,
              "threads": threads, "max_rate": None, "n_neurons": N,
              "synapses": int(sum(n for _, n in parts["projections"]))},
    )
