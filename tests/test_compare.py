"""npl.compare: one network on several backends and neuron modes, written as a Report."""

import csv
import io
import json
import os

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import cells
from npl_nengo.errors import SimulationError, ValidationError
from npl_nengo.files import SaveError
from npl_nengo.metrics import attractor
from npl_nengo.networks import attractors

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def nand_report():
    """NAND, both compilers, reference and nengo, rate and regular spiking at 1 kHz."""
    return npl.compare("nand", backends=["reference", "nengo"], neurons=["rate", "regular"], seeds=[0])


def _row(report, backend, method, neurons, seed=0):
    (row,) = [r for r in report.rows if (r["backend"], r["method"], r["neurons"], r["seed"]) == (backend, method, neurons, seed)]
    return row


def test_rows_hold_metric_deviation_wall_time_neurons_and_spike_rate(nand_report):
    rows = nand_report.rows
    assert len(rows) == 8
    assert [(r["method"], r["backend"], r["neurons"]) for r in rows[:4]] == [
        ("taylor", "reference", "rate"), ("taylor", "reference", "regular"),
        ("taylor", "nengo", "rate"), ("taylor", "nengo", "regular")]
    for backend in ("reference", "nengo"):
        # the noise finding: min-norm weights pass at rate level and fail under spikes; noise-aware pass both
        assert _row(nand_report, backend, "taylor", "rate")["result"] == "PASS"
        assert _row(nand_report, backend, "taylor", "regular")["result"] == "FAIL"
        assert _row(nand_report, backend, "sampled", "rate")["result"] == "PASS"
        assert _row(nand_report, backend, "sampled", "regular")["result"] == "PASS"
    # the rate reference is the reference backend at rate level: its own deviation is zero
    assert _row(nand_report, "reference", "sampled", "rate")["deviation"] == 0.0
    # nengo's zero-order hold differs slightly from RK4; spikes add noise
    assert 0 < _row(nand_report, "nengo", "sampled", "rate")["deviation"] < 0.02
    assert 0 < _row(nand_report, "nengo", "sampled", "regular")["deviation"] < 0.05
    for r in rows:
        assert r["N"] == (40 if r["method"] == "taylor" else 300)
        assert r["wall_s"] > 0 and r["compile_s"] > 0
        if (r["method"], r["neurons"]) == ("taylor", "regular"):
            # the spiking min-norm network diverges (its state leaves the range at once): no run to compare
            assert "diverged: output 'o' =" in r["message"] and np.isnan(r["deviation"]) and r["spike_rate"] is None
            assert r["error"] == float("inf")
            continue
        assert r["run_s"] > 0 and r["message"] == ""
        if r["neurons"] == "rate":
            assert r["spike_rate"] is None
        else:  # spikes counted from the recorded units: at most max_rate
            assert 300 < r["spike_rate"] <= 1000
    # the paper's min-norm cells fail under spikes, outside the entry's recommended compile
    assert nand_report.passed and len(nand_report.failed) == 2
    assert all(not r["counted"] for r in nand_report.failed)


def test_report_files_markdown_csv_json_png(nand_report, tmp_path):
    paths = nand_report.save(tmp_path / "out")
    assert set(paths) == {"markdown", "csv", "json", "outputs", "spikes", "truth_table"}
    for key in ("outputs", "spikes", "truth_table"):
        assert paths[key].read_bytes()[:4] == PNG and paths[key].stat().st_size > 5000
    table = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert len(table) == 8 and table[0]["backend"] == "reference" and "dev_o" in table[0]
    assert {r["result"] for r in table} == {"PASS", "FAIL"}
    doc = json.loads(paths["json"].read_text())
    assert doc["network"] == "nand" and doc["passed"] is True and len(doc["rows"]) == 8
    assert doc["rows"][0]["deviation_by_output"]["o"] == 0.0
    md = paths["markdown"].read_text()
    assert md.startswith("# nand: backend comparison")
    assert md.count("| reference | taylor |") == 2 and "![truth_table](truth_table.png)" in md
    assert "every counted scored cell passed (2 outside the recommended compile failed, marked *)" in md
    # no temporary files are left behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths.values())


