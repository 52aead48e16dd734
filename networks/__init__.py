"""The library of programs and circuits (installed as ``npl_nengo.networks``).

:data:`LIBRARY` maps a name to an :class:`Entry`: how to build the program or
circuit, the inputs a plain run uses, and the metric that says whether a run
does what the program means.

>>> from npl_nengo import networks
>>> entry = networks.get("nand")
>>> program = entry.build()
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ValidationError
from ..metrics import Score, attractor, dram, latch, oscillation, truth_table
from ..program import Circuit, Program
from ..rnn import ProgrammedRNN
from . import attractors, logic, npu, pong, virtual

__all__ = ["Entry", "LIBRARY", "get", "names"]


@dataclass(frozen=True)
class Entry:
    """One library network.

    Attributes
    ----------
    name, description
        What it is.
    build
        Returns the Program or Circuit.
    metric
        ``metric(rnn, **run_options) -> Score``.
    inputs
        Inputs of a plain ``npl-nengo run``.
    duration
        Seconds of a plain run.
    level_tol
        Whether the metric takes a logic-level tolerance ``tol`` (a number);
        attractor metrics take a dict of tolerances instead.
    compile
        The recommended compile: keyword arguments of :func:`npl_nengo.compile`
        (``method`` defaults to ``"sampled"``); ``npl-nengo compare`` uses them
        for that method's cells (measured in ``benchmarks/library_defaults.py``).
    backend_options
        ``{backend: run options}`` for the recommended compile's cells, e.g.
        ``{"nengo_dl": {"dtype": "float64"}}``: the paper's min-norm weights
        (‖W‖ 1e3–1e6) do not survive float32 rounding.
    lif_compile
        Keyword arguments of :func:`npl_nengo.compile` for the LIF route
        (``method="sampled", activation="lif"`` implied): ``compare``'s ``"lif"``
        cells use them (measured in ``tests/test_lif.py``).
    spiking
        Whether the recommended compile passes its metric under regular 1 kHz
        spikes on the default backends.  ``False`` marks what is still out of
        reach (see ``docs/spiking-fidelity.md``): ``compare --check`` then counts
        only its rate cells.
    """

    name: str
    description: str
    build: Callable[[], Program | Circuit]
    metric: Callable[..., Score]
    inputs: dict[str, float] = field(default_factory=dict)
    duration: float = 1.0
    level_tol: bool = True
    compile: dict[str, Any] = field(default_factory=dict)
    spiking: bool = True
    backend_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    lif_compile: dict[str, Any] = field(default_factory=dict)


def _gate_metric(kind: str):
    def metric(rnn: ProgrammedRNN, **options: Any) -> Score:
        f = logic.TRUTH[kind]
        return truth_table(rnn, lambda a, b: (f(a, b),), ["o"], **options)

    return metric


def _half_adder_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    return truth_table(rnn, lambda a, b: (a != b, a and b), ["sum", "carry"], **options)


def _full_adder_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    def add(a, b, c):
        total = a + b + c
        return (total % 2 == 1, total >= 2)

    options.setdefault("hold", 1.5)
    return truth_table(rnn, add, ["sum", "carry"], **options)


def _latch_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    options.setdefault("initial", "zero")  # the authors start the latch from r = 0
    return latch(rnn, **options)


def _ring_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    # 10 %: zero-order-hold stepping runs gamma = 100 networks 4.8 % slow
    options.setdefault("expected_period", RING_PERIOD)
    options.setdefault("period_tol", 0.1)
    return oscillation(rnn, "o1", **options)


def _attractor_metric(build: Callable[[], Program]):
    def metric(rnn: ProgrammedRNN, **options: Any) -> Score:
        return attractor(rnn, build(), **options)

    return metric


def _dram_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    return dram(rnn, attractors.dram(), [attractors.lorenz(), attractors.rossler()], **options)


#: The library's guest RNN: 2 neurons, one input, seed 1 (virtualization).
_GUEST = virtual.random_guest(2, seed=1)


def _guest_program() -> Program:
    return virtual.guest_program(_GUEST, 3)


def _guest_metric(rnn: ProgrammedRNN, **options: Any) -> Score:
    options.setdefault("tol", 0.05)
    return virtual.virtualization(_GUEST, 3, rnn=rnn, **options)


#: Logic: slower units (gamma 30: less spike noise per unit, 1.5 % zero-order-hold slowdown) and a
#: Poisson-sized ridge penalty; rate and regular spikes stay exact, the fit being pinned at the levels.
_LOGIC = {"gamma": 30.0, "spikes": "poisson"}
#: The ring oscillator's dynamics live between the levels, where the heavier Poisson penalty changes
#: them (measured: no oscillation at gamma 50): the regular-spike penalty keeps its period.
_RING = {"gamma": 30.0}
#: The ring's period (s): the paper-faithful network at rate level (676 steps of 1 ms).
RING_PERIOD = 0.676
#: Min-norm (taylor) weights need NengoDL in float64.
_FLOAT64 = {"nengo_dl": {"dtype": "float64"}}

#: NPUs: slow units (gamma 10: spike noise filtered over 0.1 s, like NEF's synapses) with gentle input
#: gains (many inputs share each unit: at the default gain 2 they saturate it), measured in
#: docs/guide/npus.md.
_NPU_MATRIX = {"gamma": 10.0, "n_neurons": 1500, "input_scale": 0.25}
_NPU_SOLVER = {"gamma": 10.0, "n_neurons": 1000, "input_scale": 0.5}
_NPU_ROOT = {"gamma": 10.0, "n_neurons": 500, "input_scale": 1.0}
_PATH = {"gamma": 10.0, "n_neurons": 500, "input_scale": 0.25}

LIBRARY: dict[str, Entry] = {
    **{
        kind: Entry(kind, f"{kind.upper()} gate: do/dt = 10 (c o + a o^3 + L(s1, s2)), levels ±0.1",
                    functools.partial(logic.gate, kind), _gate_metric(kind), {"s1": 0.1, "s2": 0.1}, compile=_LOGIC)
        for kind in logic.GATES
    },
    "sr_latch": Entry("sr_latch", "SR latch from two cross-coupled NOR gates; inputs s (set), r (reset)",
                      logic.sr_latch, _latch_metric, {"s": -0.1, "r": -0.1}, compile=_LOGIC),
    "ring_oscillator": Entry("ring_oscillator", "ring of three NAND inverters (multivibrator), period ~0.68 s",
                             logic.ring_oscillator, _ring_metric, {}, 7.0, False, compile=_RING),
    "half_adder": Entry("half_adder", "half adder: sum = XOR(a, b), carry = AND(a, b)", logic.half_adder,
                        _half_adder_metric, {"a": 0.1, "b": 0.1}, compile=_LOGIC),
    "full_adder": Entry("full_adder", "full adder from five gates; inputs a, b, cin", logic.full_adder,
                        _full_adder_metric, {"a": 0.1, "b": -0.1, "cin": 0.1}, 2.0, compile=_LOGIC),
    "lorenz": Entry("lorenz", "Lorenz attractor (variables / 200, z - 27), chaotic; metric: attractor statistics",
                    attractors.lorenz, _attractor_metric(attractors.lorenz), {}, 20.0, False,
                    compile={"gamma": 10.0, "n_neurons": 600}, lif_compile={"gamma": 10.0, "n_neurons": 1500}),
    "rossler": Entry("rossler", "Rössler attractor (variables / 100, z - 10), chaotic; metric: attractor statistics",
                     attractors.rossler, _attractor_metric(attractors.rossler), {}, 20.0, False,
                     compile={"method": "taylor", "n_neurons": 200}, spiking=False, backend_options=_FLOAT64),
    "dram": Entry("dram", "dRAM: Lorenz at address +0.1, Rössler at -0.1 in one program; metric: per-address "
                  "statistics and switching time", attractors.dram, _dram_metric, {"address": 0.1}, 20.0, False,
                  compile={"method": "taylor", "n_neurons": 300}, spiking=False, backend_options=_FLOAT64),
    "guest_rnn": Entry("guest_rnn", "a 2-neuron tanh guest RNN virtualized in a host (Taylor order 3); metric: host vs "
                       "direct guest simulation", _guest_program, _guest_metric, {"u1": 0.05}, 2.0, False,
                       compile={"gamma": 10.0, "n_neurons": 600}, lif_compile={"gamma": 10.0, "n_neurons": 600}),
    "pong": Entry("pong", "pong: ball, velocity latches, wall/paddle/floor detectors, paddle input; metric: bounces "
                  "with a follower paddle", pong.pong, pong.pong_metric, {"paddle": 0.0}, 10.0, False,
                 compile={"method": "taylor"}, spiking=False, backend_options=_FLOAT64),
    "npu_matrix": Entry("npu_matrix", "matrix NPU: sum, difference, element-wise and matrix product of two 2x2 "
                        "matrices (entries in ±1), each entry its own readout; metric: error against numpy",
                        npu.matrix, npu.matrix_metric, {"a11": 0.5, "a12": 0.0, "a21": 0.0, "a22": 0.5, "b11": 0.0,
                                                        "b12": -0.5, "b21": 0.8, "b22": 0.0}, 2.0, False,
                        compile=_NPU_MATRIX),
    "npu_lstsq": Entry("npu_lstsq", "least-squares NPU (3 equations, 2 unknowns): normal equations chained to a "
                       "gradient flow; metric: settled error against numpy.linalg.lstsq and settling time",
                       npu.lstsq, npu.lstsq_metric, {"a11": 0.8, "a12": 0.0, "a21": 0.0, "a22": 0.9, "a31": 0.2,
                                                     "a32": 0.0, "b1": 0.2, "b2": -0.1, "b3": 0.1}, 2.0, False,
                       compile=_NPU_SOLVER),
    "npu_root": Entry("npu_root", "root NPU: dx/dt = -10 (x^3 + c1 x + c0) settles on the real root; metric: "
                      "settled error against numpy.roots and settling time", npu.root, npu.root_metric,
                      {"c1": 0.5, "c0": -0.2}, 2.0, False, compile=_NPU_ROOT),
    "path_integrator": Entry("path_integrator", "2-D path integrator of a velocity input; metric: error along a "
                             "10 s loop against the exact integral, then drift over 10 s at rest", npu.path,
                             npu.path_metric, {"vx": 0.1, "vy": 0.05}, 5.0, False, compile=_PATH),
}


def names() -> list[str]:
    """Names of the library networks."""
    return list(LIBRARY)


def get(name: str) -> Entry:
    """The library entry ``name``."""
    try:
        return LIBRARY[name]
    except KeyError:
        raise ValidationError(f"network {name!r} is not in the library (have: {', '.join(LIBRARY)})") from None
