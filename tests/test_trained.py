"""Decompiling a conventionally trained reservoir (docs/method.md §4.7).

Thresholds are measured values (N, radius, seed as below) with a margin of about 1.5-2x.
"""

import numpy as np
import pytest
import scipy.optimize

import npl_nengo as npl
from npl_nengo.basis import MonomialBasis
from npl_nengo.experiments import trained as T
from npl_nengo.experiments.rotation import R_Z, thomas_rhs


@pytest.fixture(scope="module")
def rotator():
    """N = 200, spectral radius 0.5, B ~ U(±0.1), Thomas drive at speed 4, ridge 1e-6."""
    return T.train(N=200, radius=0.5, n_steps=10_000, seed=0, stride=2)


@pytest.fixture(scope="module")
def sweep():
    """Prediction errors at spectral radius 0.1, 0.5, 0.9 (N = 100)."""
    out = {}
    for radius in (0.1, 0.5, 0.9):
        tr = T.train(N=100, radius=radius, n_steps=6_000, seed=1, stride=2)
        out[radius] = T.prediction_error(tr, n_steps=3_000, stride=2)
    return out


def test_drive_is_the_joint_rk4_step():
    rng = np.random.default_rng(3)
    N, dt, g = 20, 1e-3, 100.0
    A = rng.standard_normal((N, N)) * 0.1
    B, d = rng.uniform(-0.1, 0.1, (N, 3)), rng.uniform(-0.5, 0.5, N)

    def f(s):
        x, r = s[:3], s[3:]
        return np.concatenate([4 * 0.1 * thomas_rhs(x / 0.1), g * (-r + np.tanh(A @ r + B @ x + d))])

    s = np.concatenate([[0.05, -0.1, 0.2], np.zeros(N)])
    for _ in range(300):
        k1 = f(s); k2 = f(s + dt / 2 * k1); k3 = f(s + dt / 2 * k2); k4 = f(s + dt * k3)  # noqa: E702
        s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    seg = T.drive(A, B, d, g, np.array([0.05, -0.1, 0.2]), np.zeros(N), 300, dt, 0.1, 4.0, stride=100)
    assert np.allclose(seg.x_end, s[:3], atol=1e-14) and np.allclose(seg.r_end, s[3:], atol=1e-13)
    assert seg.r.shape == (3, N) and np.array_equal(seg.r[-1], seg.r_end)


def test_training_error_small(rotator):
    # measured: relative 9.1e-3, RMS 1.1e-3 per output (outputs swing about ±0.3)
    assert rotator.train_error < 0.015
    assert np.all(rotator.train_rms < 2e-3)


def test_decompiled_linear_block_is_the_rotation(rotator):
    dec = T.decompile_readout(rotator)
    # measured ||W C1[:, x] - R_z|| / ||R_z||: 0.021 (authors' code), 0.0087 (exact in A)
    assert np.linalg.norm(dec.linear - R_Z) / np.linalg.norm(R_Z) < 0.035
    exact = T.decompile_readout(rotator, exact=True)
    assert np.linalg.norm(exact.linear - R_Z) / np.linalg.norm(R_Z) < 0.015
    assert np.max(np.abs(dec.constant)) < 0.005  # measured 2.1e-3
    assert np.max(np.abs(dec.nonlinear)) < 0.015  # measured 7.6e-3
    # the lag block: the readout outputs R_z x(t - tau), tau a little under 1/gamma (measured 7.1-8.1 ms)
    tau = np.array([dec.lag_linear[0, 1], -dec.lag_linear[1, 0], -dec.lag_linear[2, 2]])
    assert np.all((tau > 0.006) & (tau < 0.013))
    # the authors' lag code follows the exact-in-A lag block: measured 0.30 ms apart (2.7 ms with the
    # product with B_j taken between the two factors of A_s^-1)
    assert np.max(np.abs(dec.lag_linear - exact.lag_linear)) < 0.8e-3
    assert dec.predict(np.zeros((1, 3)))[0] == pytest.approx(dec.constant)


def test_decompiled_polynomial_predicts_the_trained_readout(sweep):
    small = sweep[0.1]
    # measured at radius 0.1: static 0.019, with the lag code 0.0055 (authors' code)
    assert small.static < 0.03 and small.lag < 0.01 and small.lag < 0.5 * small.static
    for pe in sweep.values():
        # exact code: static 0.017-0.020, lag 0.0010-0.0027 at every radius
        assert pe.lag_exact < 0.005 and pe.lag_exact < 0.25 * pe.static_exact
        assert pe.lag_exact < pe.lag


def test_prediction_error_grows_with_spectral_radius(sweep):
    # the authors' code is first order in A. measured static 0.019, 0.030, 0.051
    s = [sweep[r].static for r in (0.1, 0.5, 0.9)]
    assert s[0] < s[1] < s[2] and s[2] > 2 * s[0]
    lin = [sweep[r].linear for r in (0.1, 0.5, 0.9)]  # measured 0.014, 0.023, 0.032
    assert lin[0] < lin[1] < lin[2]


