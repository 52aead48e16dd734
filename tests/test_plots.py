"""Figures that show the truth: Result.plot, Result.to_dataframe, the sweep figure, periods and the exact line."""

import json
import math
import sys

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import comparison, ode, plots, simulation
from npl_nengo.cells import Row
from npl_nengo.errors import ValidationError
from npl_nengo.metrics import Score
from npl_nengo.report import Report
from npl_nengo.result import Result, UnknownOutput
from npl_nengo.sweeps import SweepResult

PNG = b"\x89PNG"


def _result(n_outputs=3, trials=None, samples=50):
    t = np.arange(1, samples + 1) * 1e-3
    rng = np.random.default_rng(0)
    shape = (samples,) if trials is None else (trials, samples)
    outputs = {f"y{i}": rng.standard_normal(shape) for i in range(n_outputs)}
    return Result(t, outputs, "reference", "rate", 1e-3, 0, "toy", info={"trials": trials})


def _line_colors(ax):
    return [tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color()
            for line in ax.get_lines()]


@pytest.mark.parametrize("n", [1, 10, 11, 13, 20, 21, 40])
def test_colors_never_repeat(n):
    assert len(set(plots.colors(n))) == n


def test_result_plot_gives_every_output_its_own_colour():
    """13 outputs (what pong has): tab20, no two lines of the axis alike, a labelled axis and legend."""
    from matplotlib.figure import Figure

    fig = _result(13).plot()
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 13 and len(set(_line_colors(ax))) == 13
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"y{i}" for i in range(13)]


def test_result_plot_with_many_outputs_uses_panels_of_ten():
    fig = _result(25).plot()
    assert [len(ax.get_lines()) for ax in fig.axes] == [10, 10, 5]
    for ax in fig.axes:
        assert len(set(_line_colors(ax))) == len(ax.get_lines())


def test_result_plot_of_a_batch_and_of_one_trial():
    batch = _result(2, trials=3)
    (ax,) = batch.plot().axes
    assert len(ax.get_lines()) == 6 and len(ax.get_legend().get_texts()) == 2  # one legend entry per output
    (ax,) = batch.plot(trial=1).axes
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), batch["y0"][1])
    assert "trial 1" in ax.get_title()


def test_result_plot_bad_arguments():
    with pytest.raises(UnknownOutput, match="no output 'nope'"):
        _result().plot(["nope"])
    with pytest.raises(ValidationError, match="trial= is for a batch"):
        _result().plot(trial=0)
    with pytest.raises(ValidationError, match="out of range"):
        _result(trials=2).plot(trial=5)


def test_result_plot_into_an_axis_and_to_png(tmp_path):
    fig = plots.subplots()[0]
    ax = fig.subplots()
    assert _result(2).plot(["y1"], ax=ax) is fig and len(ax.get_lines()) == 1
    _result(2).plot().savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:4] == PNG


def test_to_dataframe_without_pandas_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(ValidationError, match="pip install pandas"):
        _result().to_dataframe()


def test_to_dataframe_columns_index_and_batches():
    pd = pytest.importorskip("pandas")
    r = _result(2)
    df = r.to_dataframe()
    assert list(df.columns) == ["y0", "y1"] and df.index.name == "t"
    np.testing.assert_array_equal(df.index.to_numpy(), r.t)
    np.testing.assert_array_equal(df["y1"].to_numpy(), r["y1"])
    b = _result(2, trials=3)
    df = b.to_dataframe()
    assert isinstance(df.index, pd.MultiIndex) and list(df.index.names) == ["trial", "t"]
    np.testing.assert_array_equal(df.loc[2]["y0"].to_numpy(), b["y0"][2])


# -- sweep figure ------------------------------------------------------------------------------------
def _sweep_row(method, n, error, result="PASS", tol=0.01):
    return Row("toy", method, 0, "reference", "rate", "rate", n, None, result=result, passed=result == "PASS",
               error=error, tol=tol, statistic="worst")


