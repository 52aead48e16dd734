"""Virtualization: a host reservoir runs a Taylor-expanded guest tanh RNN.

Numbers behind the thresholds (measured with these seeds, dt = 1 ms, taylor N = 2 K):
truncation error (polynomial program vs guest) falls ~5x per order; the host's own
compile error is 1e-9..1e-5 on the reference backend (RK4); forward-Euler stepping
(nengo/nengo_dl synapse="euler", brian2 method="euler") adds ~5e-3; the default
zero-order-hold stepping slows the programmed dynamics by (1 - exp(-gamma dt))/(gamma dt)
= 0.95 and costs ~4 %.
"""

import math

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo.errors import ValidationError
from npl_nengo.experiments.guest_sweep import virtualization_sweep
from npl_nengo.networks import virtual as v

#: Run options that make each backend step the programmed dynamics by forward Euler
#: (the default zero-order hold slows them by 5 %, see test_zoh_stepping_slows_the_program).
EULER = {"reference": {}, "nengo": {"synapse": "euler"}, "brian2": {"method": "euler"},
         "nengo_dl": {"synapse": "euler", "dtype": "float64"}}


@pytest.fixture(scope="module")
def guest2():
    return v.random_guest(2, seed=1)


def test_random_guest_has_its_operating_point():
    g = v.random_guest(3, m=2, spectral_radius=0.7, r_star=[0.1, -0.2, 0.3], seed=4)
    assert g.n == 3 and g.m == 2
    assert np.max(np.abs(np.linalg.eigvals(g.A))) == pytest.approx(0.7)
    np.testing.assert_allclose(np.tanh(g.A @ g.r_star + g.d), g.r_star, atol=1e-14)
    # without r_star given, the operating point is solved for
    bare = v.GuestRNN(g.A, g.B, g.d, g.gamma)
    np.testing.assert_allclose(bare.operating_point(), [0.1, -0.2, 0.3], atol=1e-10)
    with pytest.raises((AttributeError, Exception)):
        g.gamma = 3.0  # frozen


def test_program_structure_and_exact_readout(guest2):
    p = v.guest_program(guest2, 2, deviation=0.4)
    assert p.states == ("x1", "x2") and p.inputs == ("u1",) and p.maps == ("r1", "r2")
    assert p.degree == 2 and p.input_ranges["u1"] == (-0.1, 0.1)
    assert v.guest_program(guest2, 1).degree == 1 and v.guest_program(guest2, 3).degree == 3
    x = np.array([0.03, -0.07])
    r = p.evaluate("r1", {"x1": x, "x2": x, "u1": 0 * x})
    np.testing.assert_allclose(r, guest2.r_star[0] + 4.0 * x, atol=1e-14)  # r = r* + (0.4 / 0.1) x
    # at the operating point with zero input the program is at rest
    zero = {"x1": 0.0, "x2": 0.0, "u1": 0.0}
    assert abs(p.evaluate("x1", zero)) < 1e-12 and abs(p.evaluate("x2", zero)) < 1e-12


@pytest.mark.parametrize("order", [1, 2, 3])
def test_expansion_error_shrinks_as_two_to_the_order_plus_one(order):
    g = v.random_guest(3, m=2, seed=2)
    p = v.guest_program(g, order, deviation=0.5)
    s = 0.5 / v.LEVEL
    rng = np.random.default_rng(0)
    dr, du = rng.uniform(-1, 1, 3), rng.uniform(-0.1, 0.1, 2)
    errors = []
    for h in (0.2, 0.1, 0.05):
        r, u = g.r_star + h * dr, h * du
        values = {**{f"x{i + 1}": (r[i] - g.r_star[i]) / s for i in range(3)}, "u1": u[0], "u2": u[1]}
        approx = s * np.array([p.evaluate(x, values) for x in p.states])  # dr/dt = s dx/dt
        errors.append(np.max(np.abs(approx - g.rhs(r, u))))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(np.abs(ratios / 2 ** (order + 1) - 1) < 0.15), ratios


def test_errors_fall_with_order_and_stay_small_with_guest_size():
    rows = virtualization_sweep(sizes=(1, 3, 6), orders=(1, 2, 3), seeds=(0,), duration=1.0)
    by = {(r["n_guest"], r["order"]): r for r in rows}
    for n in (1, 3, 6):
        o1, o2, o3 = (by[n, k] for k in (1, 2, 3))
        # measured: truncation 0.10-0.16 (order 1), 0.027-0.037 (2), 0.004-0.007 (3)
        assert o1["truncation_nrmse"] > 2.5 * o2["truncation_nrmse"] > 2.5 * 2 * o3["truncation_nrmse"]
        assert o3["nrmse"] < 0.015
        for r in (o1, o2, o3):
            assert r["compile_nrmse"] < 1e-4  # host vs its own program (measured <= 1.5e-5)
            assert r["nrmse"] == pytest.approx(r["truncation_nrmse"], rel=0.02, abs=1e-4)
            # the open-loop maps lag by the host's 1/gamma: ~0.11-0.19 of the guest's std
            assert 0.08 < r["map_nrmse"] < 0.25
        assert (o3["K"], o3["N"]) == (math.comb(n + 4, 3), max(30, 2 * math.comb(n + 4, 3)))
    assert by[6, 3]["weight_norm"] > 100 * by[6, 1]["weight_norm"]  # cubic terms cost ||W||


