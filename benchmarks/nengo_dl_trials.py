"""How many trials per second: NengoDL batched, NengoDL one by one, nengo, the numpy reference?

Question: for many short trials of the same network (the rows of a truth
table, many runs of an attractor), what throughput does each way of running
them give?

* ``nengo_dl batched``: all trials as one ``nengo_dl.Simulator`` minibatch
  (``npl.run(rnn, [inputs, ...], backend="nengo_dl")``), float32;
* ``nengo_dl one by one``: one NengoDL simulator per trial;
* ``nengo``: ``nengo.Simulator`` per trial;
* ``reference``: the numpy backend per trial (``integrator="euler"``, the
  same step as the others' Euler synapse).

Networks (sampled compiler, seed 0, rate neurons, ``synapse="euler"``,
1 s per trial, dt = 1 ms): the NAND gate (300 units), trials with random
input levels; the scaled Lorenz system (docs/method.md §4.3, 600 units), no
inputs, trials with random initial states (``initial=[...]``).  Trials per second =
trials / wall time of the whole call, building included (that is what a user
waits for); the build time of one NengoDL simulator is reported too.  Device:
the CPU of the machine below (no GPU was lent to this task; see the README's
GPU recipe).

Run::

    .venv/bin/python benchmarks/nengo_dl_trials.py            # full (about 5 min)
    .venv/bin/python benchmarks/nengo_dl_trials.py --quick    # smoke test (about 1 min)

Prints a Markdown table and writes ``benchmarks/results/nengo_dl_trials.json``
(``nengo_dl_trials.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import npl_nengo as npl
from npl_nengo.networks import logic

from _common import describe_machine, machine, table, write_json

SCRIPT = "nengo_dl_trials"
BATCHES = (1, 8, 32, 128)
QUICK_BATCHES = (1, 8)
ONE_BY_ONE = 8  # trials timed one by one (the rate per trial does not depend on the count)


def lorenz() -> npl.Program:
    return npl.Program(
        "lorenz",
        derivatives={"x": "y - x", "y": "0.1*x - 0.1*y - 20*x*z", "z": "20*x*y - 4/15*z - 0.036"},
        ranges={"x": (-0.12, 0.12), "y": (-0.15, 0.15), "z": (-0.15, 0.15)},
    )


def trials_for(rnn, n: int, rng) -> tuple[list[dict], list]:
    """Inputs and initial states of n trials: random input levels; a network without inputs
    (an attractor) gets random starts of its fed-back signals instead."""
    inputs = [{name: float(rng.choice([-0.1, 0.1])) for name in rnn.input_names} for _ in range(n)]
    if rnn.input_names:
        return inputs, [None] * n
    return inputs, [{s: float(rng.uniform(-0.05, 0.05)) for s in rnn.signal_names} for _ in range(n)]


def measure(rnn, batches, duration: float) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    common = dict(duration=duration, synapse="euler")
    for b in batches:
        trials, starts = trials_for(rnn, b, rng)
        start = time.perf_counter()
        res = npl.run(rnn, trials, backend="nengo_dl", initial=starts, **common)
        wall = time.perf_counter() - start
        rows.append({"way": f"nengo_dl batched ({b})", "trials": b, "wall_seconds": wall,
                     "trials_per_second": b / wall, "build_seconds": res.info["build_seconds"]})
        print(f"  {rnn.name} nengo_dl batch {b}: {b / wall:.2f} trials/s", flush=True)
    trials, starts = trials_for(rnn, ONE_BY_ONE, rng)
    for label, backend, options in [("nengo_dl one by one", "nengo_dl", {"synapse": "euler"}),
                                    ("nengo", "nengo", {"synapse": "euler"}),
                                    ("reference", "reference", {"integrator": "euler"})]:
        start = time.perf_counter()
        for x, x0 in zip(trials, starts):
            npl.run(rnn, x, duration, backend=backend, initial=x0, **options)
        wall = time.perf_counter() - start
        rows.append({"way": label, "trials": ONE_BY_ONE, "wall_seconds": wall,
                     "trials_per_second": ONE_BY_ONE / wall, "build_seconds": None})
        print(f"  {rnn.name} {label}: {ONE_BY_ONE / wall:.2f} trials/s", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small batches, 0.2 s trials")
    args = p.parse_args()
    m = machine()
    print(describe_machine(m))
    duration = 0.2 if args.quick else 1.0
    batches = QUICK_BATCHES if args.quick else BATCHES
    nets = [npl.compile(logic.gate("nand"), method="sampled", seed=0),
            npl.compile(lorenz(), method="sampled", seed=0, n_neurons=600)]
    npl.run(nets[0], {"s1": 0.1, "s2": 0.1}, 0.01, backend="nengo_dl")  # import TensorFlow untimed
    results = {}
    for rnn in nets:
        results[rnn.name] = {"N": rnn.n_neurons, "rows": measure(rnn, batches, duration)}
    print()
    rows = [[name, r["N"], row["way"], f"{row['trials_per_second']:.2f}",
             f"{row['build_seconds']:.2f}" if row["build_seconds"] is not None else ""]
            for name, r in results.items() for row in r["rows"]]
    print(table(["network", "N", "way", "trials / s", "NengoDL build s"], rows))
    path = write_json(SCRIPT, args.quick, {"duration": duration, "dt": 1e-3, "device": "cpu", "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