def test_the_exact_trajectory_is_the_program_itself_with_the_cells_inputs(nand_report):
    """Beside the rate reference, the gate's own ODE under the truth-table protocol: it settles at the levels."""
    from npl_nengo import simulation

    assert set(nand_report.exact) == {("taylor", 0), ("sampled", 0)}
    exact = nand_report.exact[("sampled", 0)]
    ref = nand_report.references[("sampled", 0)]
    assert exact.backend == "exact" and list(exact.outputs) == ["o"]
    np.testing.assert_array_equal(exact.t, ref.t)
    # NAND over the four patterns, 1 s each: True, True, True, False
    for k, want in enumerate([0.1, 0.1, 0.1, -0.1]):
        assert abs(exact.mean("o", k + 0.9, k + 1.0) - want) < 1e-3
    # the passing sampled network tracks it; the exact line is not the reference (a different computation)
    assert 0 < np.sqrt(np.mean((ref["o"] - exact["o"]) ** 2)) < 5e-3
    assert getattr(simulation._OBSERVERS, "stack", ()) == ()  # the input recording is undone


def test_a_saved_library_network_gets_its_programs_exact_trajectory(tmp_path):
    """A compiled network carries its program's digest: a library entry's, saved and loaded, is drawn
    against that entry's ODE; one compiled from an edited program (same name) gets no exact line."""
    from npl_nengo import networks
    from npl_nengo.program import Program, digest

    program = networks.get("nand").build()
    rnn = npl.compile(program, method="sampled", n_neurons=60, seed=0)
    assert rnn.info["program"] == digest(program)
    path = rnn.save(tmp_path / "nand.npz")
    report = npl.compare(str(path), backends=["reference"], neurons=["rate"], inputs={"s1": 0.1, "s2": 0.1},
                         duration=0.5)
    (exact,) = report.exact.values()
    assert exact.backend == "exact" and abs(exact["o"][-1] + 0.1) < 1e-3  # NAND(1, 1) = 0 at -0.1
    edited = Program(program.name, {"o": program.derivatives["o"] + 0.01 * program.symbols["o"]},
                     inputs={k: program.input_ranges[k] for k in program.inputs}, ranges=program.ranges)
    other = npl.compile(edited, method="sampled", n_neurons=60, seed=0)
    assert other.info["program"] != rnn.info["program"]
    report = npl.compare(other, backends=["reference"], neurons=["rate"], inputs={"s1": 0.1, "s2": 0.1},
                         duration=0.5)
    assert report.exact == {}


def test_the_guest_rnn_is_measured_against_the_direct_guest():
    from npl_nengo.networks import _GUEST, virtual

    report = npl.compare("guest_rnn", backends=["reference"], neurons=["rate"], methods=["sampled"])
    exact = report.exact[("sampled", 0)]
    truth = virtual.simulate_guest(_GUEST, virtual.sine_drive(1), exact.t)
    np.testing.assert_allclose(exact["r1"], truth[:, 0], atol=1e-9)
    np.testing.assert_allclose(exact["r2"], truth[:, 1], atol=1e-9)
    assert exact.info["exact"] == "guest"


def test_a_users_guest_rnn_is_measured_against_its_direct_guest():
    """Any guest_program (not only the library's) carries its guest: the exact line is the tanh RNN."""
    from npl_nengo.networks import virtual

    guest = virtual.random_guest(3, seed=4)
    program = virtual.guest_program(guest, 2, name="my_guest")
    assert program.guest is guest
    report = npl.compare(program, backends=["reference"], neurons=["rate"], methods=["sampled"],
                         inputs={"u1": 0.05}, duration=0.5, n_neurons=300)
    exact = report.exact[("sampled", 0)]
    assert exact.info["exact"] == "guest"
    held = [lambda t: 0.05]
    truth = virtual.simulate_guest(guest, held, exact.t)
    for i in range(3):
        np.testing.assert_allclose(exact[f"r{i + 1}"], truth[:, i], atol=1e-9)


