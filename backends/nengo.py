"""The Nengo backend: a ProgrammedRNN as a neuron-level ``nengo.Network``.

The network is the ProgrammedRNN's numbers placed in nengo objects, nothing
re-solved (docs/method.md §7, spiking deployment):

* one ``Ensemble`` of N units, ``neuron_type=Tanh(tau_ref=1)`` (rate
  ``tanh(J)``), ``gain=1``, ``bias=d``; its 1-D represented value is unused;
* every external input is a passthrough ``Node`` (``net.inputs[name]``);
* the loop: ``ens.neurons`` -> a k-dimensional passthrough ``Node``
  (``net.loop``, the decoded fed-back signals) through ``W_rec`` with the
  synapse;
* ``net.loop`` and the inputs fill one (k + m)-dimensional passthrough ``Node``
  (``net.drive``: the fed-back signals, then the inputs in ``rnn.input_names``
  order), which enters ``ens.neurons`` through ONE connection with transform
  ``[B_rec B_ext]`` (O(N (k + m)), never an N x N transform; one connection
  into the units, not one per input, keeps NengoDL's step near a plain
  ensemble's: benchmarks/nengo_dl_overhead.py);
* every named output is a passthrough ``Node`` (``net.outputs[name]``): the
  readout ``W r`` leaves ``ens.neurons`` through ONE connection into
  ``net.readout`` (unfiltered), and ``net.readout[i]`` reaches
  ``net.outputs[name]`` through the same synapse (``net.output_connections[name]``).

The synapse is the unit's leak ``dr/dt = gamma (a - r)`` moved onto the
decoded signals (it is linear, so filtering ``W_rec r`` equals ``W_rec``
times the filtered rates):

* ``"zoh"``: ``nengo.Lowpass(1/gamma)``, the exact (zero-order-hold)
  discretization, the one a Nengo user would write;
* ``"euler"``: ``LinearFilter([dt g], [1, -(1 - dt g)], analog=False)``, which
  makes a rate run reproduce the reference backend's ``integrator="euler"``
  to rounding.

Both start from the run's initial state (the filter state and its output
signal are set to ``W_rec r0`` and ``W r0``: :class:`InitialFilter`), so a run
begins where the reference backend does.

Neuron modes: ``"rate"``; ``"regular"``, ``"poisson"``, ``"stochastic"``:
nengo's spiking wrappers around ``Tanh(tau_ref=1/max_rate)`` with spike
amplitude ``1/max_rate`` (signed spikes: a unit with ``tanh(J) < 0`` emits
negative spikes, as in the reference backend); ``"lif"``: ``nengo.LIF`` for
networks compiled with ``activation="lif"``.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from typing import Any, Literal, Mapping, Sequence

import nengo
import numpy as np

from .. import validation
from ..errors import ValidationError
from ..inputs import Inputs
from ..nef import INPUT_SYNAPSE, OUTPUT_SYNAPSE, NEFNetwork, _eval_points, _half_widths, _rate_type, nef
from ..program import Circuit, Program
from ..progress import Progress, check as check_progress, nengo_bar
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

NAME = "nengo"
NEURONS = ("rate", "regular", "poisson", "stochastic", "lif")
#: Runs NEF networks (:func:`npl_nengo.nef`) as well.
NEF = True
SYNAPSES = ("zoh", "euler")
#: Bytes per recorded value (measured; :func:`npl_nengo.simulation.estimate`): a probe keeps every
#: sample as its own small array (~100 bytes each) until the run ends, then copies them into one.
RECORD_BYTES = {"sample": 256, "spike": 40, "input": 0}

__all__ = ["NAME", "NEURONS", "SYNAPSES", "build", "build_nef", "to_nengo", "neuron_type", "run", "InitialFilter"]


class InitialFilter(nengo.LinearFilter):
    """A ``nengo.LinearFilter`` whose output starts at ``y0`` instead of 0.

    Nengo's builder always starts a synapse at rest; a programmed network
    must start from its initial state, so this filter passes ``y0`` to
    :meth:`nengo.LinearFilter.make_state` (nengo_dl uses the same state).
    """

    def __init__(self, num, den, y0=0.0, **kwargs):
        super().__init__(num, den, **kwargs)
        self._y0 = np.asarray(y0, dtype=float)

    def make_state(self, shape_in, shape_out, dt, dtype=None, y0=None):
        return super().make_state(shape_in, shape_out, dt, dtype=dtype, y0=self._y0 if y0 is None else y0)


@nengo.builder.Builder.register(InitialFilter)
def _build_initial_filter(model, synapse: InitialFilter, sig_in, sig_out=None, mode: str = "update"):
    """Build an :class:`InitialFilter` with its output signal starting at ``y0`` too.

    Nengo's builder creates a synapse's output signal at 0 and the filter writes
    its state into it only at the end of step 1, so the units would see a zero
    loop on step 1; nengo_dl even keeps a one-state filter's state in that
    signal.  Starting the signal at ``y0`` makes both simulators start where
    the reference backend does.
    """
    from nengo.builder.processes import build_process
    from nengo.builder.signal import Signal

    if sig_out is None:
        y0 = np.array(np.broadcast_to(synapse._y0, sig_in.shape), dtype=sig_in.dtype)
        sig_out = Signal(initial_value=y0, name=f"{sig_in.name}.{synapse}")
    return build_process(model, synapse, sig_in, sig_out, mode=mode)


def _synapse(kind: str, gamma: float, dt: float, y0) -> InitialFilter:
    if kind == "zoh":
        return InitialFilter([1.0], [1.0 / gamma, 1.0], y0=y0)
    if kind == "euler":
        a = dt * gamma
        if not 0 < a <= 1:
            raise ValidationError(f"nengo: synapse='euler' needs dt*gamma <= 1 (got dt={dt}, gamma={gamma})")
        return InitialFilter([a], [1.0, -(1.0 - a)], y0=y0, analog=False)
    raise ValidationError(f"nengo: synapse {kind!r} is not one of {SYNAPSES}")


def neuron_type(rnn: ProgrammedRNN, neurons: str = "rate", max_rate: float = 1000.0) -> nengo.neurons.NeuronType:
    """The nengo neuron type of a neuron mode for ``rnn``.

    Rates are in units of the ProgrammedRNN (``tanh(J)``), so a spiking
    unit fires ``max_rate * tanh(J)`` signed spikes per second, each of
    amplitude ``1/max_rate``.
    """
    activation = rnn.activation
    if neurons == "lif" or activation == "lif":
        if activation != "lif":
            raise ValidationError(
                f"nengo: neurons='lif' needs a network compiled for LIF units "
                f"(npl_nengo.compile(..., method='sampled', activation='lif')); {rnn.name!r} has tanh units"
            )
        lif = rnn.info["activation"]
        params = dict(tau_rc=lif["tau_rc"], tau_ref=lif["tau_ref"], amplitude=lif["amplitude"])
        if neurons == "rate":
            return nengo.LIFRate(**params)
        if neurons == "lif":
            return nengo.LIF(**params)
        raise ValidationError(f"nengo: a LIF network runs with neurons='rate' or 'lif', not {neurons!r}")
    if neurons == "rate":
        return nengo.Tanh(tau_ref=1.0)
    max_rate = validation.number(max_rate, "max_rate", "nengo", positive=True, unit="Hz")
    base = nengo.Tanh(tau_ref=1.0 / max_rate)
    amplitude = 1.0 / max_rate
    if neurons == "regular":
        return nengo.RegularSpiking(base, amplitude=amplitude)
    if neurons == "poisson":
        return nengo.PoissonSpiking(base, amplitude=amplitude)
    if neurons == "stochastic":
        return nengo.StochasticSpiking(base, amplitude=amplitude)
    raise ValidationError(f"nengo: neurons {neurons!r} is not one of {NEURONS}")


def _source(value: Any, dt: float, delay: float = 0.0):
    """A Node output for an input value (arrays: sample ``i`` covers ``[i dt, (i+1) dt)``)."""
    if callable(value):
        return (lambda t: value(t - delay)) if delay else value
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    arr = arr.reshape(-1)
    return lambda t: arr[min(max(int(math.floor((t - delay) / dt + 1e-9)), 0), len(arr) - 1)]


def _ensemble_seed(seed: int | None, n_connections: int) -> int | None:
    """The seed nengo gave the ensemble when the build made ``n_connections`` connections before it.

    Nengo seeds a network's connections before its ensembles, one draw each, so the units' seed
    (spiking phases, LIF start voltages) moved with the number of connections.  The build wired one
    connection per input and per output until the wiring changed (one connection into and one out of
    the units); the seed is pinned to the old count so a seeded run reproduces earlier ones.
    """
    if seed is None:
        return None
    from nengo.utils.numpy import maxint

    rng = np.random.RandomState(seed)
    for _ in range(n_connections):
        rng.randint(maxint)
    return int(rng.randint(maxint))


def build(
    rnn: ProgrammedRNN,
    inputs: Mapping[str, Any] | None = None,
    neurons: str = "rate",
    synapse: str = "zoh",
    dt: float = 1e-3,
    max_rate: float = 1000.0,
    initial: Any = None,
    seed: int | None = 0,
    label: str | None = None,
    add_to_container: bool | None = None,
    align: bool = False,
) -> nengo.Network:
    """Build the neuron-level ``nengo.Network`` of ``rnn``.

    Parameters
    ----------
    inputs
        ``{input name: value}`` (number, array with one sample per step, or
        callable of t): a source Node per input feeding ``net.inputs[name]``
        (a constant becomes a slider in the Nengo GUI).  Inputs left out stay
        open for the user to connect.
    neurons, max_rate
        Neuron mode (see :func:`neuron_type`).
    synapse
        ``"zoh"`` or ``"euler"`` (see the module docstring).
    dt
        The simulator's time step (the ``"euler"`` filter depends on it).
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`).
    seed
        Seed of the network (spike phases, Poisson draws).
    align
        Feed every source one step late (``u(t - dt)``): nengo's step k (at
        ``t = k dt``) moves the state from step k-1 to k, which the reference
        backend does with the input at ``(k-1) dt``.  For exact comparisons.

    Returns
    -------
    nengo.Network
        With ``net.ensemble``, ``net.inputs``, ``net.outputs``, ``net.loop``,
        ``net.drive``, ``net.readout`` and ``net.output_connections`` (``{name: Connection}``; probe their
        ``"output"`` for the value without the passthrough Node's step).
    """
    if not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"nengo: expected a ProgrammedRNN, got {type(rnn).__name__}")
    inputs = dict(inputs or {})
    unknown = [k for k in inputs if k not in rnn.input_names]
    if unknown:
        raise ValidationError(f"nengo: {unknown[0]!r} is not an input of {rnn.name!r} (inputs: {list(rnn.input_names) or 'none'})")
    # validated as every backend does; inputs left open count as 0 at t=0
    u0 = Inputs(rnn.input_names, {n: inputs.get(n, 0.0) for n in rnn.input_names}, dt).at(np.zeros(1))[0]
    ntype = neuron_type(rnn, neurons, max_rate)
    r0 = rnn.initial_state(initial, u0)
    N, k = rnn.n_neurons, rnn.n_signals
    net = nengo.Network(label=label or rnn.name, seed=seed, add_to_container=add_to_container)
    m = len(rnn.input_names)
    with net:
        net.ensemble = nengo.Ensemble(
            N, 1, neuron_type=ntype, gain=np.ones(N), bias=np.asarray(rnn.d), label=f"{rnn.name} ({N} units)",
            seed=_ensemble_seed(seed, m + len(inputs) + 2 * bool(k) + len(rnn.output_names)),
        )
        # The loop and every input reach the units through ONE connection (net.drive, k + m dims,
        # transform [B_rec B_ext]): NengoDL merges several connections into ens.neurons into one
        # scatter-add over N-vectors, which cost 20-50x a plain ensemble's step
        # (benchmarks/nengo_dl_overhead.py).
        net.drive = nengo.Node(size_in=k + m, label="fed-back signals and inputs") if k + m else None
        if net.drive is not None:
            nengo.Connection(net.drive, net.ensemble.neurons, synapse=None,
                             transform=np.hstack([np.asarray(rnn.B_rec).reshape(N, k), np.asarray(rnn.B_ext).reshape(N, m)]))
        net.inputs = {}
        net.sources = {}
        for j, name in enumerate(rnn.input_names):
            node = nengo.Node(size_in=1, label=name)
            nengo.Connection(node, net.drive[k + j], synapse=None)
            net.inputs[name] = node
            if name in inputs:
                src = nengo.Node(_source(inputs[name], dt, dt if align else 0.0), label=f"{name} (slider)")
                nengo.Connection(src, node, synapse=None)
                net.sources[name] = src
        net.loop = None
        if k:
            net.loop = nengo.Node(size_in=k, label="fed-back signals")
            nengo.Connection(
                net.ensemble.neurons, net.loop, transform=np.asarray(rnn.W_rec),
                synapse=_synapse(synapse, rnn.gamma, dt, rnn.W_rec @ r0),
            )
            nengo.Connection(net.loop, net.drive[:k], synapse=None)
        net.outputs = {}
        net.output_connections = {}
        # The readout W r leaves the units through ONE connection (net.readout, unfiltered; one
        # connection per output row made NengoDL merge them into a gathered product, ~3 ms per step
        # at N = 1e5); each output's synapse sits on its own 1-D connection, which the run probes.
        n_out = len(rnn.output_names)
        net.readout = nengo.Node(size_in=n_out, label="readout W r") if n_out else None
        if net.readout is not None:
            nengo.Connection(net.ensemble.neurons, net.readout, transform=np.asarray(rnn.W).reshape(n_out, N),
                             synapse=None)
        for i, name in enumerate(rnn.output_names):
            node = nengo.Node(size_in=1, label=name)
            net.output_connections[name] = nengo.Connection(
                net.readout[i], node, synapse=_synapse(synapse, rnn.gamma, dt, rnn.W[i : i + 1] @ r0),
            )
            net.outputs[name] = node
    return net


def simulate(
    net: nengo.Network,
    probes: Mapping[str, nengo.Probe],
    duration: float,
    dt: float,
    seed: int,
    sample_every: int,
    simulator: Any = None,
    progress: Progress | None = None,
    **sim_options: Any,
) -> tuple[np.ndarray, dict[str, np.ndarray], bool, float, float]:
    """Run ``net`` and read ``probes``; returns ``(t, data, interrupted, wall_seconds, build_seconds)``.

    ``simulator`` defaults to ``nengo.Simulator``; ``progress`` (see
    :mod:`npl_nengo.progress`) sees the steps through nengo's progress bar.  Ctrl-C returns what was
    simulated so far (``interrupted=True``), nothing if it came while the
    simulator was being built.  Every probe's data then ends at the same step
    (a step cut short by Ctrl-C may have been recorded by some probes and not
    by others), and ``t`` has as many samples as the probes of period
    ``sample_every``.
    """
    simulator = simulator or nengo.Simulator
    n_steps = int(round(duration / dt))
    start = time.perf_counter()
    interrupted = False
    sim = None
    seen = _SigintSeen()
    try:
        with warnings.catch_warnings(), seen:
            # Ensemble(gain=1, bias=d) of LIF units: nengo derives max_rates for its
            # report and warns for units that never fire at x=0; harmless here.
            warnings.filterwarnings("ignore", message="Non-finite values detected in `max_rates`")
            warnings.filterwarnings("ignore", message="invalid value encountered in log1p")
            sim = simulator(net, dt=dt, seed=seed, progress_bar=False, **sim_options)
    except KeyboardInterrupt:  # while building: nothing simulated
        interrupted = True
    if sim is not None and seen.seen:  # a Ctrl-C whose KeyboardInterrupt was swallowed (below): honour it
        sim.close()
        sim, interrupted = None, True
    build_seconds = time.perf_counter() - start
    if sim is None:
        data = {name: np.zeros((0, p.size_in)) for name, p in probes.items()}
        return np.zeros(0), data, interrupted, time.perf_counter() - start, build_seconds
    with sim:
        try:
            if progress is None:
                sim.run_steps(n_steps)
            else:
                sim.run_steps(n_steps, progress_bar=nengo_bar(progress))
        except KeyboardInterrupt:
            interrupted = True
        raw = {name: np.asarray(sim.data[p]) for name, p in probes.items()}
        # The steps every probe has seen in full: a probe of period m with n samples has seen at
        # most n m + m - 1 steps.  int(): nengo_ocl counts its steps in a float32 signal.
        period = {name: max(1, int(round(p.sample_every / dt))) if p.sample_every else 1 for name, p in probes.items()}
        steps = min([int(sim.n_steps)] + [len(raw[k]) * period[k] + period[k] - 1 for k in raw])
        data = {name: (v if v.size else np.zeros((0, probes[name].size_in)))[: steps // period[name]]
                for name, v in raw.items()}
        # not sim.trange(): it builds an array of every step (16 MiB per 10^6 steps) to pick the samples
        t = (np.arange(steps // sample_every) + 1) * (sample_every * dt)
    return t, data, interrupted, time.perf_counter() - start, build_seconds


def _optimize(simulator: Any, optimize: bool, backend_name: str) -> dict[str, bool]:
    """The ``optimize`` argument for ``simulator``'s constructor: nengo's own simulator (and its
    subclasses) take it; another ``nengo.Simulator``-compatible class (``nengo_dl.Simulator``,
    ``nengo_loihi.Simulator``) gets nothing, and asking it to optimize is an error."""
    if simulator is None or (isinstance(simulator, type) and issubclass(simulator, nengo.Simulator)):
        return {"optimize": optimize}
    if optimize:
        raise ValidationError(f"{backend_name}: optimize=True is an option of nengo.Simulator; "
                              f"{getattr(simulator, '__qualname__', simulator)!r} does not take it")
    return {}


class _SigintSeen:
    """Records a Ctrl-C (SIGINT) while the simulator is built, then lets it raise as before.

    The KeyboardInterrupt a Ctrl-C raises is lost when it lands inside a garbage
    collector callback (jax installs one, and nengo's builder collects often): Python
    reports it as "unraisable" and goes on building.  The record lets :func:`simulate`
    treat the build as interrupted all the same.  Main thread only (where signals go).
    """

    def __init__(self) -> None:
        self.seen, self._installed = False, False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.seen = True
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> "_SigintSeen":
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
            except ValueError:  # not the main interpreter
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


def spike_probes_for(ensembles: Sequence[nengo.Ensemble], n: int) -> list[nengo.Probe]:
    """Probes on the neuron output of the first ``n`` units across ``ensembles`` (inside a ``with net:``)."""
    probes, left = [], n
    for ens in ensembles:
        if left <= 0:
            break
        probes.append(nengo.Probe(ens.neurons[: min(left, ens.n_neurons)], "output"))
        left -= ens.n_neurons
    return probes


def spike_counts(data: Sequence[np.ndarray], ensembles: Sequence[nengo.Ensemble], dt: float) -> np.ndarray | None:
    """Signed spike counts per step (int16) from the probes of :func:`spike_probes_for`.

    Nengo's spike output is ``amplitude / dt`` per spike; the last axis is the unit.
    """
    if not data:
        return None
    amps = [getattr(e.neuron_type, "amplitude", 1.0) for e in ensembles]
    return np.concatenate([np.rint(np.asarray(d) * dt / a) for d, a in zip(data, amps)], axis=-1).astype(np.int16)


def run(
    rnn: ProgrammedRNN | NEFNetwork,
    inputs: Mapping[str, Any] | None,
    duration: float,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    synapse: Literal["zoh", "euler"] = "zoh",
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    optimize: bool = False,
    simulator: Any = None,
    probe: Literal["connection", "node"] = "connection",
    progress: Progress | None = None,
    backend_name: str = NAME,
) -> Result:
    """Run a ProgrammedRNN (or an :class:`~npl_nengo.nef.NEFNetwork`) on ``nengo.Simulator``.

    See :func:`npl_nengo.run`.

    Parameters
    ----------
    synapse
        ``"zoh"`` (default, ``Lowpass(1/gamma)``) or ``"euler"`` (reproduces the
        reference backend's ``integrator="euler"``).
    max_rate
        Spike rate (Hz) of a unit at ``tanh(J) = +-1``.
    initial
        Initial state (see :meth:`ProgrammedRNN.initial_state`).
    sample_every
        Record every n-th step.
    record_spikes
        Record the spikes of the first n units (True: all), as signed counts per step.
    optimize
        Nengo's operator-graph optimizer.  Off by default: it merges operators
        in an order that follows object identities, so two builds of the same
        network differ by rounding (~1e-16) and a seed would not reproduce a
        run bit for bit.  On, NAND (N = 1000) ran 25 % faster, the five-gate
        full adder 30 % slower (3 s runs, this machine).
    simulator, backend_name
        Another ``nengo.Simulator``-compatible class to run the network on (called as
        ``simulator(net, dt=, seed=, progress_bar=False)``; the conformance suite's
        ``--simulator``), and the name its errors and Result carry.
    probe
        What the outputs are read from: ``"connection"`` (default: the output synapses'
        connections) or ``"node"`` (the output Nodes, which every ``nengo.Simulator``-compatible
        simulator can probe; nengo-loihi cannot probe a connection).  A Node's value is its
        connection's of the step before, so a ``"node"`` run takes one more step and drops the
        first sample: the same numbers either way.
    progress
        ``progress(done, total)`` steps, as the run advances (:mod:`npl_nengo.progress`).
    """
    check_sample_every(sample_every, backend_name)
    check_progress(progress, backend_name)
    Inputs(rnn.input_names, inputs, dt)  # every input given, values valid
    spiking = neurons != "rate"
    if isinstance(rnn, NEFNetwork):
        if neurons not in ("rate", "lif"):
            raise ValidationError(f"{backend_name}: an NEF network runs with neurons='lif' (its neuron type) or 'rate', not {neurons!r}")
        net = build_nef(rnn, inputs, neurons=neurons, dt=dt, delay=dt)
        ensembles = list(net.parts.values())
    else:
        net = build(rnn, inputs, neurons=neurons, synapse=synapse, dt=dt, max_rate=max_rate, initial=initial,
                    seed=seed, align=True)
        ensembles = [net.ensemble]
    n_total = sum(e.n_neurons for e in ensembles)
    n_spk = spike_units(record_spikes, spiking, n_total, backend_name)
    on_nodes = probe == "node"
    with net:
        if on_nodes:  # every step, one step behind the connection: shifted below
            probes = {name: nengo.Probe(node) for name, node in net.outputs.items()}
        else:
            probes = {name: nengo.Probe(conn, "output", sample_every=sample_every * dt)
                      for name, conn in net.output_connections.items()}
        spike_probes = spike_probes_for(ensembles, n_spk)
    for i, p in enumerate(spike_probes):
        probes[f"_spikes{i}"] = p
    t, data, interrupted, wall, build_seconds = simulate(
        net, probes, duration + dt if on_nodes else duration, dt, seed, 1 if on_nodes else sample_every,
        simulator=simulator, progress=progress, **_optimize(simulator, optimize, backend_name))
    spikes = spike_counts([data.pop(f"_spikes{i}") for i in range(len(spike_probes))], ensembles, dt)
    if on_nodes:  # the node's value at step k + 1 is the connection's at step k
        n_steps = max(len(t) - 1, 0)
        data = {name: v[1:][sample_every - 1 :: sample_every] for name, v in data.items()}
        t = (np.arange(n_steps // sample_every) + 1) * (sample_every * dt)
        spikes = spikes[:n_steps] if spikes is not None else None
    outputs = {name: np.asarray(v).reshape(len(v), -1)[:, 0] if len(v) else np.zeros(0) for name, v in data.items()}
    check_finite(outputs, t, backend_name, rnn.name)
    return Result(
        t=t, outputs=outputs, backend=backend_name, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": wall, "build_seconds": build_seconds, "synapse": synapse if not isinstance(rnn, NEFNetwork) else "nef",
              "max_rate": max_rate if spiking else None, "interrupted": interrupted,
              "steps": len(t) * sample_every, "n_neurons": n_total},
    )


# -- the NEF route and to_nengo (nengo objects, so they live with the Nengo backend) ----------------
def build_nef(
    spec: NEFNetwork,
    inputs: Mapping[str, Any] | None = None,
    neurons: str = "lif",
    dt: float = 1e-3,
    label: str | None = None,
    add_to_container: bool | None = None,
    delay: float = 0.0,
):
    """Build the ``nengo.Network`` of an :class:`NEFNetwork`.

    ``net.inputs`` / ``net.outputs`` are passthrough Nodes named after the
    inputs and outputs, ``net.parts`` maps each part path to its ensemble,
    ``net.output_connections`` maps each output to its decoded connection.
    ``inputs`` adds a source Node per given input (a slider in the GUI);
    ``neurons="rate"`` uses the rate counterpart of the neuron type.
    """
    flat = spec.flat
    ntype = spec.neuron_type if neurons != "rate" else _rate_type(spec.neuron_type)
    inputs = dict(inputs or {})
    unknown = [k for k in inputs if k not in spec.input_names]
    if unknown:
        raise ValidationError(f"nef: {unknown[0]!r} is not an input of {spec.name!r} (inputs: {list(spec.input_names) or 'none'})")
    tau_d = dt / -math.expm1(-dt / spec.tau)  # discrete-time principle 3
    net = nengo.Network(label=label or f"{spec.name} (NEF)", seed=spec.seed, add_to_container=add_to_container)
    rng = np.random.RandomState(spec.seed)  # evaluation points, part by part
    with net:
        net.parts = {}
        halves = []  # value = ensemble coordinate * halves[p] (per variable)
        for part, n in zip(flat.parts, spec.part_neurons):
            prog = part.program
            D = len(prog.variables)
            n_s = len(prog.states)
            ranges = list(prog.variable_ranges().values())
            half = _half_widths(ranges)
            half[n_s:] /= spec.input_scale
            halves.append(half)
            if D:
                eval_points = _eval_points(rng, max(1000, 500 * D), ranges, half, n_s, spec.level_points)
            else:
                eval_points = nengo.dists.Uniform(-1.0, 1.0)
            ens = nengo.Ensemble(
                n, max(D, 1), neuron_type=ntype, radius=1.0, eval_points=eval_points,
                label=f"{part.path} ({', '.join(prog.variables)})",
            )
            net.parts[part.path] = ens
            if n_s:
                hs = half[:n_s]

                def recurrent(z, prog=prog, half=half, hs=hs):
                    x = z * half
                    values = {v: x[j] for j, v in enumerate(prog.variables)}
                    f = np.array([prog.evaluate(s, values) for s in prog.states], dtype=float)
                    return (x[: len(hs)] + tau_d * f) / hs

                nengo.Connection(ens, ens[:n_s], function=recurrent, synapse=spec.tau, solver=spec.solver)
                x0 = np.array([prog.initial.get(s, 0.0) for s in prog.states], dtype=float) / hs
                if np.any(x0):
                    # One step through the recurrent synapse moves the state by exactly x0.
                    kick = nengo.Node(lambda t, x0=x0: x0 * tau_d / dt if t < 1.5 * dt else 0.0 * x0,
                                      label=f"{part.path} initial state")
                    nengo.Connection(kick, ens[:n_s], synapse=spec.tau)

        def dim(p: int, var: str) -> int:
            return flat.parts[p].program.variables.index(var)

        def decode(p: int, var: str):
            prog, half = flat.parts[p].program, halves[p]
            if var in prog.states:
                j = dim(p, var)
                return lambda z, j=j, h=half[j]: z[j] * h
            return lambda z, prog=prog, half=half, var=var: float(
                prog.evaluate(var, {v: (z * half)[j] for j, v in enumerate(prog.variables)}))

        for (q, var), (p, src) in flat.wires.items():
            j = dim(q, var)
            nengo.Connection(net.parts[flat.parts[p].path], net.parts[flat.parts[q].path][j],
                             function=decode(p, src), transform=1.0 / halves[q][j], synapse=INPUT_SYNAPSE,
                             solver=spec.solver)
        net.inputs, net.sources = {}, {}
        for name, targets in flat.inputs.items():
            node = nengo.Node(size_in=1, label=name)
            net.inputs[name] = node
            for q, var in targets:
                j = dim(q, var)
                nengo.Connection(node, net.parts[flat.parts[q].path][j], transform=1.0 / halves[q][j],
                                 synapse=INPUT_SYNAPSE)
            if name in inputs:
                src = nengo.Node(_source(inputs[name], dt, delay), label=f"{name} (slider)")
                nengo.Connection(src, node, synapse=None)
                net.sources[name] = src
        net.outputs, net.output_connections = {}, {}
        for name, (p, var) in flat.outputs.items():
            node = nengo.Node(size_in=1, label=name)
            net.outputs[name] = node
            net.output_connections[name] = nengo.Connection(
                net.parts[flat.parts[p].path], node, function=decode(p, var), synapse=OUTPUT_SYNAPSE,
                solver=spec.solver)
    return net


def to_nengo(
    network: Program | Circuit | ProgrammedRNN | NEFNetwork,
    method: str | None = None,
    n_neurons: int | Mapping[str, int] | None = None,
    inputs: Mapping[str, Any] | None = None,
    neurons: str | None = None,
    neuron_type: Any = None,
    synapse: str = "zoh",
    dt: float = 1e-3,
    max_rate: float = 1000.0,
    seed: int = 0,
    label: str | None = None,
    add_to_container: bool | None = None,
    **compile_options: Any,
):
    """Build a ``nengo.Network`` a user can simulate or include in a model.

    Parameters
    ----------
    network
        A :class:`ProgrammedRNN` (its neuron-level network), an
        :class:`~npl_nengo.nef.NEFNetwork`, or a Program/Circuit, which is
        compiled with ``method``.
    method
        For a Program/Circuit: ``"nef"`` (NEF ensembles, the default),
        ``"taylor"`` or ``"sampled"`` (compile, then the neuron-level network).
    n_neurons
        Neurons per part (compiler or NEF ensembles).
    inputs
        ``{input name: value}``: a source Node per input (a slider in the Nengo
        GUI); inputs left out are open passthrough Nodes (``net.inputs``) to
        connect from your own model.
    neurons
        Neuron level: ``"rate"`` (default), ``"regular"``, ``"poisson"``,
        ``"stochastic"``, ``"lif"``.  NEF: ``"lif"`` (default: ``neuron_type``
        as given) or ``"rate"`` (its rate counterpart, e.g. ``nengo.LIFRate``).
    neuron_type
        NEF route: the ensembles' nengo neuron type (default ``nengo.LIF()``).
    synapse, dt, max_rate
        Neuron level: the loop synapse (``"zoh"`` or ``"euler"``), the time
        step the network will be simulated with, the spike rate at tanh = 1.
    seed
        Seed of the compiler / ensembles and of the network.
    add_to_container
        As for ``nengo.Network``: inside a ``with model:`` block the network is
        added to ``model`` (the default).
    **compile_options
        Passed to :func:`npl_nengo.compile` (e.g. ``gamma``, ``activation``).

    Returns
    -------
    nengo.Network
        With ``net.inputs`` and ``net.outputs`` (``{name: passthrough Node}``)
        and ``net.output_connections``; neuron level also ``net.ensemble``,
        NEF ``net.parts`` ({part path: Ensemble}).

    Examples
    --------
    >>> import nengo, npl_nengo
    >>> from npl_nengo import networks
    >>> with nengo.Network() as model:                      # doctest: +SKIP
    ...     gate = npl_nengo.to_nengo(networks.get("nand").build(), method="nef")
    ...     a = nengo.Node(0.1); b = nengo.Node(-0.1)
    ...     nengo.Connection(a, gate.inputs["s1"]); nengo.Connection(b, gate.inputs["s2"])
    ...     p = nengo.Probe(gate.outputs["o"], synapse=0.01)
    """
    if isinstance(network, (Program, Circuit)):
        method = "nef" if method is None else method
        if method == "nef":
            network = nef(network, n_neurons=n_neurons, neuron_type=neuron_type, seed=seed)
        elif method in ("taylor", "sampled"):
            from ..compiler import compile

            network = compile(network, n_neurons=n_neurons, method=method, seed=seed, **compile_options)
        else:
            raise ValidationError(f"to_nengo: method {method!r} is not 'nef', 'taylor' or 'sampled'")
    elif method is not None:
        raise ValidationError(f"to_nengo: method={method!r} applies to a Program or Circuit, not a {type(network).__name__}")
    if isinstance(network, NEFNetwork):
        return build_nef(network, inputs, neurons=neurons or "lif", dt=dt, label=label,
                         add_to_container=add_to_container)
    if isinstance(network, ProgrammedRNN):
        return build(network, inputs, neurons=neurons or "rate", synapse=synapse, dt=dt, max_rate=max_rate, seed=seed,
                     label=label, add_to_container=add_to_container)
    raise ValidationError(f"to_nengo: expected a Program, Circuit, ProgrammedRNN or NEFNetwork, got {type(network).__name__}")
