"""The numpy reference backend: integrators (check 7), inputs, spiking modes, results."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import npl_nengo as npl
from npl_nengo.networks import logic


@pytest.fixture(scope="module")
def leaky():
    prog = npl.Program("leaky", derivatives={"x": "-20*x + 20*s"}, inputs={"s": (-0.1, 0.1)}, ranges={"x": (-0.1, 0.1)})
    return npl.compile(prog, n_neurons=40)


def _exact(rnn, u, T):
    def f(t, r):
        return rnn.gamma * (-r + rnn.drive(r, np.array([u(t)])))

    sol = solve_ivp(f, (0, T), np.array(rnn.r_star), method="DOP853", rtol=1e-12, atol=1e-14)
    return rnn.W @ sol.y[:, -1]


@pytest.mark.parametrize("integrator,order", [("rk4", 4), ("euler", 1)])
def test_convergence_order_with_time_varying_input(leaky, integrator, order):  # check 7
    u = lambda t: 0.08 * np.sin(40 * t)  # noqa: E731
    T = 0.1
    exact = _exact(leaky, u, T)
    errs = []
    for dt in (2e-3, 1e-3):
        res = npl.run(leaky, {"s": u}, duration=T, dt=dt, integrator=integrator)
        errs.append(abs(res["x"][-1] - exact[0]))
    assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.35)


def test_rk4_weights_are_1_2_2_1(leaky):  # check 7: one step against a hand-written RK4
    dt, g = 1e-3, leaky.gamma
    r = np.array(leaky.r_star)
    F = lambda r, u: g * (-r + leaky.drive(r, np.array([u])))  # noqa: E731
    k1 = F(r, 0.05); k2 = F(r + dt / 2 * k1, 0.05); k3 = F(r + dt / 2 * k2, 0.05); k4 = F(r + dt * k3, 0.05)
    expected = leaky.W @ (r + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4))
    res = npl.run(leaky, {"s": 0.05}, duration=dt, dt=dt)
    assert res["x"][0] == pytest.approx(expected[0], abs=1e-15)


def test_array_and_callable_inputs_agree(leaky):
    dt = 1e-3
    values = np.where(np.arange(300) < 150, 0.1, -0.1)
    a = npl.run(leaky, {"s": values}, duration=0.3, dt=dt, integrator="euler")
    b = npl.run(leaky, {"s": lambda t: 0.1 if t < 0.15 - 1e-9 else -0.1}, duration=0.3, dt=dt, integrator="euler")
    np.testing.assert_allclose(a["x"], b["x"], atol=1e-12)
    assert a.t[0] == pytest.approx(dt) and len(a.t) == 300


def test_sample_every_decimates(leaky):
    full = npl.run(leaky, {"s": 0.05}, duration=0.2)
    dec = npl.run(leaky, {"s": 0.05}, duration=0.2, sample_every=10)
    assert len(dec.t) == 20
    np.testing.assert_allclose(dec["x"], full["x"][9::10])


def test_regular_spiking_tracks_the_rate_run():
    rnn = npl.compile(logic.gate("nand"), n_neurons=200, method="sampled")
    rate = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, duration=0.5)
    spk = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, duration=0.5, neurons="regular", max_rate=1000, record_spikes=20)
    assert spk.mean("o", 0.3, 0.5) == pytest.approx(rate.mean("o", 0.3, 0.5), abs=0.01)
    assert spk.spikes.shape == (500, 20)
    counts = np.abs(spk.spikes).sum(axis=0) / 0.5  # Hz
    assert 50 < counts.mean() < 1000  # units fire at |tanh| * max_rate
    assert not np.array_equal(spk["o"], rate["o"])  # spikes make a visibly different trace


def test_spiking_is_seeded():
    rnn = npl.compile(logic.gate("nand"), n_neurons=100, method="sampled")
    runs = [npl.run(rnn, {"s1": 0.1, "s2": -0.1}, duration=0.2, neurons="poisson", seed=s) for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0]["o"], runs[1]["o"])
    assert not np.array_equal(runs[0]["o"], runs[2]["o"])


def test_unknown_output_and_bad_options(leaky):
    res = npl.run(leaky, {"s": 0.0}, duration=0.01)
    with pytest.raises(KeyError, match="has no output 'nope'"):
        res["nope"]
    with pytest.raises(npl.ValidationError, match=r"option integrator='rk5' is not valid \(expected 'rk4' or 'euler'\)"):
        npl.run(leaky, {"s": 0.0}, duration=0.01, integrator="rk5")
    with pytest.raises(npl.ValidationError, match="does not support neurons='lif'"):
        npl.run(leaky, {"s": 0.0}, duration=0.01, neurons="lif")
    with pytest.raises(npl.ValidationError, match="backend 'nope' is not known"):
        npl.run(leaky, {"s": 0.0}, duration=0.01, backend="nope")
    with pytest.raises(npl.ValidationError, match="input 's' is not given"):
        npl.run(leaky, {}, duration=0.01)
    with pytest.raises(npl.ValidationError, match="'t' is not an input"):
        npl.run(leaky, {"s": 0.0, "t": 1.0}, duration=0.01)
    with pytest.raises(npl.ValidationError, match="duration must be a positive"):
        npl.run(leaky, {"s": 0.0}, duration=-1)
    with pytest.raises(npl.ValidationError, match="non-finite"):
        npl.run(leaky, {"s": lambda t: float("nan")}, duration=0.01)
    with pytest.raises(npl.ValidationError, match="compile it first"):
        npl.run(logic.gate("nand"), {}, duration=0.01)


def test_interrupt_returns_the_partial_result(leaky):
    def u(t):
        if t > 5.0:
            raise KeyboardInterrupt
        return 0.05

    res = npl.run(leaky, {"s": u}, duration=10.0, integrator="euler")
    assert res.info["interrupted"] is True
    assert 0 < len(res.t) < 10_000 and res.t[-1] <= 5.0 + 1e-9
    assert res["x"][-1] == pytest.approx(0.05, abs=1e-3)
