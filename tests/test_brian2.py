"""The Brian2 backend: exactness against the reference and nengo, spiking statistics, targets.

Tolerances, measured (dt = 1 ms, seed-fixed):

* rate, ``method="euler"``: the same Euler step as the reference backend's
  ``integrator="euler"``; sampled networks agree to < 1e-15 (1e-12 asserted).
  ``"exponential_euler"`` is the exact leak with J held over the step, nengo's
  ``synapse="zoh"``: agreement < 2e-15.
* regular spiking: the signed phase, its random start (the run seed's first
  draw) and the filter's discretization are the reference backend's, so the
  spikes are identical and outputs agree to < 1e-15.  Against nengo's
  ``RegularSpiking`` (its own phases): settled means within 5e-5 (0.003
  asserted).
* the ring oscillator (sampled, N = 200 per gate) under regular spiking:
  period 0.7292 s, the reference's regular spiking run exactly; its RK4 rate
  run gives 0.6928 s (+5.3 %: the step's zero-order hold of the rates slows the
  loop, nengo's zoh rate run gives 0.7293 s too), so the check against RK4 is
  6 %.
"""

import os

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

b2 = pytest.importorskip("brian2")
from npl_nengo.backends import brian2 as b2_backend  # noqa: E402

REGULAR = dict(neurons="regular", max_rate=1000.0)


@pytest.fixture(scope="module")
def sampled():
    cache = {}

    def get(name, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = npl.compile(networks.get(name).build(), method="sampled", seed=1, **options)
        return cache[key]

    return get


def _inputs(name):
    if name == "nand":
        return {"s1": lambda t: 0.1 if np.sin(7 * t) >= 0 else -0.1, "s2": np.linspace(-0.1, 0.1, 1000)}
    return dict(networks.get(name).inputs)


def _max_diff(a, b):
    np.testing.assert_allclose(a.t, b.t)
    return max(float(np.max(np.abs(a[o] - b[o]))) for o in a.outputs)


@pytest.mark.parametrize("name", ["nand", "sr_latch", "ring_oscillator", "full_adder"])
def test_rate_euler_equals_reference_and_exponential_euler_equals_nengo_zoh(name, sampled):
    rnn = sampled(name)
    ref = npl.run(rnn, _inputs(name), 1.0, backend="reference", integrator="euler")
    euler = npl.run(rnn, _inputs(name), 1.0, backend="brian2", method="euler")
    assert _max_diff(ref, euler) < 1e-12
    zoh = npl.run(rnn, _inputs(name), 1.0, backend="nengo", synapse="zoh")
    exact = npl.run(rnn, _inputs(name), 1.0, backend="brian2")
    assert _max_diff(zoh, exact) < 1e-12


def test_regular_spikes_are_the_reference_backends(sampled):
    rnn = sampled("full_adder")
    inputs = {"a": 0.1, "b": -0.1, "cin": 0.1}
    ref = npl.run(rnn, inputs, 1.0, backend="reference", record_spikes=True, seed=4, **REGULAR)
    b2r = npl.run(rnn, inputs, 1.0, backend="brian2", record_spikes=True, seed=4, **REGULAR)
    assert np.array_equal(ref.spikes, b2r.spikes)
    assert (b2r.spikes < 0).any() and (b2r.spikes > 0).any()
    assert _max_diff(ref, b2r) < 1e-12


def test_spiking_statistics_agree_with_nengo(sampled):
    rnn = sampled("full_adder")
    inputs = {"a": 0.1, "b": 0.1, "cin": -0.1}
    b2r = npl.run(rnn, inputs, 1.5, backend="brian2", seed=2, **REGULAR)
    nen = npl.run(rnn, inputs, 1.5, backend="nengo", seed=2, **REGULAR)
    for out in rnn.output_names:
        a, b = b2r[out][500:], nen[out][500:]
        assert a.mean() == pytest.approx(b.mean(), abs=0.003)
        assert a.std() == pytest.approx(b.std(), abs=0.002)


def test_oscillator_period_within_five_percent_of_the_reference():
    rnn = npl.compile(logic.ring_oscillator(), n_neurons=200, method="sampled", seed=0)
    metric = networks.get("ring_oscillator").metric
    reference = metric(rnn, backend="reference")  # RK4, rate
    spiking = metric(rnn, backend="brian2", seed=1, **REGULAR)
    assert spiking.passed
    assert spiking.details["period"] == pytest.approx(reference.details["period"], rel=0.06)
    # against the reference at the same discretization (its spiking run): equal
    ref_spiking = metric(rnn, backend="reference", seed=1, **REGULAR)
    assert spiking.details["period"] == pytest.approx(ref_spiking.details["period"], rel=1e-9)


def test_lif_units_keep_the_truth_table(sampled):
    rnn = sampled("nand", activation="lif")
    score = networks.get("nand").metric(rnn, backend="brian2", neurons="lif", tol=0.005)  # 5 % of the level
    assert score.passed, score.rows
    res = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, 0.3, backend="brian2", neurons="lif", record_spikes=10)
    assert res.spikes.shape == (300, 10) and res.spikes.min() >= 0 and res.spikes.sum() > 0


