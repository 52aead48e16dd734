"""Divergence, determinism, interrupts and long runs on every backend."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.result import check_excursion

SPIKING = {"neurons": "regular", "max_rate": 1000.0}


@pytest.fixture(scope="module")
def nand_taylor():
    return npl.compile(networks.get("nand").build(), method="taylor", seed=0)


@pytest.fixture(scope="module")
def nand_sampled():
    return npl.compile(networks.get("nand").build(), n_neurons=100, method="sampled", seed=0)


# -- divergence ------------------------------------------------------------------------------------
def test_far_outside_its_range_is_a_divergence_on_every_backend(nand_taylor, backend):
    options = {"dtype": "float64"} if backend == "nengo_dl" else {}
    with pytest.raises(npl.SimulationError, match=r"'nand' diverged: output 'o' = .* at t=0\.00\d+ s, more than 10 "
                                                  r"range widths outside its range \[-0\.15, 0\.15\]"):
        npl.run(nand_taylor, {"s1": 0.1, "s2": 0.1}, 0.2, backend=backend, **SPIKING, **options)
    # asked for, the garbage is returned as it is
    res = npl.run(nand_taylor, {"s1": 0.1, "s2": 0.1}, 0.05, backend=backend, max_excursion=None, **SPIKING, **options)
    assert np.max(np.abs(res["o"])) > 100


def test_excursion_limit_and_its_validation(nand_sampled):
    t = np.arange(1, 5) * 1e-3
    ranges = {"o": (-0.15, 0.15)}
    check_excursion({"o": np.array([0.0, 3.1, -3.1, 0.0])}, t, ranges, 10.0, "x", "nand")  # within 10 widths (3.0)
    with pytest.raises(npl.SimulationError, match=r"'o' = -3.2 at t=0.003 s"):
        check_excursion({"o": np.array([0.0, 0.1, -3.2, 9.0])}, t, ranges, 10.0, "x", "nand")
    with pytest.raises(npl.SimulationError, match=r"t=0.002 s \(trial 1\)"):
        check_excursion({"o": np.array([[0.0, 0, 0, 9], [0, 9, 0, 0]])}, t, ranges, 10.0, "x", "nand")
    check_excursion({"o": np.full(4, 1e9)}, t, ranges, None, "x", "nand")  # off
    check_excursion({"o": np.full(4, 1e9)}, t, {"o": None}, 10.0, "x", "nand")  # no range declared
    for bad in (0, -1, "10", True, float("nan")):
        with pytest.raises(npl.ValidationError, match="max_excursion must be a positive number"):
            npl.run(nand_sampled, {"s1": 0.1, "s2": 0.1}, 0.01, max_excursion=bad)


def test_a_metric_scores_a_divergence_as_a_failure(nand_taylor):
    score = networks.get("nand").metric(nand_taylor, hold=0.3, tol=0.03, **SPIKING)
    assert not score.passed and score.error == float("inf") and score.result is None
    assert "diverged: output 'o'" in score.details["diverged"]
    report = npl.compare("nand", backends=["reference"], neurons=["regular"], methods=["taylor"])
    (row,) = report.rows
    assert row["result"] == "FAIL" and "diverged: output 'o'" in row["message"]
    assert "FAIL* (reference: 'nand' diverged: output 'o' =" in report.table()  # * : not the recommended compile
    json.loads(report.to_json())  # inf -> null


# -- determinism ------------------------------------------------------------------------------------
def test_compiles_are_bit_identical_for_a_seed_and_differ_across_seeds():
    program = networks.get("full_adder").build()
    for method in ("taylor", "sampled"):
        a, b = (npl.compile(program, n_neurons=40, method=method, seed=7) for _ in range(2))
        c = npl.compile(program, n_neurons=40, method=method, seed=8)
        for key in ("B_rec", "W_rec", "B_ext", "d", "W"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        assert not np.array_equal(a.W, c.W)


@pytest.mark.parametrize("neurons", ["rate", "regular", "poisson"])
def test_runs_are_identical_for_a_seed_and_differ_across_seeds(nand_sampled, backend, neurons):
    def run(seed):
        return npl.run(nand_sampled, {"s1": 0.1, "s2": -0.1}, 0.3, backend=backend, neurons=neurons, seed=seed,
                       record_spikes=20)

    first, again, other = run(3), run(3), run(4)
    np.testing.assert_array_equal(first["o"], again["o"])  # bit for bit, TensorFlow on CPU included
    if neurons == "rate":
        # nothing random at rate level (nengo's build order follows the seed: rounding, 1e-16)
        np.testing.assert_allclose(first["o"], other["o"], rtol=0, atol=1e-12)
    else:
        np.testing.assert_array_equal(first.spikes, again.spikes)
        assert not np.array_equal(first.spikes, other.spikes)  # spike phases / Poisson draws follow the seed
        assert not np.array_equal(first["o"], other["o"])


# -- interrupts and long runs ---------------------------------------------------------------------------
def test_nengo_dl_interrupt_returns_the_partial_result(nand_sampled):
    def level(t):
        if t > 2.5:
            raise KeyboardInterrupt  # what Ctrl-C does between two chunks
        return 0.1

    res = npl.run(nand_sampled, {"s1": level, "s2": 0.1}, 10.0, backend="nengo_dl", sample_every=10)
    assert res.info["interrupted"] is True
    assert 0 < len(res.t) < 1000 and res.info["steps"] == len(res.t) * 10
    assert res.t[-1] == pytest.approx(len(res.t) * 0.01) and np.all(np.isfinite(res["o"]))


def test_nengo_dl_long_run_is_chunked_and_decimated(nand_sampled):
    from npl_nengo.backends import nengo_dl as nengo_dl_backend

    full = npl.run(nand_sampled, {"s1": lambda t: 0.1 if t < 1.2 else -0.1, "s2": 0.1}, 2.5, backend="nengo_dl")
    dec = npl.run(nand_sampled, {"s1": lambda t: 0.1 if t < 1.2 else -0.1, "s2": 0.1}, 2.5, backend="nengo_dl",
                  sample_every=7)
    assert full.info["steps"] == 2500 > nengo_dl_backend.CHUNK_STEPS  # three chunks
    np.testing.assert_allclose(dec["o"], full["o"][6::7], atol=1e-6)
    np.testing.assert_allclose(dec.t, full.t[6::7])
    ref = npl.run(nand_sampled, {"s1": lambda t: 0.1 if t < 1.2 else -0.1, "s2": 0.1}, 2.5, backend="nengo")
    np.testing.assert_allclose(full["o"], ref["o"], atol=1e-5)  # chunk boundaries change nothing


@pytest.mark.slow
def test_a_million_steps_in_bounded_memory(backend):
    """10^6 steps (1000 s at dt = 1 ms), probes decimated 1000x, add no more memory than 10^4 steps.

    The measurement of ``benchmarks/long_run.py``: each run in a fresh process, the resident
    high-water mark reset just before the run (``ru_maxrss`` would carry over this process's).
    """
    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        import long_run
        import peak_memory
    finally:
        sys.path.remove(str(bench))
    if backend == "brian2":
        peak_memory.warm_brian2([long_run.case("brian2", s) for s in (10**4, 10**6)])
    short, long_ = long_run.run_case(backend, 10**4), long_run.run_case(backend, 10**6)
    assert long_["samples"] == 1000 and long_["steps"] == 10**6
    assert long_["run_mib"] - short["run_mib"] < 16, (short, long_)


# -- one cell's failure is one row ---------------------------------------------------------------------------
def _cell_target(metric):
    from npl_nengo.cells import Target

    return Target("x", "", None, None, metric=metric)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_run_cell_lets_interrupts_through(nand_sampled, interrupt):
    from npl_nengo.cells import Cell, run_cell

    def metric(rnn, **options):
        raise interrupt()

    with pytest.raises(interrupt):
        run_cell(_cell_target(metric), nand_sampled, Cell("sampled", 0, "reference", "rate"))


def test_run_cell_turns_any_exception_or_a_broken_score_into_an_error_row(nand_sampled):
    """A metric that raises, or returns a score that cannot be read, gives an ERROR row naming the exception;
    nothing of a half-made judgement stays in the row."""
    from npl_nengo.cells import Cell, run_cell
    from npl_nengo.metrics import Score

    def broken(rnn, **options):
        return Score("truth_table", True, "not a number", details={"tol": 0.01})

    def raises(rnn, **options):
        raise OSError(28, "No space left on device")

    for metric, message in [(broken, "ValueError: could not convert string to float: 'not a number'"),
                            (raises, "OSError: [Errno 28] No space left on device")]:
        row = run_cell(_cell_target(metric), nand_sampled, Cell("sampled", 0, "reference", "rate"))
        assert (row.result, row.passed, row.message, row.statistic) == ("ERROR", False, message, "error")
        assert row.run is None and row.score is None and np.isnan(row.error) and row.tol is None
        assert row.N == nand_sampled.n_neurons and row.wall_s >= 0
    # not even a network: the row still comes back
    row = run_cell(_cell_target(raises), object(), Cell("sampled", 0, "reference", "rate"))
    assert row.result == "ERROR" and row.message.startswith("AttributeError: ") and row.N is None
