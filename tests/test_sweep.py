"""npl.sweep and ``npl-nengo sweep``: trials in parallel on a 2-worker dask.distributed cluster."""

import dataclasses
import json
import math

import distributed  # the "sweep" extra, part of "all": a missing engine must fail here, not skip
import pytest

import npl_nengo as npl
from npl_nengo import cells, networks, sweeps as sweep_module
from npl_nengo.cli import main
from npl_nengo.errors import ValidationError
from npl_nengo.metrics import Score

GRID = dict(n_neurons=[40, 300], methods=["taylor", "sampled", "nef"], seeds=[0, 1], backends=["reference", "nengo"],
            neurons=["regular"])


@pytest.fixture(scope="module")
def cluster():
    """An existing cluster, reached by its address (what ``--scheduler`` does)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def grid(cluster):
    return npl.sweep("nand", scheduler=cluster.scheduler_address, **GRID)


def test_every_combination_is_one_trial(grid):
    rows = grid.rows
    # taylor and sampled: 2 N x 2 seeds x 2 backends; nef: 2 N x 2 seeds on nengo only
    assert len(rows) == 8 + 8 + 4
    assert {(r["method"], r["backend"]) for r in rows if r["method"] == "nef"} == {("nef", "nengo")}
    for r in rows:
        assert r["network"] == "nand" and r["result"] in ("PASS", "FAIL")
        # the min-norm weights may diverge under spikes (states far outside their ranges): said in the message
        assert r["message"] == "" or r["method"] == "taylor"
        assert r["message"] == "" or "diverged: output 'o'" in r["message"]
        assert r["compile_s"] > 0 and r["wall_s"] >= r["run_s"] > 0 or r["message"]  # run_s: NaN if it diverged
        if r["method"] == "nef":
            assert (r["neurons"], r["mode"], r["max_rate"]) == ("lif", "regular", None)
        else:
            assert (r["neurons"], r["max_rate"]) == ("regular", 1000.0)
    # the noise finding, as a curve: min-norm fails at every N, noise-aware passes with enough neurons
    assert not any(r["passed"] for r in rows if r["method"] == "taylor")
    assert all(r["passed"] and r["accuracy"] == 1.0 for r in rows if r["method"] == "sampled" and r["N"] == 300)
    assert any(r["accuracy"] < 1.0 for r in rows if r["method"] == "taylor")
    assert any(r["message"] for r in rows if r["method"] == "taylor")


def test_trials_on_workers_equal_the_same_trial_here(grid):
    (row,) = [r for r in grid.rows if (r["method"], r["N"], r["seed"], r["backend"]) == ("sampled", 300, 1, "nengo")]
    entry = networks.get("nand")
    # the entry's recommended compile (gamma 30, the Poisson-sized penalty) at the grid's N, as compare builds it
    rnn = npl.compile(entry.build(), method="sampled", seed=1, max_rate=1000.0, **{**entry.compile, "n_neurons": 300})
    score = entry.metric(rnn, backend="nengo", neurons="regular", seed=1, max_rate=1000.0, tol=0.002)
    assert row["tol"] == 0.002 and rnn.gamma == 30.0
    # equal to rounding: a worker runs one BLAS thread, this process may run more (summation order)
    assert row["error"] == pytest.approx(score.error, rel=1e-9, abs=1e-12)


def test_summary_table_and_files(grid, tmp_path):
    summary = grid.summary()
    assert len(summary) == 2 * 2 + 2 * 2 + 2  # (method, backend, N) groups over the two seeds
    assert [g["method"] for g in summary][:1] == ["taylor"] and all(g["trials"] == 2 for g in summary)
    text = grid.table()
    assert text.startswith("sweep of nand: 20 trials") and "2/2" in text
    paths = grid.save(tmp_path / "sweep")
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(paths["json"].read_text())
    assert doc["generator"] == "npl_nengo.sweep" and len(doc["rows"]) == 20
    assert doc["settings"]["scheduler"] == grid.settings["scheduler"]
    assert paths["csv"].read_text().count("\n") == 21
    assert "| sampled | nengo | regular | 1000 | 300 | 2/2 |" in paths["markdown"].read_text()
    grid.save(tmp_path / "sweep")  # its own files: replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "sweep.csv").write_text("keep me")
    with pytest.raises(ValidationError, match="already holds sweep.csv, not written by npl_nengo.sweep"):
        grid.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "sweep.csv").read_text() == "keep me"
    grid.save(tmp_path / "mine", overwrite=True)  # --force: added, the foreign file kept aside
    assert (tmp_path / "mine" / "sweep.csv.orig").read_text() == "keep me"


def test_default_local_cluster_and_rate_runs():
    """No scheduler given: a LocalCluster of 2 worker processes; the sampled fit depends on max_rate."""
    result = npl.sweep("nand", n_neurons=[100], max_rates=[1000, 5000], methods=["taylor", "sampled"],
                       neurons=["rate"], workers=2)
    assert result.settings["scheduler"] == "LocalCluster(2 workers)"
    keys = sorted((r["method"], r["max_rate"]) for r in result.rows)
    # a taylor rate run does not depend on the spike rate: run once; sampled networks differ per noise budget
    assert keys == [("sampled", 1000.0), ("sampled", 5000.0), ("taylor", 1000.0)]
    assert all(r["passed"] for r in result.rows)


def test_cli_sweep_on_a_scheduler(cluster, tmp_path, capsys):
    code = main(["sweep", "nor", "--n-neurons", "150", "--methods", "sampled", "--seeds", "0,2",
                 "--scheduler", cluster.scheduler_address, "--out", str(tmp_path), "--json", "--no-progress"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in doc["rows"]] == [0, 2] and all(r["network"] == "nor" for r in doc["rows"])
    assert set(doc["files"]) == {"markdown", "csv", "json", "png"}
    assert main(["sweep", "nor", "--n-neurons", "150", "--methods", "sampled",
                 "--scheduler", cluster.scheduler_address, "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("sweep of nor: 1 trials")


def test_unreachable_scheduler_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT", "1s")
    assert main(["sweep", "nand", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("npl-nengo: error: sweep: cannot reach the dask scheduler at 'tcp://127.0.0.1:9'")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kwargs,match", [
    ({"n_neurons": [0]}, "n_neurons must be a non-empty list of positive ints"),
    ({"n_neurons": [10.5]}, "positive ints"),
    ({"max_rates": [float("nan")]}, "max_rates must be"),
    ({"methods": ["x"]}, "method 'x' is not one of"),
    ({"backends": ["nope"]}, "backend 'nope' is not known"),
    ({"neurons": ["lif"]}, "does not support neurons='lif'"),
    ({"workers": 0}, "workers must be a positive integer"),
    ({"methods": ["nef"]}, "nothing to run"),
])
def test_bad_grids_fail_before_a_cluster_starts(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        npl.sweep("nand", **kwargs)


def test_network_must_be_a_library_name(nand_program):
    with pytest.raises(ValidationError, match="not in the library"):
        npl.sweep("nope")
    with pytest.raises(ValidationError, match="must be a library name"):
        npl.sweep(nand_program)


def test_lif_route_trials_spike_as_lif_where_lif_spikes_run(cluster):
    result = npl.sweep("nand", scheduler=cluster.scheduler_address, n_neurons=[300], methods=["lif"], seeds=[0],
                       backends=["reference", "nengo"], neurons=["rate", "regular", "poisson"])
    cells = sorted((r["backend"], r["neurons"], r["max_rate"]) for r in result.rows)
    assert cells == [("nengo", "lif", None), ("nengo", "rate", None), ("reference", "rate", None)]
    assert all(r["passed"] for r in result.rows), result.rows


# -- failing trials: kept as rows, the sweep still returns and saves ------------------------------------------
@pytest.fixture(scope="module")
def threads():
    """A cluster of worker threads in this process: what a test patches here, the workers run."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as c:
        yield c


