"""Hostile and interrupted runs: refused before anything is allocated, partial results on Ctrl-C,
seeds every backend takes.

The refusals are timed and their memory traced (``tracemalloc``, which numpy reports to): each must
take < 2 s and < 200 MB.  The interrupts are real SIGINTs, sent to this process (or the command
line's) from a timer thread once the simulation runs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks, simulation
from npl_nengo.cli import main
from npl_nengo.registry import backend_info

HELD = {"s1": 0.1, "s2": 0.1}
#: Limits on one refusal of a hostile input (after the imports).
REFUSAL_SECONDS, REFUSAL_MIB = 2.0, 200.0


@pytest.fixture(scope="module")
def nand():
    return npl.compile(networks.get("nand").build(), method="sampled", n_neurons=100, seed=0)


def _refused(call: Callable[[], Any], match: str) -> npl.ValidationError:
    """``call()`` raises a ValidationError matching ``match``, fast and without allocating."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(npl.ValidationError, match=match) as err:
            call()
        seconds = time.perf_counter() - start
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert seconds < REFUSAL_SECONDS and peak_mib < REFUSAL_MIB, (seconds, peak_mib)
    return err.value


# -- cost: refused before allocating ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"duration": 1e9}, r"run: duration=1e\+09 s at dt=0\.001 s is 1e\+12 steps; with sample_every=1 the recording "
                        r"on reference would take ~29\.1 TiB, and a run may take at most MAX_STEPS = 1e\+09 steps "
                        r"\(npl_nengo\.simulation\.MAX_STEPS\)"),
    ({"dt": 1e-300}, r"run: duration=1 s at dt=1e-300 s is 1e\+300 steps; .* MAX_STEPS"),
    ({"duration": 1e300, "dt": 1e-300}, r"is inf steps"),  # the ratio overflows
    ({"duration": 1e9, "sample_every": 10**9}, r"with sample_every=1000000000 .* MAX_STEPS"),  # tiny record, endless run
    ({"duration": 1e4, "dt": 1e-5}, r"run: duration=10000 s at dt=1e-05 s is 1e\+09 steps; with sample_every=1 the "
                                    r"recording on reference would take ~29\.8 GiB, more than the limit of 2 GiB "
                                    r"\(npl_nengo\.simulation\.MAX_RECORD_BYTES\): pass sample_every=15 or more "
                                    r"\(npl-nengo run: --sample-every 15\)"),
    ({"duration": 1e3, "dt": 1e-5, "neurons": "regular", "max_rate": 1e4, "record_spikes": True},
     r"with sample_every=1 and the spikes of 100 units the recording .* ~21\.6 GiB, more than the limit of 2 GiB .*: "
     r"record fewer spiking units"),
    # 10^5 trials, batched on the reference (1 copy)
    ({"duration": 10.0, "inputs": [HELD] * 10**5}, r"is 1e\+04 steps; .* ~29\.8 GiB, .*: pass sample_every=15 "),
])
def test_a_hostile_run_is_refused_before_it_allocates(nand, kwargs, match):
    kwargs = {"inputs": HELD, "duration": 1.0, **kwargs}
    _refused(lambda: npl.run(nand, **kwargs), match)


def test_a_refusal_is_as_fast_on_every_backend(nand, backend):
    backend_info(backend)  # the import (TensorFlow: seconds) is not the refusal's
    err = _refused(lambda: npl.run(nand, HELD, 1e4, dt=1e-5, backend=backend),
                   rf"is 1e\+09 steps; with sample_every=1 the recording on {backend} would take ~.*: pass sample_every=")
    fits = int(str(err).split("pass sample_every=")[1].split()[0])
    cost = simulation.estimate(nand, 1e4, dt=1e-5, backend=backend, inputs=HELD, sample_every=fits)
    assert cost["bytes"] <= simulation.MAX_RECORD_BYTES < simulation.estimate(nand, 1e4, dt=1e-5, backend=backend,
                                                                        inputs=HELD, sample_every=fits - 1)["bytes"]