def test_sweep_figure_shows_infinite_and_failed_cells_and_the_tolerance(tmp_path):
    rows = [_sweep_row("taylor", 40, 0.2, "FAIL"), _sweep_row("taylor", 300, math.inf, "FAIL"),
            _sweep_row("sampled", 40, 0.001), _sweep_row("sampled", 300, math.nan, "ERROR", tol=None)]
    sweep = SweepResult("toy", rows)
    drawn = {}
    real_save = plots._save

    def keep(fig, path):
        drawn["fig"] = fig
        return real_save(fig, path)

    plots._save = keep
    try:
        path = plots.sweep_figure(sweep, tmp_path / "sweep.png")
    finally:
        plots._save = real_save
    assert path.read_bytes()[:4] == PNG
    fig = drawn["fig"]
    ax = fig.axes[0]
    markers = [line.get_marker() for line in ax.get_lines()]
    assert "^" in markers and "x" in markers  # the infinite cell and the all-error cell, on the top edge
    assert {t.get_text() for t in ax.texts} == {"inf", "error"}
    tol_lines = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [float(line.get_ydata()[0]) for line in tol_lines] == [0.01, 0.01]
    assert any("infinite" in t.get_text() for t in fig.texts)
    assert any(t.get_text().startswith("tol taylor") for t in ax.get_legend().get_texts())


def test_sweep_figure_without_infinite_cells_has_no_note(tmp_path):
    drawn = {}
    real_save = plots._save
    plots._save = lambda fig, path: drawn.setdefault("fig", fig) and real_save(fig, path)
    try:
        plots.sweep_figure(SweepResult("toy", [_sweep_row("taylor", 40, 0.2), _sweep_row("taylor", 300, 0.1)]),
                           tmp_path / "sweep.png")
    finally:
        plots._save = real_save
    assert not any("infinite" in t.get_text() for t in drawn["fig"].texts)
    assert len(drawn["fig"].axes[0].texts) == 0


# -- report: periods and the deciding statistic ----------------------------------------------------------
def _oscillator_report(period):
    row = Row("ring", "sampled", 0, "reference", "rate", "rate", 300, 1000.0, result="PASS", passed=True, error=0.01,
              statistic="period")
    score = Score("oscillation", True, 0.01, [], {"period": period, "decided_by": "period"})
    settings = {"backends": ["reference"], "neurons": ["rate"], "methods": ["sampled"], "seeds": [0],
                "n_neurons": None, "max_rate": 1000.0, "dt": 1e-3, "metric": "oscillation"}
    return Report("ring", "a ring", [row], settings, scores={("sampled", 0, "reference", "rate"): score})


def test_periods_and_the_deciding_statistic_in_table_csv_and_json():
    report = _oscillator_report(0.8125)
    head = report.table().splitlines()[1]
    assert "period s" in head and "decided by" in head and "0.8125" in report.table()
    header, line = report.to_csv().splitlines()[:2]
    columns = header.split(",")
    values = dict(zip(columns, line.split(",")))
    assert values["period"] == "0.8125" and values["statistic"] == "period"
    (row,) = json.loads(report.to_json())["rows"]
    assert row["period"] == 0.8125 and row["statistic"] == "period"
    assert "| period s |" in report.to_markdown()


def test_no_period_column_without_a_period_and_nan_period_is_null():
    report = _oscillator_report(math.nan)  # no oscillation found: a period column, empty
    (row,) = json.loads(report.to_json())["rows"]
    assert row["period"] is None
    report.scores[("sampled", 0, "reference", "rate")].details.pop("period")
    assert "period" not in report.to_csv().splitlines()[0].split(",")
    assert "period" not in json.loads(report.to_json())["rows"][0]


# -- the exact trajectory -----------------------------------------------------------------------------------
def test_exact_trajectory_is_the_programs_ode_with_the_recorded_inputs():
    program = npl.Program("decay", derivatives={"x": "-2*x + u"}, inputs={"u": (-1, 1)}, ranges={"x": (-1, 1)},
                          initial={"x": 0.5})
    target = comparison.Target.of(program)
    t = np.arange(1, 1001) * 1e-3
    drive = lambda s: 0.5 * np.sin(6 * s)  # noqa: E731
    ran = Result(t, {"x": np.zeros_like(t)}, "reference", "rate", 1e-3, 0, "decay")
    exact = comparison.exact_trajectory(target, ({"u": drive}, 1.0, 1e-3, None), ran)
    assert exact.backend == "exact" and list(exact.outputs) == ["x"]
    np.testing.assert_allclose(exact["x"], ode.integrate(program, t, inputs={"u": drive})["x"], atol=1e-9)
    # an input given as one sample per step (interpolated between the steps)
    steps = np.where(t <= 0.5, 1.0, -1.0)
    held = comparison.exact_trajectory(target, ({"u": steps}, 1.0, 1e-3, None), ran)
    x_half = 0.5 * np.exp(-1.0) + 0.5 * (1 - np.exp(-1.0))  # x(0.5) from x0 = 0.5 under u = 1
    assert abs(np.interp(0.5, t, held["x"]) - x_half) < 2e-3
    # no exact line: a batch, nothing recorded, a compiled network
    assert comparison.exact_trajectory(target, ([{"u": 0.0}], 1.0, 1e-3, None), ran) is None
    assert comparison.exact_trajectory(target, None, ran) is None
    assert comparison.exact_trajectory(comparison.Target.of(npl.compile(program, method="taylor")),
                                       ({"u": 0.0}, 1.0, 1e-3, None), ran) is None


