"""Brian2 at 10^5 regular-spiking units: the standalone loop, and what a second run costs.

Question: the full adder with 5 x 20 000 regular-spiking units (1 kHz, dt = 1 ms):
how many wall seconds per simulated second does cpp_standalone's binary take
(its own loop timer, ``results/last_run_info.txt``), against the numpy
reference backend on the same network; what does the first run cost (generate
and compile the project) and a second run of the same network with other
inputs and another duration (the built binary is run again with ``run_args``:
initial state, input table, run length); and on the cython target, what do a
first run (empty Cython cache), an identical second run and a run of another
length (a time-varying input: a table row per step) cost, and how many
extension modules does each add to the cache?

Network: ``npl.compile(networks.get("full_adder").build(), method="sampled",
n_neurons=20000, gamma=30.0, n_samples=4096, seed=0)`` (the default
n_samples, 4 N = 80 000, is refused by the compiler's memory check at this
size), or ``--network PATH`` (a saved ProgrammedRNN).  Inputs a = 0.1,
b = -0.1, cin = 0.1 held; the second run a = -0.1, b = 0.1, cin = 0.1.

Method: one process.  cpp_standalone: run 1 s (build + run), then a 1.5 s run
with the other inputs (reuse), then ``--repeats`` rounds of (standalone 1 s
reusing the binary, reference 1 s); best of the rounds for each (interleaved,
the machine is shared: the ratio is the figure to read).  ``--openmp N`` also
builds with ``devices.cpp_standalone.openmp_threads = N`` and runs it in the
same rounds.  Cython: the cache directory is a fresh temporary one
(``codegen.runtime.cython.cache_dir``), runs of 0.1 s, 0.1 s, 0.15 s with input
a = 0.1 cos(7 t) (time-varying).

Run::

    .venv/bin/python benchmarks/brian2_reuse.py            # full (about 10-20 min on 2 loaded cores)
    .venv/bin/python benchmarks/brian2_reuse.py --quick    # smoke test: 5 x 200 units, short runs

Prints a Markdown table and writes ``benchmarks/results/brian2_reuse.json``
(``brian2_reuse.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

SCRIPT = "brian2_reuse"
DT = 1e-3
FIRST = {"a": 0.1, "b": -0.1, "cin": 0.1}
SECOND = {"a": -0.1, "b": 0.1, "cin": 0.1}


def _loop_s(result) -> float:
    """The binary's own timer of its run loop (Brian2 writes it to results/last_run_info.txt)."""
    path = Path(result.info["standalone"]["directory"], "results", "last_run_info.txt")
    return float(path.read_text().split()[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 x 200 units, short runs")
    parser.add_argument("--network", help="a saved ProgrammedRNN (npz) instead of compiling the full adder")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds, best kept (default 3)")
    parser.add_argument("--openmp", type=int, default=0, help="also build with this many OpenMP threads")
    args = parser.parse_args(argv)

    import brian2 as b2

    import npl_nengo as npl
    from _common import describe_machine, machine, table, write_json
    from npl_nengo import networks
    from npl_nengo.backends import brian2 as backend

    per_part = 200 if args.quick else 20000
    duration, longer = (0.2, 0.3) if args.quick else (1.0, 1.5)
    print(f"# Brian2 cpp_standalone reuse and loop speed, full adder 5 x {per_part} regular-spiking units")
    print(describe_machine(machine()))
    t0 = time.perf_counter()
    if args.network:
        rnn = npl.load(args.network)
    else:
        rnn = npl.compile(networks.get("full_adder").build(), method="sampled", n_neurons=per_part, gamma=30.0,
                          n_samples=4096, seed=0)
    network_s = time.perf_counter() - t0
    kw = dict(backend="brian2", neurons="regular", max_rate=1000.0, seed=0)
    rows, out = [], {"n_neurons": rnn.n_neurons, "k": rnn.n_signals, "network_seconds": network_s}

    # ---- cpp_standalone: first run (build), second run (reuse: other inputs, longer)
    t0 = time.perf_counter()
    first = npl.run(rnn, FIRST, duration, target="cpp_standalone", **kw)
    first_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = npl.run(rnn, SECOND, longer, target="cpp_standalone", **kw)
    second_wall = time.perf_counter() - t0
    assert second.info["standalone"]["built"] is False
    out["standalone_first"] = {"wall_s": first_wall, **first.info["standalone"], "loop_s": _loop_s(first),
                               "duration_s": duration}
    out["standalone_second"] = {"wall_s": second_wall, **second.info["standalone"], "loop_s": _loop_s(second),
                                "duration_s": longer}
    rows.append(["cpp_standalone first run (generate + compile + run)", f"{duration:g}", f"{first_wall:.2f}",
                 f"{first.info['standalone']['build_seconds']:.2f}", f"{_loop_s(first) / duration:.3f}"])
    rows.append(["cpp_standalone second run, other inputs + duration (reuse)", f"{longer:g}",
                 f"{second_wall:.2f}", f"{second.info['standalone']['build_seconds']:.3f}",
                 f"{_loop_s(second) / longer:.3f}"])

    omp = None
    if args.openmp:
        prefs_before = b2.prefs.devices.cpp_standalone.openmp_threads
        b2.prefs.devices.cpp_standalone.openmp_threads = args.openmp
        try:
            t0 = time.perf_counter()
            omp_first = npl.run(rnn, FIRST, duration, target="cpp_standalone", **kw)
            omp = {"threads": args.openmp, "first_wall_s": time.perf_counter() - t0,
                   "max_abs_diff_vs_1_thread": max(float(np.max(np.abs(omp_first[o] - first[o])))
                                                   for o in first.outputs)}
        finally:
            b2.prefs.devices.cpp_standalone.openmp_threads = prefs_before

    # ---- interleaved rounds: the binary's loop (reuse) against the numpy reference
    loops, refs, omp_loops = [], [], []
    for _ in range(args.repeats):
        loops.append(_loop_s(npl.run(rnn, FIRST, duration, target="cpp_standalone", **kw)) / duration)
        t0 = time.perf_counter()
        npl.run(rnn, FIRST, duration, backend="reference", neurons="regular", max_rate=1000.0, seed=0)
        refs.append((time.perf_counter() - t0) / duration)
        if omp is not None:
            b2.prefs.devices.cpp_standalone.openmp_threads = args.openmp
            try:
                omp_loops.append(_loop_s(npl.run(rnn, FIRST, duration, target="cpp_standalone", **kw)) / duration)
            finally:
                b2.prefs.devices.cpp_standalone.openmp_threads = prefs_before
    out["rounds"] = {"standalone_loop_s_per_sim_s": loops, "reference_s_per_sim_s": refs,
                     "openmp_loop_s_per_sim_s": omp_loops}
    rows.append([f"cpp_standalone loop, best of {args.repeats} (reuse)", f"{duration:g}", "-", "-",
                 f"{min(loops):.3f}"])
    rows.append([f"reference (numpy) whole run, best of {args.repeats}", f"{duration:g}", "-", "-",
                 f"{min(refs):.3f}"])
    if omp is not None:
        omp["best_loop_s_per_sim_s"] = min(omp_loops)
        out["openmp"] = omp
        rows.append([f"cpp_standalone loop, {args.openmp} OpenMP threads, best of {args.repeats}", f"{duration:g}",
                     f"{omp['first_wall_s']:.2f}", "-", f"{min(omp_loops):.3f}"])
    out["standalone_stats"] = dict(backend.STATS)
    backend.clear_cache()

    # ---- cython: first run with an empty cache, identical second run, another length
    wave = {"a": lambda t: 0.1 * np.cos(7 * t), "b": -0.1, "cin": 0.1}
    short = (0.05, 0.08) if args.quick else (0.1, 0.15)
    cache_before = b2.prefs.codegen.runtime.cython.cache_dir
    cython = []
    with tempfile.TemporaryDirectory(prefix="npl_cython_cache_") as cache:
        b2.prefs.codegen.runtime.cython.cache_dir = cache
        try:
            for label, d in (("first run (empty cache)", short[0]), ("identical second run", short[0]),
                             ("another length", short[1])):
                t0 = time.perf_counter()
                npl.run(rnn, wave, d, target="cython", **kw)
                wall = time.perf_counter() - t0
                modules = len([f for f in os.listdir(cache) if f.endswith(".so")])
                cython.append({"run": label, "duration_s": d, "wall_s": wall, "modules_in_cache": modules})
                rows.append([f"cython {label}", f"{d:g}", f"{wall:.2f}", f"{modules} modules", "-"])
        finally:
            b2.prefs.codegen.runtime.cython.cache_dir = cache_before
    out["cython"] = cython

    print()
    print(table(["run", "simulated s", "wall s", "build s", "s per simulated s"], rows))
    print(f"\nloop ratio reference / cpp_standalone (best of {args.repeats}): {min(refs) / min(loops):.2f}")
    path = write_json(SCRIPT, args.quick, {
        "settings": {"network": args.network or "full_adder sampled n_samples=4096 seed=0 gamma=30",
                     "per_part": per_part, "dt": DT, "max_rate_hz": 1000.0, "first_inputs": FIRST,
                     "second_inputs": SECOND, "durations_s": [duration, longer], "repeats": args.repeats,
                     "openmp_threads": args.openmp, "cython_durations_s": list(short),
                     "timing": "interleaved rounds, best of repeats; machine shared with other jobs"},
        **out,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