TINY = dict(n_neurons=[40], methods=["taylor"], seeds=[0, 1], backends=["reference"], neurons=["rate"])


def _with_metric(monkeypatch, metric):
    """Every Target the sweep's tasks make judges with ``metric(entry's metric, rnn, **options)``."""
    original = cells.Target.of

    def of(cls, network, metric_=None, where="compare"):
        target = original(network, metric_, where)
        return dataclasses.replace(target, metric=lambda rnn, **options: metric(target.metric, rnn, **options))

    monkeypatch.setattr(cells.Target, "of", classmethod(of))


def test_a_trial_that_raises_is_an_error_row_and_the_others_are_kept(threads, monkeypatch, tmp_path):
    def metric(entry_metric, rnn, seed, **options):
        if seed == 1:
            raise ZeroDivisionError("a metric's bug (injected)")
        return entry_metric(rnn, seed=seed, **options)

    _with_metric(monkeypatch, metric)
    result = npl.sweep("nand", scheduler=threads.scheduler_address, **TINY)
    assert [(r["seed"], r["result"]) for r in result.rows] == [(0, "PASS"), (1, "ERROR")]
    assert result.rows[1]["message"] == "ZeroDivisionError: a metric's bug (injected)"
    (group,) = result.summary()
    assert (group["trials"], group["passed"], group["errors"]) == (2, 1, 1)
    assert "error (1 trial): ZeroDivisionError: a metric's bug (injected)" in result.table()
    paths = result.save(tmp_path / "sweep")
    assert set(paths) == {"markdown", "csv", "json", "png"}  # one trial has an error to plot
    assert "ZeroDivisionError" in paths["csv"].read_text() and "## Errors" in paths["markdown"].read_text()


