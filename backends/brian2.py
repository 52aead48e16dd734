"""The Brian2 backend: a ProgrammedRNN as a ``brian2.Network``.

Groups (equations are strings, parameters live in a namespace):

* ``units`` (N): the programmed units, input current ``J = d + I_rec + I_ext``;
* ``signals`` (k + n_outputs): the decoded fed-back signals ``W_rec r`` and
  the named outputs ``W r``;
* ``inputs`` (n_inputs): ``u = stim(t, i)``, a 2-D ``TimedArray`` holding every
  input sampled at the step starts (the same values the reference backend's
  Euler step and nengo use); held (constant) inputs take two rows, whatever
  the run's length.

Synapses: ``units -> signals`` (weights ``W_rec`` and ``W``), ``signals ->
units`` (``B_rec``, only the k fed-back rows) and ``inputs -> units``
(``B_ext``), all as summed variables or spike effects: O(N k) synapses, never
an N x N matrix.

* ``neurons="rate"``: ``dr/dt = gamma (tanh(J) - r)`` per unit (or LIF rate
  units for networks compiled with ``activation="lif"``), ``signals`` are
  summed variables ``s = sum_i w_i r_i``.  ``method="euler"`` reproduces the
  reference backend's ``integrator="euler"`` to rounding;
  ``"exponential_euler"`` (default) is exact for the unit's leak with ``J``
  held over a step: nengo's ``synapse="zoh"``.
* ``neurons="regular" | "poisson"``: each unit fires at ``max_rate |tanh(J)|``
  (regular: the reference backend's signed phase, rising with ``tanh(J) > 0``
  to a + spike at 1, falling with ``tanh(J) < 0`` to a - spike at 0, from a
  random start; Poisson: a Bernoulli draw per step); the synapse adds the
  spike's sign times ``w / max_rate`` (signed weights), so one population
  covers signed activity.  The filter with time constant ``1/gamma`` sits on the decoded
  signals (``ds/dt = -gamma s``): linear, so filtering ``W_rec r`` equals
  ``W_rec`` times the filtered spike trains, at O(k) state instead of O(N).
* ``neurons="lif"``: LIF units (``dv/dt = (J - v)/tau_rc``, threshold 1, reset
  0, refractory ``tau_ref``) for networks compiled with ``activation="lif"``,
  stepped as ``nengo.LIF`` steps them (exact membrane update, spike times
  interpolated inside the step), so a network fires alike on both simulators;
  each spike adds ``amplitude gamma`` (activity = amplitude x rate).

Targets: ``"numpy"`` (default, everywhere), ``"cython"`` (the generated code
has fixed object names and no run length in it: Cython's cache serves a second
run and any length), ``"cpp_standalone"`` (each project is built with a device of
its own in a temporary directory, or ``build_dir``, and kept for reuse: a later
run of the same network, mode, dt and recording runs the built binary with
``run_args`` for the initial state, the input table and the run's length;
``CACHE_SIZE`` projects are kept, ``clear_cache()`` removes them, ``STATS``
counts builds and reuses; ``Result.info["standalone"]`` says whether a run built).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import signal
import tempfile
import threading
import time
from collections import OrderedDict
from typing import Any, Literal, Mapping

import numpy as np

from .. import validation
from ..errors import BackendUnavailable, ValidationError
from ..inputs import Inputs
from ..progress import PERIOD, Progress, check as check_progress
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

try:
    import brian2 as b2
except ImportError as exc:  # pragma: no cover - the dependency is pinned
    raise BackendUnavailable(f"the brian2 backend needs brian2 ({exc}): pip install 'npl_nengo[brian2]'") from None

NAME = "brian2"
NEURONS = ("rate", "regular", "poisson", "lif")
TARGETS = ("numpy", "cython", "cpp_standalone")
METHODS = ("exponential_euler", "euler")
#: Bytes per recorded value (measured; :func:`npl_nengo.simulation.estimate`): monitors grow their
#: arrays by doubling; a SpikeMonitor keeps ~20 bytes per spike (at most one per unit and step);
#: time-varying inputs are tabulated for the whole run (a ``TimedArray``), callables called per step.
RECORD_BYTES = {"sample": 64, "spike": 56, "input": 32}
# nengo.LIF's update, step by step (nengo/neurons.py, LIF.step): the refractory time left shrinks
# by dt, the membrane integrates exactly over the part of the step it is not refractory, and a
# spike's time inside the step is interpolated, so refractory periods are not rounded to the
# clock.  Brian2's own LIF (``refractory=``, an ODE with threshold) rounds both to the step: that
# read the NAND levels 0.065 off at dt = 1 ms, still 0.009 off with 5 substeps per step.
_LIF_STEP = "ref = ref - dt\nv = clip(v - (J - v) * (exp(-clip(dt - ref, 0*second, dt) / tau_rc) - 1), 0, inf)"
_LIF_RESET = "ref = tau_ref + dt + tau_rc * log(1 - (v - 1) / (J - 1))\nv = 0"

__all__ = ["NAME", "NEURONS", "TARGETS", "METHODS", "build", "run", "to_brian2"]

_TANH_RATE = "a = tanh(J) : 1"
# nengo's LIFRate written for Brian2: 0 below threshold, clip keeps log() finite there.
_LIF_RATE = "a = amplitude / (tau_ref + tau_rc * log(1 + 1 / clip(J - 1, 1e-12, inf))) * int(J > 1) : 1"


_CYTHON_STIM = """
cdef double %NAME%(const double t, const int i):
    global _namespace%NAME%_values
    global _namespace_num%NAME%_values
    cdef double epsilon = %DT% / %K%
    cdef int rows = _namespace_num%NAME%_values // %COLS%
    if i < 0 or i >= %COLS%:
        return _numpy.nan
    cdef int timestep = (int)((t/epsilon + 0.5)/%K%)
    if timestep < 0:
       timestep = 0
    elif timestep >= rows:
        timestep = rows-1
    return _namespace%NAME%_values[timestep*%COLS% + i]
