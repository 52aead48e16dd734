"""How the nengo backend's network wires inputs, loop and readout (what keeps NengoDL's step cheap).

NengoDL merges several connections into the same target (or several 1 x N
readouts of the same units) into gathered, scattered products: one connection
per input into ``ens.neurons`` cost 20-50x a plain ensemble's step
(benchmarks/nengo_dl_overhead.py).  The build sends the loop and every input
through ONE connection into the units and the readout through ONE connection
out of them; these tests pin that structure and that the runs still equal
the reference backend (tolerances as tests/test_nengo.py and
tests/test_nengo_dl.py: nengo < 1e-9, NengoDL float32 < 1e-6, float64 < 1e-12).
"""

import nengo
import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.backends import nengo as nengo_backend

INPUTS = {
    "a": lambda t: 0.1 if np.sin(9 * t) >= 0 else -0.1,  # time-varying (callable)
    "b": np.linspace(-0.1, 0.1, 300),  # time-varying (one sample per step)
    "cin": 0.1,  # constant
}


@pytest.fixture(scope="module")
def adder():
    return npl.compile(networks.get("full_adder").build(), method="sampled", n_neurons=60, seed=1)


def _into(net, obj):  # == : ens.neurons is a new Neurons view at every access
    return [c for c in net.all_connections if c.post_obj == obj]


def _out_of(net, obj):
    return [c for c in net.all_connections if c.pre_obj == obj]


def test_loop_and_inputs_enter_the_units_through_one_connection(adder):
    net = nengo_backend.build(adder, {"a": 0.1, "b": -0.1})
    k, m = adder.n_signals, len(adder.input_names)
    into = _into(net, net.ensemble.neurons)
    assert len(into) == 1 and into[0].pre_obj is net.drive
    np.testing.assert_array_equal(into[0].transform.init, np.hstack([adder.B_rec, adder.B_ext]))
    assert into[0].synapse is None and net.drive.size_in == k + m
    # the loop fills drive[:k], input j fills drive[k + j]; inputs left out ("cin") stay open
    (loop,) = _out_of(net, net.loop)
    assert loop.post_obj is net.drive and list(np.arange(k + m)[loop.post_slice]) == list(range(k))
    for j, name in enumerate(adder.input_names):
        (conn,) = _out_of(net, net.inputs[name])
        assert conn.post_obj is net.drive and list(np.arange(k + m)[conn.post_slice]) == [k + j]
    assert set(net.sources) == {"a", "b"}
    assert all(_into(net, net.inputs[n])[0].pre_obj is net.sources[n] for n in ("a", "b"))
    assert _into(net, net.inputs["cin"]) == []


def test_readout_leaves_the_units_through_one_connection(adder):
    net = nengo_backend.build(adder)
    out = _out_of(net, net.ensemble.neurons)
    # the loop (W_rec, filtered) and the readout (W, unfiltered): nothing else reads the units
    assert {c.post_obj for c in out} == {net.loop, net.readout} and len(out) == 2
    (readout,) = [c for c in out if c.post_obj is net.readout]
    np.testing.assert_array_equal(readout.transform.init, adder.W)
    assert readout.synapse is None
    for i, name in enumerate(adder.output_names):
        conn = net.output_connections[name]
        assert conn.pre_obj is net.readout and conn.post_obj is net.outputs[name]
        assert list(np.arange(len(adder.output_names))[conn.pre_slice]) == [i]
        assert isinstance(conn.synapse, nengo_backend.InitialFilter)


def test_network_without_inputs_or_loop_builds():
    rnn = npl.compile(networks.get("nand").build(), method="sampled", seed=1)
    net = nengo_backend.build(rnn)  # inputs open
    assert len(_into(net, net.ensemble.neurons)) == 1
    with nengo.Network() as model:  # a user's model drives an open input through net.inputs
        model.add(net)
        nengo.Connection(nengo.Node(0.1), net.inputs["s1"], synapse=None)
    with nengo.Simulator(model, progress_bar=False) as sim:
        sim.run_steps(5)


def test_nengo_equals_the_reference_with_varying_and_constant_inputs(adder):
    ref = npl.run(adder, INPUTS, 0.3, backend="reference", integrator="euler")
    nen = npl.run(adder, INPUTS, 0.3, backend="nengo", synapse="euler")
    assert np.allclose(ref.t, nen.t)
    for name in adder.output_names:
        assert float(np.max(np.abs(ref[name] - nen[name]))) < 1e-9, name


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-6), ("float64", 1e-12)])
def test_nengo_dl_equals_the_reference_with_varying_and_constant_inputs(adder, dtype, tol):
    pytest.importorskip("nengo_dl")
    ref = npl.run(adder, INPUTS, 0.3, backend="reference", integrator="euler")
    dl = npl.run(adder, INPUTS, 0.3, backend="nengo_dl", synapse="euler", dtype=dtype)
    assert np.allclose(ref.t, dl.t)
    for name in adder.output_names:
        assert float(np.max(np.abs(ref[name] - dl[name]))) < tol, name


def test_nengo_dl_batch_with_initial_states_still_equals_single_runs(adder):
    pytest.importorskip("nengo_dl")
    starts = [None, {s: 0.05 for s in adder.signal_names}]
    batch = npl.run(adder, INPUTS, 0.1, backend="nengo_dl", synapse="euler", initial=starts)
    for i, x0 in enumerate(starts):
        single = npl.run(adder, INPUTS, 0.1, backend="reference", integrator="euler", initial=x0)
        for name in adder.output_names:
            assert float(np.max(np.abs(batch.trial(i)[name] - single[name]))) < 1e-6, name