def test_the_suggested_sample_every_runs(nand, monkeypatch):
    monkeypatch.setattr(simulation, "MAX_RECORD_BYTES", 20_000)
    err = _refused(lambda: npl.run(nand, HELD, 1.0), r"~31\.2 KiB, more than the limit of 19\.5 KiB")
    fits = int(str(err).split("pass sample_every=")[1].split()[0])
    assert fits == 2
    res = npl.run(nand, HELD, 1.0, sample_every=fits)
    assert len(res.t) == len(res["o"]) == 500 and not res.info["interrupted"]
    monkeypatch.setattr(simulation, "MAX_STEPS", 999)
    _refused(lambda: npl.run(nand, HELD, 1.0, sample_every=fits), r"is 1000 steps; .* MAX_STEPS = 999 steps")


def test_estimate(nand):
    cost = simulation.estimate(nand, 2.0, dt=1e-3, inputs=HELD, sample_every=10)
    assert (cost["steps"], cost["samples"], cost["trials"], cost["spike_units"]) == (2000, 200, 1, 0)
    assert cost["bytes"] == 200 * (24 + 8)  # one output at the reference backend's 24 bytes, and t
    spiking = simulation.estimate(nand, 2.0, neurons="regular", record_spikes=30, inputs=[HELD] * 3)
    assert spiking["trials"] == 3 and spiking["spike_units"] == 30
    # Brian2 tabulates time-varying inputs for the whole run; held ones take two rows
    pytest.importorskip("brian2")
    from npl_nengo.backends import brian2 as brian2_backend

    held = simulation.estimate(nand, 2.0, backend="brian2", inputs=HELD)["bytes"]
    assert simulation.estimate(nand, 2.0, backend="brian2", inputs={"s1": np.zeros(2000), "s2": lambda t: 0.1})["bytes"] \
        == held + 2000 * 2 * brian2_backend.RECORD_BYTES["input"]
    with pytest.raises(npl.ValidationError, match="run: sample_every must be a positive integer, got 0"):
        simulation.estimate(nand, 1.0, sample_every=0)


# -- seeds ---------------------------------------------------------------------------------------------
def test_seeds_are_bounded_to_what_every_backend_takes(nand, backend):
    with pytest.raises(npl.ValidationError, match=r"run: seed must be a non-negative integer below 2\*\*32 "
                                                  r"\(0\.\.4294967295, the seeds every backend takes\), got 4294967296"):
        npl.run(nand, HELD, 0.01, backend=backend, seed=2**32)
    res = npl.run(nand, HELD, 0.02, backend=backend, neurons="regular", seed=np.uint32(2**32 - 1), record_spikes=5)
    assert res.seed == 2**32 - 1 and len(res.t) == 20 and res.spikes.shape == (20, 5)


def test_compile_and_nef_bound_seeds_too(nand_program):
    for call in (lambda: npl.compile(nand_program, n_neurons=20, seed=2**32),
                 lambda: npl.nef(nand_program, n_neurons=20, seed=2**40),
                 lambda: npl.run(npl.compile(nand_program, n_neurons=20, seed=2**32 - 1), HELD, 0.01, seed=-1)):
        with pytest.raises(npl.ValidationError, match=r"seed must be a non-negative integer below 2\*\*32"):
            call()


# -- Ctrl-C: a real SIGINT -----------------------------------------------------------------------------
def _simulating(backend: str) -> Callable[[list], bool]:
    """Whether the main thread's frames (innermost first) show ``backend`` stepping its simulation."""
    def check(frames: list) -> bool:
        if backend == "brian2":
            b2 = sys.modules.get("brian2")  # never imported here: Brian2 sets a signal handler on import
            return b2 is not None and bool(b2.Network._globally_running)
        for f in frames:
            path, name = f.f_code.co_filename.replace(os.sep, "/"), f.f_code.co_name
            if backend == "reference" and path.endswith("backends/reference.py") and name == "run":
                return True
            if backend == "nengo" and path.endswith("nengo/simulator.py") and name == "run_steps":
                return True
            if backend == "nengo_dl" and path.endswith("backends/nengo_dl.py") and name == "run":
                return f.f_locals.get("done", 0) >= 1000  # a chunk done: TensorFlow has traced the step
        return False
    return check