def test_recording_the_inputs_leaves_the_simulator_as_it_was(nand_rnn_for_recording):
    calls: list = []
    with pytest.raises(RuntimeError), comparison._recording_inputs(calls):
        npl.run(nand_rnn_for_recording, {"s1": 0.1, "s2": -0.1}, 0.01)
        assert len(calls) == 1 and calls[0][1:] == (0.01, 1e-3, None)
        raise RuntimeError
    assert getattr(simulation._OBSERVERS, "stack", ()) == ()
    npl.run(nand_rnn_for_recording, {"s1": 0.1, "s2": -0.1}, 0.01)  # no longer observed
    assert len(calls) == 1


@pytest.fixture(scope="module")
def nand_rnn_for_recording():
    from npl_nengo import networks

    return npl.compile(networks.get("nand").build(), method="sampled", n_neurons=50)


def test_a_circuit_is_integrated_as_its_wired_parts():
    """x' = -x + u feeding y' = -y + x: y(t) from x0 = 1, y0 = 0 and u = 0 is t e^-t."""
    a = npl.Program("a", derivatives={"x": "-x + u"}, inputs={"u": (-1, 1)}, ranges={"x": (-1, 1)}, initial={"x": 1.0})
    b = npl.Program("b", derivatives={"y": "-y + v"}, inputs={"v": (-1, 1)}, ranges={"y": (-1, 1)})
    circuit = npl.Circuit("chain", {"a": a, "b": b}, wires=[("a.x", "b.v")], inputs={"u": ["a.u"]},
                          outputs={"x": "a.x", "y": "b.y"})
    t = np.arange(1, 501) * 2e-3
    ran = Result(t, {"x": np.exp(-t), "y": t * np.exp(-t)}, "reference", "rate", 2e-3, 0, "chain")
    exact = comparison.exact_trajectory(comparison.Target.of(circuit), ({"u": 0.0}, 1.0, 2e-3, None), ran)
    np.testing.assert_allclose(exact["x"], np.exp(-t), atol=1e-8)
    np.testing.assert_allclose(exact["y"], t * np.exp(-t), atol=1e-8)
    assert "kick" not in exact.info


def test_an_exact_trajectory_resting_where_the_run_moves_is_kicked_off_its_equilibrium():
    """x' = x from x0 = 0 stays at 0 exactly; a run that grows gets the kicked solution 1e-6 e^t beside it."""
    program = npl.Program("unstable", derivatives={"x": "x"}, ranges={"x": (-1, 1)})
    t = np.arange(1, 1001) * 1e-3
    moving = Result(t, {"x": 0.01 * np.exp(t)}, "reference", "rate", 1e-3, 0, "unstable")
    exact = comparison.exact_trajectory(comparison.Target.of(program), ({}, 1.0, 1e-3, None), moving)
    assert exact.info["kick"] == comparison.KICK
    np.testing.assert_allclose(exact["x"], comparison.KICK * np.exp(t), rtol=1e-6)
    resting = Result(t, {"x": np.zeros_like(t)}, "reference", "rate", 1e-3, 0, "unstable")
    exact = comparison.exact_trajectory(comparison.Target.of(program), ({}, 1.0, 1e-3, None), resting)
    assert "kick" not in exact.info and not exact["x"].any()


def test_an_exact_solve_past_its_budget_is_given_up(monkeypatch):
    program = npl.Program("decay", derivatives={"x": "-2*x + u"}, inputs={"u": (-1, 1)}, ranges={"x": (-1, 1)})
    t = np.arange(1, 101) * 1e-2
    ran = Result(t, {"x": np.zeros_like(t)}, "reference", "rate", 1e-2, 0, "decay")
    monkeypatch.setattr(comparison, "EXACT_BUDGET_S", -1.0)
    assert comparison.exact_trajectory(comparison.Target.of(program), ({"u": np.sin}, 1.0, 1e-2, None), ran) is None
