"""docs/method.md §8 checks 8-11: the paper's gates and circuits at rate level (taylor, min-norm)."""

import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic


@pytest.mark.parametrize("kind", sorted(logic.GATES))
def test_gate_truth_table_30_neurons(kind):  # check 8
    rnn = npl.compile(logic.gate(kind), n_neurons=30, seed=0)
    score = networks.get(kind).metric(rnn, hold=1.0, tol=0.005)
    assert score.passed, score.rows
    assert score.details["wrong_signs"] == 0


@pytest.mark.parametrize("kind", sorted(logic.GATES))
def test_gate_fixed_points_are_exactly_the_levels(kind):  # check 8, analytic part
    prog = logic.gate(kind)
    f = logic.TRUTH[kind]
    for s1 in (-0.1, 0.1):
        for s2 in (-0.1, 0.1):
            want = 0.1 if f(s1 > 0, s2 > 0) else -0.1
            assert prog.evaluate("o", {"o": want, "s1": s1, "s2": s2}) == pytest.approx(0, abs=1e-12)


def test_sr_latch_protocol():  # check 9
    rnn = npl.compile(logic.sr_latch(), n_neurons=30, seed=0)
    assert rnn.n_neurons == 60
    score = networks.get("sr_latch").metric(rnn, tol=0.005)
    assert score.passed, score.rows
    assert [r["q_expected"] for r in score.rows] == [True, True, False, False, True, True]


def test_ring_oscillator_period():  # check 10
    rnn = npl.compile(logic.ring_oscillator(), n_neurons=30, seed=0)
    assert rnn.n_neurons == 90
    score = networks.get("ring_oscillator").metric(rnn, initial="rstar")
    assert score.passed
    # re-implementation: period 676-677 steps at dt = 1 ms; swing -0.08 ... +0.095
    assert score.details["period"] == pytest.approx(0.6765, abs=0.01)
    assert score.details["min"] == pytest.approx(-0.08, abs=0.01)
    assert score.details["max"] == pytest.approx(0.095, abs=0.01)


def test_full_adder_truth_table():  # check 11
    rnn = npl.compile(logic.full_adder(), n_neurons=30, seed=0)
    assert rnn.n_neurons == 150
    score = networks.get("full_adder").metric(rnn, tol=0.005)
    assert score.passed, score.rows
    assert len(score.rows) == 8


def test_half_adder_truth_table():
    rnn = npl.compile(logic.half_adder(), n_neurons=30, seed=0)
    assert networks.get("half_adder").metric(rnn, tol=0.005).passed


def test_nested_circuit_full_adder_from_half_adders():
    ha = logic.half_adder()
    fa = npl.Circuit(
        "fa2",
        parts={"h1": ha, "h2": ha, "c": logic.gate("or")},
        wires=[("h1.sum", "h2.a"), ("h1.carry", "c.s1"), ("h2.carry", "c.s2")],
        inputs={"a": ["h1.a"], "b": ["h1.b"], "cin": ["h2.b"]},
        outputs={"sum": "h2.sum", "carry": "c.o"},
    )
    assert [p.path for p in fa.flat.parts] == ["h1.x", "h1.c", "h2.x", "h2.c", "c"]
    rnn = npl.compile(fa, n_neurons=30)
    assert networks.get("full_adder").metric(rnn, tol=0.005).passed


def test_library_lists_every_network():
    assert set(networks.names()) >= {"and", "nand", "or", "nor", "xor", "xnor", "sr_latch", "ring_oscillator",
                                     "half_adder", "full_adder"}
    with pytest.raises(npl.ValidationError, match="not in the library"):
        networks.get("flipflop")