"""


def _timed_array(values: np.ndarray, dt: float, name: str | None) -> Any:
    """The inputs' 2-D ``TimedArray``; its Cython code reads the number of rows from the array.

    Brian2's own Cython code has the number of rows as a literal, so every new run length of a
    time-varying input compiled a new extension module; this one (the same lookup otherwise:
    Brian2 2.9's ``_generate_cython_code_2d``) is the same code for any length.
    """
    from brian2.input.timedarray import _find_K

    stim = b2.TimedArray(values, dt=dt * b2.second, name=name)
    flat = stim.values.astype(np.double, order="C", copy=False).ravel()

    def cython_impl(owner: Any) -> str:
        K = _find_K(owner.clock.dt_, dt)
        code = _CYTHON_STIM
        for key, value in {"%NAME%": stim.name, "%DT%": f"{dt:.18f}", "%K%": str(K),
                           "%COLS%": str(values.shape[1])}.items():
            code = code.replace(key, value)
        return code

    stim.implementations.add_dynamic_implementation("cython", cython_impl, name=stim.name,
                                                    namespace=lambda owner: {f"{stim.name}_values": flat})
    return stim


def _unit_equations(rnn: ProgrammedRNN, neurons: str) -> tuple[str, dict]:
    """Equations, threshold, reset, refractory of the units for a neuron mode."""
    current = "J = d + I_rec + I_ext : 1\nd : 1 (constant)\nI_rec : 1\nI_ext : 1\n"
    rate = _LIF_RATE if rnn.activation == "lif" else _TANH_RATE
    if neurons == "rate":
        return current + rate + "\ndr/dt = gamma * (a - r) : 1\n", {}
    if neurons == "regular":
        # a signed phase, as the reference backend's: it rises with a > 0 and spikes (+) at 1,
        # falls with a < 0 and spikes (-) at 0; the synapse reads the sign from v before the reset
        return (current + rate + "\ndv/dt = max_rate * a : 1\n",
                dict(threshold="v > 1 or v < 0", reset="v -= int(v > 1) - int(v < 0)"))
    if neurons == "poisson":
        return current + rate + "\n", dict(threshold="rand() < max_rate * abs(a) * dt")
    # LIF: nengo.LIF's own step (threshold 1, reset 0, floor 0), written out so the same network
    # fires the same way on both simulators; see _LIF_STEP.
    return (current + "v : 1\nref : second\n",
            dict(threshold="v > 1", reset=_LIF_RESET))


def _check_mode(rnn: ProgrammedRNN, neurons: str, method: str, max_rate: float, dt: float) -> None:
    if neurons not in NEURONS:
        raise ValidationError(f"brian2: neurons {neurons!r} is not one of {NEURONS}")
    if method not in METHODS:
        raise ValidationError(f"brian2: method {method!r} is not one of {METHODS}")
    if neurons == "lif" and rnn.activation != "lif":
        raise ValidationError(f"brian2: neurons='lif' needs a network compiled with activation='lif' "
                              f"(npl_nengo.compile(..., method='sampled', activation='lif')); {rnn.name!r} has tanh units")
    if rnn.activation == "lif" and neurons not in ("rate", "lif"):
        raise ValidationError(f"brian2: a LIF network runs with neurons='rate' or 'lif', not {neurons!r}")
    if neurons in ("regular", "poisson"):
        max_rate = validation.number(max_rate, "max_rate", "brian2", positive=True, unit="Hz")
        if max_rate * dt > 1.0 + 1e-12:
            raise ValidationError(f"brian2: max_rate * dt = {max_rate * dt:g} > 1: a Brian2 neuron spikes at most "
                                  f"once per step; use dt <= {1.0 / max_rate:g} s")


def build(
    rnn: ProgrammedRNN,
    stim: np.ndarray,
    neurons: str = "rate",
    dt: float = 1e-3,
    method: str = "exponential_euler",
    max_rate: float = 1000.0,
    r0: np.ndarray | None = None,
    phases: np.ndarray | None = None,
    sample_every: int = 1,
    record_spikes: int = 0,
    fixed_names: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Build the ``brian2.Network`` of ``rnn``; returns ``(network, parts)``.

    ``stim`` holds the input values at the step starts, shape
    ``(steps + 1, n_inputs)``.  ``r0`` is the initial state (N,), ``phases``
    the initial phase / membrane of spiking units.  ``parts`` names the
    groups, synapses and monitors (``"outputs"`` is the StateMonitor of the
    named outputs, ``"spikes"`` the SpikeMonitor if asked for, ``"stim"`` the
    inputs' ``TimedArray``).  ``fixed_names``: name the objects ``units``,
    ``signals``, ... and the TimedArray ``npl_stim`` (no ``_1``, ``_2`` counters), so
    that the generated code of the same network is the same in every run (Cython's
    cache finds it; a standalone project can be run again).  ``signals`` has a shared
    variable ``T_run`` (seconds), unused by the network: the standalone binary reads its
    run's length from it (see :func:`run`).
    """
    name = (lambda base: base) if fixed_names else (lambda base: base + "*")
    N, k, n_out, n_in = rnn.n_neurons, rnn.n_signals, len(rnn.output_names), len(rnn.input_names)
    r0 = rnn.r_star if r0 is None else r0
    lif = rnn.info.get("activation", {})
    namespace = {
        "gamma": rnn.gamma * b2.Hz,
        "max_rate": max_rate * b2.Hz,
        "tau_rc": lif.get("tau_rc", 0.02) * b2.second,
        "tau_ref": lif.get("tau_ref", 0.002) * b2.second,
        # LIF activity = amplitude x rate: amplitude is a time (1/400 s)
        "amplitude": lif.get("amplitude", 1.0) * b2.second,
        "stim": _timed_array(np.asarray(stim, dtype=float), dt, "npl_stim" if fixed_names else None),
    }
    # one clock of fixed name for the network (a group given dt= gets an automatically named clock of
    # its own, "clock_7", whose name is in the generated code and changes while older ones are alive)
    clock = b2.Clock(dt * b2.second, name=name("npl_clock"))
    eqs, spiking = _unit_equations(rnn, neurons)
    # regular: the phase advances by dt * rate per step, as in the reference backend (Euler is exact for it)
    unit_method = {"rate": method, "regular": "euler", "poisson": "euler", "lif": None}[neurons]
    units = b2.NeuronGroup(N, eqs, method=unit_method, namespace=namespace, clock=clock,
                           name=name("units"), **spiking)
    if neurons == "lif":
        units.run_regularly(_LIF_STEP, when="groups", name=name("lif_step"))
    units.d = np.asarray(rnn.d)
    if neurons == "rate":
        units.r = np.asarray(r0)
    elif phases is not None and neurons in ("regular", "lif"):
        units.v = np.asarray(phases)
    W = np.vstack([rnn.W_rec, rnn.W])  # (k + n_out, N): fed-back signals, then outputs
    s0 = W @ np.asarray(r0)
    pre, post = np.nonzero(W.T)  # only the non-zero weights: circuits are block-sparse
    if neurons == "rate":
        signals = b2.NeuronGroup(k + n_out, "s : 1\nT_run : second (shared, constant)", name=name("signals"),
                                 namespace=namespace, clock=clock)
        decode = b2.Synapses(units, signals, "w : 1 (constant)\ns_post = w * r_pre : 1 (summed)", name=name("decode"),
                             namespace=namespace, clock=clock)
    else:
        signals = b2.NeuronGroup(k + n_out, "ds/dt = -gamma * s : 1\nT_run : second (shared, constant)",
                                 method="exact", name=name("signals"),
                                 namespace=namespace, clock=clock)
        signals.s = s0
        # a spike adds its unit's activity quantum times gamma, signed with the unit's rate
        quantum = {"lif": "amplitude", "poisson": "sign(a_pre) / max_rate",
                   "regular": "(int(v_pre > 1) - int(v_pre < 0)) / max_rate"}[neurons]
        # A spike counts as activity quantum / step held over its step, filtered exactly:
        # the jump is (1 - exp(-gamma dt)) / dt per unit of quantum (gamma for dt -> 0), the
        # reference backend's discretization.  A jump of gamma instead makes the loop gain
        # gamma dt / (1 - exp(-gamma dt)) = 1.05 x too large at dt = 1 ms (measured: the ring
        # oscillator's period 10 % long, amplitude 20 % large).
        namespace["jump"] = -math.expm1(-rnn.gamma * dt) / dt * b2.Hz
        decode = b2.Synapses(units, signals, "w : 1 (constant)", on_pre=f"s_post += w * jump * {quantum}",
                             name=name("decode"), namespace=namespace, clock=clock)
    decode.connect(i=pre, j=post)
    decode.w = W.T[pre, post]
    objects = [units, signals, decode]
    if k:
        bi, bj = np.nonzero(rnn.B_rec.T)  # signal -> unit
        encode = b2.Synapses(signals, units, "b : 1 (constant)\nI_rec_post = b * s_pre : 1 (summed)", name=name("encode"),
                             namespace=namespace, clock=clock)
        encode.connect(i=bi, j=bj)
        encode.b = rnn.B_rec.T[bi, bj]
        objects.append(encode)
    if n_in:
        inputs = b2.NeuronGroup(n_in, "u = stim(t, i) : 1", name=name("inputs"), namespace=namespace,
                                clock=clock)
        ei, ej = np.nonzero(rnn.B_ext.T)
        external = b2.Synapses(inputs, units, "b : 1 (constant)\nI_ext_post = b * u_pre : 1 (summed)",
                               name=name("external"), namespace=namespace, clock=clock)
        external.connect(i=ei, j=ej)
        external.b = rnn.B_ext.T[ei, ej]
        objects += [inputs, external]
    # The record at step n must be the state after n steps (the first, n = 0, is dropped by run):
    # summed rate signals are computed from this step's r before the update, so read them at
    # its end; spiking signals are state variables updated in this step, so read them at its start.
    record_clock = b2.Clock(sample_every * dt * b2.second, name=name("npl_record_clock"))
    outputs = b2.StateMonitor(signals, "s", record=list(range(k, k + n_out)), clock=record_clock,
                              when="end" if neurons == "rate" else "start", name=name("outputs"))
    objects.append(outputs)
    parts = {"units": units, "signals": signals, "outputs": outputs, "stim": namespace["stim"]}
    if record_spikes and neurons != "rate":
        sign_of = {"lif": [], "poisson": ["a"], "regular": ["v"]}[neurons]  # read at the spike, before the reset
        spikes = b2.SpikeMonitor(units[:record_spikes], variables=sign_of, name=name("spikes"))
        objects.append(spikes)
        parts["spikes"] = spikes
    return b2.Network(*objects), parts


def to_brian2(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | None = None,
    duration: float = 1.0,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    max_rate: float = 1000.0,
    method: Literal["exponential_euler", "euler"] = "exponential_euler",
    initial: Any = None,
    record_spikes: int | bool = False,
) -> Any:
    """The ``brian2.Network`` of a ProgrammedRNN, to run, inspect or extend with your own Brian2 objects.

    The network is what :func:`run` simulates: the units (a ``NeuronGroup``
    whose name starts with ``units``), the decoded fed-back signals and
    outputs (``signals``; the outputs are its last ``len(rnn.output_names)``
    entries), the synapses between them and a ``StateMonitor`` of the outputs
    (``outputs``; and a ``SpikeMonitor`` ``spikes`` with ``record_spikes``).
    Brian2 appends ``_1``, ``_2``, ... to the names of a second network built
    in the same process.  The objects run on a clock of their own of step ``dt``
    (``npl_clock``; the monitor on ``npl_record_clock``), so Brian2's
    ``defaultclock`` is left alone.

    >>> net = to_brian2(rnn, {"s1": 0.1, "s2": 0.1})                   # doctest: +SKIP
    >>> net.run(1 * brian2.second); net["outputs"].s[:, -1]              # doctest: +SKIP

    ``inputs`` are held or sampled over ``duration`` seconds (past it, an
    input holds its last value); ``seed`` draws the spike phases.
    """
    if not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"to_brian2: expected a ProgrammedRNN, got {type(rnn).__name__}")
    if neurons not in NEURONS:
        raise ValidationError(f"to_brian2: neurons={neurons!r} is not one of {', '.join(NEURONS)}")
    _check_mode(rnn, neurons, method, max_rate, dt)
    sig = Inputs(rnn.input_names, inputs, dt)
    rows = 2 if sig.constant else int(round(duration / dt)) + 2
    stim = sig.at(np.arange(rows) * dt) if len(sig) else np.zeros((rows, 1))
    r0 = rnn.initial_state(initial, stim[0, : len(sig)])
    phases = np.random.default_rng(seed).uniform(0.0, 1.0, size=rnn.n_neurons) if neurons != "rate" else None
    n_spk = spike_units(record_spikes, neurons != "rate", rnn.n_neurons, NAME)
    net, _ = build(rnn, stim, neurons=neurons, dt=dt, method=method, max_rate=max_rate, r0=r0, phases=phases,
                   record_spikes=n_spk)
    return net


