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
* ``NEF``: ``npl.nef`` ensembles (its default options), ``nengo.LIF`` spikes; its
  error at N is the worst over the ensemble seeds 0, 1, 2 (one seed's error is
  not monotone in N: which tuning curves a seed draws moves a level by more
  than doubling N does).

A route "passes at N" only if it also passes at every larger N of the grid (so a
lucky small network does not count); "-" means no N on the grid passes.

A second table covers the NEF route on every logic entry of the library (the six
gates, ``half_adder``, ``full_adder``, ``sr_latch``) with each entry's own metric
and protocol (gates: 1 s holds; full adder: 1.5 s holds; latch: the set / hold /
reset protocol, 33 s): the worst settled distance from ±0.1 over seeds 0, 1, 2 at
N = 100, 200, 300, 400 neurons per gate, and the fewest of those N within 5 %
(0.005).

Run::

    .venv/bin/python benchmarks/fewest_neurons.py            # full (about 25 min on 2 cores)
    .venv/bin/python benchmarks/fewest_neurons.py --quick    # smoke test: N = 30, 100, 300
    .venv/bin/python benchmarks/fewest_neurons.py --nef-only # the NEF rows and table only (about 12 min)

Prints Markdown tables and writes ``benchmarks/results/fewest_neurons.json``
(``fewest_neurons.quick.json`` with ``--quick``, ``fewest_neurons.nef.json`` with
``--nef-only``).
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
NEF_ROUTE = "NEF (nengo.LIF)"
ROUTES = {
    "taylor (tanh, regular 1 kHz)": dict(method="taylor", neurons="regular"),
    "sampled, unpinned (tanh, regular 1 kHz)": dict(method="sampled", pin=False, neurons="regular"),
    "sampled, pinned, library (tanh, regular 1 kHz)": dict(method="sampled", gamma=30.0, spikes="poisson",
                                                            neurons="regular"),
    "sampled LIF, pinned (nengo.LIF)": dict(method="sampled", activation="lif", neurons="lif"),
    NEF_ROUTE: dict(method="nef", neurons="lif"),
}
THRESHOLDS = {"10 %": 0.01, "2 %": 0.002}
#: Ensemble seeds of the NEF route (its error at N is the worst over them).
NEF_SEEDS = (0, 1, 2)
#: The NEF table: entries, neurons per gate, and its threshold (5 % of the ±0.1 level).
NEF_ENTRIES = (*sorted(logic.GATES), "half_adder", "full_adder", "sr_latch")
NEF_GRID = (100, 200, 300, 400)
QUICK_NEF_GRID = (100, 300)
NEF_TOL = 0.005


def level_error(kind: str, route: dict, n: int) -> float:
    """Worst settled distance from ±0.1 over the truth table (inf if the run diverged)."""
    options = dict(route)
    method, neurons = options.pop("method"), options.pop("neurons")
    program = logic.gate(kind)
    if method == "nef":
        return max(float(networks.get(kind).metric(npl.nef(program, n_neurons=n, seed=s), backend="nengo",
                                                   neurons=neurons, seed=1, hold=0.6).error) for s in NEF_SEEDS)
    net = npl.compile(program, n_neurons=n, method=method, seed=0, **options)
    score = networks.get(kind).metric(net, backend="nengo", neurons=neurons, seed=1, hold=0.6)
    return float(score.error)


def nef_entry_errors(name: str, n: int) -> list[float]:
    """The entry's metric error (its own protocol) for each of :data:`NEF_SEEDS`, ``n`` LIF neurons per gate."""
    entry = networks.get(name)
    return [float(entry.metric(npl.nef(entry.build(), n_neurons=n, seed=s), backend="nengo", neurons="lif",
                               seed=1, tol=NEF_TOL).error) for s in NEF_SEEDS]


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
    p.add_argument("--quick", action="store_true", help="N = 30, 100, 300 only (NEF table: 100, 300)")
    p.add_argument("--nef-only", action="store_true", help="only the NEF route's rows and the NEF table")
    args = p.parse_args()
    grid = QUICK_GRID if args.quick else GRID
    routes = {NEF_ROUTE: ROUTES[NEF_ROUTE]} if args.nef_only else ROUTES
    m = machine()
    print(describe_machine(m))
    rows = []
    for kind in sorted(logic.GATES):
        for label, route in routes.items():
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
                                        for label in routes]))
    nef_grid = QUICK_NEF_GRID if args.quick else NEF_GRID
    nef_rows = []
    for name in NEF_ENTRIES:
        errors = {n: nef_entry_errors(name, n) for n in nef_grid}
        worst = {n: max(e) for n, e in errors.items()}
        nef_rows.append({"entry": name, "errors": {str(n): e for n, e in errors.items()},
                         "worst": {str(n): w for n, w in worst.items()}, "fewest_5 %": fewest(worst, NEF_TOL)})
        print(f"  NEF {name}: " + ", ".join(f"{n}: {w:.4f}" for n, w in worst.items()), flush=True)
    print(f"\nNEF route (nengo.LIF), worst settled distance from ±0.1 over seeds {', '.join(map(str, NEF_SEEDS))}, "
          f"each entry's own metric; fewest N per gate within 5 % ({NEF_TOL}):")
    print(table(["entry", *(f"N = {n}" for n in nef_grid), "fewest (5 %)"],
                [[r["entry"], *(f"{r['worst'][str(n)]:.4f}" for n in nef_grid), str(r["fewest_5 %"] or "-")]
                 for r in nef_rows]))
    payload = {"thresholds": THRESHOLDS, "grid": list(grid), "rows": rows, "nef_seeds": list(NEF_SEEDS),
               "nef_table": {"tol": NEF_TOL, "grid": list(nef_grid), "rows": nef_rows}}
    path = write_json(f"{SCRIPT}.nef" if args.nef_only else SCRIPT, args.quick, payload)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
