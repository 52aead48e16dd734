"""The shared spiking suite, run on every backend (the ``backend`` fixture, conftest.py).

The central finding (docs/spiking-fidelity.md): min-norm taylor weights cannot survive spike noise; noise-aware
(sampled) weights keep the program's behaviour under regular spiking at 1000 Hz with N <= 500.

Spiking tolerance: a logic output must settle within 0.03 of its level (so within 30 % of the
±0.1 level, on the right side); the sampled compiler's ridge shrinkage costs ~0.01 at rate level.
"""

import functools

import pytest
from conftest import BACKENDS

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

SPIKING = dict(neurons="regular", max_rate=1000.0, seed=1)

#: The six two-input gates on every backend (ids as the ``backend`` fixture's: ``[backend-gate]``).  The gates
#: are one program with another truth table; on the two slow simulators (nengo_dl 1.5-2.5 s, brian2 1.5-2 s a
#: run) nand and xor stand for them in the default suite and the other four run with -m slow (every gate still
#: runs on reference and nengo, and every backend still runs nand and xor).
SLOW_BACKENDS = ("nengo_dl", "brian2")
REPRESENTATIVE_GATES = ("nand", "xor")
GATE_CASES = [pytest.param(kind, backend, id=f"{backend}-{kind}",
                           marks=[pytest.mark.slow] if backend in SLOW_BACKENDS and kind not in REPRESENTATIVE_GATES
                           else [])
              for backend in BACKENDS for kind in sorted(logic.GATES)]


@functools.cache
def _compiled(name, method):
    """One compile (N = 200, seed 0: deterministic) per network and method, shared by the backends' runs."""
    program = logic.gate(name) if name in logic.GATES else getattr(logic, name)()
    return npl.compile(program, n_neurons=200, method=method, seed=0)


@pytest.mark.parametrize("kind, backend", GATE_CASES)
def test_sampled_gates_keep_truth_tables_under_regular_spiking(kind, backend):
    rnn = _compiled(kind, "sampled")
    score = networks.get(kind).metric(rnn, hold=0.6, tol=0.03, backend=backend, **SPIKING)
    assert score.passed, score.rows


@pytest.mark.parametrize("kind, backend", GATE_CASES)
def test_min_norm_taylor_gates_fail_under_the_same_spikes(kind, backend):
    rnn = _compiled(kind, "taylor")
    assert rnn.expected_noise(1000.0)[0] > 1.0  # the noise gain predicts it
    score = networks.get(kind).metric(rnn, hold=0.6, tol=0.03, backend=backend, **SPIKING)
    assert not score.passed


def test_taylor_gate_is_fine_at_rate_level_with_the_same_weights(backend):
    rnn = _compiled("nand", "taylor")
    # min-norm weights (||W|| ~ 1e6) need float64: in float32 they fail (test_nengo_dl.py)
    options = {"dtype": "float64"} if backend == "nengo_dl" else {}
    assert networks.get("nand").metric(rnn, hold=0.6, tol=0.005, backend=backend, **options).passed


def test_sampled_sr_latch_under_regular_spiking(backend):
    rnn = _compiled("sr_latch", "sampled")
    score = networks.get("sr_latch").metric(rnn, pulse=0.5, hold=3.0, tol=0.03, backend=backend, **SPIKING)
    assert score.passed, score.rows


def test_sampled_full_adder_under_regular_spiking(backend):
    rnn = _compiled("full_adder", "sampled")
    score = networks.get("full_adder").metric(rnn, hold=1.0, tol=0.03, backend=backend, **SPIKING)
    assert score.passed, score.rows
    assert score.details["wrong_signs"] == 0


def test_sampled_ring_oscillates_under_regular_spiking(backend):
    rnn = _compiled("ring_oscillator", "sampled")
    rate = networks.get("ring_oscillator").metric(rnn, backend=backend)
    spk = networks.get("ring_oscillator").metric(rnn, backend=backend, **SPIKING)
    assert rate.passed and spk.passed
    assert spk.details["period"] == pytest.approx(rate.details["period"], rel=0.1)
