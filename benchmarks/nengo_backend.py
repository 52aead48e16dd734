"""The nengo backend: how fast is it?

**Throughput**: simulated seconds per wall-clock second of a rate run on
   ``nengo.Simulator`` (``synapse="zoh"``) against the numpy reference backend
   (``integrator="euler"``, the same number of operations per step, and the
   default ``"rk4"``), at N = 1000, for the NAND gate (k = 1 fed-back signal)
   and the full adder compiled to 1000 neurons in all (200 per gate).  Each
   figure is the best of ``--repeats`` runs of 2 simulated seconds; the nengo
   figure includes building the simulator (``nengo.Simulator(...)``), which
   is also reported on its own.
(The fewest-neurons table moved to ``benchmarks/fewest_neurons.py``.)

Run::

    .venv/bin/python benchmarks/nengo_backend.py            # full (about 1 min)
    .venv/bin/python benchmarks/nengo_backend.py --quick    # smoke test (about 1 min)

Prints Markdown tables and writes ``benchmarks/results/nengo_backend.json``
(``nengo_backend.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time

import npl_nengo as npl
from npl_nengo.networks import logic

from _common import describe_machine, machine, table, write_json

SCRIPT = "nengo_backend"
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
    print()
    print(table(["network", "N", "backend", "sim-s / wall-s", "build s"],
                [[r["network"], r["N"], r["backend"], f"{r['sim_seconds_per_wall_second']:.2f}",
                  f"{r['build_seconds']:.2f}" if r["build_seconds"] is not None else ""] for r in tp]))
    path = write_json(SCRIPT, args.quick, {"throughput": tp})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
