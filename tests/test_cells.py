"""Cells: one planner, one runner and one tolerance policy for compare and sweep."""

import json
import math

import pytest

import npl_nengo as npl
from npl_nengo import cells
from npl_nengo.cells import Cell, Target, plan, run_cell
from npl_nengo.files import jsonable


def _keys(planned):
    return [(c.method, c.backend, c.neurons) for c in planned]


def test_lif_routes_spike_as_lif_once_where_lif_spikes_run():
    planned = plan(["lif", "nef"], [0], ["reference", "nengo", "brian2"], ["rate", "regular", "poisson"])
    assert _keys(planned) == [("lif", "reference", "rate"), ("lif", "nengo", "rate"), ("lif", "nengo", "lif"),
                              ("lif", "brian2", "rate"), ("lif", "brian2", "lif"),
                              ("nef", "nengo", "rate"), ("nef", "nengo", "lif")]
    assert all(c.max_rate is None for c in planned)  # LIF rates are the units' own
    assert planned[2].mode == "regular"  # what was asked for, kept


def test_a_taylor_rate_cell_runs_at_the_first_spike_rate_only():
    planned = plan(["taylor", "sampled"], [0], ["reference"], ["rate", "regular"], max_rates=[1000.0, 5000.0])
    assert [(c.method, c.neurons, c.max_rate) for c in planned] == [
        ("taylor", "rate", 1000.0), ("taylor", "regular", 1000.0), ("taylor", "regular", 5000.0),
        ("sampled", "rate", 1000.0), ("sampled", "regular", 1000.0),
        ("sampled", "rate", 5000.0), ("sampled", "regular", 5000.0)]
    # one compile per route: taylor's does not depend on the rate, the sampled fit's noise budget does
    assert len({c.compile_key for c in planned}) == 3


@pytest.mark.parametrize("args, match", [
    ((["tanh"], [0], ["reference"], ["rate"]), "method 'tanh' is not one of taylor, sampled, lif, nef"),
    ((["taylor"], [0], ["reference"], ["lif"]), "backend 'reference' does not support neurons='lif'"),
    ((["nef"], [0], ["reference", "brian2"], ["rate"]), "nothing to run .*nef runs on nengo, nengo_dl, loihi_emulator only"),
    ((["taylor"], [0], ["neuron"], ["rate"]), "backend 'neuron' is not known"),
])
def test_a_grid_that_cannot_run_is_one_clear_error(args, match):
    with pytest.raises(npl.ValidationError, match=match):
        plan(*args, where="grid")


def test_one_tolerance_policy():
    assert cells.level_tol("taylor", "rate") == 0.005 and cells.level_tol("taylor", "regular") == 0.03
    assert cells.level_tol("sampled", "regular") == 0.002 and cells.level_tol("sampled", "poisson") == 0.005
    assert cells.level_tol("lif", "lif") == cells.level_tol("nef", "rate") == 0.005


@pytest.fixture(scope="module")
def nand():
    target = Target.of("nand")
    return target, target.build("sampled", 0)


def test_the_entrys_recommended_compile_builds_its_method(nand):
    target, rnn = nand
    assert target.recommended_method == "sampled" and rnn.gamma == 30.0  # the entry's compile, not the default
    assert target.build("taylor", 0, n_neurons=40).n_neurons == 40 and target.build("taylor", 0).gamma == 100.0
    spiking = Cell("taylor", 0, "reference", "regular", max_rate=1000.0)
    assert target.counted(Cell("sampled", 0, "reference", "regular")) and not target.counted(spiking)


def test_run_cell_scores_with_the_cells_tolerance_and_saves_as_json(nand):
    target, rnn = nand
    row = run_cell(target, rnn, Cell("sampled", 0, "reference", "regular", "regular", None, 1000.0),
                   spike_units=20)
    assert (row.result, row.tol, row.statistic, row.accuracy) == ("PASS", 0.002, "worst distance from ±0.1", 1.0)
    assert row["error"] == row.error < 0.002 and row.get("missing", 7) == 7
    assert 0 < row.spike_rate < 1000 and row.run is not None and row.score.passed
    saved = json.loads(json.dumps(jsonable(row)))
    assert "run" not in saved and saved["N"] == rnn.n_neurons and saved["deviation"] is None  # no reference: NaN
    assert row.without_run().run is None


def test_run_cell_reports_a_library_error_as_an_error_row(nand):
    target, rnn = nand

    def diverges(rnn, **options):
        raise npl.SimulationError("diverged at t=0.1 s (injected)")

    broken = Target("x", "", None, rnn, metric=diverges)
    row = run_cell(broken, rnn, Cell("sampled", 0, "reference", "rate"))
    assert (row.result, row.passed, row.message, row.statistic) == ("ERROR", False, "diverged at t=0.1 s (injected)",
                                                                     "error")
    assert math.isnan(row.error) and row.N == rnn.n_neurons


def test_compare_rows_are_run_cell_rows(nand):
    """compare runs each cell through run_cell: the same cell gives the same numbers."""
    target, rnn = nand
    report = npl.compare("nand", backends=["reference"], neurons=["regular"], methods=["sampled"])
    (row,) = report.rows
    again = run_cell(target, rnn, Cell("sampled", 0, "reference", "regular", "regular", None, 1000.0))
    assert row.error == again.error and row.tol == again.tol and row.result == again.result
    assert 0 < row.deviation < 0.05  # from the rate reference, run although not asked for
