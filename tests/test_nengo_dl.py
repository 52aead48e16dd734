"""The NengoDL backend: the nengo network on TensorFlow, batches, rate references.

Tolerances (measured, CPU, dt = 1 ms): float32 NengoDL against the nengo
reference simulator on the same network: < 1e-6 at rate level for sampled
networks (2.7e-7 measured on NAND); float64: < 1e-12.  A batch row equals the
separate run of the same trial to float32 rounding (< 1e-6).
"""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

pytest.importorskip("nengo_dl")

ROWS = [{"s1": a, "s2": b} for a in (-0.1, 0.1) for b in (-0.1, 0.1)]


@pytest.fixture(scope="module")
def nand():
    return npl.compile(logic.gate("nand"), method="sampled", seed=1)


def _max_diff(a, b):
    np.testing.assert_allclose(a.t, b.t)
    return max(float(np.max(np.abs(np.asarray(a[o]) - np.asarray(b[o])))) for o in a.outputs)


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-6), ("float64", 1e-12)])
def test_agrees_with_the_nengo_simulator(nand, dtype, tol):
    inputs = {"s1": lambda t: 0.1 if np.sin(7 * t) >= 0 else -0.1, "s2": np.linspace(-0.1, 0.1, 1000)}
    ref = npl.run(nand, inputs, 1.0, backend="nengo", synapse="euler")
    dl = npl.run(nand, inputs, 1.0, backend="nengo_dl", synapse="euler", dtype=dtype)
    assert dl.info["dtype"] == dtype
    assert _max_diff(ref, dl) < tol
    # and so with the reference backend's Euler integrator
    assert _max_diff(npl.run(nand, inputs, 1.0, backend="reference", integrator="euler"), dl) < tol


def test_a_batch_of_the_four_truth_table_rows_equals_four_runs(nand):
    batch = npl.run(nand, ROWS, 0.5, backend="nengo_dl")
    assert batch.trials == 4 and batch["o"].shape == (4, 500)
    for i, row in enumerate(ROWS):
        single = npl.run(nand, row, 0.5, backend="nengo_dl")
        assert _max_diff(batch.trial(i), single) < 1e-6
    settled = batch["o"][:, -1]
    np.testing.assert_array_less(0.05, settled[:3])  # NAND = 1 unless both inputs are 1
    assert settled[3] < -0.05


def test_batches_on_other_backends_run_trial_by_trial(nand):
    batch = npl.run(nand, ROWS[:2], 0.2, backend="reference")  # the reference batches (vectorized): to rounding
    assert batch.trials == 2
    assert _max_diff(batch.trial(1), npl.run(nand, ROWS[1], 0.2, backend="reference")) < 1e-12
    with pytest.raises(npl.ValidationError, match="batch"):
        batch.mean("o", 0.0, 0.1)


def test_spiking_mode_on_the_same_network(nand):
    rate = npl.run(nand, ROWS[3], 0.5, backend="nengo_dl")
    spk = npl.run(nand, ROWS[3], 0.5, backend="nengo_dl", neurons="regular", max_rate=1000.0)
    assert not np.array_equal(rate["o"], spk["o"])
    assert spk["o"][-100:].mean() == pytest.approx(rate["o"][-1], abs=0.01)


def test_nef_route_runs_on_nengo_dl():
    spec = npl.nef(logic.gate("nand"), n_neurons=200, seed=0)
    res = npl.run(spec, ROWS, 0.6, backend="nengo_dl", neurons="lif")
    settled = res["o"][:, -100:].mean(axis=1)
    assert (settled[:3] > 0.05).all() and settled[3] < -0.05


def test_rate_reference_reports_the_spiking_deviation():
    cmp = npl.rate_reference("nand", backend="nengo_dl", neurons="regular", max_rate=1000.0, hold=0.6)
    assert cmp.rate.passed and cmp.spiking.passed
    assert cmp.rate.result.neurons == "rate" and cmp.spiking.result.neurons == "regular"
    dev = cmp.deviation["o"]
    assert 0 < dev["rms"] < 0.01 and dev["max"] < 0.05
    assert "nand on nengo_dl" in cmp.summary()


def test_min_norm_weights_need_float64():
    """The paper's weights (||W|| ~ 1e6) cancel to 1e-10 at rate level: float32 rounding breaks
    the gate (measured: 2 of 4 rows wrong, error 0.21); float64 keeps it within 6e-5."""
    rnn = npl.compile(logic.gate("nand"), n_neurons=200, method="taylor", seed=0)
    metric = networks.get("nand").metric
    assert not metric(rnn, hold=0.6, tol=0.005, backend="nengo_dl", dtype="float32").passed
    assert metric(rnn, hold=0.6, tol=0.005, backend="nengo_dl", dtype="float64").passed


def test_bad_options_name_what_is_wrong(nand):
    with pytest.raises(npl.ValidationError, match="dtype"):
        npl.run(nand, ROWS[0], 0.1, backend="nengo_dl", dtype="float16")
    with pytest.raises(npl.ValidationError, match="list of dicts"):
        npl.run(nand, [ROWS[0], 3], 0.1, backend="nengo_dl")
    with pytest.raises(npl.ValidationError, match="spiking mode"):
        npl.rate_reference("nand", neurons="rate")


def test_a_batch_of_initial_states_equals_separate_runs():
    """Per-trial initial states (many starts of an attractor) in one minibatch: exact in float64."""
    rnn = npl.compile(logic.ring_oscillator(), method="sampled", seed=1)
    starts = [None, "zero", {"g1.o": 0.1, "g2.o": -0.1, "g3.o": 0.05}, "rstar"]
    batch = npl.run(rnn, {}, 0.5, backend="nengo_dl", synapse="euler", initial=starts, dtype="float64")
    looped = npl.run(rnn, {}, 0.5, backend="reference", integrator="euler", initial=starts)
    assert batch.trials == looped.trials == 4
    for i, start in enumerate(starts):
        single = npl.run(rnn, {}, 0.5, backend="reference", integrator="euler", initial=start)
        assert _max_diff(batch.trial(i), single) < 1e-12
        assert _max_diff(looped.trial(i), single) < 1e-12  # the reference batches: to rounding
    with pytest.raises(npl.ValidationError, match="initial states for a batch"):
        npl.run(rnn, [{}, {}], 0.1, backend="nengo_dl", initial=starts)


def test_a_broken_nengo_dl_import_names_the_fix():
    """Where `import nengo_dl` fails, the error is BackendUnavailable with the pinned versions."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['nengo_dl'] = None\n"  # makes `import nengo_dl` raise ImportError
            "import npl_nengo as npl\n"
            "from npl_nengo.networks import logic\n"
            "rnn = npl.compile(logic.gate('nand'), method='sampled')\n"
            "try:\n"
            "    npl.run(rnn, {'s1': 0.1, 's2': 0.1}, 0.01, backend='nengo_dl')\n"
            "except npl.BackendUnavailable as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert "backend 'nengo_dl' cannot be imported" in out
    assert "nengo-dl==3.6.0" in out and "tensorflow==2.12.1" in out
