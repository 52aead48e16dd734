"""How much memory does a run take on each backend, against N and run length?

Question: what is the peak resident memory of a process that runs the NAND
gate (``method="taylor"``, seed 0, rate units, inputs held at s1 = +0.1,
s2 = -0.1, dt = 1 ms) on each backend, and how much of it does the run itself
add, (1) against N = 100, 1000, 10000 for a 10 s run (10^4 steps), and
(2) against run length: 10^5 steps at N = 1000, recording every step
(``sample_every=1``) or every 100th (``sample_every=100``)?

Backends and settings: ``reference`` (numpy, RK4), ``nengo`` (``synapse="zoh"``),
``nengo_dl`` (CPU, float32, a batch of one), ``brian2`` (``target="cython"``).

Method: every case runs in a fresh Python process (this script re-run with
``--case``), so that nothing one case allocated (or a library cached) is
counted in another.  The child imports npl_nengo and the backend module
(TensorFlow for nengo_dl, Brian2 for brian2), compiles the network, and reads
its resident high-water mark ``VmHWM`` (``/proc/self/status``): the
**baseline** (the imports' and the compiler's transient peaks included).
(``getrusage(RUSAGE_SELF).ru_maxrss`` is not used for the figures: on Linux
it carries over the parent's resident size across ``fork``/``exec``, so a
child of a large parent reports the parent's peak -- measured here: 338 MiB
for every child of a parent that had imported Brian2; it is kept in the JSON.)
Then it resets the resident high-water mark to
its current resident size (``/proc/self/clear_refs``, Linux), makes one
``npl.run`` call, and reads the high-water mark again.  ``run`` = that
high-water mark minus the resident size just before the run: what the run
itself added at its peak (building the simulator -- nengo's operator graph,
NengoDL's TensorFlow graph, Brian2's network -- included), even where it
stays below an earlier transient peak of the imports (which a difference of
two ``ru_maxrss`` readings would hide).  ``peak`` is the process's peak over
its life.  The C compiler Brian2 may start to build Cython code is a separate
process, but Cython itself runs in-process, so the parent first runs every
brian2 run length once, unmeasured, and the measured child loads cached
modules.
The resident size after the run (``VmRSS``) is reported in the JSON too.

Run::

    .venv/bin/python benchmarks/peak_memory.py            # full (about 5 min)
    .venv/bin/python benchmarks/peak_memory.py --quick    # smoke test (< 30 s)

Linux only (``/proc/self/status``, ``/proc/self/clear_refs``).  Prints
Markdown tables and writes ``benchmarks/results/peak_memory.json``
(``peak_memory.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import BACKENDS, LABELS, describe_machine, machine, table, write_json

SCRIPT = "peak_memory"
DT = 1e-3
INPUTS = {"s1": 0.1, "s2": -0.1}
SIZES = (100, 1000, 10000)
DURATION = 10.0  # 10^4 steps
LONG_N = 1000
LONG_DURATION = 100.0  # 10^5 steps
LONG_SAMPLE_EVERY = (1, 100)
QUICK_SIZES = (100,)
QUICK_DURATION = 1.0
CASE_TIMEOUT_S = 600


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _status_mib(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (resident high-water mark) of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_high_water() -> bool:
    """Reset this process's resident high-water mark to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child(case: dict) -> dict:
    """Run one case in this (fresh) process; returns its measurements."""
    start = time.perf_counter()
    import npl_nengo as npl
    from npl_nengo import networks
    from npl_nengo.registry import get_backend

    get_backend(case["backend"])  # imports Brian2 / TensorFlow now, so they count in the baseline
    rnn = npl.compile(networks.get("nand").build(), n_neurons=case["N"], method=case["method"], seed=0)
    setup_s = time.perf_counter() - start
    baseline, rss_before, maxrss_before = _status_mib("VmHWM"), _status_mib("VmRSS"), _peak_mib()
    reset = _reset_high_water()
    res = npl.run(rnn, INPUTS, duration=case["duration"], backend=case["backend"], neurons="rate", dt=DT, seed=0,
                  sample_every=case["sample_every"], **BACKENDS[case["backend"]])
    run_high = _status_mib("VmHWM")
    if not reset:
        raise RuntimeError("cannot reset the resident high-water mark (/proc/self/clear_refs); Linux only")
    return {"baseline_mib": baseline, "peak_mib": max(baseline, run_high),
            "rss_before_run_mib": rss_before, "run_high_water_mib": run_high, "run_mib": run_high - rss_before,
            "ru_maxrss_before_run_mib": maxrss_before, "ru_maxrss_after_run_mib": _peak_mib(),
            "rss_after_run_mib": _status_mib("VmRSS"),
            "steps": int(round(case["duration"] / DT)), "samples": len(res.t),
            "run_wall_s": float(res.info["wall_seconds"]), "setup_s": setup_s}


