"""How fast is the reference backend, and what does keeping the recurrence factored buy?

Question: how many simulated seconds per wall-clock second does the numpy
reference backend (rate neurons, classical RK4, dt = 1 ms) reach, and how does
that compare with integrating the *same* network through the dense N x N
recurrent matrix ``A = B_rec @ W_rec``?

The reference backend applies the recurrence in factored form,
``B_rec @ (W_rec @ r)`` (O(N k) per evaluation, k = number of fed-back
signals).  The dense baseline is a minimal RK4 loop written here (:func:`rk4`),
``dr/dt = gamma (-r + tanh(A r + B_ext u + d))`` (O(N^2) per evaluation), with
the same inputs held constant, the same initial state, the same duration, the
same RK4 stages and the same order of floating-point operations as the backend.

Fairness checks (asserted before anything is reported):

1. The script's loop, given the *factored* recurrence, reproduces the reference
   backend's final outputs ``W @ r`` to ``TOLERANCE`` = 1e-9 (in practice bit
   for bit), so the loop integrates exactly what the backend integrates; its
   timing is reported too ("factored loop"), which separates the backend's
   bookkeeping (output recording, finiteness checks, input sampling) from the
   cost of the recurrence.
2. At the dense run's final state, ``A @ r`` and ``B_rec @ (W_rec @ r)`` agree
   to ``TOLERANCE`` = 1e-9: the dense matrix is the same operator.
3. The dense run's final outputs agree with the backend's to
   ``DENSE_TOLERANCE`` = 1e-5.  Agreement to 1e-9 here is not attainable in
   float64: the compiled decoders are large (``||W||`` ~ 1e5-1e6, entries of
   ``W_rec`` up to ~1e5), so the ~1e-12 rounding that the dense product adds
   to every neuron's current at every RK4 stage (in directions the factored
   product never perturbs) is amplified into ~1e-8-1e-5 differences in the
   decoded outputs over a run.  The measured differences are reported.

Cases: NAND at N = 100, 1000, 4000 (scaling) and the full adder (5 gates) at
200 and 1000 neurons per part (N = 1000 and 5000).  The simulated duration of
a case is chosen from calibration runs so that the reference backend
needs at least ``--min-wall`` seconds (default 1 s); the dense loop runs the
same duration (and so takes longer where it is slower).  Each timing is the
best of ``--repeats`` runs (default 3).  Only the integration loop is timed:
the reference backend's own ``info["wall_seconds"]``, and ``time.perf_counter``
around the script's loops.

Run::

    .venv/bin/python benchmarks/reference_throughput.py            # full (several minutes)
    .venv/bin/python benchmarks/reference_throughput.py --quick    # smoke test (< 20 s)

Prints a Markdown table and writes ``benchmarks/results/reference_throughput.json``
(``reference_throughput.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import npl_nengo as npl
from npl_nengo import networks

from _common import describe_machine, machine, table, write_json

SCRIPT = "reference_throughput"
DT = 1e-3
TOLERANCE = 1e-9  # loop vs backend outputs; dense vs factored recurrent current A r at one state
# Dense vs factored *outputs* after a whole run: the decoders are large (||W|| ~ 1e5-1e6), so the
# rounding the dense product adds at every RK4 stage (~1e-12 per neuron) reaches the outputs at
# ~1e-8-1e-5 over a run; 1e-5 is 1e-4 of the +-0.1 logic levels (see the module docstring).
DENSE_TOLERANCE = 1e-5
INPUTS = {
    "nand": {"s1": 0.1, "s2": -0.1},
    "full_adder": {"a": 0.1, "b": -0.1, "cin": 0.1},
}
# (network, neurons per part)
CASES = [("nand", 100), ("nand", 1000), ("nand", 4000), ("full_adder", 200), ("full_adder", 1000)]
QUICK_CASES = [("nand", 100), ("nand", 1000), ("full_adder", 200)]
CALIBRATION_S = 0.05  # simulated seconds of the first calibration run


def rk4(recurrent, d: np.ndarray, ext: np.ndarray, r0: np.ndarray, gamma: float, dt: float,
        n_steps: int) -> np.ndarray:
    """Classical RK4 of ``dr/dt = gamma (-r + tanh(recurrent(r) + d + ext))``; returns the final state.

    The stages and the order of the floating-point operations are those of the
    reference backend, so with the factored ``recurrent`` this loop reproduces
    its run bit for bit (checked in :func:`measure`).
    """
    r = np.array(r0, dtype=float)
    h = 0.5 * dt

    def drive(x):
        return np.tanh(recurrent(x) + d + ext)

    for _ in range(n_steps):
        k1 = gamma * (drive(r) - r)
        k2 = gamma * (drive(r + h * k1) - r - h * k1)
        k3 = gamma * (drive(r + h * k2) - r - h * k2)
        k4 = gamma * (drive(r + dt * k3) - r - dt * k3)
        r = r + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return r


def run_reference(rnn, inputs: dict[str, float], duration: float):
    return npl.run(rnn, inputs, duration=duration, backend="reference", neurons="rate", dt=DT)


def pick_duration(rnn, inputs: dict[str, float], min_wall: float) -> float:
    """A simulated duration (whole ms, two significant digits) for which the reference run takes >= min_wall.

    Calibration runs double in length until one takes a quarter of ``min_wall``
    (short runs time too noisily to extrapolate from); the duration then aims
    at 1.3 ``min_wall``.
    """
    run_reference(rnn, inputs, CALIBRATION_S)  # warm-up
    duration = CALIBRATION_S
    while (wall := run_reference(rnn, inputs, duration).info["wall_seconds"]) < 0.25 * min_wall:
        duration *= 2
    want = 1.3 * min_wall * duration / wall
    step = 10 ** (math.floor(math.log10(want)) - 1)  # round up to two significant digits
    return max(CALIBRATION_S, round(math.ceil(want / step) * step / DT) * DT)


def measure(network: str, per_part: int, repeats: int, min_wall: float) -> dict:
    rnn = npl.compile(networks.get(network).build(), n_neurons=per_part, method="taylor", seed=0)
    inputs = INPUTS[network]
    u = np.array([inputs[name] for name in rnn.input_names], dtype=float)
    duration = pick_duration(rnn, inputs, min_wall)
    n_steps = int(round(duration / DT))
    where = f"{network} ({per_part}/part, N={rnn.n_neurons}, {n_steps} steps)"

    def best_of(fn):
        walls, value = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            value = fn()
            walls.append(time.perf_counter() - start)
        return walls, value

    # 1. the reference backend (factored recurrence), timed by its own info["wall_seconds"]
    ref_walls, res = [], None
    for _ in range(repeats):
        res = run_reference(rnn, inputs, duration)
        ref_walls.append(res.info["wall_seconds"])
    assert res.info["steps"] == n_steps and not res.info["interrupted"], f"{where}: reference run incomplete"
    out_ref = np.array([res.outputs[name][-1] for name in rnn.output_names])

    # 2. this script's RK4 loop with the same factored recurrence: must reproduce the backend
    ext = u @ rnn.B_ext.T  # constant inputs: the backend computes this same product at every stage
    r0 = rnn.initial_state(None, u)  # what the reference backend starts from
    W_rec_T, B_rec_T = rnn.W_rec.T, rnn.B_rec.T
    loop_walls, r_loop = best_of(lambda: rk4(lambda x: (x @ W_rec_T) @ B_rec_T, rnn.d, ext, r0, rnn.gamma, DT, n_steps))
    loop_diff = float(np.max(np.abs(rnn.W @ r_loop - out_ref)))
    assert loop_diff <= TOLERANCE, (
        f"{where}: the script's RK4 loop (factored) does not reproduce the reference backend: "
        f"max |W r_loop - W r_reference| = {loop_diff:.3g} > {TOLERANCE:g}")

    # 3. the same loop with the dense N x N matrix
    A = rnn.dense_recurrent()
    dense_walls, r_dense = best_of(lambda: rk4(lambda x: A @ x, rnn.d, ext, r0, rnn.gamma, DT, n_steps))
    op_diff = float(np.max(np.abs(A @ r_dense - (r_dense @ W_rec_T) @ B_rec_T)))
    assert op_diff <= TOLERANCE, (
        f"{where}: dense and factored recurrent currents differ at the final state: "
        f"max |A r - B_rec (W_rec r)| = {op_diff:.3g} > {TOLERANCE:g}")
    out_dense = rnn.W @ r_dense
    diff = float(np.max(np.abs(out_dense - out_ref)))
    assert diff <= DENSE_TOLERANCE, (
        f"{where}: dense and factored RK4 runs end at different outputs: "
        f"max |W r_dense - W r_factored| = {diff:.3g} > {DENSE_TOLERANCE:g} "
        f"({dict(zip(rnn.output_names, out_dense.round(6)))} vs {dict(zip(rnn.output_names, out_ref.round(6)))})")

    ref_best, loop_best, dense_best = min(ref_walls), min(loop_walls), min(dense_walls)
    return {
        "network": network,
        "parts": len(rnn.block_sizes),
        "neurons_per_part": per_part,
        "N": rnn.n_neurons,
        "k": rnn.n_signals,
        "inputs": inputs,
        "duration_s": duration,
        "steps": n_steps,
        "reference_wall_s": ref_walls,
        "factored_loop_wall_s": loop_walls,
        "dense_wall_s": dense_walls,
        "reference_sim_per_wall": duration / ref_best,
        "factored_loop_sim_per_wall": duration / loop_best,
        "dense_sim_per_wall": duration / dense_best,
        "reference_us_per_step": 1e6 * ref_best / n_steps,
        "factored_loop_us_per_step": 1e6 * loop_best / n_steps,
        "dense_us_per_step": 1e6 * dense_best / n_steps,
        "speedup_reference_over_dense": dense_best / ref_best,
        "final_outputs": dict(zip(rnn.output_names, out_ref.tolist())),
        "readout_norm": rnn.weight_norm,
        "max_abs_diff_loop_vs_reference": loop_diff,
        "max_abs_diff_current_dense_vs_factored": op_diff,
        "max_abs_diff_output_dense_vs_factored": diff,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small cases, short runs (smoke test, < 20 s)")
    parser.add_argument("--repeats", type=int, default=None, help="timings per case; the best is kept (default 3, quick 2)")
    parser.add_argument("--min-wall", type=float, default=None,
                        help="wall seconds the reference run of a case should take at least (default 1, quick 0.2)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    min_wall = args.min_wall or (0.2 if args.quick else 1.0)
    cases = QUICK_CASES if args.quick else CASES

    m = machine()
    print(f"# reference backend throughput (RK4, rate neurons, dt = {DT:g} s; best of {repeats})")
    print(describe_machine(m))
    rows = []
    for network, per_part in cases:
        row = measure(network, per_part, repeats, min_wall)
        rows.append(row)
        print(f"  {network} {per_part}/part: N={row['N']}, {row['duration_s']:g} s simulated, "
              f"reference {row['reference_sim_per_wall']:.3g} / factored loop {row['factored_loop_sim_per_wall']:.3g} / "
              f"dense loop {row['dense_sim_per_wall']:.3g} sim s per wall s",
              flush=True)

    print()
    print(table(
        ["network", "neurons/part", "N", "k", "simulated s", "reference sim s/wall s", "factored loop sim s/wall s",
         "dense loop sim s/wall s", "reference µs/step", "dense µs/step", "reference speedup over dense",
         "max Δ output (dense)"],
        [[r["network"], f"{r['parts']} x {r['neurons_per_part']}", r["N"], r["k"], f"{r['duration_s']:g}",
          f"{r['reference_sim_per_wall']:.3g}", f"{r['factored_loop_sim_per_wall']:.3g}",
          f"{r['dense_sim_per_wall']:.3g}", f"{r['reference_us_per_step']:.0f}", f"{r['dense_us_per_step']:.0f}",
          f"{r['speedup_reference_over_dense']:.2g}x", f"{r['max_abs_diff_output_dense_vs_factored']:.1e}"]
         for r in rows],
    ))
    path = write_json(SCRIPT, args.quick, {
        "settings": {"dt": DT, "integrator": "rk4", "neurons": "rate", "method": "taylor", "seed": 0,
                     "repeats": repeats, "min_wall_s": min_wall, "tolerance": TOLERANCE,
                     "dense_tolerance": DENSE_TOLERANCE},
        "results": rows,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
