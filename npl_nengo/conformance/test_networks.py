"""Every library network, judged by its own metric on the simulator under test.

Modes: ``rate`` and ``regular`` (1 kHz signed spikes) run the entry's recommended compile;
``lif`` runs its LIF route (``compile(..., activation="lif")`` with the entry's ``lif_compile``)
on spiking LIF units.  The metric and its tolerance are the library's
(:mod:`npl_nengo.networks`): logic levels within ``level_tol(method, neurons)`` of ±0.1
(0.002 for the sampled fit at rate and regular spikes, 0.005 for the min-norm weights at rate
and for LIF units), an oscillator's period within 10 % of 0.676 s, an attractor's invariant
statistics within :data:`npl_nengo.metrics.ATTRACTOR_TOL`, the NPUs' errors within their stated
bounds.  Where a network does not hold its metric in a mode on any simulator (its entry's
``spiking`` is False; LIF routes measured in :mod:`npl_nengo.conformance.expected`), the test is
an expected failure with that reason.
"""

from __future__ import annotations

import pytest

from ..cells import Cell, level_tol, neurons_for, run_cell
from ..networks import LIBRARY

MODES = ("rate", "regular", "lif")
#: The quick subset: a gate in every mode, a latch and the ring at rate level (seconds each on nengo).
QUICK = {("nand", "rate"), ("nand", "regular"), ("nand", "lif"), ("sr_latch", "rate"), ("ring_oscillator", "rate")}


def _cases():
    for name in LIBRARY:
        for mode in MODES:
            marks = [] if (name, mode) in QUICK else [pytest.mark.conformance_full]
            yield pytest.param(name, mode, marks=marks, id=f"{name}-{mode}")


@pytest.mark.parametrize(("name", "mode"), list(_cases()))
def test_library_network(simulator, compiled, name, mode):
    """The entry's metric passes with its stated tolerance (module docstring), seed 1."""
    activation = "lif" if mode == "lif" else "tanh"
    neurons = "lif" if mode == "lif" else mode
    why = simulator.runs(neurons, activation)
    if why is not None:
        pytest.skip(why)
    target, method, network = compiled(name, "lif" if mode == "lif" else "recommended")
    cell = Cell(method, 1, simulator.backend, neurons_for(method, neurons))
    options = dict(simulator.options)
    row = run_cell(target, network, cell, run_options=options)
    assert row.result != "ERROR", f"{name} ({mode}) did not run: {row.message}"
    tol = f"tolerance {row.tol:g}" if row.tol is not None else "the metric's tolerances"
    assert row.passed, (f"{name} ({mode}, {method} N={row.N}): {row.statistic} error {row.error:.3g}, "
                        f"{tol}{'; ' + row.message if row.message else ''}")
    if target.takes_level_tol:
        assert row.tol == level_tol(method, cell.neurons)
