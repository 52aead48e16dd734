"""The NEF route: a program or circuit as Nengo ensembles, decoders solved by Nengo.

The neuron-level route places a :class:`ProgrammedRNN`'s numbers in a nengo
network.  This route skips the reservoir: each program instance becomes one
``nengo.Ensemble`` over its variables (states, then inputs, each scaled by its
declared range to [-1, 1]), and the program's dynamics ``dx/dt = f(x, s)`` are
implemented by NEF principle 3: a recurrent connection with a lowpass synapse
``tau`` decoding ``x + tau' f(x, s)``.  ``tau'`` is the discrete-time
correction: nengo's zero-order-hold lowpass maps ``x[n+1] = a x[n] + (1-a) h``
with ``a = exp(-dt/tau)``, so ``h = x + dt/(1-a) f`` gives exactly
``x[n+1] = x[n] + dt f(x[n])``; ``tau' = dt / (1 - exp(-dt/tau))`` (-> tau as
dt -> 0).  Circuit wires become decoded connections from the source part's
ensemble into the target part's input dimensions; outputs are decoded into
passthrough Nodes.  Decoders are solved by ``nengo.solvers`` when nengo builds
the network (seeded, so every nengo-family simulator gets the same ones).

>>> spec = npl_nengo.nef(program, n_neurons=100)         # doctest: +SKIP
>>> result = npl_nengo.run(spec, {"s1": 0.1, "s2": -0.1}, backend="nengo", neurons="lif")  # doctest: +SKIP
>>> net = npl_nengo.to_nengo(program, method="nef")       # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import ValidationError
from .program import Circuit, Flat, Program, flatten

__all__ = ["NEFNetwork", "nef", "build_nef"]

#: Synapse (s) of inputs and wires into an ensemble's input dimensions.
INPUT_SYNAPSE = 0.005
#: Synapse (s) of the decoded outputs.
OUTPUT_SYNAPSE = 0.01


@dataclass(frozen=True)
class NEFNetwork:
    """A program or circuit to be built as NEF ensembles (see :func:`nef`).

    Runs on the nengo-family backends (``npl_nengo.run(spec, backend="nengo",
    neurons="lif" | "rate")``).  It holds no weights: nengo solves the
    decoders when it builds the network, from ``seed``.
    """

    name: str
    source: Program | Circuit = field(repr=False)
    part_neurons: tuple[int, ...]
    neuron_type: Any
    tau: float
    seed: int
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    solver: Any = None
    method: str = "nef"

    @property
    def flat(self) -> Flat:
        return flatten(self.source)

    @property
    def n_neurons(self) -> int:
        """Total neurons over all ensembles."""
        return int(sum(self.part_neurons))

    def summary(self) -> str:
        return (f"NEFNetwork {self.name!r}: {len(self.part_neurons)} ensemble(s), {self.n_neurons} "
                f"{type(self.neuron_type).__name__} neurons, tau={self.tau} s, inputs {list(self.input_names)}, "
                f"outputs {list(self.output_names)}")


def nef(
    program: Program | Circuit,
    n_neurons: int | Mapping[str, int] | None = None,
    neuron_type: Any = None,
    tau: float = 0.1,
    seed: int = 0,
    solver: Any = None,
) -> NEFNetwork:
    """Describe ``program`` as NEF ensembles.

    Parameters
    ----------
    program
        A Program or Circuit.
    n_neurons
        Neurons per ensemble (one ensemble per program instance): an int, or
        ``{part path: int}``; default ``100 * dimensions``.
    neuron_type
        A ``nengo.neurons.NeuronType`` (default ``nengo.LIF()``).
    tau
        Time constant (s) of the recurrent lowpass synapse.
    seed
        Seed of the ensembles (encoders, intercepts, evaluation points).
    solver
        The recurrent connection's ``nengo.solvers`` solver; default
        ``LstsqL2(reg=0.01)``.  Nengo's default ``reg=0.1`` shrinks the decoded
        ``x + tau f`` and pulls fixed points inward: measured on the six gates
        with 200 LIF neurons, logic levels off by up to 0.03-0.06 with 0.1 and
        by at most 0.022 with 0.01.
    """
    import nengo

    flat = flatten(program)
    sizes = []
    for part in flat.parts:
        n = n_neurons.get(part.path) if isinstance(n_neurons, Mapping) else n_neurons
        if n is None:
            n = 100 * max(1, len(part.program.variables))
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 10_000_000:
            raise ValidationError(f"nef: n_neurons for part {part.path!r} must be a positive integer, got {n!r}")
        sizes.append(int(n))
    neuron_type = nengo.LIF() if neuron_type is None else neuron_type
    if not isinstance(neuron_type, nengo.neurons.NeuronType):
        raise ValidationError(f"nef: neuron_type must be a nengo neuron type such as nengo.LIF(), got {neuron_type!r}")
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau <= 0:
        raise ValidationError(f"nef: tau must be a positive number of seconds, got {tau!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"nef: seed must be a non-negative integer, got {seed!r}")
    solver = nengo.solvers.LstsqL2(reg=0.01) if solver is None else solver
    if not isinstance(solver, nengo.solvers.Solver):
        raise ValidationError(f"nef: solver must be a nengo.solvers.Solver, got {solver!r}")
    return NEFNetwork(flat.name, program, tuple(sizes), neuron_type, float(tau), seed,
                      tuple(flat.inputs), tuple(flat.outputs), solver)


def _rate_type(neuron_type):
    """The rate counterpart of a spiking nengo neuron type."""
    import nengo

    if isinstance(neuron_type, nengo.LIF):
        return nengo.LIFRate(tau_rc=neuron_type.tau_rc, tau_ref=neuron_type.tau_ref,
                             amplitude=neuron_type.amplitude)
    if isinstance(neuron_type, nengo.neurons.RatesToSpikesNeuronType):
        return neuron_type.base_type
    if neuron_type.spiking:
        raise ValidationError(f"nef: no rate counterpart known for {type(neuron_type).__name__}; use neurons='lif'")
    return neuron_type


def _half_widths(ranges) -> np.ndarray:
    r = np.array(list(ranges), dtype=float).reshape(-1, 2)
    half = np.maximum(np.abs(r[:, 0]), np.abs(r[:, 1]))
    return np.where(half > 0, half, 1.0)


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
    import nengo

    from .backends.nengo import _source

    flat = spec.flat
    ntype = spec.neuron_type if neurons != "rate" else _rate_type(spec.neuron_type)
    inputs = dict(inputs or {})
    unknown = [k for k in inputs if k not in spec.input_names]
    if unknown:
        raise ValidationError(f"nef: {unknown[0]!r} is not an input of {spec.name!r} (inputs: {list(spec.input_names) or 'none'})")
    tau_d = dt / -math.expm1(-dt / spec.tau)  # discrete-time principle 3
    net = nengo.Network(label=label or f"{spec.name} (NEF)", seed=spec.seed, add_to_container=add_to_container)
    with net:
        net.parts = {}
        halves = []
        for part, n in zip(flat.parts, spec.part_neurons):
            prog = part.program
            D = len(prog.variables)
            half = _half_widths(prog.variable_ranges().values())
            halves.append(half)
            ens = nengo.Ensemble(
                n, max(D, 1), neuron_type=ntype, radius=1.0,
                eval_points=nengo.dists.Uniform(-1.0, 1.0), n_eval_points=max(1000, 500 * D),
                label=f"{part.path} ({', '.join(prog.variables)})",
            )
            net.parts[part.path] = ens
            n_s = len(prog.states)
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
                             function=decode(p, src), transform=1.0 / halves[q][j], synapse=INPUT_SYNAPSE)
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
                net.parts[flat.parts[p].path], node, function=decode(p, var), synapse=OUTPUT_SYNAPSE)
    return net
