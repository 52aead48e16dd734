"""NPU accuracy: the programmed tanh reservoirs against NEF peers, at matched and varied neuron counts.

Question: for the four neural processing units (``npu_matrix``, ``npu_lstsq``,
``npu_root``, ``path_integrator``), how accurate is the library's recommended
reservoir (``Entry.compile``, sampled, tanh units) at rate level and under
regular 1 kHz signed spikes on nengo and Brian2, and how many LIF neurons do
NEF networks doing the same job need for the same accuracy?  Every network is
scored by the entry's own metric (the hand-built peer by the same protocol).

Routes:

* ``reservoir``: ``npl.compile(program, method="sampled", seed=s, **entry.compile)``;
  cells ``nengo`` rate, ``nengo`` regular spikes, ``brian2`` regular spikes (cython).
* ``nef``: ``npl.nef(program, n_neurons=n)`` (one ensemble per program part,
  decoders solved by nengo) at totals of 0.5-8 times the reservoir's units
  (:data:`NEF_FACTORS`), ``nengo.LIF`` spikes on nengo.
* ``nef hand-built`` (``npu_matrix`` only): the conventional NEF design built
  from nengo's own networks, :func:`hand_built_matrix`: ``EnsembleArray`` s for A
  and B, sums and differences decoded from them, one ``nengo.networks.Product``
  pair per element-wise product and per scalar product of the 2x2 matmul, the
  matmul's sums decoded by connections.  Scored like ``matrix_metric``: the same
  16 points held 1 s, mean over the last 0.2 s of each hold against numpy.

Run::

    .venv/bin/python benchmarks/npu_accuracy.py            # full grid (17 min on 2 cores shared with other jobs)
    .venv/bin/python benchmarks/npu_accuracy.py --quick    # smoke test, under a minute (npu_root, a small hand-built peer)

Prints a Markdown table and writes ``benchmarks/results/npu_accuracy.json``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Mapping, Sequence

import numpy as np

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.networks import npu

from _common import describe_machine, machine, table, write_json

SCRIPT = "npu_accuracy"
ENTRIES = ("npu_matrix", "npu_lstsq", "npu_root", "path_integrator")
#: Reservoir cells: (backend, neurons, run options).
CELLS = (("nengo", "rate", {}), ("nengo", "regular", {}), ("brian2", "regular", {"target": "cython"}))
#: NEF peer totals as multiples of the reservoir's unit count (the matrix NEF's single 8-D ensemble is
#: the slowest to build: it stops at 2x; the integrator, which drifts, goes to 8x).
NEF_FACTORS = {"npu_matrix": (0.5, 1.0, 2.0), "npu_lstsq": (0.5, 1.0, 2.0, 4.0), "npu_root": (0.5, 1.0, 2.0, 4.0),
               "path_integrator": (1.0, 2.0, 4.0, 8.0)}
#: Hand-built peer: neurons per Product pair (each 1-D ensemble of A and B gets half).
HAND_SIZES = (100, 200, 400)
#: Synapses of the hand-built peer (s): into every ensemble (nengo's default PSC) and on the probed outputs
#: (as ``npl.nef``'s decoded outputs, ``nef.OUTPUT_SYNAPSE``).
HAND_SYNAPSE = 0.005
HAND_PROBE_SYNAPSE = 0.01
#: Detail keys shown per metric kind.
KEY_DETAILS = {
    "map_accuracy": ("rms", "worst_sum", "worst_diff", "worst_prod", "worst_matmul"),
    "settling": ("mean_error", "settle_s"),
    "integration": ("drift",),
}


# -- the hand-built conventional NEF matrix unit -----------------------------------------------
def hand_built_matrix(points: Sequence[Mapping[str, float]], n_pair: int = 100, hold: float = 1.0,
                      seed: int = 0, spiking: bool = True):
    """A conventional NEF matrix NPU built from nengo's networks, fed ``points`` held ``hold`` s each.

    * ``A`` and ``B``: ``nengo.networks.EnsembleArray`` s of four 1-D ensembles
      (radius 1, ``n_pair // 2`` LIF neurons each) encoding the entries
      ``a11, a12, a21, a22`` and ``b11 .. b22``;
    * ``sum`` and ``diff``: decoded linearly from A and B (identity transforms into a Node);
    * ``prod``: ``nengo.networks.Product(n_pair, 4)`` on (A, B) element by element;
    * ``matmul``: ``Product(n_pair, 8)`` on the eight pairs ``(a_ik, b_kj)``,
      summed over ``k`` by the transform of the connection into a Node.

    Every decoded connection into an ensemble has a ``HAND_SYNAPSE`` lowpass,
    the probed outputs ``HAND_PROBE_SYNAPSE``.  Returns ``(network, probes)``
    with probes ``{"sum" | "diff" | "prod" | "matmul": nengo.Probe}`` (entries
    11, 12, 21, 22 in that order).
    """
    import nengo

    names_a = [f"a{i}{j}" for i in (1, 2) for j in (1, 2)]
    names_b = [f"b{i}{j}" for i in (1, 2) for j in (1, 2)]
    values = np.array([[p[k] for k in names_a + names_b] for p in points])

    def stimulus(t: float) -> np.ndarray:
        return values[min(int(t / hold + 1e-9), len(values) - 1)]

    syn = HAND_SYNAPSE
    with nengo.Network(label="hand-built matrix NPU", seed=seed) as net:
        net.config[nengo.Ensemble].neuron_type = nengo.LIF() if spiking else nengo.LIFRate()
        stim = nengo.Node(stimulus, size_out=8, label="a, b")
        A = nengo.networks.EnsembleArray(max(1, n_pair // 2), n_ensembles=4, label="A")
        B = nengo.networks.EnsembleArray(max(1, n_pair // 2), n_ensembles=4, label="B")
        nengo.Connection(stim[:4], A.input, synapse=None)
        nengo.Connection(stim[4:], B.input, synapse=None)
        out = {k: nengo.Node(size_in=4, label=k) for k in ("sum", "diff", "prod", "matmul")}
        nengo.Connection(A.output, out["sum"], synapse=syn)
        nengo.Connection(B.output, out["sum"], synapse=syn)
        nengo.Connection(A.output, out["diff"], synapse=syn)
        nengo.Connection(B.output, out["diff"], transform=-1, synapse=syn)
        elementwise = nengo.networks.Product(n_pair, 4, label="prod")
        nengo.Connection(A.output, elementwise.input_a, synapse=syn)
        nengo.Connection(B.output, elementwise.input_b, synapse=syn)
        nengo.Connection(elementwise.output, out["prod"], synapse=None)
        # matmul_ij = sum_k a_ik b_kj: product p = (i, j, k) takes a_ik and b_kj
        triples = [(i, j, k) for i in range(2) for j in range(2) for k in range(2)]
        pick_a, pick_b, total = np.zeros((8, 4)), np.zeros((8, 4)), np.zeros((4, 8))
        for p, (i, j, k) in enumerate(triples):
            pick_a[p, 2 * i + k] = pick_b[p, 2 * k + j] = total[2 * i + j, p] = 1
        scalar = nengo.networks.Product(n_pair, 8, label="matmul terms")
        nengo.Connection(A.output, scalar.input_a, transform=pick_a, synapse=syn)
        nengo.Connection(B.output, scalar.input_b, transform=pick_b, synapse=syn)
        nengo.Connection(scalar.output, out["matmul"], transform=total, synapse=None)
        probes = {k: nengo.Probe(node, synapse=HAND_PROBE_SYNAPSE) for k, node in out.items()}
    return net, probes


def hand_built_score(n_pair: int, seed: int = 0, spiking: bool = True, n_points: int = 16,
                     hold: float = 1.0, window: float = 0.2, tol: float = 0.1) -> dict[str, Any]:
    """Build and run :func:`hand_built_matrix` and score it as ``matrix_metric`` does."""
    import nengo

    points = npu._points(npu.matrix(), n_points)
    net, probes = hand_built_matrix(points, n_pair, hold, seed, spiking)
    with nengo.Simulator(net, dt=1e-3, progress_bar=False, seed=seed) as sim:
        sim.run(hold * len(points))
    t = sim.trange()
    entries = ("11", "12", "21", "22")
    errors, groups = [], {}
    for q, p in enumerate(points):
        t1 = (q + 1) * hold
        mask = (t > t1 - window * hold + 1e-9) & (t <= t1 + 1e-9)
        exact = npu.matrix_exact(p)
        for group, probe in probes.items():
            got = sim.data[probe][mask].mean(axis=0)
            for e, value in zip(entries, got):
                err = abs(float(value) - exact[f"{group}{e}"])
                errors.append(err)
                groups[group] = max(groups.get(group, 0.0), err)
    worst = float(max(errors))
    return {"n_neurons": int(sum(e.n_neurons for e in net.all_ensembles)), "error": worst, "passed": worst <= tol,
            "tol": tol, "rms": float(np.sqrt(np.mean(np.square(errors)))),
            **{f"worst_{g}": e for g, e in groups.items()}}


# -- measurements -------------------------------------------------------------------------------
def reservoir_rows(name: str, seed: int, cells=CELLS) -> tuple[list[dict], int]:
    entry = networks.get(name)
    t0 = time.perf_counter()
    rnn = npl.compile(entry.build(), method="sampled", seed=seed, **entry.compile)
    compile_s = time.perf_counter() - t0
    rows = []
    for backend, neurons, options in cells:
        opts = {**entry.backend_options.get(backend, {}), **options}
        t0 = time.perf_counter()
        score = entry.metric(rnn, backend=backend, neurons=neurons, seed=0, **opts)
        rows.append(_score_row(name, "reservoir (tanh)", rnn.n_neurons,
                               "tanh rate" if neurons == "rate" else "tanh, regular 1 kHz signed spikes",
                               backend, seed, score, time.perf_counter() - t0, compile_s=round(compile_s, 2)))
        _echo(rows[-1])
    return rows, rnn.n_neurons


def nef_rows(name: str, total: int, seed: int = 0, neurons: str = "lif") -> dict:
    entry = networks.get(name)
    program = entry.build()
    parts = len(npl.nef(program).part_neurons)
    spec = npl.nef(program, n_neurons=max(1, int(round(total / parts))), seed=seed)
    t0 = time.perf_counter()
    score = entry.metric(spec, backend="nengo", neurons=neurons, seed=seed)
    row = _score_row(name, "nef (npl.nef)", spec.n_neurons, "nengo.LIF" if neurons == "lif" else "nengo.LIFRate",
                     "nengo", seed, score, time.perf_counter() - t0)
    _echo(row)
    return row


def hand_rows(n_pair: int, seed: int = 0, spiking: bool = True, n_points: int = 16) -> dict:
    t0 = time.perf_counter()
    r = hand_built_score(n_pair, seed, spiking, n_points)
    row = {"entry": "npu_matrix", "route": "nef hand-built (EnsembleArray + Product)", "n_neurons": r["n_neurons"],
           "neuron_type": "nengo.LIF" if spiking else "nengo.LIFRate", "backend": "nengo", "seed": seed,
           "n_per_product": n_pair, "points": n_points, "error": r["error"], "tol": r["tol"], "passed": bool(r["passed"]),
           **{k: r[k] for k in KEY_DETAILS["map_accuracy"]}, "seconds": round(time.perf_counter() - t0, 2)}
    _echo(row)
    return row


def _score_row(entry: str, route: str, neurons: int, neuron_type: str, backend: str, seed: int, score: Any,
               seconds: float, **extra: Any) -> dict[str, Any]:
    details = score.details
    return {"entry": entry, "route": route, "n_neurons": int(neurons), "neuron_type": neuron_type,
            "backend": backend, "seed": seed, **extra, "error": float(score.error),
            "tol": float(details.get("tol", np.nan)), "passed": bool(score.passed),
            **{k: details[k] for k in KEY_DETAILS.get(score.metric, ()) if k in details},
            "seconds": round(seconds, 2)}


def _echo(row: dict) -> None:
    print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


def _key(row: dict) -> str:
    """The row's key details as one cell."""
    parts = []
    for k in ("rms", "worst_prod", "worst_matmul", "mean_error", "settle_s", "drift"):
        if k in row:
            parts.append(f"{k.replace('worst_', '')} {row[k]:.3g}" + (" s" if k == "settle_s" else ""))
    return "; ".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test: npu_root on nengo (rate, regular, NEF "
                   "at 1x), hand-built matrix at 50 per product on 2 points")
    p.add_argument("--seeds", type=int, default=2, help="reservoir compile seeds 0..seeds-1 (default 2; seeds "
                   "after 0 run the nengo regular-spike cell only)")
    args = p.parse_args()
    m = machine()
    print(describe_machine(m))
    started = time.perf_counter()
    if args.quick:
        entries, seeds, cells = ("npu_root",), range(1), CELLS[:2]
        factors, sizes, hand_points = {n: (1.0,) for n in ENTRIES}, (50,), 2
    else:
        entries, seeds, cells = ENTRIES, range(args.seeds), CELLS
        factors, sizes, hand_points = NEF_FACTORS, HAND_SIZES, 16
    rows: list[dict] = []
    for name in entries:
        print(f"{name}:", flush=True)
        units = 0
        for seed in seeds:
            got, units = reservoir_rows(name, seed, cells if seed == 0 else [CELLS[1]])
            rows += got
        for factor in factors[name]:
            rows.append(nef_rows(name, int(round(factor * units))))
    print("npu_matrix hand-built:", flush=True)
    for n_pair in sizes:
        rows.append(hand_rows(n_pair, n_points=hand_points))
    if not args.quick:
        rows.append(hand_rows(100, spiking=False))  # static decoding bias, no spike noise
    total = time.perf_counter() - started
    print()
    print(table(["entry", "route", "neurons", "neuron type", "backend", "seed", "error", "key details",
                 "pass (tol)", "wall s"],
                [[r["entry"], r["route"], r["n_neurons"], r["neuron_type"], r["backend"], r["seed"],
                  f"{r['error']:.4f}", _key(r), f"{'yes' if r['passed'] else 'no'} ({r['tol']:g})",
                  f"{r['seconds']:.0f}"] for r in rows]))
    print(f"\ntotal {total:.0f} s")
    settings = {
        "entries": list(entries), "reservoir_compile": "sampled, Entry.compile (tanh units)",
        "compile_seeds": list(seeds), "run_seed": 0, "dt_s": 1e-3,
        "reservoir_cells": [f"{b} {n}" for b, n, _ in cells], "reservoir_cells_other_seeds": "nengo regular",
        "nef_factors_of_reservoir_units": {n: list(factors[n]) for n in entries},
        "nef": "npl.nef defaults (LstsqL2 reg 0.003, recurrent tau 0.1 s, input synapse 0.005 s, output 0.01 s)",
        "hand_built_n_per_product": list(sizes), "hand_built_synapse_s": HAND_SYNAPSE,
        "hand_built_probe_synapse_s": HAND_PROBE_SYNAPSE,
        "hand_built_scoring": f"matrix_metric's first {hand_points} points held 1 s, mean over the last 0.2 s, tol 0.1",
    }
    path = write_json(SCRIPT, args.quick, {"settings": settings, "total_seconds": round(total, 1), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