def test_exact_static_code_is_the_equilibrium_taylor_series():
    tr = T.train(N=60, radius=0.5, n_steps=200, washout=0, seed=2)
    A, B, d = tr.A, tr.B, tr.d
    basis = MonomialBasis(3, 2)
    C, C_authors = T.exact_static_code(tr, 2), tr.code(2).C1
    assert np.allclose(C[:, 0], tr.r_star, atol=1e-14)

    def equilibrium(x):
        J = lambda r: np.eye(len(r)) - (1 - np.tanh(A @ r + B @ x + d) ** 2)[:, None] * A  # noqa: E731
        return scipy.optimize.root(lambda r: r - np.tanh(A @ r + B @ x + d), tr.r_star, jac=J, tol=1e-14).x

    u = np.array([0.6, -0.8, 0.5])
    err = [np.abs(equilibrium(s * u) - C @ basis.evaluate(s * u)).max() for s in (0.2, 0.1)]
    err_a = [np.abs(equilibrium(s * u) - C_authors @ basis.evaluate(s * u)).max() for s in (0.2, 0.1)]
    assert err[0] / err[1] > 6  # cubic remainder: 8x per halving
    assert err_a[0] / err_a[1] < 3  # the authors' code: an O(A) error in the linear term, 2x per halving
    assert err[1] < 1e-2 * err_a[1]  # measured: 1.1e-3 of it


def test_programmed_rnn_reproduces_the_joint_rk4_readout(rotator):
    rnn = rotator.to_rnn()
    assert rnn.method == "trained" and rnn.n_signals == 200 and rnn.info["svd_error"] == 0.0
    assert np.allclose(rnn.dense_recurrent(), rotator.A, atol=1e-12)
    assert rnn.signal_names == tuple(f"a{i}" for i in range(200))
    assert np.allclose(rnn.noise_gain, np.linalg.norm(rotator.W, axis=1))
    assert np.array_equal(rnn.residual, rotator.train_rms) and np.all(np.isnan(rnn.signal_initial))
    score = T.readout_metric(rotator, rnn, duration=1.0)
    assert score.details["vs_rk4"] < 2e-3  # measured 6.5e-4 (mid-step samples, zero-order hold)
    truncated = rotator.to_rnn(rank=150)
    assert 0 < truncated.info["svd_error"] < 1 and truncated.n_signals == 150


def test_metric_passes_at_rate_on_every_backend(rotator, backend):
    score = T.readout_metric(rotator, duration=1.0, backend=backend)
    # measured on all four: error 0.034 (that of the readout itself), vs_rk4 5e-4 - 6.5e-4
    assert score.passed, score.summary()
    assert score.details["vs_rk4"] < 2e-3
    assert abs(score.error - score.details["rk4_vs_target"]) < 2e-3


def test_regular_spiking_error_is_the_predicted_spike_noise():
    # noise-aware ridge (sigma^2 of the filtered spike noise) and a stronger input (B ~ U(±0.5))
    sigma2 = (100.0 / (1000.0 * np.sqrt(12))) ** 2
    tr = T.train(N=200, radius=0.5, input_scale=0.5, ridge=sigma2, n_steps=6_000, seed=0, stride=2)
    score = T.readout_metric(tr, duration=2.0, tol=0.2, neurons="regular", max_rate=1000.0, seed=1)
    # measured: error 0.089 against the target; 0.069 against the rate readout, the spike-noise
    # share that ProgrammedRNN.expected_noise predicts (0.070); the rate readout's own error 0.057
    assert score.passed and score.error < 0.15, score.summary()
    assert score.details["vs_rk4"] == pytest.approx(score.details["predicted_noise"], rel=0.3)
    assert score.details["rk4_vs_target"] < 0.09


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"N": 2}, "N"),
        ({"radius": 1.2}, "radius"),
        ({"radius": 0.0}, "radius"),
        ({"ridge": -1.0}, "ridge"),
        ({"input_scale": float("nan")}, "input_scale"),
        ({"density": 0.0}, "density"),
        ({"dt": 0.05}, "dt"),
        ({"n_steps": 0}, "n_steps"),
        ({"stride": 0}, "stride"),
        ({"target": np.eye(2)}, "target"),
        ({"seed": -1}, "seed"),
        ({"speed": True}, "speed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(npl.ValidationError, match=name):
        T.train(**{"N": 20, "n_steps": 10, "washout": 0, **kwargs})


def test_bad_arguments_of_the_other_functions(rotator):
    with pytest.raises(npl.ValidationError, match="trained"):
        T.decompile_readout("not a reservoir")
    with pytest.raises(npl.ValidationError, match="degree"):
        T.decompile_readout(rotator, degree=0)
    with pytest.raises(npl.ValidationError, match="rank"):
        rotator.to_rnn(rank=201)
    with pytest.raises(npl.ValidationError, match="duration"):
        T.readout_metric(rotator, duration=-1.0)
    with pytest.raises(npl.ValidationError, match="dt"):
        T.readout_metric(rotator, duration=0.1, dt=1e-4)
    with pytest.raises(npl.ValidationError, match="x must"):
        T.decompile_readout(rotator).predict(np.zeros((4, 2)))
