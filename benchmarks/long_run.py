"""Does a run of a million steps stay in bounded memory on every backend?

Question: how much resident memory does a 10^6-step run (1000 s at dt = 1 ms,
NAND, ``method="sampled"``, N = 100, rate units, probes decimated with
``sample_every=1000``) add on each backend, against the same run of 10^4
steps?  If the memory is bounded by the decimated record, both add the same.

Method: :func:`peak_memory.measure` -- every case in a fresh Python process,
the resident high-water mark reset just before ``npl.run`` and read after it
(see ``peak_memory.py``); Brian2's Cython code for each run length is built
and cached first, unmeasured.  Also reported: wall time per step of the run.

Run::

    .venv/bin/python benchmarks/long_run.py            # full (about 10 min on 2 cores)
    .venv/bin/python benchmarks/long_run.py --quick    # 10^3 vs 10^4 steps (smoke test, < 60 s)

Prints a Markdown table and writes ``benchmarks/results/long_run.json``
(``long_run.quick.json`` with ``--quick``).  ``tests/test_reliability.py``
runs the same measurement as a ``slow`` test.
"""

from __future__ import annotations

import argparse
import time

import peak_memory
from _common import describe_machine, machine, table, write_json

SCRIPT = "long_run"
BACKENDS = tuple(peak_memory.BACKENDS)
N = 100
SAMPLE_EVERY = 1000
STEPS = (10**4, 10**6)
QUICK_STEPS = (10**3, 10**4)


def case(backend: str, steps: int) -> dict:
    return {"kind": "long_run", "backend": backend, "N": N, "method": "sampled", "duration": steps * peak_memory.DT,
            "sample_every": SAMPLE_EVERY}


def run_case(backend: str, steps: int) -> dict:
    """One measured run in a fresh process (1 h at most)."""
    peak_memory.CASE_TIMEOUT_S = 3600
    return peak_memory.measure(case(backend, steps))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 steps (smoke test)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of the backends")
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            parser.error(f"--backends: {b!r} is not one of {', '.join(BACKENDS)}")
    steps = QUICK_STEPS if args.quick else STEPS
    m = machine()
    print(f"# long runs: NAND (sampled, N = {N}), rate, sample_every = {SAMPLE_EVERY}, one fresh process per case")
    print(describe_machine(m))
    if "brian2" in backends:
        peak_memory.warm_brian2([case("brian2", s) for s in steps])
    rows = []
    for b in backends:
        for s in steps:
            start = time.perf_counter()
            r = run_case(b, s)
            r["us_per_step"] = r["run_wall_s"] / s * 1e6
            rows.append(r)
            print(f"  {b} {s} steps: run +{r['run_mib']:.1f} MiB, {r['samples']} samples, "
                  f"{r['us_per_step']:.0f} us/step ({time.perf_counter() - start:.0f} s)", flush=True)
    by = {(r["backend"], r["steps"]): r for r in rows}
    short, long_ = steps
    print(f"\n## Memory a run adds (MiB), {short:.0e} vs {long_:.0e} steps, probes every {SAMPLE_EVERY} steps\n")
    print(table(["backend", f"{short:.0e} steps", f"{long_:.0e} steps", "growth MiB", "samples", "µs/step"],
                [[peak_memory.LABELS[b], f"{by[b, short]['run_mib']:.1f}", f"{by[b, long_]['run_mib']:.1f}",
                  f"{by[b, long_]['run_mib'] - by[b, short]['run_mib']:+.1f}", by[b, long_]["samples"],
                  f"{by[b, long_]['us_per_step']:.0f}"] for b in backends]))
    path = write_json(SCRIPT, args.quick, {"n_neurons": N, "sample_every": SAMPLE_EVERY, "steps": list(steps),
                                           "rows": rows})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
