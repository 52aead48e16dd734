"""The Loihi emulator backend: the project's nengo networks on nengo-loihi's CPU emulator.

``npl.run(network, inputs, duration, backend="loihi_emulator", neurons="lif")`` builds the network
with the Nengo backend's own builders, rewrites what Loihi cannot take, and runs it on
``nengo_loihi.Simulator(target="sim")`` (nengo-loihi 1.1.0; the optional extra
``pip install nengo-loihi==1.1.0``).  The emulator reproduces the chip's integer arithmetic: weights
are rounded to 8-bit mantissas with a shared exponent per block, LIF voltages and currents are
integers, a spike interval is a whole number of steps, every host <-> chip value travels as spikes.

What runs:

* **NEF networks** (:func:`npl_nengo.nef` with ``nengo.LIF`` neurons): built by
  :func:`npl_nengo.backends.nengo.build_nef`, then every connection into a slice of an ensemble
  (the recurrent ``x + tau' f`` into the state dimensions, inputs and wires into an input
  dimension) is rewritten as a connection into the whole ensemble whose transform has zeros in the
  other rows: nengo-loihi's chip builder asserts ``post_slice == slice(None)``.  Same function,
  solver, synapse and seed, and the same number of connections, so nengo seeds the ensembles as it
  does for the nengo backend.
* **LIF-compiled ProgrammedRNNs** (``npl.compile(..., method="sampled", activation="lif")``):
  built by :func:`npl_nengo.backends.nengo.build` with ``neurons="lif"`` and ``synapse="zoh"``,
  then each :class:`~npl_nengo.backends.nengo.InitialFilter` (the project's synapse, which starts
  at the initial state ``W_rec r0``, ``W r0``) is replaced by ``nengo.Lowpass(1/gamma)``, which
  starts at 0: the loop and the outputs start from rest and reach the state in about ``1/gamma``
  (10 ms at gamma = 100) instead of starting there.  These runs are accepted but do not keep their
  levels: see ``docs`` and ``benchmarks/loihi_emulator.py`` (a LIF unit on Loihi fires once every
  whole number of steps, so at dt = 1 ms the 200-400 Hz units the compiler fitted are quantized to
  1000/n Hz, and the readout, a cancelling sum of those rates, loses the level).

What is refused, with a :class:`~npl_nengo.errors.ValidationError` naming the network: tanh
networks (Loihi has no tanh units), neuron modes other than ``"lif"`` (the emulator has no rate
units), NEF networks of other neuron types than ``nengo.LIF``.

Quantization is reported in ``Result.info``: ``weight_rounding_warnings`` (how many of
nengo-loihi's "Lost N extra bits in weight rounding" warnings the build gave), ``weight_bits_lost``
(the largest N), ``voltage_init_warnings`` (nengo-loihi starts every LIF voltage at 0, not at the
random voltages nengo draws), ``emulator_warnings`` (every other warning, message -> count),
``blocks`` and ``compartments`` (the Loihi blocks the network became).  These warnings are not
shown; they are counted.
"""

from __future__ import annotations

import importlib
import re
import time
import warnings
from collections import Counter
from typing import Any, Mapping

import nengo
import numpy as np

from ..errors import BackendUnavailable, ValidationError
from ..inputs import Inputs
from ..nef import NEFNetwork
from ..progress import Progress, check as check_progress
from ..result import Result, check_finite, check_sample_every, spike_units
from ..rnn import ProgrammedRNN
from . import nengo as nengo_backend

NAME = "loihi_emulator"
#: Loihi's LIF compartments; the emulator has no rate units (no "rate") and no tanh units.
NEURONS = ("lif",)
#: Runs NEF networks (:func:`npl_nengo.nef`) as well.
NEF = True
#: ProgrammedRNNs it runs: those compiled with ``activation="lif"`` (``cells.plan`` skips tanh cells here).
ACTIVATIONS = ("lif",)
#: Bytes per recorded value: nengo-loihi's probes keep samples as nengo's do (taken from the nengo
#: backend, not measured separately).
RECORD_BYTES = {"sample": 256, "spike": 40, "input": 0}
#: The nengo-loihi release this backend was written and measured against.
VERSION = "1.1.0"
#: Steps per chunk when a ``progress`` callback is given.
CHUNK = 1000

