"""How many simulated seconds per wall second does each backend reach, against N?

Question: for one compiled network (the NAND gate, inputs held at s1 = +0.1,
s2 = -0.1, dt = 1 ms), how fast does each of the four backends simulate it,
with rate units and with regular spiking units (``neurons="regular"``,
``max_rate=1000`` Hz), at N = 100, 1000 and 10000?

Backends and settings:

* ``reference``: numpy, rate units with classical RK4 (its default, four
  evaluations of the recurrence per step), spikes with one evaluation per step;
* ``nengo``: ``nengo.Simulator``, ``synapse="zoh"`` (its default);
* ``nengo_dl``: ``nengo_dl.Simulator`` on the CPU (``device="/cpu:0"``),
  float32, a batch of one trial;
* ``brian2``: ``target="cython"``, ``method="exponential_euler"`` (default).

Network: ``npl.compile(networks.get("nand").build(), n_neurons=N,
method="sampled", seed=0)``.  At N = 10000 the sampled compiler's default
sample count (``max(2048, 4 N)`` rounded up to a power of two: 65536) makes
its least-squares fit take 180 s and about 6 GB resident here (measured once,
under load), so N = 10000 is compiled with ``n_samples=4096`` (the default at
N = 1000; measured: 9 s, and the gate still passes its truth table under
regular spikes at 1000 Hz with error 0.0013).  The taylor compiler is not
used: its weights (``||W||`` ~ 1e6) send spiking runs out of range within a
step, so a spiking taylor run would time a saturated network (and the
library's divergence check stops such runs).

What is timed.  Only the simulation, never compiling the network:

* ``reference``: ``result.info["wall_seconds"]`` (the integration loop only);
* ``nengo`` and ``nengo_dl``: ``info["wall_seconds"] - info["build_seconds"]``,
  i.e. ``sim.run_steps`` plus reading the probes; building the simulator
  (nengo's operator graph; NengoDL's Keras/TensorFlow graph) is excluded.
  NengoDL still traces its ``tf.function`` on the first ``run_steps`` of every
  new simulator, inside the timed part, and the backend calls ``run_steps``
  in chunks of ``CHUNK_STEPS`` (1000) steps, making each chunk's inputs;
* ``brian2``: ``info["wall_seconds"]`` covers building the ``brian2.Network``
  and loading its code objects, running, and reading the monitor.  Brian2's
  Cython code is cached on disk by content, and the input ``TimedArray``'s
  length is part of that content: every new run length compiles new code
  (measured: seconds per new duration).  So on brian2 every duration is run
  once untimed before it is timed (compilation excluded; loading the cached
  modules and building the network remain in "fixed s/run").

To remove what is left of per-run fixed costs, each case is run at two
durations T and 2T (best of ``--repeats`` runs each, default 2), and the
figures reported are marginal: ``us/step = (wall(2T) - wall(T)) / (T / dt)``
and ``sim s / wall s = dt / (us/step)``.  The per-run fixed cost
``wall(T) - T x marginal`` is reported too.  T (a power of two times 0.1 s,
2T at most 25.6 s) is chosen from calibration runs of 0.1, 0.4, 1.6, ... s so
that the marginal cost of T simulated seconds is at least ``--min-wall``
seconds (default 0.5 s) and at least twice the per-run fixed cost; if the
timed runs themselves then show that T was too short (the calibration is
noisy when the fixed cost jitters under load), they are redone at the longer
T they call for (at most ``MAX_ROUNDS`` = 3 rounds; the last is reported).
Before anything is timed, each case gets one untimed warm-up run (Brian2's
Cython compilation, importing TensorFlow, building NengoDL's graph functions
for the first time).  On a shared machine a load burst during the T or the
2T runs skews the marginal figure; a case whose implied fixed cost is above
half of wall(2T) or below minus a fifth of it is marked ``?`` in the table,
with the figure of the 2T run alone (fixed cost included) printed below it.
``--from-json PATH`` prints the table of an earlier run's JSON again.

Run::

    .venv/bin/python benchmarks/throughput.py            # full (about 8 min on 2 shared cores)
    .venv/bin/python benchmarks/throughput.py --quick    # smoke test (< 30 s)

Prints a Markdown table and writes ``benchmarks/results/throughput.json``
(``throughput.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import npl_nengo as npl
from npl_nengo import networks

from _common import BACKENDS, LABELS, describe_machine, machine, table, write_json

SCRIPT = "throughput"
DT = 1e-3
MAX_RATE = 1000.0
INPUTS = {"s1": 0.1, "s2": -0.1}
MODES = ("rate", "regular")
SIZES = (100, 1000, 10000)
QUICK_SIZES = (100,)
QUICK_MODES = ("rate",)
QUICK_T = 0.2  # quick: fixed T, no calibration
LARGE_N = 1000  # larger N are compiled with LARGE_N_SAMPLES samples (see the module docstring)
LARGE_N_SAMPLES = 4096
CALIBRATION_S = 0.1  # simulated seconds of the first calibration run
MAX_T = 25.6  # simulated seconds, upper bound on 2T (and on the calibration runs)
MAX_ROUNDS = 3  # timed rounds: a round whose own figures ask for a longer T is redone at that T


_SEEN: set = set()  # (rnn, neurons, duration) already run on brian2


def compile_nand(n: int) -> npl.ProgrammedRNN:
    """The NAND gate, sampled compiler, seed 0 (fewer samples than the default above ``LARGE_N``)."""
    samples = LARGE_N_SAMPLES if n > LARGE_N else None
    return npl.compile(networks.get("nand").build(), n_neurons=n, method="sampled", seed=0, n_samples=samples)


def n_samples(rnn) -> int | None:
    return next(iter(rnn.info["parts"].values())).get("n_samples")


def run_wall(rnn, backend: str, neurons: str, duration: float) -> float:
    """Seconds of one run that count as simulating (see the module docstring).

    Brian2 (Cython) compiles new code for every new run length (the input
    TimedArray's size is part of the generated code), so on brian2 a duration
    not run before in this process is run once untimed first, and all
    durations are taken from a short geometric grid (:func:`grid`) so that the
    compiled code is mostly found in Brian2's disk cache.
    """
    if backend == "brian2" and (id(rnn), neurons, duration) not in _SEEN:
        _SEEN.add((id(rnn), neurons, duration))
        run_wall(rnn, backend, neurons, duration)
    options = dict(BACKENDS[backend])
    if neurons != "rate":
        options["max_rate"] = MAX_RATE
    res = npl.run(rnn, INPUTS, duration=duration, backend=backend, neurons=neurons, dt=DT, seed=0, **options)
    return float(res.info["wall_seconds"]) - float(res.info.get("build_seconds") or 0.0)


def marginal(w1: float, t1: float, w2: float, t2: float) -> float:
    """Wall seconds per simulated second from two runs; falls back to w2/t2 if noise makes it <= 0."""
    slope = (w2 - w1) / (t2 - t1)
    return slope if slope > 0 else w2 / t2


def grid(k: int) -> float:
    """Durations are ``CALIBRATION_S * 2**k`` (see :func:`run_wall` on why few distinct ones)."""
    return round(CALIBRATION_S * 2**k, 6)


def calibrate(rnn, backend: str, neurons: str, min_wall: float, max_t: float) -> tuple[float, float, list]:
    """Wall seconds per simulated second, and the per-run fixed cost, from runs of d, 4d, 16d, ...

    Stops once the 4x longer run takes at least 2.5 times as long and at least
    ``min_wall / 2`` longer (so the per-step cost, not the per-run fixed cost
    or its jitter, sets the estimate), or the duration reaches ``max_t``.
    """
    k = 0
    history = [(grid(k), run_wall(rnn, backend, neurons, grid(k)))]
    while True:
        k += 2
        history.append((grid(k), run_wall(rnn, backend, neurons, grid(k))))
        (d0, w0), (d1, w1) = history[-2], history[-1]
        if (w1 >= 2.5 * w0 and w1 - w0 >= 0.5 * min_wall) or grid(k + 2) > max_t:
            per_s = marginal(w0, d0, w1, d1)
            return per_s, max(0.0, w0 - d0 * per_s), history


def measure(rnn, backend: str, neurons: str, min_wall: float, repeats: int, max_t: float,
            fixed_t: float | None = None) -> dict:
    """Marginal cost of one case (see the module docstring)."""

    def pick(per_s: float, fixed: float) -> float:
        # the marginal cost of T: at least min_wall and twice the per-run fixed cost (its jitter)
        k = 0
        while grid(k + 2) <= max_t and grid(k) * per_s < max(min_wall, 2 * fixed):  # next T: 2T = grid(k + 2)
            k += 1
        return grid(k)

    start = time.perf_counter()
    run_wall(rnn, backend, neurons, grid(0))  # warm-up (untimed)
    if fixed_t is None:
        per_s, fixed, history = calibrate(rnn, backend, neurons, min_wall, max_t)
        T = pick(per_s, fixed)
    else:
        history, T = [], fixed_t
    rounds = []
    while True:
        walls: dict[float, list[float]] = {T: [], 2 * T: []}
        for _ in range(repeats):
            for d in (T, 2 * T):
                walls[d].append(run_wall(rnn, backend, neurons, d))
        best1, best2 = min(walls[T]), min(walls[2 * T])
        wall_per_sim_s = marginal(best1, T, best2, 2 * T)
        fixed = best1 - T * wall_per_sim_s
        rounds.append({"T_s": T, "walls_s": {str(k): v for k, v in walls.items()}})
        # the calibration can be off (jitter of the fixed cost under load): measure again at the
        # T that this measurement calls for, if that is longer
        T_next = pick(wall_per_sim_s, abs(fixed))
        if fixed_t is not None or T_next <= T or len(rounds) == MAX_ROUNDS:
            break
        T = T_next
    us_step = wall_per_sim_s * DT * 1e6
    return {
        "T_s": T,
        "steps_T": int(round(T / DT)),
        "walls_s": {str(k): v for k, v in walls.items()},
        "rounds": rounds,
        "calibration": [{"duration_s": d, "wall_s": w} for d, w in history],
        "us_per_step": us_step,
        "sim_s_per_wall_s": 1.0 / wall_per_sim_s,
        "direct_sim_s_per_wall_s": 2 * T / best2,  # run-only wall of the 2T run, fixed costs included
        "fixed_s": fixed,
        "case_seconds": time.perf_counter() - start,
        "loadavg": list(os.getloadavg()),
    }


def suspect(r: dict) -> bool:
    """Whether the T and 2T runs of a case disagree so much (load bursts) that the marginal figure is
    unreliable: an implied per-run fixed cost above half of wall(2T), or below minus a fifth of it."""
    wall_2t = min(r["walls_s"][str(2 * r["T_s"])])
    return not -0.2 * wall_2t <= r["fixed_s"] <= 0.5 * wall_2t


def report(rows: list[dict], sizes, backends, modes) -> None:
    """Print the table of a run's rows (also used by ``--from-json``)."""
    by = {(r["N"], r["backend"], r["neurons"]): r for r in rows}
    print("\n## Simulated seconds per wall second (marginal), and us per 1 ms step\n")
    headers = ["N", "samples", "backend"] + [f"{mode} sim s/wall s" for mode in modes] + \
        [f"{mode} us/step" for mode in modes] + [f"{mode} fixed s/run" for mode in modes]
    body, flagged = [], []
    for n in sizes:
        for backend in backends:
            rs = [by[n, backend, mode] for mode in modes]
            flag = ["?" if suspect(r) else "" for r in rs]
            flagged += [r for r in rs if suspect(r)]
            body.append([n, rs[0]["n_samples"], LABELS[backend]]
                        + [f"{r['sim_s_per_wall_s']:.3g}{f}" for r, f in zip(rs, flag)]
                        + [f"{r['us_per_step']:.3g}{f}" for r, f in zip(rs, flag)]
                        + [f"{r['fixed_s']:.2g}" for r in rs])
    print(table(headers, body))
    print("\n('fixed s/run' = wall(T) - T x marginal: the per-run costs inside the timed part; its scatter "
          "around 0 for reference and nengo shows the timing noise.)")
    for r in flagged:
        direct = r["direct_sim_s_per_wall_s"]
        print(f"(? {r['backend']} {r['neurons']} N={r['N']}: the T and 2T runs disagree (implied fixed cost "
              f"{r['fixed_s']:.2g} s); the 2T run alone, its fixed cost included, gives "
              f"{direct:.3g} sim s/wall s = {DT * 1e6 / direct:.3g} us/step)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="N = 100, rate only, T = 0.2 s without calibration, one repeat (smoke test, < 30 s)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per duration; the best is kept (default 2, quick 1)")
    parser.add_argument("--min-wall", type=float, default=None,
                        help="marginal wall seconds of the shorter timed run (default 0.5, quick 0.1)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of the backends")
    parser.add_argument("--from-json", metavar="PATH", help="print the table of an earlier run's JSON and exit")
    args = parser.parse_args(argv)
    if args.from_json:
        doc = json.loads(Path(args.from_json).read_text())
        st = doc["settings"]
        print(f"# throughput (from {args.from_json}, run {doc['timestamp']}, best of {st['repeats']})")
        print(describe_machine(doc["machine"]))
        report(doc["results"], st["sizes"], list(st["backends"]), st["modes"])
        return
    repeats = args.repeats or (1 if args.quick else 2)
    min_wall = args.min_wall or (0.1 if args.quick else 0.5)
    sizes = QUICK_SIZES if args.quick else SIZES
    modes = QUICK_MODES if args.quick else MODES
    max_t = QUICK_T * 2 if args.quick else MAX_T
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            parser.error(f"--backends: {b!r} is not one of {', '.join(BACKENDS)}")

    m = machine()
    print(f"# throughput: NAND (sampled, seed 0), dt = {DT * 1e3:g} ms, marginal cost of T vs 2T (best of {repeats}), "
          f"regular spikes at {MAX_RATE:g} Hz")
    print(describe_machine(m))
    total = time.perf_counter()
    rows: list[dict] = []
    for n in sizes:
        t0 = time.perf_counter()
        rnn = compile_nand(n)
        compile_s = time.perf_counter() - t0
        for backend in backends:
            for neurons in modes:
                r = measure(rnn, backend, neurons, min_wall, repeats, max_t, QUICK_T if args.quick else None)
                r.update({"backend": backend, "options": BACKENDS[backend], "neurons": neurons, "N": rnn.n_neurons,
                          "method": rnn.method, "compile_s": compile_s, "n_samples": n_samples(rnn),
                          "max_rate": MAX_RATE if neurons != "rate" else None})
                rows.append(r)
                print(f"  N={n} {rnn.method} {backend} {neurons}: {r['us_per_step']:.4g} us/step, "
                      f"{r['sim_s_per_wall_s']:.3g} sim s/wall s, fixed {r['fixed_s']:.2g} s, T={r['T_s']:g} s "
                      f"({r['case_seconds']:.1f} s)", flush=True)

    report(rows, sizes, backends, modes)
    total_s = time.perf_counter() - total
    print(f"(total {total_s:.0f} s)")
    if args.quick:
        print(f"(quick: T = {QUICK_T:g} s, so the per-run fixed costs dominate; a smoke test, not a measurement)")
    path = write_json(SCRIPT, args.quick, {
        "settings": {"network": "nand", "inputs": INPUTS, "dt": DT, "max_rate_hz": MAX_RATE, "compile_seed": 0,
                     "run_seed": 0, "sizes": list(sizes), "large_N": LARGE_N,
                     "large_N_samples": LARGE_N_SAMPLES, "modes": list(modes),
                     "backends": {b: BACKENDS[b] for b in backends}, "repeats": repeats, "min_wall_s": min_wall,
                     "calibration_first_s": CALIBRATION_S, "quick_T_s": QUICK_T if args.quick else None,
                     "max_T_s": max_t},
        "total_seconds": total_s,
        "results": rows,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
