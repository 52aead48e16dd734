"""The NEST backend (through PyNN): LIF-compiled networks on NEST's current-based LIF cells.

The same LIF NAND as tests/test_lif.py: its truth-table levels within 5 % of ±0.1 on NEST, and
within 0.002 of nengo.LIF and Brian2 (measured: within 0.0005).  The truth table holds each
input pattern for 1 s in turn, so it also covers time-varying inputs (NEST step current
generators weighted by ``B_ext``).
"""

import numpy as np
import pytest

pytest.importorskip("pyNN")
pytest.importorskip("nest")

import npl_nengo as npl  # noqa: E402
from npl_nengo import networks, registry  # noqa: E402
from npl_nengo.networks import logic  # noqa: E402

LEVEL_TOL = 0.005  # tests/test_lif.py's tolerance: 5 % of the ±0.1 level
AGREE = 0.002  # nest against nengo and brian2, level by level (measured: within 0.0005)


@pytest.fixture(scope="module", autouse=True)
def registered():
    """``backend="nest"`` whether or not the registry lists it yet."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.BACKENDS, "nest", "npl_nengo.backends.nest")
        registry.backend_info.cache_clear()
        yield
    registry.backend_info.cache_clear()


@pytest.fixture(scope="module")
def nand():
    entry = networks.get("nand")
    return npl.compile(entry.build(), method="sampled", activation="lif", seed=0, **entry.lif_compile)


@pytest.fixture(scope="module")
def nest_score(nand):
    return networks.get("nand").metric(nand, backend="nest", neurons="lif", seed=1, tol=LEVEL_TOL, record_spikes=True)


def test_lif_nand_keeps_its_truth_table_on_nest(nand, nest_score):
    assert nest_score.passed and nest_score.details["wrong_signs"] == 0, nest_score.rows
    spikes = nest_score.result.spikes
    assert spikes.dtype == np.int16 and spikes.shape == (4000, nand.n_neurons) and spikes.min() >= 0
    hz = spikes.sum(axis=0) / nest_score.result.t[-1]
    assert 50.0 < hz.mean() and hz.max() <= 400.0  # positive spikes at physiological rates


def test_nest_agrees_with_nengo_and_brian2_on_the_same_lif_network(nand, nest_score):
    pytest.importorskip("brian2")
    entry = networks.get("nand")
    for backend in ("nengo", "brian2"):
        other = entry.metric(nand, backend=backend, neurons="lif", seed=1, tol=LEVEL_TOL)
        for a, b in zip(nest_score.rows, other.rows):
            assert a["o"] == pytest.approx(b["o"], abs=AGREE), (backend, a, b)


def test_a_switching_input_moves_the_output_as_on_nengo(nand):
    """Time-varying input (NEST step current generators): NAND's output follows s1 switching at 0.5 s
    as nengo.LIF's does (measured: rms 0.006 apart, as Brian2 and nengo are; 0.013 with a 1 ms delay)."""
    inputs = {"s1": np.where(np.arange(1000) < 500, 0.1, -0.1), "s2": 0.1}
    ours, ref = (npl.run(nand, inputs, 1.0, backend=b, neurons="lif", seed=1)["o"] for b in ("nest", "nengo"))
    assert np.sqrt(np.mean((ours - ref) ** 2)) < 0.01
    assert ours[400:500].mean() < -0.09 and ours[900:].mean() > 0.09  # NAND(T, T) = F, then NAND(F, T) = T


def test_held_inputs_settle_and_the_result_has_the_common_shape(nand):
    res = npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.6, backend="nest", neurons="lif", sample_every=2,
                  record_spikes=7)
    assert res.backend == "nest" and res.neurons == "lif" and list(res.outputs) == ["o"]
    np.testing.assert_allclose(res.t, np.arange(1, 301) * 2e-3)
    assert res.spikes.shape == (600, 7) and res.spikes.dtype == np.int16
    assert res.info["interrupted"] is False and res.info["build_seconds"] <= res.info["wall_seconds"]
    assert abs(res.mean("o", 0.4, 0.6) + 0.1) < LEVEL_TOL  # NAND(T, T) = F


def test_a_seed_gives_the_same_spikes_and_another_seed_others(nand):
    runs = [npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.2, backend="nest", neurons="lif", seed=s, record_spikes=True)
            for s in (3, 3, 4)]
    assert np.array_equal(runs[0].spikes, runs[1].spikes) and np.array_equal(runs[0]["o"], runs[1]["o"])
    assert not np.array_equal(runs[0].spikes, runs[2].spikes)


def test_readout_is_nengos_filter_on_the_same_spikes(nand):
    """Rebuilding ``W r`` from nengo.LIF's own spikes gives nengo's output to rounding."""
    from npl_nengo.backends import nest as nest_backend

    ref = npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.3, backend="nengo", neurons="lif", record_spikes=True)
    lif = nand.info["activation"]
    y0 = nand.W @ nand.initial_state(None, np.array([0.1, -0.1]))
    y = nest_backend.readout(ref.spikes.astype(float), nand.W, y0, nand.gamma, lif["amplitude"], 1e-3)
    np.testing.assert_allclose(y[:, 0], ref["o"], atol=1e-12)


def test_tanh_networks_and_other_neuron_modes_are_refused(nand):
    tanh = npl.compile(logic.gate("nand"), n_neurons=20, seed=0)
    with pytest.raises(npl.ValidationError, match="nest runs networks compiled with activation='lif'"):
        npl.run(tanh, {"s1": 0.1, "s2": 0.1}, 0.01, backend="nest", neurons="lif")
    with pytest.raises(npl.ValidationError, match="does not support neurons='rate'"):
        npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.01, backend="nest", neurons="rate")
    with pytest.raises(npl.ValidationError, match="option threads=0.5"):
        npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.01, backend="nest", neurons="lif", threads=0.5)


def test_the_registry_reads_the_nest_contract():
    info = registry.backend_info("nest")
    assert info.neurons == ("lif",) and info.module.ACTIVATIONS == ("lif",)
    assert {"max_rate", "initial", "sample_every", "record_spikes", "threads", "substeps"} <= set(info.options)
    assert not info.nef and not info.batches