def _sigint(when: Callable[[list], bool] | None, delay: float, timeout: float = 120.0) -> threading.Thread:
    """A thread that sends this process SIGINT ``delay`` s after ``when(frames of the main thread)``."""
    main_id = threading.main_thread().ident
    assert main_id is not None

    def fire() -> None:
        end = time.monotonic() + timeout
        while when is not None and time.monotonic() < end:
            frame, frames = sys._current_frames().get(main_id), []
            while frame is not None:
                frames.append(frame)
                frame = frame.f_back
            if when(frames):
                break
            time.sleep(0.01)
        time.sleep(delay)
        signal.pthread_kill(main_id, signal.SIGINT)

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


def _check_partial(res: npl.Result, sample_every: int, dt: float = 1e-3) -> None:
    assert res.info["interrupted"] is True
    n = len(res.t)
    assert all(np.shape(v)[-1] == n for v in res.outputs.values())
    np.testing.assert_allclose(res.t, (np.arange(n) + 1) * sample_every * dt)
    assert all(np.all(np.isfinite(v)) for v in res.outputs.values())


def test_ctrl_c_returns_the_partial_result_on_every_backend(nand, backend):
    backend_info(backend)
    thread = _sigint(_simulating(backend), 0.3)
    start = time.perf_counter()
    try:
        res = npl.run(nand, HELD, 1000.0, backend=backend, sample_every=10)  # minutes, uninterrupted
    except KeyboardInterrupt:
        pytest.fail(f"Ctrl-C escaped npl.run on {backend}")
    finally:
        thread.join()
    _check_partial(res, 10)
    assert 0 < len(res.t) < 100_000 and time.perf_counter() - start < 60
    assert res["o"][-1] == pytest.approx(-0.1, abs=0.02)  # NAND(1, 1), settled
    assert res.info["steps"] >= len(res.t) * 10
    again = npl.run(nand, HELD, 0.05, backend=backend)  # the simulator is usable afterwards
    assert not again.info["interrupted"] and len(again.t) == 50


#: Where each backend builds its simulator: (file, function) of a frame inside it.
BUILDING = {"nengo": ("nengo/simulator.py", "__init__"), "nengo_dl": ("nengo_dl/simulator.py", "__init__"),
            "brian2": ("brian2/core/network.py", "before_run")}


@pytest.mark.parametrize("backend", list(BUILDING))
def test_ctrl_c_while_the_simulator_is_built_returns_what_ran(nand, backend):
    """Ctrl-C while the simulator is built (nengo's operator graph, NengoDL's TensorFlow graph, Brian2's
    code generation): nothing was simulated, and the Result says so, marked interrupted."""
    backend_info(backend)
    import nengo

    bits = nengo.rc.get("precision", "bits")
    path, function = BUILDING[backend]
    thread = _sigint(lambda frames: any(f.f_code.co_filename.replace(os.sep, "/").endswith(path)
                                        and f.f_code.co_name == function for f in frames), 0.0)
    try:
        res = npl.run(nand, HELD, 1000.0, backend=backend, sample_every=10, neurons="regular", record_spikes=3)
    except KeyboardInterrupt:
        pytest.fail(f"Ctrl-C escaped npl.run on {backend}")
    finally:
        thread.join()
    _check_partial(res, 10)
    assert len(res.t) < 100 and res.spikes is not None and res.spikes.shape[1] == 3
    assert len(res.spikes) >= len(res.t) * 10
    assert nengo.rc.get("precision", "bits") == bits  # NengoDL's build-time float32 not left behind


