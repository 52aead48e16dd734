"""The NEF route: a program or circuit as Nengo ensembles, decoders solved by Nengo.

The neuron-level route places a :class:`ProgrammedRNN`'s numbers in a nengo
network.  This route skips the reservoir: each program instance becomes one
``nengo.Ensemble`` (radius 1) over its variables, states then inputs: each state
scaled by its declared range to [-1, 1], each input to ``[-input_scale,
input_scale]``; the program's dynamics ``dx/dt = f(x, s)`` are
implemented by NEF principle 3: a recurrent connection with a lowpass synapse
``tau`` decoding ``x + tau' f(x, s)``.  ``tau'`` is the discrete-time
correction: nengo's zero-order-hold lowpass maps ``x[n+1] = a x[n] + (1-a) h``
with ``a = exp(-dt/tau)``, so ``h = x + dt/(1-a) f`` gives exactly
``x[n+1] = x[n] + dt f(x[n])``; ``tau' = dt / (1 - exp(-dt/tau))`` (-> tau as
dt -> 0).  Circuit wires become decoded connections from the source part's
ensemble into the target part's input dimensions; outputs are decoded into
passthrough Nodes.  Decoders are solved by ``nengo.solvers`` when nengo builds
the network (seeded, so every nengo-family simulator gets the same ones).

Accuracy of the settled levels.  A decoding error ``e`` of ``x + tau' f`` at a
stable fixed point moves it by ``e / (tau |f'|)``, i.e. by ``e_f / |f'|`` where
``e_f`` is the error of the decoded ``f`` (the ``x`` part decodes almost
exactly), so what sets a gate's levels is how well ``f`` is decoded *at its
operating points*: states near their levels, inputs at theirs.  The defaults
below (see :func:`nef`) are chosen for that: the operating points lie inside
the radius, most evaluation points lie where the inputs sit at their levels,
and a light regularization.  With them every gate, the half and full adders and
the SR latch settle within 0.0026 of ±0.1 at 200-400 spiking LIF neurons per
gate, 0.0063 at 100 (worst over seeds 0-2; ``benchmarks/fewest_neurons.py``);
with the earlier choices (every variable scaled to [-1, 1], so the operating
points sat at norm 1.56, outside the radius; evaluation points uniform in the
cube; reg 0.01 on the recurrent connection, nengo's 0.1 on outputs and wires)
they were 0.016-0.057 off at 150-200 neurons.

>>> spec = npl_nengo.nef(program, n_neurons=100)         # doctest: +SKIP
>>> result = npl_nengo.run(spec, {"s1": 0.1, "s2": -0.1}, backend="nengo", neurons="lif")  # doctest: +SKIP
>>> net = npl_nengo.to_nengo(program, method="nef")       # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import ValidationError
from . import validation
from .program import Circuit, Flat, Program, flatten

__all__ = ["NEFNetwork", "nef"]

#: Synapse (s) of inputs and wires into an ensemble's input dimensions.
INPUT_SYNAPSE = 0.005
#: Synapse (s) of the decoded outputs.
OUTPUT_SYNAPSE = 0.01
#: Default ``reg`` of the ``LstsqL2`` solver of every decoded connection (see :func:`nef`).
REG = 0.003
#: Default fraction of the radius an input's declared range spans (see :func:`nef`).
INPUT_SCALE = 0.4
#: Default fraction of evaluation points with every input at an end of its range (see :func:`nef`).
LEVEL_POINTS = 0.8


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
    input_scale: float = INPUT_SCALE
    level_points: float = LEVEL_POINTS

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
    input_scale: float = INPUT_SCALE,
    level_points: float = LEVEL_POINTS,
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
        Time constant (s) of the recurrent lowpass synapse; 0.1 as in nengo's
        integrator and oscillator examples.  It hardly moves the levels: the
        ``x`` part of ``x + tau f`` decodes almost exactly, so the level bias
        is ``e_f / |f'|`` whatever ``tau`` (0.05, 0.1 and 0.2 measured alike).
    seed
        Seed of the ensembles (encoders, intercepts, evaluation points).
    solver
        The ``nengo.solvers`` solver of every decoded connection (recurrent,
        wires, outputs); default ``LstsqL2(reg=0.003)``.  Nengo's default
        ``reg=0.1`` shrinks the decoded ``x + tau f`` and pulls fixed points
        inward (levels 0.03-0.06 off on the gates at 200 LIF neurons, with the
        earlier geometry).  With the defaults below, worst level error over
        the nine logic entries and seeds 0-2 at N = 100 / 200-400 neurons per
        gate (measured while tuning, spiking LIF): reg 0.01: 0.0068 / 0.0032;
        0.003: 0.0059 / 0.0034 (the gates alone 0.0031 / 0.0018); 0.001:
        0.0168 / 0.0047 (a smaller static bias, but larger decoders pass more
        spike noise along the full adder's wires).  Nengo's default
        intercepts ``Uniform(-1, 0.9)`` are kept: ``Uniform(-1, 1)`` and
        ``Uniform(-0.5, 0.9)`` did no better.
    input_scale
        Fraction of the radius (1) an input's declared range spans; each state
        spans the whole radius, so the state, whose decoding sets the levels,
        gets the ensemble's resolution.  With the inputs scaled like the states
        (``input_scale=1``) a gate's operating points (state at ±0.1 of its
        ±0.15, inputs at ±0.1 of ±0.1) lie at norm 1.56, outside the radius,
        where few tuning curves vary and the decoded ``f`` is biased; at 0.4
        they lie at norm 0.87, inside it, and the inputs still span enough of
        it to be told apart.  Static bias on NAND / XOR at 200 rate neurons:
        0.3-0.5 alike (0.0018-0.0025); 1.0 (radius 1 or 1.73) and 0.7 (radius
        1.4) about twice that.
    level_points
        Fraction of each ensemble's evaluation points (of programs with both
        states and inputs) with every input at one end of its declared range
        (a gate's logic levels), the states uniform over their ranges; the rest
        are uniform over the box of declared ranges.  The settled levels only
        depend on ``f`` where the inputs sit at their levels, and least squares
        spreads its error over the evaluation points.  Static bias on NAND /
        XOR at 200 rate neurons (reg 0.01): 0.009-0.011 with all points
        uniform, 0.004-0.005 at 0.5, 0.003-0.004 at 0.6, 0.002 at 0.8 and
        0.9.  The other 20 % keep the transitions between patterns decoded.
    """
    import nengo

    flat = flatten(program)
    sizes = []
    for part in flat.parts:
        n = n_neurons.get(part.path) if isinstance(n_neurons, Mapping) else n_neurons
        if n is None:
            n = 100 * max(1, len(part.program.variables))
        n = validation.integer(n, f"n_neurons for part {part.path!r}", "nef", minimum=1)
        if n > 10_000_000:
            raise ValidationError(f"nef: n_neurons={n} for part {part.path!r} is too large")
        sizes.append(n)
    neuron_type = nengo.LIF() if neuron_type is None else neuron_type
    if not isinstance(neuron_type, nengo.neurons.NeuronType):
        raise ValidationError(f"nef: neuron_type must be a nengo neuron type such as nengo.LIF(), got {neuron_type!r}")
    tau = validation.number(tau, "tau", "nef", positive=True, unit="seconds")
    seed = validation.seed(seed, "nef")
    solver = nengo.solvers.LstsqL2(reg=REG) if solver is None else solver
    if not isinstance(solver, nengo.solvers.Solver):
        raise ValidationError(f"nef: solver must be a nengo.solvers.Solver, got {solver!r}")
    input_scale = validation.number(input_scale, "input_scale", "nef", positive=True, maximum=1.0)
    level_points = validation.number(level_points, "level_points", "nef", minimum=0.0)
    if level_points >= 1:
        raise ValidationError(f"nef: level_points must be a number in [0, 1), got {level_points!r}")
    return NEFNetwork(flat.name, program, tuple(sizes), neuron_type, float(tau), seed,
                      tuple(flat.inputs), tuple(flat.outputs), solver,
                      input_scale=float(input_scale), level_points=float(level_points))


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


def _eval_points(rng: np.random.RandomState, n: int, ranges, scale: np.ndarray, n_states: int,
                 level_points: float) -> np.ndarray:
    """Evaluation points (ensemble coordinates) of one part; see :func:`nef` ``level_points``.

    A fraction ``1 - level_points`` is uniform over the box of declared ranges;
    the rest has every input at one end of its range (chosen at random), the
    states uniform over their ranges.
    """
    r = np.array(list(ranges), dtype=float).reshape(-1, 2)
    D = len(r)
    n_level = int(round(n * level_points)) if 0 < n_states < D else 0
    points = rng.uniform(r[:, 0], r[:, 1], size=(n, D))
    ends = rng.randint(0, 2, size=(n_level, D - n_states))
    points[:n_level, n_states:] = np.where(ends == 1, r[n_states:, 1], r[n_states:, 0])
    return points / scale