__all__ = ["NAME", "NEURONS", "NEF", "ACTIVATIONS", "run", "build", "full_width", "loihi_synapses", "nengo_loihi"]

_LOST_BITS = re.compile(r"Lost (\d+) extra bits in weight rounding")
_VOLTAGE = "does not support initial values for 'voltage'"


def nengo_loihi():
    """The ``nengo_loihi`` module; :class:`BackendUnavailable` says what to install when it is missing.

    Its import warns that nengo 4.1 is untested (nengo-loihi 1.1.0 was released for nengo 3.2); the
    warning is silenced, the emulator runs (tests/test_loihi_emulator.py).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*has not been tested with your")
        try:
            return importlib.import_module("nengo_loihi")
        except ImportError as exc:
            raise BackendUnavailable(
                f"backend {NAME!r} needs nengo-loihi: pip install nengo-loihi=={VERSION} ({exc})") from exc


nengo_loihi()  # fail at import, as the other backends do, so the registry reports it unavailable


def _dense(conn: nengo.Connection) -> np.ndarray:
    """The transform of ``conn`` as a (size_out, size_mid) matrix."""
    tr = conn.transform
    if isinstance(tr, nengo.transforms.NoTransform):
        return np.eye(conn.size_out)
    if not isinstance(tr, nengo.transforms.Dense):
        raise ValidationError(f"{NAME}: connection {conn} has a {type(tr).__name__} transform; only dense "
                              f"transforms can be widened for Loihi")
    init = np.asarray(tr.init, dtype=float)
    if init.ndim == 0:
        return init * np.eye(conn.size_out, conn.size_mid)
    if init.ndim == 1:
        return np.diag(init)
    return init


def full_width(net: nengo.Network) -> int:
    """Rewrite every connection into a slice of an ensemble as one into the whole ensemble (in place).

    The new connection has the same pre, function, solver, synapse, evaluation points and seed,
    and a transform with the old one in the sliced rows and zeros elsewhere; it takes the old
    connection's place in its network's list, so nengo's seeding sees the same objects in the same
    order.  Returns how many connections were rewritten.  Use on a network built for this purpose
    (the connections are replaced, not copied).
    """
    count = 0
    for sub in [net, *net.all_networks]:
        for i, conn in enumerate(list(sub.connections)):
            if not isinstance(conn.post_obj, nengo.Ensemble) or conn.post_slice == slice(None):
                continue
            full = np.zeros((conn.post_obj.size_in, conn.size_mid))
            full[conn.post_slice] = _dense(conn)
            with sub:
                new = nengo.Connection(conn.pre, conn.post_obj, synapse=conn.synapse, function=conn.function,
                                       transform=full, solver=conn.solver, eval_points=conn.eval_points,
                                       scale_eval_points=conn.scale_eval_points, label=conn.label, seed=conn.seed)
            sub.connections.remove(new)
            sub.connections[i] = new
            count += 1
    return count


def loihi_synapses(net: nengo.Network) -> int:
    """Replace every :class:`~npl_nengo.backends.nengo.InitialFilter` by ``nengo.Lowpass`` of the same tau (in place).

    Only the ``"zoh"`` filter (``1 / (s/gamma + 1)``) has a Loihi counterpart.  The Lowpass starts
    at 0 where the InitialFilter started at the initial state.  Returns how many were replaced.
    """
    count = 0
    for conn in net.all_connections:
        syn = conn.synapse
        if isinstance(syn, nengo_backend.InitialFilter):
            num, den = np.atleast_1d(syn.num), np.atleast_1d(syn.den)
            if syn.analog is False or len(num) != 1 or len(den) != 2 or den[1] != num[0]:
                raise ValidationError(f"{NAME}: the synapse {syn} has no Loihi counterpart (only a lowpass does)")
            conn.synapse = nengo.Lowpass(float(den[0] / den[1]))
            count += 1
    return count


def build(network: ProgrammedRNN | NEFNetwork, inputs: Mapping[str, Any] | None = None, dt: float = 1e-3,
          seed: int = 0, initial: Any = None) -> tuple[nengo.Network, dict[str, int]]:
    """The nengo network the emulator runs, and what was rewritten (``{"widened": n, "lowpass": n}``).

    Refuses (:class:`ValidationError`, naming the network) what Loihi cannot run.
    """
    if isinstance(network, NEFNetwork):
        if type(network.neuron_type) is not nengo.LIF:
            raise ValidationError(f"{NAME}: NEF network {network.name!r} has {type(network.neuron_type).__name__} "
                                  f"neurons; the Loihi emulator runs nengo.LIF ensembles (npl.nef(..., "
                                  f"neuron_type=nengo.LIF()))")
        net = nengo_backend.build_nef(network, inputs, neurons="lif", dt=dt, delay=dt)
        return net, {"widened": full_width(net), "lowpass": 0}
    if not isinstance(network, ProgrammedRNN):
        raise ValidationError(f"{NAME}: expected a ProgrammedRNN or an NEF network, got {type(network).__name__}")
    if network.activation != "lif":
        raise ValidationError(f"{NAME}: {network.name!r} has {network.activation} units and Loihi has no tanh units; "
                              f"compile with activation='lif' or use npl.nef")
    net = nengo_backend.build(network, inputs, neurons="lif", synapse="zoh", dt=dt, initial=initial, seed=seed,
                              align=True)
    return net, {"widened": full_width(net), "lowpass": loihi_synapses(net)}


def _quantization(caught: list[warnings.WarningMessage]) -> dict[str, Any]:
    lost: list[int] = []
    other: Counter[str] = Counter()
    voltage = 0
    for w in caught:
        msg = str(w.message)
        m = _LOST_BITS.search(msg)
        if m:
            lost.append(int(m.group(1)))
        elif _VOLTAGE in msg:
            voltage += 1
        else:
            other[msg] += 1
    return {"weight_rounding_warnings": len(lost), "weight_bits_lost": max(lost, default=0),
            "voltage_init_warnings": voltage, "emulator_warnings": dict(other)}


def run(
    rnn: ProgrammedRNN | NEFNetwork,
    inputs: Mapping[str, Any] | None,
    duration: float,
    neurons: str = "lif",
    dt: float = 1e-3,
    seed: int = 0,
    max_rate: float = 1000.0,
    initial: Any = None,
    sample_every: int = 1,
    record_spikes: int | bool = False,
    progress: Progress | None = None,
) -> Result:
    """Run an NEF network or a LIF-compiled ProgrammedRNN on nengo-loihi's emulator.

    See :func:`npl_nengo.run` and the module docstring.

    Parameters
    ----------
    neurons
        ``"lif"`` (the only mode: Loihi's LIF compartments).
    max_rate
        Accepted for the common signature; LIF rates are set by the network, not by this option.
    initial
        Accepted for the common signature and validated for a ProgrammedRNN (see
        :meth:`ProgrammedRNN.initial_state`), but it has no effect here: it only sets where the
        project's synapses start, and their Loihi replacement (``Lowpass``) starts at 0 (module
        docstring).  An NEF network starts from its program's initial values and ignores it, as on
        the nengo backend.
    sample_every
        Record every n-th step.
    record_spikes
        Record the spikes of the first n units (True: all), as counts per step.
    progress
        ``progress(done, total)`` steps, after every chunk of :data:`CHUNK` steps.
    """
    check_sample_every(sample_every, NAME)
    check_progress(progress, NAME)
    if neurons != "lif":
        raise ValidationError(f"{NAME}: {rnn.name!r} cannot run with neurons={neurons!r}: the Loihi emulator has "
                              f"LIF units only (neurons='lif')")
    Inputs(rnn.input_names, inputs, dt)  # every input given, values valid
    loihi = nengo_loihi()
    start = time.perf_counter()
    net, rewritten = build(rnn, inputs, dt=dt, seed=seed, initial=initial)
    ensembles = list(net.parts.values()) if isinstance(rnn, NEFNetwork) else [net.ensemble]
    n_total = sum(e.n_neurons for e in ensembles)
    n_spk = spike_units(record_spikes, True, n_total, NAME)
    with net:
        # nengo-loihi cannot probe a connection: the output Node (the same value, on the host)
        probes = {name: nengo.Probe(node, sample_every=sample_every * dt) for name, node in net.outputs.items()}
        spike_probes = nengo_backend.spike_probes_for(ensembles, n_spk)
    n_steps = int(round(duration / dt))
    interrupted = False
    sim = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # nengo deriving max_rates of gain=1, bias=d LIF units (as in the nengo backend): harmless
        warnings.filterwarnings("ignore", message="Non-finite values detected in `max_rates`")
        warnings.filterwarnings("ignore", message="invalid value encountered in log1p")
        try:
            sim = loihi.Simulator(net, dt=dt, seed=seed, target="sim", progress_bar=False)
        except KeyboardInterrupt:
            interrupted = True
        except AssertionError as exc:  # nengo-loihi's builder asserts what the chip cannot map
            raise ValidationError(f"{NAME}: nengo-loihi cannot map {rnn.name!r} onto Loihi "
                                  f"({type(exc).__name__} in its builder: {exc or 'no message'})") from exc
        build_seconds = time.perf_counter() - start
        done = 0
        data: dict[str, np.ndarray] = {}
        spike_data: list[np.ndarray] = []
        blocks = compartments = 0
        if sim is not None:
            with sim:
                try:
                    while done < n_steps:
                        step = n_steps - done if progress is None else min(CHUNK, n_steps - done)
                        sim.run_steps(step)
                        done += step
                        if progress is not None:
                            progress(done, n_steps)
                except KeyboardInterrupt:
                    interrupted = True
                done = sim.n_steps
                samples = done // sample_every
                data = {name: np.asarray(sim.data[p]).reshape(-1)[:samples] for name, p in probes.items()}
                spike_data = [np.asarray(sim.data[p])[:done] for p in spike_probes]
                blocks = len(sim.model.blocks)
                compartments = int(sum(b.compartment.n_compartments for b in sim.model.blocks))
    quant = _quantization(caught)
    samples = min([done // sample_every] + [len(v) for v in data.values()])
    t = (np.arange(samples) + 1) * (sample_every * dt)
    outputs = {name: data.get(name, np.zeros(0))[:samples] for name in rnn.output_names}
    check_finite(outputs, t, NAME, rnn.name)
    spikes = nengo_backend.spike_counts(spike_data, ensembles, dt) if spike_data else None
    return Result(
        t=t, outputs=outputs, backend=NAME, neurons=neurons, dt=dt, seed=seed, name=rnn.name, spikes=spikes,
        info={"wall_seconds": time.perf_counter() - start, "build_seconds": build_seconds,
              "synapse": "nef" if isinstance(rnn, NEFNetwork) else "lowpass", "max_rate": None,
              "interrupted": interrupted, "steps": samples * sample_every, "n_neurons": n_total,
              "target": "sim", "nengo_loihi": getattr(loihi, "__version__", "?"),
              "widened_connections": rewritten["widened"], "lowpass_synapses": rewritten["lowpass"],
              "blocks": blocks, "compartments": compartments, **quant},
    )
