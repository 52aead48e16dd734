"""The NengoDL backend: the nengo backend's network on ``nengo_dl.Simulator``.

No second copy of network code: the network is :func:`npl_nengo.backends.nengo.build`
(or the NEF route's :func:`~npl_nengo.backends.nengo.build_nef`), simulated by TensorFlow.

* **Batches.** ``inputs`` may be a list of input dicts: every trial runs in
  one call through NengoDL's minibatch dimension (each input's source Node is
  fed an array of shape ``(trials, steps, 1)``); the Result's outputs then
  have shape ``(trials, samples)`` (``result.trial(i)`` is one trial).
* **Precision.** ``dtype="float32"`` (NengoDL's default) or ``"float64"``.
  Measured against the nengo reference simulator on the same network: float32
  agrees to ~3e-7 (rate, sampled networks), float64 to ~1e-15.
* **Devices.** A GPU when TensorFlow sees one, the CPU otherwise (``device=``
  as NengoDL's: ``"/cpu:0"``, ``"/gpu:0"``).  TensorFlow's log noise and
  NengoDL's "no GPU" warning are silenced unless ``quiet=False``.

Where ``import nengo_dl`` fails (e.g. an unpinned ``pip install nengo-dl``
pulled TensorFlow >= 2.13, whose Keras no longer has what NengoDL 3.6 imports),
the error is a :class:`~npl_nengo.errors.BackendUnavailable` naming the fix.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import warnings
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from ..errors import BackendUnavailable, ValidationError
from ..inputs import Inputs
from ..nef import NEFNetwork
from ..progress import Progress, check as check_progress
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN
from . import nengo as nengo_backend
from .nengo import build_nef

FIX = ("pip install 'nengo-dl==3.6.0' 'tensorflow==2.12.1' 'numpy==1.23.5' 'jax==0.4.13' 'jaxlib==0.4.13' "
       "(or: pip install -e '.[dl]'); NengoDL 3.6 imports only with TensorFlow 2.12.x, and an unpinned "
       "'pip install nengo-dl' installs a TensorFlow whose Keras it cannot import")


@contextlib.contextmanager
def _c_stderr_silenced():
    """Silence file descriptor 2 while importing: nengo_dl's import resets TensorFlow's C++ log
    level to 1, so TensorFlow prints "TF-TRT Warning: Could not find TensorRT" from C++ (which
    Python's warnings and logging cannot filter).  Import errors still surface: they are raised
    as BackendUnavailable after the descriptor is restored."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import_nengo_dl():
    # TensorFlow reads its C++ log level when it is first imported; import it before nengo_dl,
    # whose __init__ sets TF_CPP_MIN_LOG_LEVEL=1 (so TensorRT's "not found" warning would show).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with warnings.catch_warnings(), _c_stderr_silenced():
            # NengoDL 3.6 says it was tested up to nengo 3.2; the suite here checks it with 4.1.
            warnings.filterwarnings("ignore", message="This version of NengoDL has not been tested")
            import tensorflow as tf
            import nengo_dl
    except Exception as exc:  # ImportError, or Keras/TF version errors raised while importing
        raise BackendUnavailable(f"backend 'nengo_dl' cannot be imported ({type(exc).__name__}: {exc}). Fix: {FIX}") from None
    tf.get_logger().setLevel(logging.ERROR)
    return nengo_dl, tf


nengo_dl, tf = _import_nengo_dl()

NAME = "nengo_dl"
NEURONS = nengo_backend.NEURONS
DTYPES = ("float32", "float64")
#: The backend runs a list of input dicts as one minibatch (see npl_nengo.run).
BATCHES = True
#: Runs NEF networks (:func:`npl_nengo.nef`) as well.
NEF = True
#: Steps per ``sim.run_steps`` call.  Inputs are made and probes decimated chunk by chunk, so a long
#: run's memory is bounded by ``sample_every``; Ctrl-C between chunks returns the partial result.
CHUNK_STEPS = 1000
#: Bytes per recorded value (measured; :func:`npl_nengo.simulation.estimate`).
RECORD_BYTES = {"sample": 32, "spike": 32, "input": 0}

__all__ = ["NAME", "NEURONS", "DTYPES", "BATCHES", "run", "gpu_available"]


def gpu_available() -> bool:
    """Whether TensorFlow sees a GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


@contextlib.contextmanager
def _global_settings_restored():
    """Restore the process-wide settings ``nengo_dl.Simulator`` changes while it builds.

    NengoDL sets ``nengo.rc``'s float precision to its own dtype for the build and puts it back only
    on a normal return, so an exception or Ctrl-C inside the build left every later nengo run in the
    process in float32 (measured: nengo's euler run then 8e-5 off the reference instead of 1e-15).
    Keras' float type is restored too, for the same reason.
    """
    import nengo
    import tensorflow as tf

    bits, floatx = nengo.rc.get("precision", "bits"), tf.keras.backend.floatx()
    try:
        yield
    finally:
        nengo.rc.set("precision", "bits", bits)
        tf.keras.backend.set_floatx(floatx)


def _trials(inputs) -> list[dict]:
    if inputs is None or isinstance(inputs, Mapping):
        return [dict(inputs or {})]
    if isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)) and len(inputs) > 0 \
            and all(isinstance(x, Mapping) for x in inputs):
        return [dict(x) for x in inputs]
    raise ValidationError("nengo_dl: inputs must be a dict {name: value} or a non-empty list of such dicts (a batch)")


def _initials(initial: Any, n: int) -> list:
    """One initial-state spec per trial (a list gives one each; anything else is shared)."""
    if isinstance(initial, list):
        if len(initial) != n:
            raise ValidationError(f"nengo_dl: {len(initial)} initial states for {n} trials")
        return initial
    return [initial] * n


def _initial_state_kicks(net, rnn: ProgrammedRNN, initials: list, u0: np.ndarray, synapse: str, dt: float,
                         sample_every: int, first: dict) -> dict:
    """Per-trial initial states on a network whose filters start at trial 0's.

    The filters are linear and their state is shared by the minibatch, so a
    trial's difference ``delta`` of the decoded initial values is added by
    superposition: once unfiltered into the loop on step 1 (what the units
    read before the first filter update), and as the filter's own response
    ``a^k delta``, produced by a copy of the synapse fed ``delta a / b`` on
    step 1 (``y_k = a y_(k-1) + b x_k``: one-state filters).  Outputs get the
    same response through a probed copy; :func:`run` adds it.  ``first`` gets
    each kick node's step-1 values ``(trials, dims)``.
    """
    import nengo

    r0 = np.stack([rnn.initial_state(x, u) for x, u in zip(initials, u0)])  # (trials, N)
    g = rnn.gamma
    a = 1.0 - dt * g if synapse == "euler" else math.exp(-dt * g)
    b = 1.0 - a
    delta_loop = (r0 - r0[0]) @ np.asarray(rnn.W_rec).T  # (trials, k)
    delta_out = (r0 - r0[0]) @ np.asarray(rnn.W).T  # (trials, n_out)

    kick_probes = {}
    with net:
        if rnn.n_signals:
            now = nengo.Node(np.zeros(rnn.n_signals), label="initial states (step 1)")
            nengo.Connection(now, net.loop, synapse=None)
            later = nengo.Node(np.zeros(rnn.n_signals), label="initial states (decay)")
            nengo.Connection(later, net.loop, synapse=nengo_backend._synapse(synapse, g, dt, 0.0))
            first[now] = delta_loop
            first[later] = delta_loop * a / b
        out = nengo.Node(np.zeros(len(rnn.output_names)), label="initial outputs (decay)")
        first[out] = delta_out * a / b
        for i, name in enumerate(rnn.output_names):
            conn = nengo.Connection(out[i], net.outputs[name], synapse=nengo_backend._synapse(synapse, g, dt, 0.0))
            kick_probes[name] = nengo.Probe(conn, "output", sample_every=sample_every * dt)
    return kick_probes


def run(
    rnn: ProgrammedRNN | NEFNetwork,
    inputs: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    duration: float,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    synapse: Literal["zoh", "euler"] = "zoh",
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    dtype: Literal["float32", "float64"] = "float32",
    device: str | None = None,
    progress_bar: bool = False,
    quiet: bool = True,
    progress: Progress | None = None,
) -> Result:
    """Run ``rnn`` on ``nengo_dl.Simulator``; see :func:`npl_nengo.run`.

    Parameters
    ----------
    inputs
        One dict, or a list of dicts: a batch of trials run as one minibatch.
    synapse, max_rate
        As for the nengo backend (the network is the same).
    initial
        As for the nengo backend, or a list with one initial state per trial
        (e.g. many starts of an attractor; with ``inputs`` a dict the trials
        share it).
    sample_every
        Keep every n-th sample.
    record_spikes
        Record the spikes of the first n units (True: all), as signed counts
        per step (a batch: ``(trials, steps, units)``).
    dtype
        ``"float32"`` (default) or ``"float64"``.
    device
        NengoDL's ``device`` (``None``: a GPU if TensorFlow sees one).
    progress_bar
        NengoDL's build and run progress bars.
    quiet
        Silence TensorFlow's logging and NengoDL's warnings during the run.
    progress
        ``progress(done, total)`` steps (:mod:`npl_nengo.progress`), after each
        chunk of :data:`CHUNK_STEPS` steps.
    """
    import nengo

    if dtype not in DTYPES:
        raise ValidationError(f"nengo_dl: dtype {dtype!r} is not one of {DTYPES}")
    check_sample_every(sample_every, "nengo_dl")
    check_progress(progress, "nengo_dl")
    trials = _trials(inputs)
    batch = not (inputs is None or isinstance(inputs, Mapping))
    if isinstance(initial, list) and not batch:  # a batch of initial states
        trials, batch = [dict(trials[0]) for _ in initial], True
    n_steps = int(round(duration / dt))
    names = rnn.input_names
    signals = [Inputs(names, x, dt) for x in trials]  # validates every trial
    # The nengo backend's alignment: step k (t = k dt) uses the input at (k-1) dt.
    u_first = np.stack([s.at(np.zeros(1))[0] for s in signals]) if names else np.zeros((len(trials), 0))
    placeholders = {n: float(u_first[0, j]) for j, n in enumerate(names)}
    if isinstance(rnn, NEFNetwork):
        if neurons not in ("rate", "lif"):
            raise ValidationError(f"nengo_dl: an NEF network runs with neurons='lif' or 'rate', not {neurons!r}")
        net = build_nef(rnn, placeholders, neurons=neurons, dt=dt)
        ensembles = list(net.parts.values())
    else:
        initials = _initials(initial, len(trials))
        net = nengo_backend.build(rnn, placeholders, neurons=neurons, synapse=synapse, dt=dt, max_rate=max_rate,
                                  initial=initials[0], seed=seed)
        ensembles = [net.ensemble]
    n_total = sum(e.n_neurons for e in ensembles)
    n_spk = spike_units(record_spikes, neurons != "rate", n_total, NAME)
    with net:
        nengo_dl.configure_settings(dtype=dtype)
        probes = {name: nengo.Probe(conn, "output", sample_every=sample_every * dt)
                  for name, conn in net.output_connections.items()}
        spike_probes = nengo_backend.spike_probes_for(ensembles, n_spk)
    first: dict = {}  # kick nodes: values on step 1 only
    kick_probes = {}
    if not isinstance(rnn, NEFNetwork) and any(x is not initials[0] for x in initials):
        kick_probes = _initial_state_kicks(net, rnn, initials, u_first, synapse, dt, sample_every, first)

    def chunk_data(k0: int, k1: int) -> dict:
        data = {}
        if names:
            u = np.stack([s.at(np.arange(k0, k1) * dt) for s in signals])  # (trials, steps, inputs)
            data.update({net.sources[n]: u[:, :, j : j + 1] for j, n in enumerate(names)})
        for node, values in first.items():
            arr = np.zeros((len(trials), k1 - k0, values.shape[1]))
            if k0 == 0:
                arr[:, 0, :] = values
            data[node] = arr
        return data

    start = time.perf_counter()
    done, interrupted = 0, False
    raw: dict[str, np.ndarray] = {name: np.zeros((len(trials), 0)) for name in probes}
    spikes = None
    build_seconds = 0.0
    with warnings.catch_warnings():
        # LIF units built with gain 1 and bias d: nengo derives max_rates for its report and warns for
        # units that never fire at x = 0 (harmless; the nengo backend hides them too)
        warnings.filterwarnings("ignore", message="Non-finite values detected in `max_rates`")
        warnings.filterwarnings("ignore", message="invalid value encountered in log1p")
        if quiet:
            warnings.filterwarnings("ignore", message="No GPU support detected")
            warnings.filterwarnings("ignore", category=UserWarning, module="nengo_dl")
        try:
            with _global_settings_restored():
                sim = nengo_dl.Simulator(net, dt=dt, seed=seed, minibatch_size=len(trials), device=device,
                                         progress_bar=progress_bar)
        except KeyboardInterrupt:  # Ctrl-C while TensorFlow builds the graph: nothing simulated
            sim, interrupted = None, True
        build_seconds = time.perf_counter() - start
        if sim is not None:
            with sim:
                try:
                    while done < n_steps:
                        n = min(CHUNK_STEPS, n_steps - done)
                        sim.run_steps(n, data=chunk_data(done, done + n) or None, progress_bar=progress_bar)
                        done += n
                        if progress is not None:
                            progress(done, n_steps)
                except KeyboardInterrupt:
                    interrupted = True

                def probed(p) -> np.ndarray:  # (trials, samples, dims); nothing yet if interrupted at once
                    return np.asarray(sim.data[p]) if done >= sample_every else np.zeros((len(trials), 0, 1))

                raw = {name: probed(p)[:, :, 0] for name, p in probes.items()}  # (trials, samples)
                # a chunk cut short by Ctrl-C may have left data in some probes: keep the steps done
                spikes = nengo_backend.spike_counts([np.asarray(sim.data[p])[:, :done] for p in spike_probes],
                                                    ensembles, dt) if done else None
                for name, p in kick_probes.items():  # per-trial initial states (linear superposition)
                    raw[name] = raw[name][:, : done // sample_every] + probed(p)[:, : done // sample_every, 0]
    if spikes is None and spike_probes:  # Ctrl-C before the first step
        spikes = np.zeros((len(trials), 0, n_spk), dtype=np.int16)
    wall = time.perf_counter() - start
    n_rec = done // sample_every
    t = (np.arange(n_rec) + 1) * sample_every * dt
    outputs = {name: v[:, :n_rec] if batch else v[0, :n_rec] for name, v in raw.items()}
    check_finite(outputs, t, NAME, rnn.name)
    if spikes is not None and not batch:
        spikes = spikes[0]
    return Result(
        t=t, outputs=outputs, backend=NAME, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": wall, "build_seconds": build_seconds, "trials": len(trials) if batch else None,
              "dtype": dtype, "device": device or ("/gpu:0" if gpu_available() else "/cpu:0"),
              "synapse": synapse if not isinstance(rnn, NEFNetwork) else "nef",
              "max_rate": max_rate if neurons != "rate" else None, "interrupted": interrupted, "steps": done},
    )