def test_save_replaces_its_own_report_but_not_foreign_files(nand_report, tmp_path):
    nand_report.save(tmp_path / "mine")
    nand_report.save(tmp_path / "mine")  # the same command again: fine
    foreign = tmp_path / "other"
    foreign.mkdir()
    (foreign / "report.md").write_text("my notes")
    with pytest.raises(ValidationError, match="already holds report.md, not written by npl_nengo.compare"):
        nand_report.save(foreign)
    assert os.listdir(foreign) == ["report.md"] and (foreign / "report.md").read_text() == "my notes"
    # overwrite (--force) adds the report; the foreign file it replaces is kept, nothing is deleted
    nand_report.save(foreign, overwrite=True)
    assert (foreign / "report.md").read_text().startswith("# nand")
    assert (foreign / "report.md.orig").read_text() == "my notes"
    nand_report.save(foreign)  # now it holds our report: replaced as it is
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValidationError, match="is not a directory"):
        nand_report.save(tmp_path / "file")


def test_a_report_goes_into_a_new_or_empty_directory(nand_report, tmp_path):
    """Any non-empty directory that is not an earlier report is refused (not only one holding our names)."""
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "setup.py").write_text("keep")
    with pytest.raises(SaveError, match=r"already holds setup.py, not written by npl_nengo.compare.*--force"):
        nand_report.save(tmp_path / "project")
    assert os.listdir(tmp_path / "project") == ["setup.py"]  # no lock, no staging folder left
    (tmp_path / "empty").mkdir()
    paths = nand_report.save(tmp_path / "empty")
    assert paths["json"].parent == tmp_path / "empty"
    npl.sweeps.SweepResult("nand", [], {}).save(tmp_path / "sweep")
    with pytest.raises(SaveError, match="not written by npl_nengo.compare"):  # a sweep's directory is not ours
        nand_report.save(tmp_path / "sweep")


def test_table_text(nand_report):
    text = nand_report.table().splitlines()
    assert text[0].startswith("nand: NAND gate")
    assert text[1].split() == ["backend", "method", "neurons", "N", "||W||", "error", "tol", "dev", "spikes", "Hz",
                               "wall", "s", "decided", "by", "result"]
    assert text[2].split()[:3] == ["reference", "taylor", "rate"] and text[2].endswith("PASS*")
    assert "worst distance from ±0.1" in text[2] and "FAIL*" in text[3]


def test_seeds_are_summarised(tmp_path):
    report = npl.compare("nand", backends=["reference"], neurons=["regular"], methods=["sampled"], seeds=[0, 1],
                         n_neurons=100)
    assert [r["seed"] for r in report.rows] == [0, 1]
    assert report.rows[0]["error"] != report.rows[1]["error"]  # another seed, another network
    (group,) = report.summary()
    assert group["runs"] == 2 and group["passed"] == sum(r["passed"] for r in report.rows)
    assert group["error"] == pytest.approx(np.median([r["error"] for r in report.rows]))
    assert "## Over seeds" in report.to_markdown() and " seed " in report.table().splitlines()[1]


def test_a_program_without_metric_is_scored_by_its_deviation(nand_program):
    report = npl.compare(nand_program, backends=["reference", "nengo"], neurons=["rate"], methods=["sampled"],
                         n_neurons=200, duration=0.5, inputs={"s1": 0.1, "s2": -0.1})
    assert [r["result"] for r in report.rows] == ["RAN", "RAN"]
    assert report.passed  # nothing scored, nothing failed
    assert report.rows[0]["deviation"] == 0 and 0 < report.rows[1]["deviation"] < 0.02
    assert report.runs[("sampled", 0, "nengo", "rate")]["o"][-1] == pytest.approx(0.1, abs=0.015)
    assert report.settings["duration"] == 0.5 and report.settings["metric"] is None
    # default inputs: every input at mid-range
    report = npl.compare(nand_program, backends=["reference"], neurons=["rate"], methods=["sampled"], n_neurons=200)
    assert report.settings["inputs"] == {} and report.runs[("sampled", 0, "reference", "rate")].t[-1] == pytest.approx(1.0)


