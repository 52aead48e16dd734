"""Batched trials on the reference backend, and the backend against a minimal loop of the same math.

Questions:

1. How much faster does the reference backend run a batch of NAND trials
   (``npl.run(rnn, [inputs, ...])``: states of shape ``(trials, N)``, one
   vectorized simulation) than the same trials one after the other?  Target:
   >= 8x for batches of 32 and more.
2. How fast is the reference backend against a minimal hand-written loop of the
   same math (:func:`minimal_rk4`, :func:`minimal_euler`, :func:`minimal_regular`:
   the recurrence in factored form, inputs held, the output ``W @ r`` recorded
   every step) at N = 1000?  Target: >= 1.0x.

Fairness checks (asserted before anything is reported): every trial of a batch
equals its run alone to ``BATCH_TOLERANCE`` (rounding, ``||W|| eps``), and the
minimal loops reproduce the backend's recorded outputs bit for bit (so they
integrate exactly what it integrates).

Timing: the cases being compared run interleaved in one process, each timed
``--repeats`` times, best kept (other jobs share this machine: ratios of best
times are what is reported).  The backend is timed by ``info["wall_seconds"]``
(trial by trial: the sum over its trials), the loops by ``time.perf_counter``.

Networks: the paper's NAND (min-norm/taylor, N = 30), the library NAND (its
recommended compile: sampled, N = 300) and the min-norm NAND at N = 1000, the truth table's four rows repeated to fill
the batch; the minimal loops run the sampled NAND at N = 1000 (it also runs
under spikes).

Run::

    .venv/bin/python benchmarks/reference_batch.py            # full (a few minutes)
    .venv/bin/python benchmarks/reference_batch.py --quick    # smoke test (< 30 s)

Prints Markdown tables and writes ``benchmarks/results/reference_batch.json``
(``reference_batch.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import math
import os
import time

# One BLAS thread (as the sweep's workers run): on a shared 2-core machine a threaded batched product
# fights the other jobs and the ratio measures the contention, not the batching.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import npl_nengo as npl  # noqa: E402
from npl_nengo import networks  # noqa: E402

from _common import describe_machine, machine, table, write_json  # noqa: E402

SCRIPT = "reference_batch"
DT = 1e-3
BATCH_TOLERANCE = 1e-8  # batch trial vs the trial alone (||W|| eps of the taylor NAND at N = 1000 is ~1e-9)
ROWS = [{"s1": a, "s2": b} for a in (-0.1, 0.1) for b in (-0.1, 0.1)]
HELD = {"s1": 0.1, "s2": -0.1}


def library_nand():
    entry = networks.get("nand")
    options = {"method": "sampled", **dict(entry.compile)}  # the library's recommended compile
    return npl.compile(entry.build(), **options)


def sampled_nand(n: int):
    return npl.compile(networks.get("nand").build(), n_neurons=n, method="sampled", seed=0)


def taylor_nand(n: int):
    return npl.compile(networks.get("nand").build(), n_neurons=n, method="taylor", seed=0)


# -- minimal loops: the backend's math, nothing else -----------------------------------------------------
def minimal_rk4(rnn, u, r0, n_steps):
    WrT, BrT, d, W, g, dt = rnn.W_rec.T, rnn.B_rec.T, rnn.d, rnn.W, rnn.gamma, DT
    ext = u @ rnn.B_ext.T
    out = np.empty((n_steps, W.shape[0]))
    r, h = r0.copy(), 0.5 * dt
    for i in range(n_steps):
        k1 = g * (np.tanh((r @ WrT) @ BrT + d + ext) - r)
        k2 = g * (np.tanh(((r + h * k1) @ WrT) @ BrT + d + ext) - r - h * k1)
        k3 = g * (np.tanh(((r + h * k2) @ WrT) @ BrT + d + ext) - r - h * k2)
        k4 = g * (np.tanh(((r + dt * k3) @ WrT) @ BrT + d + ext) - r - dt * k3)
        r = r + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[i] = W @ r
    return out


def minimal_euler(rnn, u, r0, n_steps):
    WrT, BrT, d, W, g, dt = rnn.W_rec.T, rnn.B_rec.T, rnn.d, rnn.W, rnn.gamma, DT
    ext = u @ rnn.B_ext.T
    out = np.empty((n_steps, W.shape[0]))
    r = r0.copy()
    for i in range(n_steps):
        r = r + dt * g * (np.tanh((r @ WrT) @ BrT + d + ext) - r)
        out[i] = W @ r
    return out


def minimal_regular(rnn, u, r0, n_steps, max_rate=1000.0, seed=0):
    WrT, BrT, d, W, g, dt = rnn.W_rec.T, rnn.B_rec.T, rnn.d, rnn.W, rnn.gamma, DT
    ext = u @ rnn.B_ext.T
    out = np.empty((n_steps, W.shape[0]))
    phase = np.random.default_rng(seed).uniform(0.0, 1.0, size=rnn.n_neurons)
    decay = math.exp(-g * dt)
    r = r0.copy()
    for i in range(n_steps):
        phase += dt * (max_rate * np.tanh((r @ WrT) @ BrT + d + ext))
        n = np.floor(phase)
        phase -= n
        r = decay * r + (1.0 - decay) * n / (dt * max_rate)
        out[i] = W @ r
    return out


def best(walls):
    return min(walls)


# -- 1. batch vs trial by trial --------------------------------------------------------------------------
def measure_batch(label, rnn, trials, duration, neurons, repeats):
    batch_inputs = [ROWS[i % 4] for i in range(trials)]
    kw = {"neurons": neurons, "dt": DT}
    npl.run(rnn, ROWS[0], 0.01, **kw)  # warm-up
    batch_walls, loop_walls = [], []
    res = None
    for _ in range(repeats):  # interleaved
        res = npl.run(rnn, batch_inputs, duration, **kw)
        batch_walls.append(res.info["wall_seconds"])
        singles = [npl.run(rnn, x, duration, **kw) for x in batch_inputs]
        loop_walls.append(sum(s.info["wall_seconds"] for s in singles))
    diff = max(float(np.max(np.abs(res[o][i] - s[o]))) for i, s in enumerate(singles) for o in res.outputs)
    assert diff <= BATCH_TOLERANCE, f"{label}: batch trial differs from its run alone by {diff:.3g}"
    return {"network": label, "N": rnn.n_neurons, "neurons": neurons, "trials": trials, "duration_s": duration,
            "batch_wall_s": batch_walls, "trial_by_trial_wall_s": loop_walls,
            "speedup": best(loop_walls) / best(batch_walls), "max_abs_diff_batch_vs_single": diff,
            "batch_us_per_trial_step": 1e6 * best(batch_walls) / (trials * round(duration / DT))}


# -- 2. the backend vs a minimal loop ----------------------------------------------------------------------
def measure_minimal(rnn, duration, case, repeats):
    n_steps = int(round(duration / DT))
    u = np.array([HELD[n] for n in rnn.input_names])
    r0 = rnn.initial_state(None, u)
    neurons, options, loop = {
        "rk4": ("rate", {"integrator": "rk4"}, minimal_rk4),
        "euler": ("rate", {"integrator": "euler"}, minimal_euler),
        "regular": ("regular", {}, minimal_regular),
    }[case]
    npl.run(rnn, HELD, 0.01, neurons=neurons, dt=DT, **options)  # warm-up
    ref_walls, loop_walls = [], []
    for _ in range(repeats):  # interleaved
        res = npl.run(rnn, HELD, duration, neurons=neurons, dt=DT, **options)
        ref_walls.append(res.info["wall_seconds"])
        start = time.perf_counter()
        out = loop(rnn, u, r0, n_steps)
        loop_walls.append(time.perf_counter() - start)
    same = bool(np.array_equal(out[:, 0], res[rnn.output_names[0]]))
    assert same, f"minimal {case} loop does not reproduce the backend bit for bit"
    return {"case": case, "N": rnn.n_neurons, "steps": n_steps, "reference_wall_s": ref_walls,
            "minimal_loop_wall_s": loop_walls, "ratio_minimal_over_reference": best(loop_walls) / best(ref_walls),
            "reference_us_per_step": 1e6 * best(ref_walls) / n_steps,
            "minimal_us_per_step": 1e6 * best(loop_walls) / n_steps, "bit_for_bit": same}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small batches, short runs (smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="timings per case, best kept (default 3, quick 2)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    duration = 0.2 if args.quick else 1.0
    m = machine()
    print(f"# reference backend: batches and overhead (dt = {DT:g} s; best of {repeats}, interleaved)")
    print(describe_machine(m))

    lib, big, big_sampled = library_nand(), taylor_nand(1000), sampled_nand(1000)
    batch_cases = [("nand (paper, taylor)", taylor_nand(30), "rate"), ("nand (library, sampled)", lib, "rate"), ("nand (library, sampled)", lib, "regular"),
                   ("nand (taylor)", big, "rate")]
    sizes = (32,) if args.quick else (32, 128)
    batch_rows = []
    for label, rnn, neurons in batch_cases:
        for trials in sizes:
            d = duration if rnn.n_neurons < 1000 else duration / 4
            row = measure_batch(label, rnn, trials, d, neurons, repeats)
            batch_rows.append(row)
            print(f"  {label} N={row['N']} {neurons} x{trials}: {row['speedup']:.3g}x", flush=True)
    minimal_rows = []
    for case in ("rk4", "euler", "regular"):
        row = measure_minimal(big_sampled, duration, case, repeats)
        minimal_rows.append(row)
        print(f"  minimal loop {case} N={row['N']}: reference at {row['ratio_minimal_over_reference']:.3g}x", flush=True)

    print()
    print(table(["network", "N", "neurons", "trials", "simulated s", "batch µs/trial-step", "speedup over trial by trial",
                 "max Δ vs alone"],
                [[r["network"], r["N"], r["neurons"], r["trials"], f"{r['duration_s']:g}",
                  f"{r['batch_us_per_trial_step']:.3g}", f"{r['speedup']:.3g}x",
                  f"{r['max_abs_diff_batch_vs_single']:.1e}"] for r in batch_rows]))
    print()
    print(table(["case", "N", "steps", "reference µs/step", "minimal loop µs/step", "reference speed / minimal loop"],
                [[r["case"], r["N"], r["steps"], f"{r['reference_us_per_step']:.1f}",
                  f"{r['minimal_us_per_step']:.1f}", f"{r['ratio_minimal_over_reference']:.3g}x"]
                 for r in minimal_rows]))
    path = write_json(SCRIPT, args.quick, {
        "settings": {"dt": DT, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "repeats": repeats, "duration_s": duration, "batch_sizes": list(sizes),
                     "batch_tolerance": BATCH_TOLERANCE, "inputs": "truth-table rows repeated; minimal: " + str(HELD)},
        "batches": batch_rows, "minimal_loop": minimal_rows,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
