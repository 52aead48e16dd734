"""Does the compiler's noise figure predict the spike noise a network shows?

Question: for every gate, both adders and the SR latch, compiled with the library's
recommended compile (seed 0), the ratio of the measured RMS(spiking - rate) of each
output to ``ProgrammedRNN.expected_noise(1000, mode)``, under regular and Poisson
spikes at 1 kHz.  Each run holds the entry's default inputs for 3 s on the
reference backend (the latch starts set, so rate and spikes hold the same bit);
the first 0.5 s is left out; spike seed 2.

Run::

    .venv/bin/python benchmarks/noise_prediction.py            # about 1 min
    .venv/bin/python benchmarks/noise_prediction.py --quick    # nand only

Prints a Markdown table and writes ``benchmarks/results/noise_prediction.json``.
"""

from __future__ import annotations

import argparse

import numpy as np

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import logic

from _common import describe_machine, machine, table, write_json

NAMES = [*sorted(logic.GATES), "half_adder", "full_adder", "sr_latch"]
INITIAL = {"sr_latch": {"n1.o": 0.1, "n2.o": -0.1}}


def ratios(name: str) -> dict[str, list[float]]:
    entry = networks.get(name)
    rnn = npl.compile(entry.build(), method="sampled", seed=0, **entry.compile)
    initial = INITIAL.get(name)
    rate = npl.run(rnn, entry.inputs, duration=3.0, initial=initial)
    out = {}
    for mode in ("regular", "poisson"):
        spiking = npl.run(rnn, entry.inputs, duration=3.0, neurons=mode, max_rate=1000.0, seed=2, initial=initial)
        predicted = rnn.expected_noise(1000.0, mode)
        out[mode] = [float(np.sqrt(np.mean((spiking[o][500:] - rate[o][500:]) ** 2)) / predicted[i])
                     for i, o in enumerate(rnn.output_names)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="nand only")
    args = p.parse_args()
    m = machine()
    print(describe_machine(m))
    rows = [{"network": n, **ratios(n)} for n in (["nand"] if args.quick else NAMES)]
    print(table(["network", "regular: measured / predicted", "Poisson: measured / predicted"],
                [[r["network"], ", ".join(f"{x:.2f}" for x in r["regular"]),
                  ", ".join(f"{x:.2f}" for x in r["poisson"])] for r in rows]))
    worst = max(max(max(x, 1 / x) for x in r[k]) for r in rows for k in ("regular", "poisson"))
    print(f"\nworst factor between measured and predicted: {worst:.2f}")
    write_json("noise_prediction", args.quick, {"rows": rows, "worst_factor": worst})


if __name__ == "__main__":
    main()
