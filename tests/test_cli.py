"""The npl-nengo command line."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import registry
from npl_nengo.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "nand" in out and "full_adder" in out and "sr_latch" in out


def test_run_with_inputs_save_and_plot(tmp_path, capsys):
    net, png = tmp_path / "net.npz", tmp_path / "out.png"
    code = main(["run", "nand", "--backend", "reference", "--neurons", "rate", "--duration", "1",
                 "--input", "s1=0.1", "--input", "s2=-0.1", "--plot", str(png), "--save", str(net), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["final"]["o"] == pytest.approx(0.1, abs=0.005)
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    rnn = npl.load(net)
    assert rnn.name == "nand"
    # run the saved network again, spiking this time
    assert main(["run", str(net), "--input", "s1=0.1", "--input", "s2=0.1", "--duration", "0.5"]) == 0
    assert "o = -0.09" in capsys.readouterr().out


def test_compare_shows_the_noise_finding_on_every_default_backend(capsys):
    assert main(["compare", "nand", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    verdict = {(r["backend"], r["method"], r["neurons"]): r["result"] for r in rows}
    assert len(verdict) == 16
    for backend in ("reference", "nengo", "nengo_dl", "brian2"):
        # nengo_dl computes in float32, which the min-norm weights do not survive (test_nengo_dl.py)
        assert (verdict[(backend, "taylor", "rate")] == "PASS") == (backend != "nengo_dl")
        assert verdict[(backend, "taylor", "regular")] != "PASS"
        assert verdict[(backend, "sampled", "rate")] == "PASS"
        assert verdict[(backend, "sampled", "regular")] == "PASS"


def test_compare_nef_route_runs_on_nengo_only(capsys):
    assert main(["compare", "nand", "--methods", "nef", "--backends", "reference,nengo,brian2", "--neurons", "regular",
                 "--n-neurons", "200", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["backend"], r["neurons"], r["result"]) for r in rows] == [("nengo", "lif", "PASS")]


@pytest.mark.parametrize(
    "argv,match",
    [
        (["run", "nope"], "not in the library"),
        (["run", "nand", "--input", "s1"], "write NAME=VALUE"),
        (["run", "nand", "--input", "s1=abc"], "is not a number"),
        (["run", "nand", "--input", "zz=0.1"], "'zz' is not an input"),
        (["run", "nand", "--neurons", "lif"], "does not support neurons='lif'"),
        (["run", "missing.npz"], "no such file"),
        (["compare", "nand", "--backends", "nope"], "backend 'nope' is not known"),
        (["compare", "nand", "--methods", "magic"], "method 'magic' is not one of taylor, sampled, lif, nef"),
        (["compare", "nand", "--seeds", "1,x"], "--seeds '1,x': expected comma-separated ints"),
        (["compare", "nand", "--neurons", "lif", "--backends", "reference"], "'reference' does not support neurons='lif'"),
        (["sweep", "nand", "--n-neurons", "0"], "n_neurons must be a non-empty list of positive ints"),
        (["sweep", "nand", "--max-rates", "fast"], "--max-rates 'fast': expected comma-separated floats"),
        (["sweep", "nope"], "not in the library"),
        (["compare", "nand", "--methods", "nef", "--backends", "reference"], "nothing to run"),
        (["experiment", "trained", "--radius", "1.5"], "--radius 1.5: must be in (0, 1)"),
        (["experiment", "trained", "--n-neurons", "2"], "--n-neurons 2: must be an integer >= 3"),
        (["experiment", "rotation", "--steps", "1"], "--steps 1: must be an integer >= 10"),
        (["experiment", "rotation", "--seed", "-1"], "--seed -1: must be an integer >= 0"),
        (["experiment", "guest_sweep", "--orders", "7"], "orders must be among (1, 2, 3), got 7"),
    ],
)
def test_user_mistakes_are_one_line(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_console_script_runs():
    exe = shutil.which("npl-nengo") or str(__import__("pathlib").Path(sys.executable).parent / "npl-nengo")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert npl.__version__ in out


@pytest.mark.parametrize("command", [[], ["list"], ["backends"], ["run"], ["compare"], ["sweep"], ["gui"],
                                     ["experiment"], ["experiment", "trained"]])
def test_every_command_has_help_with_the_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: npl-nengo") and "exit codes: 0 done; 1 --check" in " ".join(out.split())


def test_compare_writes_a_report_and_check_sets_the_exit_code(tmp_path, capsys):
    argv = ["compare", "nand", "--backends", "reference", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0  # failing cells are data ...
    out = capsys.readouterr().out
    assert "reference  taylor   regular" in out and f"report: {tmp_path / 'report.md'}" in out
    # --check counts the entry's recommended compile: the paper's min-norm cells fail under spikes,
    # marked '*' (not counted) ...
    assert main([*argv, "--force", "--check"]) == 0
    assert "FAIL*" in capsys.readouterr().out
    # ... but a network given as it is counts in every cell
    saved = tmp_path / "nand.npz"
    assert main(["run", "nand", "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["compare", str(saved), "--backends", "reference", "--check", "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["compare", "nand", "--backends", "reference", "--methods", "sampled", "--check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True
    (tmp_path / "report.json").write_text("{}")  # no longer ours
    assert main(argv) == 2
    err = capsys.readouterr().err  # the command line's word for the API's overwrite=True
    assert "not written by npl_nengo.compare" in err and "pass --force to add it" in err and "overwrite" not in err
    assert main([*argv, "--force"]) == 0


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    names = [e["name"] for e in json.loads(capsys.readouterr().out)]
    assert names[:2] == ["and", "nand"] and "pong" in names


@pytest.mark.parametrize("error,code", [("backend", 3), ("simulation", 4), ("interrupt", 130)])
def test_exit_codes(monkeypatch, capsys, error, code):
    from npl_nengo import cli
    from npl_nengo.errors import BackendUnavailable, SimulationError

    def fail(args):
        raise {"backend": BackendUnavailable("backend 'brian2' cannot be imported: no module"),
               "simulation": SimulationError("reference: 'nand' diverged at t=0.5 s"),
               "interrupt": KeyboardInterrupt()}[error]

    monkeypatch.setattr(cli, "_cmd_run", fail)
    assert main(["run", "nand"]) == code
    err = capsys.readouterr().err
    assert err.startswith("npl-nengo: ") and err.count("\n") == 1


def test_backends_lists_the_registry(capsys):
    assert main(["backends", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(registry.BACKENDS)
    assert [r["name"] for r in rows][:4] == ["reference", "nengo", "nengo_dl", "brian2"]
    nengo = rows[1]
    assert nengo["installed"] and nengo["nef"] and "lif" in nengo["neurons"]
    assert nengo["options"]["synapse"] == "'zoh' or 'euler'"
    assert main(["backends"]) == 0
    assert "brian2: neurons rate, regular, poisson, lif" in capsys.readouterr().out


def test_list_shows_inputs_and_outputs_in_100_columns(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100
    at = next(i for i, line in enumerate(lines) if line.startswith("full_adder "))
    assert lines[at + 1].split() == ["inputs", "(plain", "run):", "a=0.1,", "b=-0.1,", "cin=0.1"]
    assert lines[at + 2].split() == ["outputs:", "sum,", "carry"]
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["npu_root"]["inputs"] == ["c1", "c0"] and rows["npu_root"]["outputs"] == ["x"]
    assert rows["nand"]["run_inputs"] == {"s1": 0.1, "s2": 0.1} and rows["pong"]["duration"] == 10.0


def test_run_of_a_saved_library_network_takes_the_entrys_defaults(tmp_path, capsys):
    net = tmp_path / "nand.npz"
    assert main(["run", "nand", "--save", str(net), "--duration", "0.2", "--json"]) == 0
    capsys.readouterr()
    assert main(["run", str(net), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inputs"] == {"s1": 0.1, "s2": 0.1} and report["duration"] == 1.0
    assert report["defaults_of"] == "nand" and report["final"]["o"] == pytest.approx(-0.1, abs=0.005)
    assert main(["run", str(net), "--input", "s1=-0.1", "--duration", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "with inputs s1=-0.1, s2=0.1" in out and "defaults of library entry 'nand' (a plain 'run nand'): s2=0.1\n" in out
    # an input the entry does not set is held at 0 (as 'list' shows it)
    assert main(["run", "npu_lstsq", "--duration", "0.01", "--json"]) == 0
    inputs = json.loads(capsys.readouterr().out)["inputs"]
    assert inputs["a11"] == 0.8 and inputs["a12"] == 0.0 and len(inputs) == 9
    # a network of another name takes nothing from the library
    import dataclasses

    dataclasses.replace(npl.load(net), name="mine").save(tmp_path / "mine.npz")
    assert main(["run", str(tmp_path / "mine.npz"), "--json"]) == 2
    assert "input 's1' is not given" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "mine.npz"), "--input", "s1=0.1", "--input", "s2=0.1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["defaults_of"] is None and report["duration"] == 1.0


def test_a_refused_overwrite_says_force_on_the_command_line(tmp_path, monkeypatch, capsys):
    from npl_nengo import cli
    from npl_nengo.errors import SaveError

    net = tmp_path / "net.npz"
    assert main(["run", "nand", "--save", str(net), "--duration", "0.1"]) == 0
    capsys.readouterr()
    with pytest.raises(SaveError, match="exists; pass overwrite=True to replace it"):  # the API's words
        npl.load(net).save(net)
    # the file appears after --save was checked (another process): the save itself refuses
    monkeypatch.setattr(cli, "_save_path", lambda path, force: None)
    assert main(["run", "nand", "--save", str(net), "--duration", "0.1"]) == 2
    err = capsys.readouterr().err
    assert err == f"npl-nengo: error: save: {str(net)!r} exists; pass --force to replace it\n"


@pytest.mark.parametrize("backend", ["reference", "nengo", "brian2"])
def test_run_progress_is_on_stderr_and_changes_no_result(backend, capsys):
    from npl_nengo import cli, networks

    argv = ["run", "nand", "--method", "sampled", "--backend", backend, "--neurons", "regular", "--duration", "0.3",
            "--seed", "2", "--json"]
    assert main(argv) == 0  # stderr is not a terminal here: no bar by default
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert main([*argv, "--progress"]) == 0
    loud = capsys.readouterr()
    assert f"run on {backend}:" in loud.err and "300/300" in loud.err  # a bar of the steps, to the end
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "wall_seconds"}  # noqa: E731
    assert strip(loud.out) == strip(quiet.out)
    # bit for bit, every sample
    rnn = npl.compile(networks.get("nand").build(), method="sampled", n_neurons=40, seed=0)
    options = dict(duration=0.3, backend=backend, neurons="regular", seed=5)
    plain = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, **options)
    with cli._run_progress(backend, True) as progress:
        drawn = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, **options, **progress)
    assert list(progress) == ["progress"]  # the backends' common option
    for name, values in plain.outputs.items():
        assert np.array_equal(values, drawn.outputs[name]), name
    assert np.array_equal(plain.t, drawn.t) and len(plain.t) == 300


def test_experiments_run_from_the_command_line(capsys):
    assert main(["experiment"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert listed[:3] == ["trained", "rotation", "guest_sweep"]
    assert main(["experiment", "trained", "--n-neurons", "50", "--train-steps", "2000", "--duration", "0.5",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # measured: training error 0.0084, held-out 0.073; exact-in-A program 0.0032 from W r; run vs RK4 1.1e-3
    assert report["train_error"] < 0.02 and report["prediction"]["lag_exact"] < 0.01
    assert report["run"]["backend"] == "reference" and report["run"]["vs_rk4"] < 3e-3
    assert report["run"]["passed"] == (report["run"]["error"] <= 0.05)
    assert main(["experiment", "trained", "--n-neurons", "50", "--train-steps", "2000", "--duration", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("trained reservoir: N=50, spectral radius 0.5, seed 0, 2000 training steps")
    assert "run on reference (rate), 0.5 s held out: FAIL, 0.07" in out  # measured 0.0742 (tol 0.05)
    assert main(["experiment", "rotation", "--n-neurons", "30", "--steps", "500", "--json"]) == 0
    rotation = json.loads(capsys.readouterr().out)
    assert rotation["n_neurons"] == 30 and 0 < rotation["error_static"] < 1
    assert main(["experiment", "guest_sweep", "--sizes", "1", "--orders", "1,3", "--seeds", "0", "--duration",
                 "0.5"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["n_guest", "order", "K", "N"] and len(table) == 3
    assert float(table[2].split()[4]) < float(table[1].split()[4])  # order 3 beats order 1


@pytest.mark.parametrize("argv, message", [
    (["--neurons", "50"], "--neurons '50' is a neuron count: use --n-neurons 50 (--neurons is the neuron mode: "
                          "rate, regular, poisson, lif)"),
    (["--neurons", "spiky"], "--neurons 'spiky' is not one of rate, regular, poisson, lif"),
    (["--route", "nef", "--neurons", "regular"], "--neurons regular: the nef route's ensembles are LIF units"),
    (["--n-neurons", "0"], "neurons per part must be a positive integer, got 0"),
])
def test_gui_neuron_options_are_validated_before_serving(argv, message, capsys, monkeypatch):
    """``gui --neurons`` is the neuron mode, as for ``run``; the old count form names --n-neurons."""
    from npl_nengo import gui

    for env in (gui.ROUTE_ENV, gui.NEURONS_ENV, gui.N_NEURONS_ENV):
        monkeypatch.delenv(env, raising=False)
    assert main(["gui", "nand", *argv, "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"npl-nengo: error: {message}") and err.count("\n") == 1, err
    assert gui.NEURONS_ENV not in os.environ and gui.N_NEURONS_ENV not in os.environ
