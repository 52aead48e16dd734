"""Spiking fidelity: the pinned noise-aware fit keeps levels, fixed points and growth rates.

The closed loop runs ``dx/dt = f(x) + gamma e(x)`` (``e`` the fit's error), so a
ridge fit that shrinks the decoded identity leaks; pinning the fit at the
program's fixed points removes that at the levels.  These tests fail if the
pin, the noise model or the spiking runs are wrong.
"""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import anchors, networks
from npl_nengo.metrics import ATTRACTOR_TOL
from npl_nengo.networks import logic

GATES = sorted(logic.GATES)


def test_fixed_points_of_nand_are_the_logic_levels():
    P = anchors.fixed_points(logic.gate("nand"))  # columns: o, s1, s2
    assert P.shape == (4, 3)
    for o, s1, s2 in P:
        want = 0.1 if not (s1 > 0 and s2 > 0) else -0.1
        assert o == pytest.approx(want, abs=1e-9)


def test_fixed_points_of_lorenz():
    P = anchors.fixed_points(networks.get("lorenz").build())
    # the saddle at the origin (z shifted by 27/200) and C+-: x = +-sqrt(beta (rho - 1)) / 200
    xs = sorted(P[:, 0])
    assert len(P) == 3 and xs[1] == pytest.approx(0.0, abs=1e-9)
    assert xs[2] == pytest.approx(np.sqrt(8 / 3 * 27) / 200, rel=1e-6)


@pytest.mark.parametrize("kind", GATES)
def test_pinned_fit_keeps_levels_at_rate_and_under_regular_spikes(kind):
    entry = networks.get(kind)
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    assert rnn.info["parts"][kind]["anchors"] == 4
    assert rnn.info["parts"][kind]["anchor_error"] < 1e-9
    rate = entry.metric(rnn, tol=0.0005)
    assert rate.passed, rate.rows
    spiking = entry.metric(rnn, neurons="regular", max_rate=1000.0, tol=0.002)  # 2 % of the level
    assert spiking.passed, spiking.rows


def test_without_the_pin_ridge_leaks_levels():
    """The mechanism the pin removes: the same fit unpinned sits several % off its levels."""
    entry = networks.get("xnor")
    loose = entry.metric(npl.compile(entry.build(), method="sampled", seed=0, pin=False), tol=0.002)
    pinned = entry.metric(npl.compile(entry.build(), method="sampled", seed=0), tol=0.002)
    assert loose.error > 0.004 and pinned.error < 0.0005


@pytest.mark.parametrize("backend", ["nengo", "brian2"])
@pytest.mark.parametrize("name", ["nand", "xor", "full_adder"])
def test_levels_under_regular_spikes_on_simulators(backend, name):
    pytest.importorskip(backend)
    entry = networks.get(name)
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    score = entry.metric(rnn, backend=backend, neurons="regular", max_rate=1000.0, tol=0.002)
    assert score.passed, score.rows


def test_latch_holds_its_bit_for_10_s_under_poisson_spikes():
    entry = networks.get("sr_latch")
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    for seed in (0, 1):
        score = entry.metric(rnn, neurons="poisson", max_rate=1000.0, seed=seed, hold=10.0, tol=0.05)
        assert score.details["wrong_signs"] == 0 and score.passed, score.rows


@pytest.mark.parametrize("name", ["nand", "sr_latch", "full_adder"])
@pytest.mark.parametrize("mode", ["regular", "poisson"])
def test_noise_figure_predicts_spike_noise_within_2x(name, mode):
    entry = networks.get(name)
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    # the latch holds whatever it starts in: start it set, so rate and spikes hold the same bit
    initial = {"n1.o": 0.1, "n2.o": -0.1} if name == "sr_latch" else None
    rate = npl.run(rnn, entry.inputs, duration=3.0, initial=initial)
    spiking = npl.run(rnn, entry.inputs, duration=3.0, neurons=mode, max_rate=1000.0, seed=2, initial=initial)
    for i, out in enumerate(rnn.output_names):
        measured = np.sqrt(np.mean((spiking[out][500:] - rate[out][500:]) ** 2))
        ratio = measured / rnn.expected_noise(1000.0, mode)[i]
        assert 0.5 < ratio < 2.0, (out, ratio)


def test_poisson_noise_model_regularizes_more():
    program = logic.gate("nand")
    regular = npl.compile(program, method="sampled", seed=0)
    poisson = npl.compile(program, method="sampled", seed=0, spikes="poisson")
    assert poisson.info["parts"]["nand"]["noise_std"] > 5 * regular.info["parts"]["nand"]["noise_std"]
    assert poisson.weight_norm < regular.weight_norm
    with pytest.raises(npl.ValidationError, match="spikes"):
        npl.compile(program, method="sampled", spikes="bursty")


def test_lorenz_keeps_its_statistics_under_regular_spikes():
    entry = networks.get("lorenz")
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    score = entry.metric(rnn, neurons="regular", max_rate=1000.0, duration=60.0)
    for key in ("mean", "std", "box", "lyapunov"):  # invariant statistics; not the trajectory itself
        assert score.details[f"{key}_error"] <= ATTRACTOR_TOL[key], score.details
    # the short-horizon error is reported, but a spiking run starts it from one noisy state
    assert score.passed and "short_error" in score.details and not score.details["decided_by"].startswith("short")


def test_compare_counts_only_the_recommended_compile():
    report = npl.compare("nand", backends=["reference"], neurons=["rate", "regular"])
    rows = {(r["method"], r["neurons"]): r for r in report.rows}
    assert rows[("taylor", "regular")]["result"] != "PASS" and not rows[("taylor", "regular")]["counted"]
    assert rows[("sampled", "regular")]["counted"] and rows[("sampled", "regular")]["result"] == "PASS"
    assert report.passed
    assert rows[("sampled", "rate")]["statistic"] == "worst distance from ±0.1"
    assert "decided by" in report.table()


def test_backend_options_apply_to_the_recommended_compile_only():
    import dataclasses

    entry = dataclasses.replace(networks.get("nand"), backend_options={"reference": {"integrator": "euler"}})
    report = npl.compare(entry, backends=["reference"], neurons=["rate"])
    assert report.runs[("sampled", 0, "reference", "rate")].info["integrator"] == "euler"
    assert report.runs[("taylor", 0, "reference", "rate")].info["integrator"] == "rk4"
    assert networks.get("rossler").backend_options == {"nengo_dl": {"dtype": "float64"}}