def test_poisson_same_seed_same_result_different_seed_different(sampled):
    rnn = sampled("nand")
    run = lambda seed: npl.run(rnn, {"s1": 0.1, "s2": -0.1}, 0.3, backend="brian2", neurons="poisson", seed=seed)  # noqa: E731
    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a["o"], b["o"])
    assert not np.array_equal(a["o"], c["o"])
    assert a["o"][-100:].mean() > 0.05


def test_synapses_are_n_by_k_not_n_by_n(sampled):
    rnn = sampled("full_adder")
    stim = np.zeros((3, len(rnn.input_names)))
    net, parts = b2_backend.build(rnn, stim, neurons="regular")
    n_syn = sum(len(obj) for obj in net.objects if isinstance(obj, b2.Synapses))
    expected = (np.count_nonzero(rnn.W_rec) + np.count_nonzero(rnn.W) + np.count_nonzero(rnn.B_rec)
                + np.count_nonzero(rnn.B_ext))
    assert n_syn == expected
    assert n_syn < rnn.n_neurons ** 2 / 50


@pytest.mark.parametrize("options, match", [
    ({"target": "gpu"}, "target"), ({"method": "rk4"}, "method"), ({"neurons": "lif"}, "activation='lif'"),
    ({"neurons": "regular", "max_rate": 2000.0}, "once per step"), ({"sample_every": 0}, "sample_every"),
])
def test_bad_options_name_what_is_wrong(options, match, sampled):
    with pytest.raises(npl.ValidationError, match=match):
        npl.run(sampled("nand"), {"s1": 0.1, "s2": 0.1}, 0.1, backend="brian2", **options)


# ------------------------------------------------------------------ code-generation targets
def test_cpp_standalone_equals_numpy_twice_in_one_process(sampled, tmp_path):
    rnn = sampled("nand")
    inputs = {"s1": 0.1, "s2": -0.1}
    base = npl.run(rnn, inputs, 0.3, backend="brian2", seed=3, **REGULAR)
    first = npl.run(rnn, inputs, 0.3, backend="brian2", seed=3, target="cpp_standalone", **REGULAR)
    build = tmp_path / "build"
    second = npl.run(rnn, inputs, 0.3, backend="brian2", method="euler", target="cpp_standalone",
                     build_dir=str(build))
    assert _max_diff(base, first) < 1e-12
    assert _max_diff(npl.run(rnn, inputs, 0.3, backend="brian2", method="euler"), second) < 1e-12
    assert (build / "main.cpp").exists()  # a build_dir the user names is kept
    # the runtime device is back: a plain run still works
    assert _max_diff(base, npl.run(rnn, inputs, 0.3, backend="brian2", seed=3, **REGULAR)) == 0.0


def test_cython_equals_numpy(sampled):
    rnn = sampled("nand")
    inputs = {"s1": -0.1, "s2": -0.1}
    before = b2.prefs.codegen.target
    base = npl.run(rnn, inputs, 0.3, backend="brian2", seed=3, **REGULAR)
    cy = npl.run(rnn, inputs, 0.3, backend="brian2", seed=3, target="cython", **REGULAR)
    assert _max_diff(base, cy) < 1e-12
    assert b2.prefs.codegen.target == before  # the user's preference is restored


def test_standalone_build_directory_is_removed(sampled, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    npl.run(sampled("nand"), {"s1": 0.1, "s2": 0.1}, 0.05, backend="brian2", target="cpp_standalone")
    from npl_nengo.backends import brian2 as b2_backend

    b2_backend.clear_cache()  # the built project is kept for reuse until it leaves the cache
    assert not [p for p in os.listdir(tmp_path) if p.startswith("npl_nengo_brian2_")]


def test_interrupt_returns_the_partial_result(sampled, monkeypatch):
    original = b2.Network.run

    def interrupted_run(self, duration, **kwargs):  # simulate 0.4 s, then Ctrl-C
        original(self, 0.4 * b2.second, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(b2.Network, "run", interrupted_run)
    res = npl.run(sampled("nand"), {"s1": 0.1, "s2": 0.1}, 2.0, backend="brian2")
    assert res.info["interrupted"] is True
    assert len(res.t) == len(res["o"]) == 399
    assert res["o"][-1] == pytest.approx(-0.1, abs=0.02)


def test_to_brian2_is_the_network_run_simulates(sampled):
    """A user's own Brian2 script: the network, run with brian2, gives run()'s outputs; defaultclock untouched."""
    rnn = sampled("nand")
    before = b2.defaultclock.dt
    net = npl.to_brian2(rnn, {"s1": 0.1, "s2": -0.1}, neurons="regular", seed=2)
    assert b2.defaultclock.dt == before
    net.run(0.301 * b2.second)  # one extra step: run() drops the record of the initial state
    ours = np.asarray(net[[o.name for o in net.objects if o.name.startswith("outputs")][0]].s)[-1, 1:]
    res = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, 0.3, backend="brian2", neurons="regular", seed=2)
    np.testing.assert_allclose(ours, res["o"], atol=1e-12)
    with pytest.raises(npl.ValidationError, match="to_brian2: expected a ProgrammedRNN, got Program"):
        npl.to_brian2(logic.gate("nand"))
