"""NEST (through PyNN) against nengo.LIF and Brian2 LIF: settled levels, agreement and throughput.

Questions: (1) for the logic entries' LIF compiles (``activation="lif"`` with each entry's
``lif_compile``), how far is each settled output from ±0.1 on NEST, nengo and Brian2 (worst over
the truth table / latch protocol, run seed 1), and how far apart are the simulators' settled
outputs, level by level?  (2) How fast does each simulate a LIF NAND compiled with N = 300,
1000, 3000 units (1, 0.3, 0.1 simulated s; CPU seconds of the process, build apart, since the
machine is shared), NEST with its dense N x N recurrent weights (precise spike times, and its
on-grid model at dt/10), nengo and Brian2 with the factored O(N k) loop?

Run::

    .venv/bin/python benchmarks/nest_agreement.py            # N up to 3000, nine logic entries (~30 min)
    .venv/bin/python benchmarks/nest_agreement.py --quick    # N = 300 and 1000; nand and xor

Prints Markdown tables and writes ``benchmarks/results/nest_agreement.json``.
One NEST thread (the backend's default), Brian2 on its ``numpy`` target (no compiler needed).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import npl_nengo as npl
from npl_nengo import networks, registry

from _common import describe_machine, machine, table, write_json

SCRIPT = "nest_agreement"
ENTRIES = ("and", "or", "nand", "nor", "xor", "xnor", "half_adder", "full_adder", "sr_latch")
BACKENDS = ("nest", "nengo", "brian2")
OPTIONS = {"nest": {}, "nengo": {}, "brian2": {"target": "numpy"}}
#: Throughput: (label, backend, options); NEST's default (precise spike times) and its on-grid model.
VARIANTS = (("nest", "nest", {}), ("nest on_grid x10", "nest", {"spike_precision": "on_grid", "substeps": 10}),
            ("nengo", "nengo", {}), ("brian2", "brian2", {"target": "numpy"}))
SIZES = {300: 1.0, 1000: 0.3, 3000: 0.1}  # N -> simulated seconds

registry.BACKENDS.setdefault("nest", "npl_nengo.backends.nest")
#: The nest backend's defaults the runs used (its run options, as declared).
NEST_DEFAULTS = {k: o.default for k, o in registry.backend_info("nest").options.items()
                 if k in ("substeps", "spike_precision", "threads")}


def agreement(name: str, seed: int = 1) -> dict:
    entry = networks.get(name)
    rnn = npl.compile(entry.build(), method="sampled", activation="lif", seed=0, **entry.lif_compile)
    scores, wall = {}, {}
    for b in BACKENDS:
        t0 = time.perf_counter()
        scores[b] = entry.metric(rnn, backend=b, neurons="lif", seed=seed, record_spikes=True, **OPTIONS[b])
        wall[b] = time.perf_counter() - t0
    outs = [o for o in rnn.output_names if o in scores["nest"].rows[0]]

    def apart(a: str, c: str) -> float:
        return max(abs(x[o] - y[o]) for x, y in zip(scores[a].rows, scores[c].rows) for o in outs)

    hz = scores["nest"].result.spikes.sum(axis=0) / scores["nest"].result.t[-1]
    return {"entry": name, "n_neurons": rnn.n_neurons, "simulated_s": float(scores["nest"].result.t[-1]),
            **{f"worst_{b}": float(scores[b].error) for b in BACKENDS},
            **{f"passed_{b}": bool(scores[b].passed) for b in BACKENDS},
            "nest_vs_nengo": apart("nest", "nengo"), "nest_vs_brian2": apart("nest", "brian2"),
            "nengo_vs_brian2": apart("nengo", "brian2"), "nest_mean_hz": float(hz.mean()),
            "nest_max_hz": float(hz.max()), **{f"wall_{b}": wall[b] for b in BACKENDS}}


def throughput(n: int, duration: float) -> list[dict]:
    entry = networks.get("nand")
    t0 = time.perf_counter()
    rnn = npl.compile(entry.build(), method="sampled", activation="lif", seed=0, n_neurons=n, gamma=100.0)
    print(f"  N {n}: compiled in {time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for label, b, options in VARIANTS:
        npl.run(rnn, {"s1": 0.1, "s2": -0.1}, 0.01, backend=b, neurons="lif", **options)  # warm-up (imports)
        t0, c0 = time.perf_counter(), time.process_time()
        res = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, duration, backend=b, neurons="lif", record_spikes=True, **options)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        build = float(res.info.get("build_seconds", float("nan")))
        run_s = wall - (build if np.isfinite(build) else 0.0)
        rows.append({"backend": label, "n_neurons": n, "duration": duration, "wall_s": wall, "cpu_s": cpu,
                     "build_s": build, "sim_s_per_wall_s": duration / run_s, "sim_s_per_cpu_s": duration / cpu,
                     "level": float(res.mean("o", duration / 2, duration)),
                     "mean_hz": float(res.spikes.sum(axis=0).mean() / duration), "synapses": res.info.get("synapses")})
        print(f"  N {n} {label}: wall {wall:.2f} s, cpu {cpu:.2f} s, build {build:.2f} s, "
              f"{rows[-1]['sim_s_per_wall_s']:.3g} sim s / wall s, level {rows[-1]['level']:+.4f}", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="nand and xor; N = 300 and 1000")
    p.add_argument("--skip-agreement", action="store_true")
    args = p.parse_args()
    entries, sizes = (("nand", "xor"), (300, 1000)) if args.quick else (ENTRIES, tuple(SIZES))
    m = machine()
    print(describe_machine(m))
    rows: list[dict] = []
    speed: list[dict] = []

    def save() -> Any:
        return write_json(SCRIPT, args.quick, {"run_seed": 1, "agreement": rows, "throughput": speed,
                                               "nest_options": NEST_DEFAULTS,
                                               "brian2_target": "numpy"})

    for n in sizes:
        speed += throughput(n, SIZES[n])
        save()
    print(table(["N", "backend", "simulated s", "build s", "run wall s", "CPU s", "sim s / CPU s",
                 "level at the end", "NEST synapses"],
                [[r["n_neurons"], r["backend"], r["duration"], "–" if np.isnan(r["build_s"]) else f"{r['build_s']:.2f}",
                  f"{r['wall_s'] - (0 if np.isnan(r['build_s']) else r['build_s']):.2f}", f"{r['cpu_s']:.2f}",
                  f"{r['sim_s_per_cpu_s']:.3g}", f"{r['level']:+.4f}", r["synapses"] or "–"] for r in speed]))
    if not args.skip_agreement:
        for name in entries:
            rows.append(agreement(name))
            save()
            print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
                  flush=True)
        print(table(["entry", "N", "worst, NEST", "worst, nengo", "worst, Brian2", "|NEST - nengo|",
                     "|NEST - Brian2|", "|nengo - Brian2|", "NEST mean Hz", "wall s NEST / nengo / Brian2"],
                    [[r["entry"], r["n_neurons"], f"{r['worst_nest']:.4f}", f"{r['worst_nengo']:.4f}",
                      f"{r['worst_brian2']:.4f}", f"{r['nest_vs_nengo']:.4f}", f"{r['nest_vs_brian2']:.4f}",
                      f"{r['nengo_vs_brian2']:.4f}", f"{r['nest_mean_hz']:.0f}",
                      f"{r['wall_nest']:.1f} / {r['wall_nengo']:.1f} / {r['wall_brian2']:.1f}"] for r in rows]))
    print(f"\nwrote {save()}")


if __name__ == "__main__":
    main()
