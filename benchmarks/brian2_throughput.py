"""How fast is the Brian2 backend, how much memory does it take, and does its cost grow linearly in N?

Question: throughput (simulated seconds per wall-clock second) and peak memory
of the Brian2 backend for the NAND gate and the full adder, against the number
of neurons N from 1e2 to 1e5, on each code-generation target (``numpy``,
``cython``, ``cpp_standalone``), for rate units (``neurons="rate"``) and
regular spiking (``neurons="regular"``, ``max_rate`` = 1000 Hz); and does the
cost per time step grow about linearly in N (the backend keeps the recurrence
factored: O(N k) synapses, k = number of fed-back signals)?

Networks: ``npl.compile(networks.get("nand").build(), n_neurons=N)`` and the
full adder with N / 5 neurons per gate (5 gates, N in all), both with
``method="taylor"``, seed 0.  The sampled compiler cannot be used at N = 1e5
(its ridge solve over max(2048, 4N) samples does not fit in memory); the
operations of a rate run do not depend on the values of the weights, only on
the network's shape (N, k, the non-zero pattern of the weights), so the taylor
weights serve.  Spiking runs with taylor weights are not the gate (the
decoders are large, ~1e5, and amplify the spike noise): the units saturate and
every unit spikes at every step (measured: 1.0 spikes per unit per step,
against ~0.73 for the sampled compiler's NAND and full adder), so the
``regular`` figures are an upper bound, about 1.4 times the spikes of a working
network of the same shape.  Every input is held at 0.1.  dt = 1 ms; every step
is recorded (``sample_every=1``, the default: O(n_outputs) per step).

Method: the two-duration difference.  Each case runs two durations
d1 = d2 / 2 and d2; the fixed cost of a run (building the Brian2 objects and
synapses, code generation, compiling) is the same for both, so the *marginal*
cost ``m = (T(d2) - T(d1)) / (d2 - d1)`` (wall seconds per simulated second)
is the cost of the simulation itself: throughput = 1 / m, cost per step
= m dt (µs), fixed cost = T(d1) - m d1 (the intercept).  The durations are
chosen per case from a per-step cost model (``COST_MODEL``, fitted to earlier
runs of this script) so that T(d2) - T(d1) is about ``--marginal`` seconds
(default 2 s; d2 is 1, 1.5, 2, 3, 5 or 7.5 x 10^k s, kept between 0.2 s and
200 s simulated).

* ``numpy`` and ``cython``: T is the wall time of ``npl.run(...)``
  (``time.perf_counter`` around the call).  An untimed run of d1 first (the
  first run in a process pays one-off costs, ~0.3-0.5 s), then two rounds of
  (d1, d2); the best of each duration is kept.  Cython compiles (and caches on
  disk) the code of every distinct network shape *and run length* (the input
  ``TimedArray``'s length is a constant in the generated code, so every new
  duration costs a compile of ~4-10 s on this machine); the code does not
  depend on N, so a separate process first runs both durations on a network of
  N = 100 (``cython_prime`` in the JSON, untimed), and the measured process
  finds all its code compiled.
* ``cpp_standalone``: every ``npl.run`` regenerates and recompiles the project
  (~10-20 s, too noisy to difference).  So each duration is built once with
  ``npl.run(..., build_dir=...)`` (d2 rebuilt incrementally in the same
  directory) and the compiled binary ``./main`` is then re-run twice on its
  own; T is the binary's wall time (loading its arrays, the run, writing the
  record), best of two, differenced as above.  The fixed cost reported is the
  whole ``npl.run`` at d1 (generate + compile a fresh project + run) less
  m d1.  The binary's own timer of its run loop (``results/last_run_info.txt``,
  ``loop_us_per_step`` in the JSON) is reported as a check.

CPU time (user + system, of the Python process; of the binary for
cpp_standalone) is differenced the same way and reported beside the wall
figure (the load average at the start and end of each case is in the JSON).

Memory: each case runs in a fresh subprocess (``--case``), which also isolates
Brian2's global device state.  Reported: the RSS after the imports
(``baseline``: Python, numpy, Brian2, npl_nengo), the process's peak RSS over
the whole case (``peak``, ``ru_maxrss``: imports, compiling the network, every
run), and the peak RSS over the timed runs alone (``run peak``: the kernel's
high-water mark is reset, ``/proc/self/clear_refs``, after the warm-up run).
For cpp_standalone the simulation runs in the binary: its peak RSS
(``/usr/bin/time -f %M``) is reported as ``binary peak``, and ``run peak`` is
the Python process while it generates the projects (synapse indices and weights
go to files) and reads the record back.  At N = 100 the durations are long
(1e5-2e5 steps), so the input ``TimedArray`` (steps x n_inputs) and the record
(steps x n_outputs) dominate the binary's memory there, not the network.

Cost per step against N: the slope of log10(µs/step) against log10(N), a
least-squares line over N >= 1e3 for each (network, target, neurons); 1 means
linear.  The runtime targets pay a fixed per-step overhead (Python calls per
code object and step: ~250-350 µs for numpy, ~30-80 µs for cython) that
dominates below N ~ 1e4, so their log-log slope over 1e3..1e5 is below 1.  So
the table also gives the cost each added neuron adds between successive N,
``(c(N2) - c(N1)) / (N2 - N1)`` in ns per neuron per step: constant when the
cost is an overhead plus a part linear in N.

The timings come from one run on a 2-core machine shared with other work; where
the marginal time is small (N = 100-1000 on the runtime targets) repeated runs
differed by up to a factor of ~2 (the load average is in the JSON), at
N >= 1e4 by ~10-30 %.  ``--from-json PATH`` prints the tables of a results file
again (and recomputes its slopes) without measuring.

Cases (full): N = 1e2, 1e3, 1e4, 1e5 (3e4 was dropped to keep the run near
25 minutes on 2 cores; ``--sizes 100,1000,10000,30000,100000`` adds it) for
both networks, both neuron modes and the three targets: 48 cases, 28 minutes
measured (with other jobs loading the machine; the cpp_standalone cases, two
project compiles each, take about half).  ``--quick``: N = 1e2, 1e3, NAND only, numpy and
cpp_standalone, rate units, marginal 0.5 s (about 1-2 minutes).

Run::

    .venv/bin/python benchmarks/brian2_throughput.py            # full (about 25 min)
    .venv/bin/python benchmarks/brian2_throughput.py --quick    # smoke test (about 1-2 min)

Prints Markdown tables and writes ``benchmarks/results/brian2_throughput.json``
(``brian2_throughput.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SCRIPT = "brian2_throughput"
DT = 1e-3
MAX_RATE = 1000.0
INPUT_VALUE = 0.1
NETWORKS = ("nand", "full_adder")
PARTS = {"nand": 1, "full_adder": 5}
TARGETS = ("numpy", "cython", "cpp_standalone")
MODES = ("rate", "regular")
SIZES = (100, 1000, 10000, 100000)
STANDALONE_SIZES = SIZES
QUICK = dict(networks=("nand",), targets=("numpy", "cpp_standalone"), modes=("rate",), sizes=(100, 1000))
PRIME_N = 100  # cython's generated code does not depend on N: prime it on a network this large
MIN_DURATION, MAX_DURATION = 0.1, 200.0  # d1 >= MIN, d2 <= MAX
SLOPE_FROM = 1000  # fit the log-log slope over N >= this
RESULT_MARK = "@@RESULT@@ "
# Rough cost per step (µs) = a + b N, from trial runs on the machine the results were measured on;
# only used to pick durations (a wrong guess changes the marginal wall time, not the result).
COST_MODEL = {
    ("numpy", "rate"): (300.0, 0.065), ("numpy", "regular"): (350.0, 0.25),
    ("cython", "rate"): (30.0, 0.033), ("cython", "regular"): (80.0, 0.048),
    ("cpp_standalone", "rate"): (4.0, 0.03), ("cpp_standalone", "regular"): (5.0, 0.035),
}
DURATION_STEPS = (1, 1.5, 2, 3, 5, 7.5)  # d2 is one of these x 10^k simulated seconds


# ----------------------------------------------------------------------------------------------
# the child: one case in a fresh process

def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _mib(kib: float) -> float:
    return kib / 1024.0


def _build_network(network: str, n_total: int):
    import npl_nengo as npl
    from npl_nengo import networks

    per_part = n_total // PARTS[network]
    return npl.compile(networks.get(network).build(), n_neurons=per_part, method="taylor", seed=0), per_part


def _run_runtime(rnn, inputs, spec, durations, repeats, warm_up=True) -> dict:
    """numpy / cython: an untimed run of d1, then ``repeats`` rounds of (d1, d2); the peak is reset after the warm-up."""
    import npl_nengo as npl

    def run(d):
        res = npl.run(rnn, inputs, d, backend="brian2", neurons=spec["neurons"], target=spec["target"],
                      seed=0, max_rate=MAX_RATE)
        assert res.info["steps"] == int(round(d / DT)), f"{spec}: run of {d} s incomplete"
        return res

    walls = {d: [] for d in durations}
    cpus = {d: [] for d in durations}
    warm_wall = None
    if warm_up:  # first-run costs of the process (Brian2's caches, loading cython modules)
        t0 = time.perf_counter()
        run(durations[0])
        warm_wall = time.perf_counter() - t0
    gc.collect()
    peak_reset, rss_at_reset = _reset_peak(), _status_kib("VmRSS")
    for _ in range(repeats):
        for d in durations:
            c0, t0 = time.process_time(), time.perf_counter()
            res = run(d)
            walls[d].append(time.perf_counter() - t0)
            cpus[d].append(time.process_time() - c0)
    return {"walls": walls, "cpus": cpus, "run_peak_kib": _status_kib("VmHWM") if peak_reset else None,
            "rss_at_reset_kib": rss_at_reset, "warm_up_wall_s": warm_wall,
            "final_outputs": {name: float(v[-1]) for name, v in res.outputs.items()}}


def _run_binary(directory: str) -> tuple[float, float, float | None, float]:
    """Run a built standalone project's ``./main`` again: (wall s, CPU s, peak RSS KiB, loop time s)."""
    results = os.path.join(directory, "results", "")
    cmd = ["./main", "--results_dir", results]
    timer = os.path.exists("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        if timer:
            cmd = ["/usr/bin/time", "-f", "%M %U %S", "-o", out.name, *cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=directory, stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak = float(out.read().split()[0]) if timer else None
    loop = float(Path(results, "last_run_info.txt").read_text().split()[0])
    return wall, cpu, peak, loop


def _run_standalone(rnn, inputs, spec, durations, repeats) -> dict:
    """cpp_standalone: build each duration (same directory), then re-run the binary ``repeats`` times."""
    import npl_nengo as npl

    out = {"walls": {}, "cpus": {}, "loops": {}, "binary_peak_kib": {}, "build_run_walls": {}}
    gc.collect()
    peak_reset, out["rss_at_reset_kib"] = _reset_peak(), _status_kib("VmRSS")
    with tempfile.TemporaryDirectory(prefix="brian2_throughput_") as directory:
        for d in durations:
            t0 = time.perf_counter()
            res = npl.run(rnn, inputs, d, backend="brian2", neurons=spec["neurons"], target="cpp_standalone",
                          seed=0, max_rate=MAX_RATE, build_dir=directory)
            out["build_run_walls"][d] = time.perf_counter() - t0
            assert res.info["steps"] == int(round(d / DT)), f"{spec}: run of {d} s incomplete"
            runs = [_run_binary(directory) for _ in range(repeats)]
            out["walls"][d] = [r[0] for r in runs]
            out["cpus"][d] = [r[1] for r in runs]
            out["binary_peak_kib"][d] = max((r[2] for r in runs if r[2] is not None), default=None)
            out["loops"][d] = [r[3] for r in runs]
    out["run_peak_kib"] = _status_kib("VmHWM") if peak_reset else None
    out["final_outputs"] = {name: float(v[-1]) for name, v in res.outputs.items()}
    return out


def _marginal(times: dict, d1: float, d2: float) -> tuple[float, float]:
    """(wall per simulated second, intercept) from the best time at each duration."""
    t1, t2 = min(times[d1]), min(times[d2])
    m = (t2 - t1) / (d2 - d1)
    return m, t1 - m * d1


def run_case(spec: dict) -> dict:
    """One (network, N, target, neurons) case; runs in a fresh process."""
    import npl_nengo  # noqa: F401
    import npl_nengo.backends.brian2  # noqa: F401  (imports brian2)

    load_start = os.getloadavg()
    baseline = _status_kib("VmRSS")
    t0 = time.perf_counter()
    rnn, per_part = _build_network(spec["network"], spec["N"])
    compile_s = time.perf_counter() - t0
    after_compile = _status_kib("VmHWM")
    inputs = {name: INPUT_VALUE for name in rnn.input_names}
    d1, d2 = spec["durations"]
    if spec.get("prime"):  # cython: compile (and cache) the code of both run lengths, untimed
        return {"prime_walls_s": _run_runtime(rnn, inputs, spec, (d1, d2), 1, warm_up=False)["walls"]}
    W = np.vstack([rnn.W_rec, rnn.W])
    synapses = int(np.count_nonzero(W) + np.count_nonzero(rnn.B_rec) + np.count_nonzero(rnn.B_ext))
    del W
    if spec["target"] == "cpp_standalone":
        raw = _run_standalone(rnn, inputs, spec, (d1, d2), spec["repeats"])
    else:
        raw = _run_runtime(rnn, inputs, spec, (d1, d2), spec["repeats"])
    m_wall, fixed = _marginal(raw["walls"], d1, d2)
    m_cpu, _ = _marginal(raw["cpus"], d1, d2)
    row = {
        **{k: spec[k] for k in ("network", "N", "target", "neurons")},
        "neurons_per_part": per_part,
        "n_neurons": rnn.n_neurons,
        "k": rnn.n_signals,
        "synapses": synapses,
        "durations_s": [d1, d2],
        "steps": [int(round(d1 / DT)), int(round(d2 / DT))],
        "walls_s": {str(d): v for d, v in raw["walls"].items()},
        "cpu_s": {str(d): v for d, v in raw["cpus"].items()},
        "marginal_wall_per_sim_s": m_wall,
        "sim_s_per_wall_s": 1.0 / m_wall if m_wall > 0 else None,
        "us_per_step": 1e6 * m_wall * DT,
        "cpu_us_per_step": 1e6 * m_cpu * DT,
        "fixed_s": fixed,
        "compile_network_s": compile_s,
        "baseline_mib": _mib(baseline),
        "after_compile_peak_mib": _mib(after_compile),
        "peak_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "run_peak_mib": _mib(raw["run_peak_kib"]) if raw["run_peak_kib"] else None,
        "rss_before_run_peak_mib": _mib(raw["rss_at_reset_kib"]) if raw["rss_at_reset_kib"] else None,
        "final_outputs": raw["final_outputs"],
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
    }
    if spec["target"] == "cpp_standalone":
        m_loop, _ = _marginal(raw["loops"], d1, d2)
        peaks = [p for p in raw["binary_peak_kib"].values() if p is not None]
        row.update({
            "loop_s": {str(d): v for d, v in raw["loops"].items()},
            "loop_us_per_step": 1e6 * m_loop * DT,
            "build_run_walls_s": {str(d): v for d, v in raw["build_run_walls"].items()},
            # the whole npl.run at d1 (fresh project: generate, compile, run) less the simulation
            "fixed_s": raw["build_run_walls"][d1] - m_wall * d1,
            "binary_fixed_s": fixed,
            "binary_peak_mib": _mib(max(peaks)) if peaks else None,
        })
    else:
        row["warm_up_wall_s"] = raw["warm_up_wall_s"]
    return row


# ----------------------------------------------------------------------------------------------
# the parent: the grid, the tables

def nice(x: float) -> float:
    """The ``DURATION_STEPS`` x 10^k nearest to x (on a log scale)."""
    e = math.floor(math.log10(x))
    return float(min((f * 10 ** e for f in (*DURATION_STEPS, 10)), key=lambda c: abs(math.log(c / x))))


def durations(target: str, neurons: str, n: int, marginal: float) -> tuple[float, float]:
    """(d1, d2) with d1 = d2 / 2 so that T(d2) - T(d1) is about ``marginal`` s by the cost model."""
    a, b = COST_MODEL[target, neurons]
    per_sim_s = (a + b * n) * 1e-6 / DT  # wall s per simulated s
    d2 = min(MAX_DURATION, max(2 * MIN_DURATION, nice(2 * marginal / per_sim_s)))
    return d2 / 2, d2


def cases(args) -> list[dict]:
    out = []
    for network in args.networks:
        for target in args.targets:
            for neurons in args.modes:
                sizes = [n for n in args.sizes if target != "cpp_standalone" or n in args.standalone_sizes]
                for n in sizes:
                    out.append({"network": network, "N": n, "target": target, "neurons": neurons,
                                "durations": list(durations(target, neurons, n, args.marginal)),
                                "repeats": args.repeats})
    return out


def run_child(spec: dict) -> dict:
    prime = None
    if spec["target"] == "cython":  # a first process compiles the code, so the measured one finds it cached
        t0 = time.perf_counter()
        primed = _child({**spec, "N": min(spec["N"], PRIME_N), "prime": True})
        prime = {"prime_s": time.perf_counter() - t0, **primed}
    row = _child(spec)
    if prime is not None:
        row["cython_prime"] = prime
    return row


def _child(spec: dict) -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--case", json.dumps(spec)],
                          capture_output=True, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {**{k: spec[k] for k in ("network", "N", "target", "neurons")}, "durations_s": spec["durations"],
            "error": f"exit {proc.returncode}: " + " | ".join(tail)}


def slopes(rows: list[dict]) -> list[dict]:
    out = []
    keys = sorted({(r["network"], r["target"], r["neurons"]) for r in rows if "error" not in r},
                  key=lambda k: (NETWORKS.index(k[0]), TARGETS.index(k[1]), MODES.index(k[2])))
    for key in keys:
        pts = sorted((r["N"], r["us_per_step"], r["cpu_us_per_step"]) for r in rows
                     if "error" not in r and (r["network"], r["target"], r["neurons"]) == key)
        fit = [p for p in pts if p[0] >= SLOPE_FROM and p[1] > 0 and p[2] > 0]
        row = {"network": key[0], "target": key[1], "neurons": key[2], "N": [p[0] for p in pts],
               "us_per_step": [p[1] for p in pts], "fit_N": [p[0] for p in fit], "slope": None, "cpu_slope": None}
        if len(fit) >= 2:
            x = np.log10([p[0] for p in fit])
            row["slope"] = float(np.polyfit(x, np.log10([p[1] for p in fit]), 1)[0])
            row["cpu_slope"] = float(np.polyfit(x, np.log10([p[2] for p in fit]), 1)[0])
        if len(pts) >= 2 and pts[0][1] > 0 and pts[-1][1] > 0:
            row["ratio_last_first"] = pts[-1][1] / pts[0][1]
        # cost added per added neuron between successive N (ns per neuron per step): constant if the
        # cost is a fixed per-step overhead plus a part linear in N
        row["ns_per_added_neuron"] = [1e3 * (b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(pts, pts[1:])]
        out.append(row)
    return out


def report(rows: list[dict], fits: list[dict], table) -> None:
    """Print the tables of a run (``table`` is ``_common.table``)."""
    print("\n## Throughput and memory\n")
    print(table(
        ["network", "target", "neurons", "N", "synapses", "simulated s (d1, d2)", "sim s / wall s", "µs/step",
         "CPU µs/step", "fixed s", "baseline MiB", "peak MiB", "run peak MiB", "binary peak MiB"],
        [[r["network"], r["target"], r["neurons"], r["N"], r.get("synapses", "-"),
          ", ".join(f"{d:g}" for d in r["durations_s"]),
          *(["error", "-", "-", "-", "-", "-", "-", "-"] if "error" in r else
            [_f(r["sim_s_per_wall_s"], ".3g"), _f(r["us_per_step"], ".4g"), _f(r["cpu_us_per_step"], ".4g"),
             _f(r["fixed_s"], ".3g"), _f(r["baseline_mib"], ".0f"), _f(r["peak_mib"], ".0f"),
             _f(r["run_peak_mib"], ".0f"), _f(r.get("binary_peak_mib"), ".0f")])]
         for r in rows],
    ))
    print(f"\n## Cost per step against N: log-log slope over N >= {SLOPE_FROM:g} (1 = linear), "
          "and the cost each added neuron adds between successive N\n")
    print(table(
        ["network", "target", "neurons", "fit over N", "slope (wall)", "slope (CPU)", "µs/step at each N",
         "ns per added neuron per step"],
        [[f["network"], f["target"], f["neurons"], ", ".join(f"{n:g}" for n in f["fit_N"]),
          _f(f["slope"], ".2f"), _f(f["cpu_slope"], ".2f"),
          ", ".join(f"{u:.3g}" for u in f["us_per_step"]),
          ", ".join(f"{c:.3g}" for c in f["ns_per_added_neuron"])] for f in fits],
    ))
    errors = [r for r in rows if "error" in r]
    if errors:
        print("\nerrors:")
        for r in errors:
            print(f"  {r['network']} {r['target']} {r['neurons']} N={r['N']}: {r['error']}")


def _f(x, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _csv(kind):
    return lambda s: tuple(kind(v) for v in s.split(","))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="NAND, N = 100, 1000, numpy + cpp_standalone, rate")
    parser.add_argument("--marginal", type=float, default=None,
                        help="aim of T(d2) - T(d1) in wall seconds (default 2, quick 0.5)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per duration, the best is kept (default 2)")
    parser.add_argument("--networks", type=_csv(str), default=None)
    parser.add_argument("--targets", type=_csv(str), default=None)
    parser.add_argument("--modes", type=_csv(str), default=None)
    parser.add_argument("--sizes", type=_csv(int), default=None)
    parser.add_argument("--standalone-sizes", type=_csv(int), default=None)
    parser.add_argument("--no-write", action="store_true", help="do not write the JSON (partial grids)")
    parser.add_argument("--from-json", metavar="PATH",
                        help="measure nothing: print the tables of a results file, recomputing (and updating) its slopes")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(RESULT_MARK + json.dumps(run_case(json.loads(args.case))), flush=True)
        return

    from _common import describe_machine, machine, table, write_json

    if args.from_json:
        path = Path(args.from_json)
        doc = json.loads(path.read_text())
        print(describe_machine(doc["machine"]))
        doc["slopes"] = slopes(doc["results"])
        report(doc["results"], doc["slopes"], table)
        print(f"\ntotal {doc['total_seconds']:.0f} s (as measured, {doc['timestamp']})")
        path.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nupdated the slopes of {path}")
        return

    defaults = QUICK if args.quick else dict(networks=NETWORKS, targets=TARGETS, modes=MODES, sizes=SIZES)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.standalone_sizes is None:
        args.standalone_sizes = args.sizes if args.quick else STANDALONE_SIZES
    if args.marginal is None:
        args.marginal = 0.5 if args.quick else 2.0
    grid = cases(args)

    m = machine()
    print(f"# Brian2 backend throughput and memory (dt = {DT:g} s, inputs {INPUT_VALUE}, taylor weights, "
          f"two-duration difference, best of {args.repeats})")
    print(describe_machine(m))
    start = time.perf_counter()
    rows = []
    for i, spec in enumerate(grid, 1):
        t0 = time.perf_counter()
        row = run_child(spec)
        rows.append(row)
        tag = f"  [{i}/{len(grid)}] {spec['network']} {spec['target']} {spec['neurons']} N={spec['N']}"
        if "error" in row:
            print(f"{tag}: ERROR {row['error']}", flush=True)
        else:
            print(f"{tag}: {row['us_per_step']:.4g} µs/step, {row['sim_s_per_wall_s'] or float('nan'):.3g} sim s/wall s, "
                  f"fixed {row['fixed_s']:.3g} s, peak {row['peak_mib']:.0f} MiB ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    total = time.perf_counter() - start

    fits = slopes(rows)
    report(rows, fits, table)
    print(f"\ntotal {total:.0f} s")
    if args.no_write:
        return
    path = write_json(SCRIPT, args.quick, {
        "settings": {"dt": DT, "method": "taylor", "compile_seed": 0, "run_seed": 0, "inputs": INPUT_VALUE,
                     "max_rate_hz": MAX_RATE, "sample_every": 1, "repeats": args.repeats,
                     "marginal_target_s": args.marginal, "networks": list(args.networks),
                     "targets": list(args.targets), "modes": list(args.modes), "sizes": list(args.sizes),
                     "standalone_sizes": list(args.standalone_sizes), "slope_from_N": SLOPE_FROM,
                     "cost_model_us": {f"{t}/{n}": v for (t, n), v in COST_MODEL.items()}},
        "total_seconds": total,
        "results": rows,
        "slopes": fits,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
