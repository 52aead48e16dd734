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
