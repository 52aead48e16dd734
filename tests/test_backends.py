"""Behaviour every backend shares (the ``backend`` fixture runs each test on all of them)."""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo.networks import logic


@pytest.fixture(scope="module")
def nand():
    return npl.compile(logic.gate("nand"), method="sampled", seed=1)


def test_sample_every_decimates(backend, nand):
    full = npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.2, backend=backend)
    dec = npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.2, backend=backend, sample_every=10)
    assert len(dec.t) == 20
    np.testing.assert_allclose(dec.t, full.t[9::10])
    np.testing.assert_allclose(dec["o"], full["o"][9::10], atol=1e-12)


def test_result_shape_and_names(backend, nand):
    res = npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.1, backend=backend)
    assert res.backend == backend and res.name == "nand" and list(res.outputs) == ["o"]
    np.testing.assert_allclose(res.t, np.arange(1, 101) * 1e-3)
    assert res["o"].shape == (100,) and np.all(np.isfinite(res["o"]))
    with pytest.raises(npl.ValidationError, match="no output"):
        res["x"]


def test_divergence_is_reported_with_output_time_and_trial():
    from npl_nengo.result import check_finite

    t = np.arange(1, 5) * 1e-3
    with pytest.raises(npl.SimulationError, match=r"'o' is not finite at t=0.003 s$"):
        check_finite({"o": np.array([0.0, 1.0, np.nan, 2.0])}, t, "nengo", "nand")
    with pytest.raises(npl.SimulationError, match=r"t=0.002 s \(trial 1\)"):
        check_finite({"o": np.array([[0.0, 1, 2, 3], [0, np.inf, 1, 1]])}, t, "nengo_dl", "nand")
    check_finite({"o": np.zeros(4)}, t, "brian2", "nand")  # finite: no error


@pytest.mark.parametrize("backend, option", [("reference", "synapse"), ("nengo", "integrator"),
                                             ("brian2", "dtype")])
def test_an_option_a_backend_does_not_declare_is_named(backend, option, nand):
    pytest.importorskip(backend if backend != "reference" else "numpy")
    from npl_nengo.backend import backend_options

    with pytest.raises(npl.ValidationError, match=rf"backend '{backend}' has no option '{option}' \(its options: .*max_rate"):
        npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.01, backend=backend, **{option: "x"})
    assert option not in backend_options(backend) and "initial" in backend_options(backend)
