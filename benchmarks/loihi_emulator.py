"""Loihi emulator: NEF logic on nengo-loihi's CPU emulator against nengo, levels, quantization, wall time.

Question: the NEF gates (``npl.nef(entry.build(), n_neurons=200)``, spiking ``nengo.LIF``) run on
``nengo_loihi.Simulator(target="sim")`` (``backend="loihi_emulator"``): how far is each settled
output from ±0.1 over the truth table (worst), how many signs are wrong, how far apart are the
emulator's and nengo's settled outputs, how many bits did weight rounding lose, and how long does
a run take?  Also the LIF-compiled NAND (``compile(..., method="sampled", activation="lif")``),
which the emulator runs but does not keep at its levels.

Run::

    .venv/bin/python benchmarks/loihi_emulator.py            # gates, SR latch, LIF NAND, seeds 0-2
    .venv/bin/python benchmarks/loihi_emulator.py --quick    # nand, and, or, xor and the LIF NAND, seed 0

Prints a Markdown table and writes ``benchmarks/results/loihi_emulator[.quick].json``.
"""

from __future__ import annotations

import argparse

import npl_nengo as npl
from npl_nengo import networks, registry

from _common import describe_machine, machine, table, write_json

SCRIPT = "loihi_emulator"
GATES = ("nand", "and", "or", "xor", "nor", "xnor")
QUICK = ("nand", "and", "or", "xor")
N_NEURONS = 200
BACKENDS = ("nengo", "loihi_emulator")


def _register() -> None:
    """Until the registry lists the backend, run it under its name all the same."""
    registry.BACKENDS.setdefault("loihi_emulator", "npl_nengo.backends.loihi_emulator")
    registry.backend_info.cache_clear()
    registry.backend_info("loihi_emulator")  # import nengo-loihi (and TensorFlow, through NengoDL) before timing


def _score(entry, network, backend: str, seed: int, **options):
    """The score and the run's wall time (build and simulation, from the result's info)."""
    score = entry.metric(network, backend=backend, neurons="lif", seed=seed, tol=0.005, **options)
    return score, float(score.result.info["wall_seconds"])


def measure(name: str, route: str, seed: int, hold: float) -> dict:
    entry = networks.get(name)
    if route == "nef":
        network = npl.nef(entry.build(), n_neurons=N_NEURONS, seed=seed)
    else:
        network = npl.compile(entry.build(), method="sampled", activation="lif", seed=seed)
    options = {"hold": hold} if name != "sr_latch" else {"hold": 3.0}
    scores = {b: _score(entry, network, b, seed, **options) for b in BACKENDS}
    outs = network.output_names
    dev = max(abs(a[o] - c[o]) for a, c in zip(scores["nengo"][0].rows, scores["loihi_emulator"][0].rows)
              for o in outs if o in a and o in c)
    info = scores["loihi_emulator"][0].result.info
    return {"entry": name, "route": route, "seed": seed, "n_neurons": network.n_neurons,
            "worst_nengo": float(scores["nengo"][0].error), "worst_loihi": float(scores["loihi_emulator"][0].error),
            "wrong_nengo": scores["nengo"][0].details.get("wrong_signs"),
            "wrong_loihi": scores["loihi_emulator"][0].details.get("wrong_signs"),
            "nengo_vs_loihi": float(dev), "weight_bits_lost": info["weight_bits_lost"],
            "weight_rounding_warnings": info["weight_rounding_warnings"], "blocks": info["blocks"],
            "compartments": info["compartments"], "emulator_warnings": info["emulator_warnings"],
            "sim_seconds": float(scores["loihi_emulator"][0].result.t[-1]),
            "wall_nengo": scores["nengo"][1], "wall_loihi": scores["loihi_emulator"][1],
            "rows_loihi": scores["loihi_emulator"][0].rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="nand, and, or, xor (NEF) and the LIF NAND, seed 0")
    args = p.parse_args()
    _register()
    hold = 1.0
    cases = [(g, "nef") for g in (QUICK if args.quick else GATES)]
    cases += [] if args.quick else [("sr_latch", "nef")]
    cases += [("nand", "lif")]
    seeds = range(1) if args.quick else range(3)
    m = machine()
    print(describe_machine(m))
    rows = []
    for name, route in cases:
        for seed in seeds:
            rows.append(measure(name, route, seed, hold))
            r = rows[-1]
            print(f"  {name} {route} seed {seed}: worst nengo {r['worst_nengo']:.4f}, loihi {r['worst_loihi']:.4f}, "
                  f"wrong signs {r['wrong_loihi']}, bits lost {r['weight_bits_lost']}, "
                  f"wall {r['wall_nengo']:.1f} / {r['wall_loihi']:.1f} s", flush=True)
    print(table(["entry", "route", "seed", "N", "worst level, nengo", "worst level, emulator", "wrong signs (emu)",
                 "|nengo - emu|", "bits lost", "rounding warnings", "blocks", "wall nengo s", "wall emu s"],
                [[r["entry"], r["route"], r["seed"], r["n_neurons"], f"{r['worst_nengo']:.4f}",
                  f"{r['worst_loihi']:.4f}", r["wrong_loihi"], f"{r['nengo_vs_loihi']:.4f}", r["weight_bits_lost"],
                  r["weight_rounding_warnings"], r["blocks"], f"{r['wall_nengo']:.1f}", f"{r['wall_loihi']:.1f}"]
                 for r in rows]))
    path = write_json(SCRIPT, args.quick, {"seeds": list(seeds), "hold": hold, "n_neurons_nef": N_NEURONS,
                                           "rows": rows})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
