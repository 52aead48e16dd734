"""The Nengo backend: a ProgrammedRNN as a neuron-level ``nengo.Network``.

The network is the ProgrammedRNN's numbers placed in nengo objects, nothing
re-solved (docs/method.md §7, spiking deployment):

* one ``Ensemble`` of N units, ``neuron_type=Tanh(tau_ref=1)`` (rate
  ``tanh(J)``), ``gain=1``, ``bias=d``; its 1-D represented value is unused;
* every external input is a passthrough ``Node`` (``net.inputs[name]``) into
  ``ens.neurons`` through its column of ``B_ext``;
* the loop: ``ens.neurons`` -> a k-dimensional passthrough ``Node``
  (``net.loop``, the decoded fed-back signals) through ``W_rec`` with the
  synapse, then back into ``ens.neurons`` through ``B_rec`` (O(N k), never an
  N x N transform);
* every named output is a passthrough ``Node`` (``net.outputs[name]``) fed from
  ``ens.neurons`` through its row of ``W`` with the same synapse.

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
import time
import warnings
from typing import Any, Mapping, Sequence

import nengo
import numpy as np

from ..errors import ValidationError
from ..nef import NEFNetwork, build_nef
from ..inputs import Inputs
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN

NAME = "nengo"
NEURONS = ("rate", "regular", "poisson", "stochastic", "lif")
SYNAPSES = ("zoh", "euler")

__all__ = ["NAME", "NEURONS", "SYNAPSES", "build", "neuron_type", "run", "InitialFilter"]


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
    if not (isinstance(max_rate, (int, float)) and math.isfinite(max_rate) and max_rate > 0):
        raise ValidationError(f"nengo: max_rate must be a positive number of Hz, got {max_rate!r}")
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
        With ``net.ensemble``, ``net.inputs``, ``net.outputs``, ``net.loop``
        and ``net.output_connections`` (``{name: Connection}``; probe their
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
    with net:
        net.ensemble = nengo.Ensemble(
            N, 1, neuron_type=ntype, gain=np.ones(N), bias=np.asarray(rnn.d), label=f"{rnn.name} ({N} units)"
        )
        net.inputs = {}
        net.sources = {}
        for j, name in enumerate(rnn.input_names):
            node = nengo.Node(size_in=1, label=name)
            nengo.Connection(node, net.ensemble.neurons, transform=np.asarray(rnn.B_ext[:, j : j + 1]), synapse=None)
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
            nengo.Connection(net.loop, net.ensemble.neurons, transform=np.asarray(rnn.B_rec), synapse=None)
        net.outputs = {}
        net.output_connections = {}
        for i, name in enumerate(rnn.output_names):
            node = nengo.Node(size_in=1, label=name)
            net.output_connections[name] = nengo.Connection(
                net.ensemble.neurons, node, transform=np.asarray(rnn.W[i : i + 1]),
                synapse=_synapse(synapse, rnn.gamma, dt, rnn.W[i : i + 1] @ r0),
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
    **sim_options: Any,
) -> tuple[np.ndarray, dict[str, np.ndarray], bool, float, float]:
    """Run ``net`` and read ``probes``; returns ``(t, data, interrupted, wall_seconds, build_seconds)``.

    ``simulator`` defaults to ``nengo.Simulator``.  Ctrl-C returns what was
    simulated so far (``interrupted=True``).
    """
    simulator = simulator or nengo.Simulator
    n_steps = int(round(duration / dt))
    start = time.perf_counter()
    interrupted = False
    with warnings.catch_warnings():
        # Ensemble(gain=1, bias=d) of LIF units: nengo derives max_rates for its
        # report and warns for units that never fire at x=0; harmless here.
        warnings.filterwarnings("ignore", message="Non-finite values detected in `max_rates`")
        warnings.filterwarnings("ignore", message="invalid value encountered in log1p")
        sim = simulator(net, dt=dt, seed=seed, progress_bar=False, **sim_options)
    build_seconds = time.perf_counter() - start
    with sim:
        try:
            sim.run_steps(n_steps)
        except KeyboardInterrupt:
            interrupted = True
        data = {name: np.asarray(sim.data[p]) for name, p in probes.items()}
        # not sim.trange(): it builds an array of every step (16 MiB per 10^6 steps) to pick the samples
        t = (np.arange(sim.n_steps // sample_every) + 1) * (sample_every * dt)
    return t, data, interrupted, time.perf_counter() - start, build_seconds


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
    synapse: str = "zoh",
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    optimize: bool = False,
    simulator: Any = None,
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
        For backends that run the same network on another simulator (nengo_dl).
    """
    check_sample_every(sample_every, backend_name)
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
    with net:
        probes = {name: nengo.Probe(conn, "output", sample_every=sample_every * dt)
                  for name, conn in net.output_connections.items()}
        spike_probes = spike_probes_for(ensembles, n_spk)
    for i, p in enumerate(spike_probes):
        probes[f"_spikes{i}"] = p
    t, data, interrupted, wall, build_seconds = simulate(net, probes, duration, dt, seed, sample_every, simulator=simulator,
                                          optimize=optimize)
    spikes = spike_counts([data.pop(f"_spikes{i}") for i in range(len(spike_probes))], ensembles, dt)
    outputs = {name: np.asarray(v).reshape(len(v), -1)[:, 0] for name, v in data.items()}
    check_finite(outputs, t, backend_name, rnn.name)
    return Result(
        t=t, outputs=outputs, backend=backend_name, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": wall, "build_seconds": build_seconds, "synapse": synapse if not isinstance(rnn, NEFNetwork) else "nef",
              "max_rate": max_rate if spiking else None, "interrupted": interrupted,
              "steps": len(t) * sample_every, "n_neurons": n_total},
    )