@pytest.mark.parametrize("failure", ["raises", "diverges", "task lost", "compile"])
def test_a_sweep_whose_every_trial_fails_still_returns_and_saves(threads, monkeypatch, tmp_path, failure):
    if failure == "raises":
        _with_metric(monkeypatch, lambda entry_metric, rnn, **options: {}["missing"])
    elif failure == "diverges":  # every run far outside its range: an infinite error, no run
        _with_metric(monkeypatch, lambda entry_metric, rnn, **options: Score(
            "truth_table", False, math.inf, details={"diverged": "'nand' diverged: output 'o' = 1e9 (injected)"}))
    elif failure == "task lost":  # the task itself fails (e.g. its worker died): no row came back
        def lost(*args):
            raise RuntimeError("worker lost (injected)")

        monkeypatch.setattr(sweep_module, "_run_task", lost)
    else:
        def build(self, *args, **kwargs):
            raise MemoryError("no memory for the compile (injected)")

        monkeypatch.setattr(cells.Target, "build", build)
    result = npl.sweep("nand", scheduler=threads.scheduler_address, **TINY)
    messages = {"raises": "KeyError: 'missing'", "diverges": "'nand' diverged: output 'o' = 1e9 (injected)",
                "task lost": "RuntimeError: worker lost (injected)",
                "compile": "compile: MemoryError: no memory for the compile (injected)"}
    assert [r["seed"] for r in result.rows] == [0, 1]
    assert all(r["message"] == messages[failure] and not r["passed"] for r in result.rows), result.rows
    assert {r["result"] for r in result.rows} == {"FAIL" if failure == "diverges" else "ERROR"}
    assert result.table().startswith("sweep of nand: 2 trials") and "0/2" in result.table()
    paths = result.save(tmp_path / "sweep")
    assert set(paths) == {"markdown", "csv", "json"}  # no error to plot on a log axis: no figure
    doc = json.loads(paths["json"].read_text())
    assert [r["message"] for r in doc["rows"]] == [messages[failure]] * 2
    assert "sweep.png" not in paths["markdown"].read_text()
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["sweep.csv", "sweep.json", "sweep.md"]