def test_ctrl_c_in_a_batch_run_trial_by_trial_keeps_the_completed_trials(nand, monkeypatch):
    import dataclasses
    from npl_nengo import simulation

    info = simulation.backend_info
    monkeypatch.setattr(simulation, "backend_info",  # the reference batches: run it as a backend that does not
                        lambda name: dataclasses.replace(info(name), batches=False))
    calls = []

    def slow(t: float) -> float:  # trial 1's input: 0.5 ms a value, computed ahead in chunks
        calls.append(t)
        time.sleep(0.0005)
        return 0.1

    thread = _sigint(lambda frames: len(calls) > 1, 0.2)  # trial 1 started (call 0: its initial state)
    try:
        res = npl.run(nand, [HELD, {"s1": slow, "s2": 0.1}, HELD], 1.0, sample_every=10)
    finally:
        thread.join()
    assert res.info["interrupted"] is True and res.trials == 1 and res.info["trials_requested"] == 3
    assert res["o"].shape == (1, 100) and len(res.t) == 100
    np.testing.assert_allclose(res["o"][0, -1], -0.1, atol=0.02)
    # interrupted in the first trial: that trial alone, partial
    calls.clear()
    thread = _sigint(lambda frames: len(calls) > 1, 0.2)
    try:
        res = npl.run(nand, [{"s1": slow, "s2": 0.1}, HELD], 1.0, sample_every=10)
    finally:
        thread.join()
    assert res.info["interrupted"] is True and res.trials == 1 and res["o"].shape == (1, len(res.t))


def test_nengo_cut_between_its_step_counter_and_its_probes_keeps_t_and_outputs_equal(nand, monkeypatch):
    """Ctrl-C inside nengo's ``_probe``, after it counted the step and before it recorded it: ``t``
    was one sample longer than the outputs."""
    import nengo

    record = nengo.Simulator._probe

    def cut(self):
        if self.n_steps == 49:  # step 50
            self._probe_step_time()
            raise KeyboardInterrupt
        record(self)

    monkeypatch.setattr(nengo.Simulator, "_probe", cut)
    res = npl.run(nand, HELD, 1.0, backend="nengo", neurons="regular", record_spikes=4)
    _check_partial(res, 1)
    assert len(res.t) == 49 and res.spikes.shape == (49, 4)


def test_brian2_own_handler_stopping_a_run_is_an_interrupt(nand):
    """A run outside the main thread keeps Brian2's SIGINT handler, which stops the network at the end
    of a step and lets ``run`` return normally: still an interrupted, partial result."""
    b2 = pytest.importorskip("brian2")
    backend_info("brian2")
    results: list = []
    worker = threading.Thread(target=lambda: results.append(npl.run(nand, HELD, 1000.0, backend="brian2",
                                                                    sample_every=10)))
    worker.start()
    thread = _sigint(lambda frames: bool(b2.Network._globally_running), 0.3)
    thread.join()
    worker.join(60)
    assert not worker.is_alive() and len(results) == 1
    _check_partial(results[0], 10)
    assert 0 < len(results[0].t) < 100_000