def _report(progress: Progress | None, n_steps: int, target: str) -> dict[str, Any]:
    """``Network.run``'s report options that pass the steps done to ``progress``."""
    if progress is None:
        return {}
    progress(0, n_steps)
    if target == "cpp_standalone":  # a report there is C++ code or text on the binary's stdout
        return {}

    def report(elapsed: Any, completed: float, start: Any, duration: Any) -> None:
        progress(min(n_steps, int(round(float(completed) * (n_steps + 1)))), n_steps)

    return {"report": report, "report_period": PERIOD * b2.second}


def run(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | None,
    duration: float,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    target: Literal["numpy", "cython", "cpp_standalone"] = "numpy",
    method: Literal["exponential_euler", "euler"] = "exponential_euler",
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    build_dir: str | None = None,
    progress: Progress | None = None,
) -> Result:
    """Run ``rnn`` on Brian2; see :func:`npl_nengo.run`.

    Parameters
    ----------
    target
        ``"numpy"`` (default), ``"cython"`` or ``"cpp_standalone"``.
    method
        Rate units: ``"exponential_euler"`` (exact leak, = nengo's ``"zoh"``) or
        ``"euler"`` (= the reference backend's ``integrator="euler"``).
    max_rate
        Spike rate (Hz) of a unit at ``|tanh(J)| = 1``; at most ``1/dt``.
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`).
    sample_every
        Record every n-th step (the monitor's own ``dt``; memory stays bounded).
    record_spikes
        Record the spikes of the first n units (True: all) as signed counts per step.
    build_dir
        cpp_standalone: build here (kept) instead of a temporary directory (removed when the
        project leaves the cache: :func:`clear_cache`, ``CACHE_SIZE``, the process's end).
    progress
        ``progress(done, total)`` steps (:mod:`npl_nengo.progress`), through Brian2's
        ``report`` callback on the runtime targets; ``cpp_standalone`` reports the
        start and the end (its binary runs whole).
    """
    if target not in TARGETS:
        raise ValidationError(f"brian2: target {target!r} is not one of {TARGETS}")
    check_sample_every(sample_every, "brian2")
    check_progress(progress, "brian2")
    _check_mode(rnn, neurons, method, max_rate, dt)
    sig = Inputs(rnn.input_names, inputs, dt)
    n_steps = int(round(duration / dt))
    # one extra step: the record at step 0 (the initial state) is dropped below.  Held inputs need
    # two rows only (a TimedArray holds its last value past its end): memory and the generated code
    # then do not depend on the run's length (no Cython rebuild per length, bounded long runs)
    rows = 2 if sig.constant else n_steps + 2
    stim = sig.at(np.arange(rows) * dt) if len(sig) else np.zeros((rows, 1))
    rng = np.random.default_rng(seed)
    r0 = rnn.initial_state(initial, stim[0, : len(sig)])
    phases = rng.uniform(0.0, 1.0, size=rnn.n_neurons) if neurons != "rate" else None
    n_spk = spike_units(record_spikes, neurons != "rate", rnn.n_neurons, NAME)
    start = time.perf_counter()
    raw, spikes, interrupted = np.zeros((len(rnn.output_names), 0)), None, False
    build_info: dict[str, Any] = {}
    if target == "cpp_standalone":
        # the same network (weights, mode, dt, recording) runs its built binary again: initial
        # state, inputs and the run's length are the binary's run_args
        if progress is not None:
            progress(0, n_steps)
        raw, mon, build_info = _standalone(rnn, stim, sig.constant, n_steps, neurons=neurons, dt=dt, method=method,
                                           max_rate=max_rate, r0=r0, phases=phases, sample_every=sample_every,
                                           n_spk=n_spk, seed=seed, build_dir=build_dir)
        if progress is not None:
            progress(n_steps, n_steps)
        done = n_steps
        if mon is not None:
            spike_t, spike_i, at_spike = mon
            spikes = _count_spikes(spike_t, spike_i, at_spike, neurons, dt, done, n_spk)
    else:
        raw, spikes, interrupted = _runtime(rnn, stim, n_steps, neurons=neurons, dt=dt, method=method,
                                            max_rate=max_rate, r0=r0, phases=phases, sample_every=sample_every,
                                            n_spk=n_spk, seed=seed, target=target, progress=progress)
    wall = time.perf_counter() - start
    n_rec = n_steps // sample_every
    data = raw[:, 1 : n_rec + 1]  # fewer when interrupted
    t = (np.arange(data.shape[1]) + 1) * sample_every * dt
    outputs = {name: data[i].copy() for i, name in enumerate(rnn.output_names)}
    check_finite(outputs, t, NAME, rnn.name)
    return Result(
        t=t, outputs=outputs, backend=NAME, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": wall, "target": target, "method": method if neurons == "rate" else "spikes",
              "max_rate": max_rate if neurons in ("regular", "poisson") else None, "interrupted": interrupted,
              "steps": data.shape[1] * sample_every, **build_info},
    )


