"""Behaviour every backend shares (the ``backend`` fixture runs each test on all of them)."""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import registry
from npl_nengo.networks import logic


@pytest.fixture(params=list(registry.BACKENDS))
def backend(request):
    """Every registered backend, those that run LIF-compiled networks only included (the shared tanh
    suites, conftest's ``backend``, may leave those out)."""
    return request.param


@pytest.fixture(scope="module")
def nand():
    return npl.compile(logic.gate("nand"), method="sampled", seed=1)


def _lif_only(backend):
    """A backend that runs LIF-compiled networks only (its module's ``ACTIVATIONS``: nest)."""
    from npl_nengo.registry import backend_info

    return "tanh" not in getattr(backend_info(backend).module, "ACTIVATIONS", ("tanh", "lif"))


@pytest.fixture
def network(backend, nand):
    """``(network, neurons)`` a backend runs: the tanh NAND at rate level, or a LIF NAND under LIF spikes."""
    if _lif_only(backend):
        return npl.compile(logic.gate("nand"), method="sampled", activation="lif", seed=1), "lif"
    return nand, "rate"


def test_sample_every_decimates(backend, network):
    net, neurons = network
    full = npl.run(net, {"s1": 0.1, "s2": -0.1}, 0.2, backend=backend, neurons=neurons)
    dec = npl.run(net, {"s1": 0.1, "s2": -0.1}, 0.2, backend=backend, neurons=neurons, sample_every=10)
    assert len(dec.t) == 20
    np.testing.assert_allclose(dec.t, full.t[9::10])
    np.testing.assert_allclose(dec["o"], full["o"][9::10], atol=1e-12)


def test_result_shape_and_names(backend, network):
    net, neurons = network
    res = npl.run(net, {"s1": 0.1, "s2": 0.1}, 0.1, backend=backend, neurons=neurons)
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
    from npl_nengo.registry import backend_options

    with pytest.raises(npl.ValidationError, match=rf"backend '{backend}' has no option '{option}' \(its options: .*max_rate"):
        npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.01, backend=backend, **{option: "x"})
    assert option not in backend_options(backend) and "initial" in backend_options(backend)


# ------------------------------------------------------------------ the registry
def test_every_registered_backend_declares_the_contract(backend):
    from npl_nengo.registry import BACKENDS, backend_info

    info = backend_info(backend)
    assert info.module.NAME == backend and info.module.__name__ == BACKENDS[backend]
    assert ("rate" in info.neurons or _lif_only(backend)) and all(isinstance(n, str) for n in info.neurons)
    assert {"max_rate", "initial", "sample_every", "record_spikes"} <= set(info.options)
    assert info.nef == (backend in ("nengo", "nengo_dl", "loihi_emulator"))
    assert info.batches == (backend in ("reference", "nengo_dl"))
    assert _lif_only(backend) == (backend in registry.LIF_ONLY)  # the registry's list agrees with the module


@pytest.mark.parametrize("backend, option, value, expected", [
    ("nengo", "synapse", "alpha", "'zoh' or 'euler'"), ("reference", "integrator", 4, "'rk4' or 'euler'"),
    ("reference", "sample_every", 2.5, "int"), ("reference", "max_rate", "fast", "float"),
    ("brian2", "target", "gpu", "'numpy' or 'cython' or 'cpp_standalone'"),
])
def test_an_ill_typed_option_is_named_with_what_it_takes(backend, option, value, expected, nand):
    pytest.importorskip(backend if backend != "reference" else "numpy")
    with pytest.raises(npl.ValidationError, match=rf"run: backend '{backend}' option {option}={value!r} is not valid "
                                                  rf"\(expected {expected}\)"):
        npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.01, backend=backend, **{option: value})


def test_numpy_numbers_are_options_of_their_type(nand):
    res = npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.02, sample_every=np.int64(2), max_rate=np.float32(500.0),
                  neurons="regular", seed=np.int64(1))
    assert len(res.t) == 10


def test_an_unknown_backend_lists_the_registry():
    from npl_nengo.registry import BACKENDS

    assert list(BACKENDS)[:4] == ["reference", "nengo", "nengo_dl", "brian2"]
    with pytest.raises(npl.ValidationError, match=rf"backend 'neuron' is not known \(known: {', '.join(BACKENDS)}\)"):
        npl.run(npl.compile(logic.gate("nand"), n_neurons=20, seed=0), {}, 0.01, backend="neuron")


def test_a_backend_is_one_module_and_one_registry_line(monkeypatch, nand):
    from npl_nengo import registry

    monkeypatch.setitem(registry.BACKENDS, "toy", "_toy_backend")  # tests/_toy_backend.py
    registry.backend_info.cache_clear()
    try:
        res = npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.2, backend="toy")
        euler = npl.run(nand, {"s1": 0.1, "s2": 0.1}, 0.2, integrator="euler")
        assert res.backend == "toy" and np.array_equal(res["o"], euler["o"])
        with pytest.raises(npl.ValidationError, match=r"backend 'toy' option stepper='rk4' is not valid"):
            npl.run(nand, {}, 0.01, backend="toy", stepper="rk4")
        report = npl.compare(nand, backends=["reference", "toy"], neurons=["rate"])
        assert [r.backend for r in report.rows] == ["reference", "toy"] and report.rows[1].deviation < 1e-3
    finally:
        registry.backend_info.cache_clear()


def test_every_backend_declares_what_a_recorded_value_costs(backend, network):
    """``RECORD_BYTES`` (measured) is what npl_nengo.run's cost check reckons with, before allocating."""
    from npl_nengo import simulation
    from npl_nengo.registry import backend_info

    net, neurons = network
    cost = backend_info(backend).module.RECORD_BYTES
    assert set(cost) == {"sample", "spike", "input"} and all(isinstance(v, int) and v >= 0 for v in cost.values())
    assert cost["sample"] >= 8  # float64 samples, at the least
    assert simulation.estimate(net, 1.0, backend=backend, neurons=neurons, inputs={"s1": 0.1, "s2": 0.1})["bytes"] \
        == 1000 * (cost["sample"] + 8)