# -- the command line ------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, match", [
    (["--duration", "1e9"], r"run: duration=1e\+09 s at dt=0\.001 s is 1e\+12 steps; .* MAX_STEPS"),
    (["--dt", "1e-300"], r"run: duration=\d+ s at dt=1e-300 s is \de\+300 steps"),
    (["--duration", "1e4", "--dt", "1e-5"], r"pass sample_every=15 or more \(npl-nengo run: --sample-every 15\)"),
    (["--sample-every", "0"], "run: sample_every must be a positive integer, got 0"),
    (["--seed", str(2**32)], r"compile: seed must be a non-negative integer below 2\*\*32"),
    (["--plot", "out.xyz"], r"--plot 'out\.xyz': 'xyz' is not an image type matplotlib writes \(use one of .*\.png"),
    (["--plot", "/"], r"--plot '/': a directory, not a file name"),
    (["--save", "/"], r"--save '/': a directory, not a file name"),
    (["--save", "/no/such/dir/net.npz"], r"--save '/no/such/dir/net\.npz': directory '/no/such/dir' does not exist"),
    (["--plot", "/no/such/dir/out.png"], r"--plot .*: directory '/no/such/dir' does not exist"),
])
def test_hostile_command_lines_are_one_line_errors(argv, match, capsys):
    start = time.perf_counter()
    assert main(["run", "nand", *argv]) == 2
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and err.startswith("npl-nengo: error: "), err
    assert re.search(match, err), err
    assert seconds < REFUSAL_SECONDS + 1.0  # + compiling the network (0.3 s)


def test_save_refuses_to_overwrite_before_the_run(tmp_path, capsys):
    (tmp_path / "net.npz").write_bytes(b"mine")
    assert main(["run", "nand", "--save", str(tmp_path / "net")]) == 2
    assert "net.npz' exists; pass --force to replace it" in capsys.readouterr().err
    assert (tmp_path / "net.npz").read_bytes() == b"mine"


def test_sample_every_and_a_plot_without_extension(tmp_path, capsys):
    assert main(["run", "nand", "--duration", "0.2", "--sample-every", "10", "--plot", str(tmp_path / "out"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 20 and report["interrupted"] is False and report["t_end"] == pytest.approx(0.2)
    assert report["plot"] == str(tmp_path / "out.png") and (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


_INSTRUMENTED = """
import sys
import npl_nengo.simulation as simulation
run = simulation.run
def announced(*args, **kwargs):
    print("RUNNING", file=sys.stderr, flush=True)
    return run(*args, **kwargs)
simulation.run = announced
from npl_nengo.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_on_the_command_line_keeps_the_partial_result(tmp_path, capsys):
    """``npl-nengo run`` interrupted mid-run (a SIGINT to this process): prints, saves and plots the
    partial result, says it was interrupted at t=..., exits 130."""
    backend_info("reference")
    thread = _sigint(_simulating("reference"), 0.3)
    try:
        code = main(["run", "nand", "--duration", "1000", "--sample-every", "10", "--save", str(tmp_path / "net.npz"),
                     "--plot", str(tmp_path / "out.png")])
    finally:
        thread.join()
    out, err = capsys.readouterr()
    assert code == 130, out + err
    line = next(x for x in out.splitlines() if x.startswith("interrupted at t="))
    assert line.endswith("s of 1000 s on reference (rate) with inputs s1=0.1, s2=0.1") and "ran 1000 s" not in out
    assert "  o = " in out and f"saved {tmp_path / 'net.npz'}" in out
    assert err.startswith("npl-nengo: interrupted at t=") and err.count("\n") == 1 and "Traceback" not in err
    assert npl.load(tmp_path / "net.npz").name == "nand"
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


def test_ctrl_c_to_the_command_line_process(tmp_path):
    """The same with a SIGINT sent to an ``npl-nengo run --json`` process.

    The child is the command line with ``npl_nengo.run`` wrapped to announce the run on stderr,
    so that the signal lands in the simulation, not in the imports."""
    argv = ["run", "nand", "--duration", "1000", "--sample-every", "10", "--save", str(tmp_path / "net.npz"), "--json"]
    proc = subprocess.Popen([sys.executable, "-c", _INSTRUMENTED, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line == "RUNNING\n", line + proc.stderr.read()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and err.startswith("npl-nengo: interrupted at t=") and err.count("\n") == 1, err
    report = json.loads(out)
    assert report["interrupted"] is True and 0 < report["t_end"] < 1000
    assert report["samples"] == round(report["t_end"] / 0.01) and report["final"]["o"] is not None
    assert npl.load(tmp_path / "net.npz").name == "nand"
