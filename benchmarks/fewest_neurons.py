"""How few neurons does each route need for a gate's logic levels under spikes?

Question: for each of the six gates, the smallest N on the grid
``10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000`` (neurons per gate) for
which every settled output of the truth table (each pattern held 0.6 s, the
output averaged over the last 10 % of the hold) lies within a threshold of its
±0.1 level: **10 %** (0.01) and **2 %** (0.002).  Routes, all on the nengo
backend (the only one that runs the NEF route), compiler seed 0, run seed 1:

* ``taylor``: the paper's minimum-norm weights, tanh units, regular spikes 1 kHz;
* ``sampled, unpinned``: the noise-aware ridge fit without the fixed-point pin
  (``pin=False``, the compiler before it had one), regular spikes 1 kHz;
* ``sampled, pinned, library``: the library's recommended compile (``gamma=30``, ``spikes="poisson"``,
  pinned at the fixed points), regular spikes 1 kHz;
* ``sampled LIF, pinned``: ``activation="lif"`` units, ``nengo.LIF`` spikes;
* ``NEF``: ``npl.nef`` ensembles, ``nengo.LIF`` spikes.

A route "passes at N" only if it also passes at every larger N of the grid (so a
lucky small network does not count); "-" means no N on the grid passes.

Run::

    .venv/bin/python benchmarks/fewest_neurons.py            # full (about 15 min on 2 cores)
    .venv/bin/python benchmarks/fewest_neurons.py --quick    # smoke test: N = 30, 100, 300

Prints Markdown tables and writes ``benchmarks/results/fewest_neurons.json``
(``fewest_neurons.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

from _common import describe_machine, machine, table, write_json

SCRIPT = "fewest_neurons"
GRID = (10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000)
QUICK_GRID = (30, 100, 300)
ROUTES = {
    "taylor (tanh, regular 1 kHz)": dict(method="taylor", neurons="regular"),
    "sampled, unpinned (tanh, regular 1 kHz)": dict(method="sampled", pin=False, neurons="regular"),
    "sampled, pinned, library (tanh, regular 1 kHz)": dict(method="sampled", gamma=30.0, spikes="poisson",
                                                            neurons="regular"),
    "sampled LIF, pinned (nengo.LIF)": dict(method="sampled", activation="lif", neurons="lif"),
    "NEF (nengo.LIF)": dict(method="nef", neurons="lif"),
}
THRESHOLDS = {"10 %": 0.01, "2 %": 0.002}


def level_error(kind: str, route: dict, n: int) -> float:
    """Worst settled distance from ±0.1 over the truth table (inf if the run diverged)."""
    options = dict(route)
    method, neurons = options.pop("method"), options.pop("neurons")
    program = logic.gate(kind)
    net = npl.nef(program, n_neurons=n, seed=0) if method == "nef" else \
        npl.compile(program, n_neurons=n, method=method, seed=0, **options)
    score = networks.get(kind).metric(net, backend="nengo", neurons=neurons, seed=1, hold=0.6)
    return float(score.error)


def fewest(errors: dict[int, float], threshold: float) -> int | None:
    """Smallest N whose error, and every larger N's, is within ``threshold``."""
    smallest = None
    for n in sorted(errors, reverse=True):
        if not errors[n] <= threshold:
            break
        smallest = n
    return smallest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N = 30, 100, 300 only")
    args = p.parse_args()
    grid = QUICK_GRID if args.quick else GRID
    m = machine()
    print(describe_machine(m))
    rows = []
    for kind in sorted(logic.GATES):
        for label, route in ROUTES.items():
            errors = {n: level_error(kind, route, n) for n in grid}
            row = {"gate": kind, "route": label, "errors": {str(n): e for n, e in errors.items()},
                   **{f"fewest_{t}": fewest(errors, v) for t, v in THRESHOLDS.items()}}
            rows.append(row)
            print(f"  {kind:5s} {label}: " + ", ".join(f"{t} {row[f'fewest_{t}'] or '-'}" for t in THRESHOLDS),
                  flush=True)
    gates = sorted(logic.GATES)
    for t in THRESHOLDS:
        print(f"\nfewest neurons per gate, every level within {t} of ±0.1:")
        print(table(["route", *gates], [[label, *(str(next(r[f"fewest_{t}"] for r in rows if r["gate"] == g
                                                            and r["route"] == label) or "-") for g in gates)]
                                        for label in ROUTES]))
    path = write_json(SCRIPT, args.quick, {"thresholds": THRESHOLDS, "grid": list(grid), "rows": rows})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
