"""Positive spikes: LIF-compiled logic on nengo.LIF and Brian2 LIF, levels, agreement and rates.

Question: with the library's default size (100 units per variable, 300 per gate),
``compile(..., method="sampled", activation="lif")``, how far is each settled
output from ±0.1 under LIF spikes on nengo and on Brian2 (worst over the truth
table, or the latch's set/hold/reset protocol, over run seeds 0-2), how far apart
are the two simulators' settled outputs (same network, same run seed), and at
what rates do the units fire (mean and largest unit, Hz)?

Run::

    .venv/bin/python benchmarks/lif_levels.py            # all logic entries (about 6 min on 2 cores)
    .venv/bin/python benchmarks/lif_levels.py --quick    # nand and full_adder, one seed

Prints a Markdown table and writes ``benchmarks/results/lif_levels.json``.
"""

from __future__ import annotations

import argparse

import numpy as np

import npl_nengo as npl
from npl_nengo import networks

from _common import describe_machine, machine, table, write_json

SCRIPT = "lif_levels"
ENTRIES = ("and", "or", "nand", "nor", "xor", "xnor", "half_adder", "full_adder", "sr_latch")
BACKENDS = ("nengo", "brian2")


def measure(name: str, seeds: range) -> dict:
    entry = networks.get(name)
    rnn = npl.compile(entry.build(), method="sampled", activation="lif", seed=0)
    worst = {b: 0.0 for b in BACKENDS}
    agree, mean_hz, max_hz = 0.0, [], 0.0
    for seed in seeds:
        scores = {b: entry.metric(rnn, backend=b, neurons="lif", seed=seed, record_spikes=True) for b in BACKENDS}
        for b, score in scores.items():
            worst[b] = max(worst[b], float(score.error))
            hz = np.abs(score.result.spikes).sum(axis=0) / score.result.t[-1]
            mean_hz.append(float(hz.mean()))
            max_hz = max(max_hz, float(hz.max()))
        for a, c in zip(scores["nengo"].rows, scores["brian2"].rows):
            agree = max(agree, *(abs(a[o] - c[o]) for o in rnn.output_names if o in a))
    return {"entry": name, "n_neurons": rnn.n_neurons, "gates": len(rnn.block_names),
            **{f"worst_{b}": worst[b] for b in BACKENDS}, "nengo_vs_brian2": agree,
            "mean_hz": float(np.mean(mean_hz)), "max_hz": max_hz}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="nand and full_adder, run seed 0 only")
    args = p.parse_args()
    entries, seeds = (("nand", "full_adder"), range(1)) if args.quick else (ENTRIES, range(3))
    m = machine()
    print(describe_machine(m))
    rows = []
    for name in entries:
        rows.append(measure(name, seeds))
        print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
              flush=True)
    print(table(["entry", "N", "worst level, nengo.LIF", "worst level, Brian2 LIF", "|nengo - Brian2|",
                 "mean Hz", "max Hz"],
                [[r["entry"], r["n_neurons"], f"{r['worst_nengo']:.4f}", f"{r['worst_brian2']:.4f}",
                  f"{r['nengo_vs_brian2']:.4f}", f"{r['mean_hz']:.0f}", f"{r['max_hz']:.0f}"] for r in rows]))
    path = write_json(SCRIPT, args.quick, {"seeds": list(seeds), "rows": rows})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