def test_a_saved_network_runs_as_it_is(tmp_path):
    rnn = npl.compile(npl.networks.get("nor").build(), n_neurons=200, method="sampled", seed=3)
    path = rnn.save(tmp_path / "nor.npz")
    report = npl.compare(str(path), backends=["reference"], neurons=["rate"], methods=["taylor", "nef"])
    (row,) = report.rows
    assert (row["method"], row["N"], row["result"]) == ("sampled", 200, "RAN")


def test_nef_cells_run_on_nengo_backends_with_lif_neurons():
    report = npl.compare("nand", backends=["reference", "nengo"], neurons=["rate", "regular"], methods=["nef"],
                         n_neurons=150)
    assert [(r["backend"], r["neurons"]) for r in report.rows] == [("nengo", "rate"), ("nengo", "lif")]
    rate, lif = report.rows
    assert rate["deviation"] == 0.0 and 0 < lif["deviation"] < 0.2  # NEF reference: LIFRate on nengo
    assert 1 < lif["spike_rate"] < 400 and np.isnan(lif["weight_norm"])


def test_a_failing_cell_is_reported_and_the_others_still_run():
    def metric(rnn, backend, **options):
        if backend == "nengo":
            raise SimulationError("diverged at t=0.3 s (injected)")
        return npl.networks.get("nand").metric(rnn, backend=backend, **options)

    report = npl.compare("nand", backends=["reference", "nengo"], neurons=["rate"], methods=["sampled"], metric=metric)
    assert [r["result"] for r in report.rows] == ["PASS", "ERROR"]
    assert report.rows[1]["message"] == "diverged at t=0.3 s (injected)"
    assert "ERROR (diverged at t=0.3 s (injected))" in report.table()
    assert not report.passed
    json.loads(report.to_json())  # NaNs become null


def test_an_unexpected_exception_in_a_cell_is_an_error_row_naming_it():
    def metric(rnn, neurons, **options):
        if neurons == "regular":
            return 1 / 0  # a metric's bug
        return npl.networks.get("nand").metric(rnn, neurons=neurons, **options)

    report = npl.compare("nand", backends=["reference"], neurons=["rate", "regular"], methods=["sampled"],
                         metric=metric)
    assert [r["result"] for r in report.rows] == ["PASS", "ERROR"]
    assert report.rows[1]["message"] == "ZeroDivisionError: division by zero" and report.rows[1].run is None
    assert "ERROR (ZeroDivisionError: division by zero)" in report.table() and not report.passed


def test_a_comparison_whose_every_cell_fails_still_returns_and_saves(tmp_path, monkeypatch):
    original = cells.Target.build

    def build(self, method, *args, **kwargs):
        if method == "taylor":
            raise RuntimeError("compiler crashed (injected)")
        return original(self, method, *args, **kwargs)

    def metric(rnn, **options):
        raise KeyError("no such output")

    monkeypatch.setattr(cells.Target, "build", build)
    report = npl.compare("nand", backends=["reference"], neurons=["rate"], methods=["taylor", "sampled"],
                         metric=metric)
    assert [(r["method"], r["result"]) for r in report.rows] == [("taylor", "ERROR"), ("sampled", "ERROR")]
    assert report.rows[0]["message"] == "compile: RuntimeError: compiler crashed (injected)"
    assert report.rows[1]["message"] == "KeyError: 'no such output'" and report.rows[1]["N"] == 300
    assert len(report.failed) == 2 and "compile: RuntimeError" in report.table()
    paths = report.save(tmp_path / "report")
    doc = json.loads(paths["json"].read_text())
    assert [r["result"] for r in doc["rows"]] == ["ERROR", "ERROR"] and doc["passed"] is False
    assert "1 of 2 cells failed (1 outside the recommended compile failed, marked *)" in paths["markdown"].read_text()


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_still_ends_the_comparison(interrupt):
    def metric(rnn, **options):
        raise interrupt()

    with pytest.raises(interrupt):
        npl.compare("nand", backends=["reference"], neurons=["rate"], methods=["sampled"], metric=metric)