def test_metric_passes_at_rate_level_on_every_backend(backend, guest2):
    score = v.virtualization(guest2, 3, duration=1.0, tol=0.02, backend=backend, **EULER[backend])
    d = score.details
    assert score.passed, score.summary()
    assert score.metric == "virtualization" and len(score.rows) == 2
    assert d["truncation_nrmse"] < 2e-3  # measured 6.9e-4
    assert d["compile_nrmse"] < (1e-4 if backend == "reference" else 1e-2)  # measured 1.7e-6 / 5.3e-3
    assert d["guest_std"] > 0.02 and d["max_x"] < v.LEVEL


def test_zoh_stepping_slows_the_program(guest2):
    zoh = v.virtualization(guest2, 3, duration=1.0, backend="nengo").details
    euler = v.virtualization(guest2, 3, duration=1.0, backend="nengo", synapse="euler").details
    assert 0.02 < zoh["compile_nrmse"] < 0.08  # measured 0.043
    assert euler["compile_nrmse"] < 0.2 * zoh["compile_nrmse"]


def test_spiking_sampled_survives_where_taylor_does_not():
    g = v.random_guest(2, seed=0)
    spikes = dict(neurons="regular", max_rate=1000.0, seed=1, duration=1.0)
    taylor = v.virtualization(g, 3, **spikes)
    # ||W|| ~ 1e5 amplifies the spike noise until the states leave their ranges: a divergence
    assert not taylor.passed and "diverged" in taylor.details["diverged"]
    rnn = npl.compile(v.guest_program(g, 3), n_neurons=1000, method="sampled", seed=0, input_scale=1.0)
    sampled = v.virtualization(g, 3, rnn=rnn, tol=0.2, **spikes)
    assert sampled.passed, sampled.summary()


# -- validation -------------------------------------------------------------------------
def _guest_args(**change):
    args = dict(A=np.zeros((2, 2)), B=np.ones((2, 1)), d=np.zeros(2), gamma=10.0)
    args.update(change)
    return args


@pytest.mark.parametrize("change, word", [
    (dict(A=np.zeros((2, 3))), "A"),
    (dict(A=[[np.nan, 0], [0, 0]]), "A"),
    (dict(B=np.ones((3, 1))), "B"),
    (dict(B=np.ones((2, 0))), "B"),
    (dict(d=np.zeros(3)), "d"),
    (dict(gamma=0.0), "gamma"),
    (dict(gamma=True), "gamma"),
    (dict(r_star=[0.5, 0.5]), "r_star"),
    (dict(r_star=[1.5, 0.0]), "r_star"),
])
def test_guest_validation(change, word):
    with pytest.raises(ValidationError, match=word):
        v.GuestRNN(**_guest_args(**change))


@pytest.mark.parametrize("call, word", [
    (lambda g: v.random_guest(0), "n must"),
    (lambda g: v.random_guest(2, spectral_radius=-1.0), "spectral_radius"),
    (lambda g: v.random_guest(2, input_gain=0.0), "input_gain"),
    (lambda g: v.random_guest(2, r_star=[0.1]), "r_star"),
    (lambda g: v.guest_program(g, 4), "order"),
    (lambda g: v.guest_program(g, True), "order"),
    (lambda g: v.guest_program("guest", 2), "guest"),
    (lambda g: v.guest_program(g, 2, deviation=0.0), "deviation"),
    (lambda g: v.guest_program(g, 2, input_range=(0.1, -0.1)), "input_range"),
    (lambda g: v.sine_drive(1, freqs=(2.0, 1.0)), "freqs"),
    (lambda g: v.virtualization(g, 2, drive=[np.sin, np.cos]), "drive"),
    (lambda g: v.virtualization(g, 2, tol=-1.0), "tol"),
    (lambda g: v.virtualization(g, 2, rnn=npl.compile(v.guest_program(v.random_guest(3), 2))), "rnn"),
    (lambda g: virtualization_sweep(orders=(5,)), "orders"),
    (lambda g: virtualization_sweep(sizes=(0,)), "sizes"),
])
def test_bad_arguments_name_the_argument(guest2, call, word):
    with pytest.raises(ValidationError, match=word):
        call(guest2)
