"""The conformance suite (npl_nengo.conformance): its plugin, its simulator specs, and that its probes
fail on simulators that get the property wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo.conformance import expected, simulators
from npl_nengo.conformance import test_probes as probes_tests
from npl_nengo.conformance.conftest import library_networks
from npl_nengo.conformance.probes import exact_rate, open_loop, unit_rates
from npl_nengo.errors import BackendUnavailable, ValidationError


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:nengo", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


# -- the plugin ------------------------------------------------------------------------------------------
def test_pyargs_runs_the_suite_from_any_directory_and_writes_the_report(tmp_path):
    report = tmp_path / "report.md"
    done = _pytest("--pyargs", "npl_nengo.conformance", "-q", "-k", "leak_discretization or initial_state",
                   "--conformance-report", str(report), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "npl_nengo conformance: simulator nengo (backend nengo), quick subset" in done.stdout
    text = report.read_text()
    assert "Simulator under test: `nengo`" in text and "Totals: 5 passed." in text
    assert "| `test_probes.py::test_initial_state[array]` | passed |  |" in text


def test_plugin_is_inert_in_other_sessions(tmp_path):
    (tmp_path / "test_other.py").write_text("def test_x():\n    assert 1\n")
    done = _pytest("-q", "--simulator", "no_such.Simulator", cwd=tmp_path)  # its options exist, unused
    assert done.returncode == 0, done.stdout
    assert "conformance" not in done.stdout
    # the plugin module loads without numpy: import npl_nengo itself is light
    code = "import sys, npl_nengo.conformance.plugin; print('numpy' in sys.modules, 'sympy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False", "False"]


def test_a_simulator_that_cannot_be_loaded_stops_the_session_with_its_name(tmp_path):
    done = _pytest("--pyargs", "npl_nengo.conformance", "-q", "--simulator", "no_such_package.Simulator", cwd=tmp_path)
    assert done.returncode != 0
    assert "--simulator no_such_package.Simulator: cannot import 'no_such_package'" in done.stderr + done.stdout


def test_known_deviations_run_as_expected_failures_with_their_reason(tmp_path):
    (tmp_path / "pytest.ini").write_text('[pytest]\nnpl_conformance_unsupported =\n'
                                         '    test_probes.py::test_initial_state[zero]\n'
                                         '        "a reason given in the ini file"\n')
    done = _pytest("--pyargs", "npl_nengo.conformance", "-q", "-rxX", "-k", "initial_state and zero", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    # it passes on nengo: reported as XPASS with the reason, not hidden
    assert "xpassed" in done.stdout and "a reason given in the ini file" in done.stdout


def test_expected_failures_match_node_ids_and_simulators():
    assert expected.matching("nengo", "x/test_networks.py::test_library_network[rossler-regular]") is not None
    assert expected.matching("nengo", "x/test_networks.py::test_library_network[nand-regular]") is None
    extra = [("test_probes.py::test_spike_counts[lif]", "why")]
    assert expected.matching("brian2", "a/b/test_probes.py::test_spike_counts[lif]", extra) == "why"
    assert expected.matching("brian2", "a/b/test_probes.py::test_spike_counts[regular]", extra) is None


# -- simulator specs -----------------------------------------------------------------------------------------
def test_simulator_specs(monkeypatch):
    # not "nest" itself: importing NEST installs its own SIGINT handler, which later Ctrl-C tests would meet
    monkeypatch.setattr(simulators, "LIF_ONLY", frozenset({"reference"}))
    sim = simulators.simulator_under_test("reference")
    assert (sim.backend, sim.activations) == ("reference", ("lif",))
    assert sim.runs("rate", "tanh") == "reference runs lif units only, not tanh"
    monkeypatch.undo()
    assert simulators.simulator_under_test("reference").runs("lif", "lif") == \
        "reference has no neurons='lif' mode (it runs rate, regular, poisson)"
    sim = simulators.simulator_under_test("brian2:cython")
    assert sim.backend == "brian2" and sim.options == {"target": "cython"}
    assert "no neurons='stochastic' mode" in sim.runs("stochastic")
    import nengo

    sim = simulators.simulator_under_test("nengo.Simulator", {"optimize": True})
    assert sim.backend == "nengo" and sim.options["backend_name"] == "nengo.Simulator"
    assert sim.options["simulator"].func is nengo.Simulator and sim.options["simulator"].keywords == {"optimize": True}
    assert simulators.parse_options(["dtype=float64", "n=3", "flag=true"]) == {"dtype": "float64", "n": 3, "flag": True}


@pytest.mark.parametrize(("spec", "options", "message"), [
    ("brian2:gpu", {}, "Brian2 target 'gpu' is not one of numpy, cython, cpp_standalone"),
    ("nengo", {"dtype": "float64"}, "backend 'nengo' has no option 'dtype'"),
    ("os.system('x')", {}, "expected a registered backend"),
    ("nengo.NoSuchSimulator", {}, "'nengo' has no simulator class 'NoSuchSimulator'"),
])
def test_bad_simulator_specs_are_named(spec, options, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        simulators.simulator_under_test(spec, options)
    with pytest.raises(BackendUnavailable, match="cannot import 'nope_pkg'"):
        simulators.simulator_under_test("nope_pkg.Simulator")
    with pytest.raises(ValidationError, match="is not key=value"):
        simulators.parse_options(["dtype"])


def test_a_simulator_class_runs_the_nengo_backends_network():
    import nengo

    rnn = open_loop()
    sim = simulators.simulator_under_test("nengo.Simulator")
    assert sim.options["probe"] == "node"  # what any such simulator can probe
    for options in ({}, {"sample_every": 3, "neurons": "regular", "record_spikes": True}):
        got = sim.run(rnn, {"u": 0.2}, 0.05, initial="zero", **options)
        want = npl.run(rnn, {"u": 0.2}, 0.05, backend="nengo", initial="zero", **options)
        assert got.backend == "nengo.Simulator"
        np.testing.assert_array_equal(got.t, want.t)
        np.testing.assert_allclose(got["o"], want["o"], rtol=0, atol=1e-15)
        assert (got.spikes is None) == (want.spikes is None)
        if want.spikes is not None:
            np.testing.assert_array_equal(got.spikes, want.spikes)
    with pytest.raises(ValidationError, match="optimize=True is an option of nengo.Simulator"):
        npl.run(rnn, {"u": 0.2}, 0.01, backend="nengo", simulator=lambda *a, **k: nengo.Simulator(*a, **k), optimize=True)


# -- the probes' reference numbers ----------------------------------------------------------------------
def test_the_exact_system_is_what_nengo_and_the_euler_reference_simulate():
    rnn = open_loop()
    step = probes_tests._step
    want = exact_rate(rnn, {"u": step}, 0.1, initial="zero")["o"]
    got = npl.run(rnn, {"u": step}, 0.1, backend="nengo", initial="zero")["o"]
    assert np.max(np.abs(got - want)) < 1e-13
    # closed form of a constant input from rest
    t = np.arange(1, 101) * 1e-3
    phi = np.tanh(np.asarray(rnn.B_ext)[:, 0] * 0.3 + rnn.d)
    np.testing.assert_allclose(exact_rate(rnn, {"u": 0.3}, 0.1, initial="zero")["o"],
                               (1 - np.exp(-rnn.gamma * t)) * (rnn.W[0] @ phi), rtol=1e-12)
    lif = open_loop(activation="lif")
    assert np.all(unit_rates(lif, 1.0) > 20) and np.all(unit_rates(lif, -1.0) > 20)  # every LIF unit fires


# -- the probes fail where a simulator is wrong ------------------------------------------------------------
class _Broken(simulators.SimulatorUnderTest):
    """The reference backend (or nengo) with one property broken by a run option or a change of its inputs."""

    def __init__(self, backend: str, fault: str, **options):
        super().__init__(f"broken:{fault}", backend, options, None)
        object.__setattr__(self, "fault", fault)

    def run(self, network, inputs=None, duration=1.0, neurons="rate", dt=1e-3, seed=0, **options):
        if self.fault == "late_input" and inputs:  # every input one step late
            inputs = {k: (lambda f: (lambda t: f(max(t - dt, 0.0))))(v if callable(v) else _held(v, dt))
                      for k, v in inputs.items()}
        if self.fault == "synapses_at_rest":
            options.pop("initial", None)
            options["initial"] = "zero"
        if self.fault == "slow_spikes":
            options["max_rate"] = 900.0
        return super().run(network, inputs, duration, neurons, dt, seed, **options)


def _held(value, dt):
    arr = np.asarray(value, dtype=float).reshape(-1)
    return lambda t: float(arr[min(int(t / dt + 1e-9), arr.size - 1)])


@pytest.mark.parametrize(("simulator", "probe", "args"), [
    (_Broken("reference", "euler", integrator="euler"), probes_tests.test_leak_discretization, ("tanh",)),
    (_Broken("nengo", "euler", synapse="euler"), probes_tests.test_leak_discretization, ("lif",)),
    (_Broken("nengo", "synapses_at_rest"), probes_tests.test_initial_state, ("array",)),
    (_Broken("nengo", "late_input"), probes_tests.test_input_timing, ("array",)),
    (_Broken("nengo", "late_input"), probes_tests.test_input_timing, ("callable",)),
    (_Broken("reference", "slow_spikes"), probes_tests.test_spike_counts, ("regular",)),
    (_Broken("reference", "slow_spikes"), probes_tests.test_spike_counts, ("poisson",)),
], ids=["leak-euler-tanh", "leak-euler-lif", "initial-at-rest", "late-array", "late-callable", "spikes-regular",
        "spikes-poisson"])
def test_each_probe_fails_on_a_simulator_with_that_fault(simulator, probe, args):
    with pytest.raises(AssertionError):
        probe(simulator, *args)


def test_the_precision_probe_fails_in_float32_for_min_norm_weights_only():
    class Float32(simulators.SimulatorUnderTest):  # the network's weights and state rounded to float32
        def run(self, network, inputs=None, duration=1.0, neurons="rate", dt=1e-3, seed=0, **options):
            import dataclasses

            rounded = dataclasses.replace(network, **{k: np.float32(getattr(network, k)).astype(float)
                                                      for k in ("B_rec", "W_rec", "B_ext", "d", "W")})
            return super().run(rounded, inputs, duration, neurons, dt, seed, **options)

    compiled = library_networks()
    sim = Float32("float32", "nengo")
    probes_tests.test_precision(sim, compiled, "sampled")
    with pytest.raises(AssertionError, match="off the exact system"):
        probes_tests.test_precision(sim, compiled, "min-norm")


def test_a_simulator_that_counts_steps_as_a_float_runs():
    """nengo_ocl reads its step count back from a float32 signal: the backend takes int() of it."""
    import nengo

    class FloatSteps(nengo.Simulator):
        @property
        def n_steps(self):
            return float(super().n_steps)

    rnn = open_loop()
    got = npl.run(rnn, {"u": 0.2}, 0.02, backend="nengo", simulator=FloatSteps, probe="node", initial="zero")
    np.testing.assert_allclose(got["o"], exact_rate(rnn, {"u": 0.2}, 0.02, initial="zero")["o"], rtol=1e-12)