def test_attractor_projection_figure(tmp_path):
    def short_lorenz(rnn, **options):
        return attractor(rnn, attractors.lorenz(), duration=12.0, transient=2.0, **options)

    report = npl.compare("lorenz", backends=["reference"], neurons=["rate"], methods=["taylor"], metric=short_lorenz,
                         integrator="euler")
    assert report.rows[0]["result"] in ("PASS", "FAIL") and report.settings["run_options"] == {"integrator": "'euler'"}
    paths = report.save(tmp_path)
    assert "attractor" in paths and paths["attractor"].read_bytes()[:4] == PNG
    assert "truth_table" not in paths and "spikes" not in paths


def test_progress_bar_goes_to_stderr(capsys):
    npl.compare("nand", backends=["reference"], neurons=["rate"], methods=["sampled"], n_neurons=100, progress=True)
    err = capsys.readouterr().err
    assert "compare nand" in err


@pytest.mark.parametrize("kwargs,match", [
    ({"backends": ["reference", "nope"]}, "backend 'nope' is not known"),
    ({"methods": ["magic"]}, "method 'magic' is not one of taylor, sampled, lif, nef"),
    ({"seeds": [-1]}, "seeds must be integers in 0..4294967295"),
    ({"seeds": []}, "seeds must be integers in 0..4294967295"),
    ({"backends": []}, "backends must be a non-empty list"),
    ({"neurons": ["lif"], "backends": ["reference"]}, "'reference' does not support neurons='lif'"),
    ({"methods": ["nef"], "backends": ["reference", "brian2"]}, "nothing to run"),
    ({"max_rate": 0}, "max_rate must be a positive number"),
    ({"n_neurons": 0}, "n_neurons must be a positive integer"),
])
def test_bad_arguments_fail_before_any_work(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        npl.compare("nand", **kwargs)


def test_bad_network():
    with pytest.raises(ValidationError, match="not in the library"):
        npl.compare("nope")
    with pytest.raises(ValidationError, match="got int"):
        npl.compare(3)


def test_reports_leave_the_users_matplotlib_state_alone(tmp_path):
    """Figures are free-standing: no pyplot import, no backend switch, the user's figures stay open."""
    import subprocess
    import sys

    code = f"""
import sys, matplotlib
matplotlib.use("svg")
import npl_nengo as npl
from npl_nengo.cli import main
report = npl.compare("nand", backends=["reference"], neurons=["rate"], methods=["sampled"])
report.save({str(tmp_path / 'report')!r})
assert main(["run", "nand", "--duration", "0.2", "--plot", {str(tmp_path / 'run.png')!r}]) == 0
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert "matplotlib.pyplot" not in sys.modules
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "report" / "outputs.png").stat().st_size > 1000 and (tmp_path / "run.png").exists()


def test_entries_whose_compile_names_a_size_compare_at_that_size_or_the_callers():
    """guest_rnn's recommended and LIF compiles both give n_neurons; compare uses them, or n_neurons= instead."""
    report = npl.compare("guest_rnn", backends=["reference"], neurons=["rate"], methods=["sampled", "lif"])
    assert {(r["method"], r["N"]) for r in report.rows} == {("sampled", 600), ("lif", 600)}
    assert all(r["result"] == "PASS" for r in report.rows), report.rows
    sized = npl.compare("guest_rnn", backends=["reference"], neurons=["rate"], methods=["sampled"], n_neurons=400)
    assert [r["N"] for r in sized.rows] == [400]
