"""The npl-nengo command line."""

import json
import shutil
import subprocess
import sys

import pytest

import npl_nengo as npl
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


@pytest.mark.parametrize("command", [[], ["list"], ["backends"], ["run"], ["compare"], ["sweep"], ["gui"]])
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
    assert "not written by npl_nengo.compare" in capsys.readouterr().err
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
    assert [r["name"] for r in rows] == ["reference", "nengo", "nengo_dl", "brian2"]
    nengo = rows[1]
    assert nengo["installed"] and nengo["nef"] and "lif" in nengo["neurons"]
    assert nengo["options"]["synapse"] == "'zoh' or 'euler'"
    assert main(["backends"]) == 0
    assert "brian2: neurons rate, regular, poisson, lif" in capsys.readouterr().out
