"""The nengo backend: how fast is it, and how few neurons does each route need?

Questions:

1. **Throughput**: simulated seconds per wall-clock second of a rate run on
   ``nengo.Simulator`` (``synapse="zoh"``) against the numpy reference backend
   (``integrator="euler"``, the same number of operations per step, and the
   default ``"rk4"``), at N = 1000, for the NAND gate (k = 1 fed-back signal)
   and the full adder compiled to 1000 neurons in all (200 per gate).  Each
   figure is the best of ``--repeats`` runs of 2 simulated seconds; the nengo
   figure includes building the simulator (``nengo.Simulator(...)``), which
   is also reported on its own.
2. **Fewest neurons**: for each gate, the smallest N on the grid
   ``10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000`` (per gate) for which the
   truth table is correct under spiking (every settled output within 0.03 of
   its ±0.1 level, the test suite's spiking tolerance), for

   * neuron level, ``method="taylor"`` (paper-faithful), regular spiking 1000 Hz,
   * neuron level, ``method="sampled"`` (tanh units), regular spiking 1000 Hz,
   * neuron level, ``method="sampled", activation="lif"``, nengo.LIF spiking,
   * the NEF route (``npl_nengo.nef``), nengo.LIF spiking,

   all on the nengo backend, compiler seed 0, run seed 1.  A route "passes at
   N" only if it also passes at every larger N of the grid (so a lucky small
   network does not count); "-" means no N on the grid passes.

Run::

    .venv/bin/python benchmarks/nengo_backend.py            # full (about 10 min)
    .venv/bin/python benchmarks/nengo_backend.py --quick    # smoke test (about 1 min)

Prints Markdown tables and writes ``benchmarks/results/nengo_backend.json``
(``nengo_backend.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

from _common import describe_machine, machine, table, write_json

SCRIPT = "nengo_backend"
GRID = (10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000)
QUICK_GRID = (30, 100, 300)
ROUTES = {
    "taylor (tanh, regular 1 kHz)": dict(method="taylor", neurons="regular"),
    "sampled (tanh, regular 1 kHz)": dict(method="sampled", neurons="regular"),
    "sampled (LIF units, nengo.LIF)": dict(method="sampled", activation="lif", neurons="lif"),
    "NEF route (nengo.LIF)": dict(method="nef", neurons="lif"),
}
TOL = 0.03


def throughput(repeats: int, duration: float) -> list[dict]:
    rows = []
    nets = {
        "nand": npl.compile(logic.gate("nand"), n_neurons=1000, method="sampled", seed=0),
        "full_adder": npl.compile(logic.full_adder(), n_neurons=200, method="sampled", seed=0),
    }
    for name, rnn in nets.items():
        inputs = {n: 0.1 for n in rnn.input_names}
        cases = [("reference", dict(integrator="euler")), ("reference", dict(integrator="rk4")), ("nengo", {})]
        for backend, options in cases:
            best, build = float("inf"), None
            for _ in range(repeats):
                start = time.perf_counter()
                res = npl.run(rnn, inputs, duration, backend=backend, **options)
                wall = time.perf_counter() - start
                if wall < best:
                    best = wall
                    build = res.info.get("build_seconds")
            label = f"{backend} ({options['integrator']})" if options else f"{backend} (rate, zoh)"
            rows.append({"network": name, "N": rnn.n_neurons, "k": rnn.n_signals, "backend": label,
                         "wall_seconds": best, "sim_seconds_per_wall_second": duration / best,
                         "build_seconds": build})
            print(f"  {name} N={rnn.n_neurons} {label}: {duration / best:.2f} sim-s/wall-s", flush=True)
    return rows


def _passes(kind: str, route: dict, n: int) -> tuple[bool, float]:
    program = logic.gate(kind)
    options = dict(route)
    method, neurons = options.pop("method"), options.pop("neurons")
    if method == "nef":
        net = npl.nef(program, n_neurons=n, seed=0)
    else:
        net = npl.compile(program, n_neurons=n, method=method, seed=0, **options)
    score = networks.get(kind).metric(net, backend="nengo", neurons=neurons, seed=1, hold=0.6, tol=TOL)
    return score.passed, score.error


def fewest(grid) -> list[dict]:
    rows = []
    for kind in sorted(logic.GATES):
        for label, route in ROUTES.items():
            results = {}
            for n in grid:
                ok, err = _passes(kind, route, n)
                results[n] = (ok, err)
            smallest = None
            for n in reversed(grid):  # smallest N with every larger N passing too
                if not results[n][0]:
                    break
                smallest = n
            rows.append({"gate": kind, "route": label, "fewest_neurons": smallest,
                         "errors": {str(n): round(e, 4) for n, (_, e) in results.items()}})
            print(f"  {kind:5s} {label}: {smallest if smallest is not None else '-'}", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small grid, one repeat")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    repeats = 1 if args.quick else args.repeats
    m = machine()
    print(describe_machine(m))
    print("throughput (rate runs, 2 s simulated):")
    tp = throughput(repeats, 0.5 if args.quick else 2.0)
    print("fewest neurons for a correct truth table under spiking:")
    fw = fewest(QUICK_GRID if args.quick else GRID)
    print()
    print(table(["network", "N", "backend", "sim-s / wall-s", "build s"],
                [[r["network"], r["N"], r["backend"], f"{r['sim_seconds_per_wall_second']:.2f}",
                  f"{r['build_seconds']:.2f}" if r["build_seconds"] is not None else ""] for r in tp]))
    print()
    gates = sorted(logic.GATES)
    print(table(["route", *gates],
                [[label, *(next(str(r["fewest_neurons"] or "-") for r in fw if r["gate"] == g and r["route"] == label)
                           for g in gates)] for label in ROUTES]))
    path = write_json(SCRIPT, args.quick, {"tolerance": TOL, "grid": list(QUICK_GRID if args.quick else GRID),
                                           "throughput": tp, "fewest_neurons": fw})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