def measure(case: dict) -> dict:
    """Run ``case`` in a fresh interpreter (this script with ``--case``)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)], capture_output=True, text=True,
                         timeout=CASE_TIMEOUT_S)
    if out.returncode != 0:
        raise RuntimeError(f"case {case} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return {**case, **row, "process_s": time.perf_counter() - start}


def warm_brian2(cases: list[dict]) -> None:
    """Compile (and cache on disk) Brian2's Cython code for the cases, in this process, unmeasured.

    Brian2 caches Cython modules by their code, which depends on the run length
    (the input TimedArray's size) but not on N (checked: a new duration adds a
    module, a new N does not), so a 100-unit network warms every N.
    """
    import npl_nengo as npl
    from npl_nengo import networks

    rnn = npl.compile(networks.get("nand").build(), n_neurons=100, method="taylor", seed=0)
    lengths = {(c["duration"], c["sample_every"]) for c in cases if c["backend"] == "brian2"}
    for duration, sample_every in sorted(lengths):
        npl.run(rnn, INPUTS, duration=duration, backend="brian2", dt=DT, sample_every=sample_every,
                **BACKENDS["brian2"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 100, 1 s runs, no long runs (smoke test, < 30 s)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of the backends")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: one case, in a child process
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(child(json.loads(args.case))))
        return
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            parser.error(f"--backends: {b!r} is not one of {', '.join(BACKENDS)}")
    sizes = QUICK_SIZES if args.quick else SIZES
    duration = QUICK_DURATION if args.quick else DURATION

    cases = [{"kind": "vs_N", "backend": b, "N": n, "method": "taylor", "duration": duration, "sample_every": 1}
             for n in sizes for b in backends]
    if not args.quick:
        cases += [{"kind": "long", "backend": b, "N": LONG_N, "method": "taylor", "duration": LONG_DURATION,
                   "sample_every": se} for b in backends for se in LONG_SAMPLE_EVERY]

    m = machine()
    print(f"# peak memory: NAND (taylor), rate, dt = {DT * 1e3:g} ms, one fresh process per case")
    print(describe_machine(m))
    total = time.perf_counter()
    if "brian2" in backends:
        warm_brian2(cases)
    rows = []
    for c in cases:
        r = measure(c)
        rows.append(r)
        print(f"  {c['kind']} {c['backend']} N={c['N']} steps={r['steps']} sample_every={c['sample_every']}: "
              f"baseline {r['baseline_mib']:.0f} MiB, peak {r['peak_mib']:.0f} MiB, run +{r['run_mib']:.1f} MiB "
              f"({r['process_s']:.1f} s)", flush=True)

    steps = int(round(duration / DT))
    by = {(r["kind"], r["backend"], r["N"], r["sample_every"]): r for r in rows}
    print(f"\n## Peak resident memory (MiB) of a {duration:g} s run ({steps} steps), against N\n")
    print(table(
        ["backend", "N", "baseline MiB", "peak MiB", "run MiB"],
        [[LABELS[b], n, f"{by['vs_N', b, n, 1]['baseline_mib']:.0f}", f"{by['vs_N', b, n, 1]['peak_mib']:.0f}",
          f"+{by['vs_N', b, n, 1]['run_mib']:.1f}"] for b in backends for n in sizes],
    ))
    if not args.quick:
        long_steps = int(round(LONG_DURATION / DT))
        print(f"\n## Run length at N = {LONG_N}: what the run adds (MiB)\n")
        print(table(
            ["backend", "baseline MiB", f"run, {steps} steps", f"run, {long_steps} steps",
             f"run, {long_steps} steps, sample_every={LONG_SAMPLE_EVERY[1]}", f"peak MiB, {long_steps} steps"],
            [[LABELS[b], f"{by['long', b, LONG_N, 1]['baseline_mib']:.0f}",
              f"+{by['vs_N', b, LONG_N, 1]['run_mib']:.1f}",
              f"+{by['long', b, LONG_N, 1]['run_mib']:.1f}",
              f"+{by['long', b, LONG_N, LONG_SAMPLE_EVERY[1]]['run_mib']:.1f}",
              f"{by['long', b, LONG_N, 1]['peak_mib']:.0f}"] for b in backends],
        ))
    total_s = time.perf_counter() - total
    print(f"\n(baseline: RSS high-water mark after importing the backend and compiling; run: the run's RSS "
          f"high-water mark minus RSS just before it; peak: the process's peak; total {total_s:.0f} s)")
    path = write_json(SCRIPT, args.quick, {
        "settings": {"network": "nand", "method": "taylor", "neurons": "rate", "inputs": INPUTS, "dt": DT,
                     "sizes": list(sizes), "duration_s": duration, "long_N": LONG_N, "long_duration_s": LONG_DURATION,
                     "long_sample_every": list(LONG_SAMPLE_EVERY), "backends": {b: BACKENDS[b] for b in backends},
                     "units": "MiB (VmHWM, VmRSS of /proc/self/status)"},
        "total_seconds": total_s,
        "results": rows,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