def _runtime(rnn: ProgrammedRNN, stim: np.ndarray, n_steps: int, *, neurons: str, dt: float, method: str,
             max_rate: float, r0: np.ndarray, phases: np.ndarray | None, sample_every: int, n_spk: int, seed: int,
             target: str, progress: Progress | None) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Run on a runtime target (numpy, cython): ``(records, spike counts, interrupted)``."""
    raw, spikes, interrupted = np.zeros((len(rnn.output_names), 0)), None, False
    with _target(target, None):
        b2.seed(seed)
        b2.defaultclock.dt = dt * b2.second
        try:
            # fixed names: the generated code of the same network is the same in every run (Cython's cache)
            net, parts = build(rnn, stim, neurons=neurons, dt=dt, method=method, max_rate=max_rate, r0=r0,
                               phases=phases, sample_every=sample_every, record_spikes=n_spk, fixed_names=True)
        except KeyboardInterrupt:  # Ctrl-C while the network is being built: nothing simulated
            net, parts, interrupted = None, {}, True
        if net is not None:
            with _StopOnInterrupt(net) as stop:
                try:
                    net.run((n_steps + 1) * dt * b2.second, namespace={},  # never the caller's locals
                            **_report(progress, n_steps, target))
                except KeyboardInterrupt:  # runtime targets: keep what was simulated
                    stop.interrupted = True
            # a stopped network (Ctrl-C; Brian2's own handler too) returns normally, before the end
            interrupted = stop.interrupted or float(np.asarray(net.t_)) < (n_steps + 0.5) * dt
            raw = np.asarray(parts["outputs"].s)  # (n_out, records)
            # steps simulated (of n_steps + 1, the first one's record dropped)
            done = n_steps if not interrupted else min(n_steps, max(0, int(round(float(np.asarray(net.t_)) / dt))))
        if "spikes" in parts:
            mon = parts["spikes"]
            sign_of = {"regular": "v", "poisson": "a"}.get(neurons)
            spikes = _count_spikes(np.asarray(mon.t / b2.second), np.asarray(mon.i),
                                   np.asarray(getattr(mon, sign_of)) if sign_of else None, neurons, dt, done, n_spk)
        elif n_spk and net is None:
            spikes = np.zeros((0, n_spk), dtype=np.int16)
    return raw, spikes, interrupted


def _count_spikes(t: np.ndarray, i: np.ndarray, at_spike: np.ndarray | None, neurons: str, dt: float, done: int,
                  n_spk: int) -> np.ndarray:
    """Signed spike counts per step ``(done, n_spk)`` from a SpikeMonitor's times (s), indices and
    the variable that signs a spike (``v`` regular, ``a`` Poisson; read at the spike, before the reset)."""
    # spikes during step n (t in [n dt, (n+1) dt), LIF substeps included): row n
    steps = np.floor(t / dt + 1e-9).astype(np.int64)
    counts = np.zeros((done, n_spk), dtype=np.int16)
    if neurons in ("regular", "poisson"):
        assert at_spike is not None  # recorded for these modes
        sign = np.where(at_spike > 1, 1, -1) if neurons == "regular" else np.sign(at_spike)
    else:
        sign = np.ones(len(steps))
    keep = (steps >= 0) & (steps < done)
    np.add.at(counts, (steps[keep], i[keep]), sign[keep].astype(np.int16))
    return counts


# ----------------------------------------------------------------------------------------------
# cpp_standalone: built projects kept and run again

#: How many built standalone projects (binary, and the Brian2 objects that name its variables)
#: are kept for reuse in this process (least recently used first out; 0: build every run).
CACHE_SIZE = 4
_CACHE: "OrderedDict[tuple, _Project]" = OrderedDict()
#: cpp_standalone on x86-64 glibc >= 2.35: let GCC call glibc's vector math (libmvec: tanh, exp, log
#: 2 or 4 values per call).  Brian2 compiles with -ffast-math -fno-finite-math-only, which leaves
#: ``__FAST_MATH__`` undefined, so <math.h> does not declare the vector variants and every ``tanh``
#: is a scalar libm call.  Measured: 4-5x fewer ns per tanh; largest error against a correctly
#: rounded tanh 2.3e-16 relative (libm's own: 3.7e-16), 2e6 points in [-20, 20].
VECTOR_MATH = True


def _vector_math() -> bool:
    import platform

    if not VECTOR_MATH or platform.system() != "Linux" or platform.machine() != "x86_64":
        return False
    lib, version = platform.libc_ver()
    try:
        return lib == "glibc" and tuple(int(v) for v in version.split(".")[:2]) >= (2, 35)
    except ValueError:
        return False


#: Counters of this process's standalone runs: ``"builds"`` (projects generated and compiled), ``"reuses"``.
STATS = {"builds": 0, "reuses": 0}


class _Project:
    """A built standalone project: its device, the objects whose variables are run_args, the folder."""

    def __init__(self, device: Any, parts: dict[str, Any], directory: str, tmp: Any) -> None:
        self.device, self.parts, self.directory, self._tmp = device, parts, directory, tmp

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def clear_cache() -> None:
    """Forget the built standalone projects (their temporary folders are removed)."""
    while _CACHE:
        _CACHE.popitem(last=False)[1].close()


def _digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=float))
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _standalone(rnn: ProgrammedRNN, stim: np.ndarray, constant: bool, n_steps: int, *, neurons: str, dt: float,
                method: str, max_rate: float, r0: np.ndarray, phases: np.ndarray | None, sample_every: int,
                n_spk: int, seed: int, build_dir: str | None) -> tuple[np.ndarray, tuple | None, dict]:
    """Run on cpp_standalone, building the project only if this network has not been built before.

    The key is what the binary's code and static data depend on: the network's weights and
    biases, the mode, dt, recording, the input table's shape (held inputs: two rows for any
    length), the seed for Poisson units (their random numbers), Brian2's compiler preferences and
    ``build_dir``.  The initial state (``r0``, the phases, the filtered signals), the input values
    and the run's length (``signals.T_run``: the network's run statement reads it) are the
    binary's ``run_args``.
    """
    prefs = b2.prefs
    key = (_digest(rnn.W_rec, rnn.W, rnn.B_rec, rnn.B_ext, rnn.d), rnn.gamma,
           repr(sorted(rnn.info.get("activation", {}).items())),
           neurons, dt, method, max_rate, sample_every, n_spk, stim.shape, seed if neurons == "poisson" else None,
           prefs["devices.cpp_standalone.openmp_threads"], repr(prefs["codegen.cpp.extra_compile_args_gcc"]),
           _vector_math(), build_dir)
    project = _CACHE.get(key) if CACHE_SIZE > 0 else None
    built = project is None
    t0 = time.perf_counter()
    if built:
        project = _build_standalone(rnn, stim, neurons=neurons, dt=dt, method=method, max_rate=max_rate, r0=r0,
                                    phases=phases, sample_every=sample_every, n_spk=n_spk, seed=seed,
                                    build_dir=build_dir)
        if CACHE_SIZE > 0:
            _CACHE[key] = project
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)[1].close()
        STATS["builds"] += 1
    else:
        _CACHE.move_to_end(key)
        STATS["reuses"] += 1
    build_s = time.perf_counter() - t0
    assert project is not None  # built above, or found in the cache
    parts, device = project.parts, project.device
    units, signals = parts["units"], parts["signals"]
    W = np.vstack([rnn.W_rec, rnn.W])
    args: dict[Any, Any] = {signals.T_run: (n_steps + 1) * dt * b2.second}
    if neurons == "rate":
        args[units.r] = np.asarray(r0, dtype=float)
    else:
        args[signals.s] = W @ np.asarray(r0)
        if phases is not None and neurons in ("regular", "lif"):
            args[units.v] = np.asarray(phases, dtype=float)
    if rnn.input_names:
        args[parts["stim"]] = np.asarray(stim, dtype=float)
    t1 = time.perf_counter()
    stop = _Interrupted()
    try:
        with stop:  # Ctrl-C stops the binary (its own handler); the run is whole or not at all
            device.run(project.directory, with_output=False, run_args=args)
        if stop.interrupted:
            raise KeyboardInterrupt
    finally:
        for name in device.run_args_arrays:  # this run's initial values and inputs, written as files
            for f in (name, name + ".lock"):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(project.directory, "static_arrays", f))
        device.run_args_arrays.clear()
    run_s = time.perf_counter() - t1

    def read(var: Any) -> np.ndarray:
        return np.fromfile(os.path.join(device.results_dir, device.get_array_filename(var)), dtype=var.dtype)

    n_out = len(rnn.output_names)
    raw = read(parts["outputs"].variables["s"]).reshape(-1, n_out).T  # (n_out, records)
    mon = None
    if "spikes" in parts:
        sm = parts["spikes"]
        sign_of = {"regular": "v", "poisson": "a"}.get(neurons)
        mon = (read(sm.variables["t"]), read(sm.variables["i"]).astype(np.int64),
               read(sm.variables[sign_of]) if sign_of else None)
    return raw, mon, {"standalone": {"built": built, "build_seconds": build_s, "binary_seconds": run_s,
                                     "directory": project.directory}}


def _build_standalone(rnn: ProgrammedRNN, stim: np.ndarray, *, neurons: str, dt: float, method: str,
                      max_rate: float, r0: np.ndarray, phases: np.ndarray | None, sample_every: int, n_spk: int,
                      seed: int, build_dir: str | None) -> _Project:
    """Generate and compile the standalone project of a network (a device of its own, kept with it)."""
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    from brian2.devices.device import reset_device

    tmp = None
    if build_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="npl_nengo_brian2_")
        directory = tmp.name
    else:
        directory = os.path.abspath(build_dir)
    device = CPPStandaloneDevice()
    saved = {name: b2.prefs[name] for name in ("codegen.cpp.extra_compile_args_gcc", "codegen.cpp.libraries")}
    if _vector_math():
        b2.prefs["codegen.cpp.extra_compile_args_gcc"] = [*saved["codegen.cpp.extra_compile_args_gcc"], "-D__FAST_MATH__"]
        b2.prefs["codegen.cpp.libraries"] = [*saved["codegen.cpp.libraries"], "mvec"]
    b2.start_scope()
    b2.set_device(device, directory=directory, build_on_run=False)
    try:
        b2.seed(seed)
        b2.defaultclock.dt = dt * b2.second
        net, parts = build(rnn, stim, neurons=neurons, dt=dt, method=method, max_rate=max_rate, r0=r0,
                           phases=phases, sample_every=sample_every, record_spikes=n_spk, fixed_names=True)
        net.run(1 * dt * b2.second, namespace={})  # the length here is a placeholder: see below
        # the run statement reads the run's length from signals.T_run, set on the binary's command line
        at = max(i for i, (kind, _) in enumerate(device.main_queue) if kind == "run_network")
        run_net, run_lines = device.main_queue[at][1]
        literal = f"{run_net.name}.run({float(1 * dt)!r},"
        T_run = device.get_array_name(parts["signals"].variables["T_run"])
        lines = [line.replace(literal, f"{run_net.name}.run({T_run}[0],") for line in run_lines]
        if lines == run_lines:  # pragma: no cover - Brian2's generated run statement changed
            raise BackendUnavailable(f"brian2 {b2.__version__}: cannot set the standalone run's length")
        device.main_queue[at] = ("run_network", (run_net, lines))
        device.build(directory=directory, compile=True, run=False, debug=False)
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    finally:
        reset_device()  # back to the device before (set_device pushed it)
        for name, value in saved.items():
            b2.prefs[name] = value
    device.static_arrays.clear()  # written to the project; the memory is not needed again
    return _Project(device, parts, directory, tmp)


class _StopOnInterrupt:
    """Ctrl-C during ``net.run``: stop the network at the end of the step it is in.

    Brian2 installs a SIGINT handler of its own on import that stops a running network, but it
    depends on a preference (``core.stop_on_keyboard_interrupt``), logs a warning, and raises
    ``KeyboardInterrupt`` wherever the code is while the network is still being prepared (code
    generation), where it may be swallowed by a callback.  This one is installed for the run only
    (from the main thread; elsewhere Brian2's stays): the first Ctrl-C asks the network to stop
    (``net.stop()``, applied again after ``before_run``, which clears it, so a Ctrl-C during code
    generation ends the run before its first step); a second one raises ``KeyboardInterrupt``.
    """

    def __init__(self, net: Any) -> None:
        self.net, self.interrupted = net, False
        self._installed = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.net.stop()

    def __enter__(self) -> "_StopOnInterrupt":
        net, before_run = self.net, self.net.before_run

        def before_run_then_stop(*args: Any, **kwargs: Any) -> Any:
            result = before_run(*args, **kwargs)
            if self.interrupted:  # before_run clears a stop asked for before it
                net.stop()
            return result

        net.before_run = before_run_then_stop
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
            except ValueError:  # not the main interpreter's main thread
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)
        self.net.__dict__.pop("before_run", None)


class _Interrupted:
    """Ctrl-C while the standalone binary runs (it gets the signal too and stops): remember it."""

    def __init__(self) -> None:
        self.interrupted, self._installed = False, False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.interrupted = True

    def __enter__(self) -> "_Interrupted":
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(ValueError):
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)


class _target:
    """Select a Brian2 runtime code-generation target for one run and restore the previous one after."""

    def __init__(self, target: str, build_dir: str | None = None):
        self.target = target

    def __enter__(self) -> "_target":
        self._saved = b2.prefs.codegen.target
        b2.start_scope()
        b2.prefs.codegen.target = self.target
        return self

    def __exit__(self, *exc: object) -> None:
        b2.prefs.codegen.target = self._saved
