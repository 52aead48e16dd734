"""How much slower per step is the NengoDL backend's network than a plain NengoDL ensemble?

Question: the backend runs :func:`npl_nengo.backends.nengo.build`'s network
(the units, the k-dimensional loop, the input Nodes, the output readouts and
their probes) on ``nengo_dl.Simulator``.  What does one step of it cost next
to a plain NengoDL ensemble with the same k-dimensional recurrence, at
N = 10^4 and 10^5 (the five-gate full adder, k = 5, 3 inputs, 2 outputs)?

Ways, each a ``nengo_dl.Simulator`` on the CPU, float32, built once and run
``sim.run_steps(STEPS)`` (inputs fed as ``data=`` for the source Nodes, as the
backend does) after one warm-up call; ms per step is the best of ``REPS``
calls, the ways interleaved in one process (the machine is shared: ratios,
not absolute times, are what this measures):

* ``plain``: ``Ensemble(N, Tanh, gain=1, bias=d)``, ``ens.neurons -> Node(k)``
  through ``W_rec`` with the backend's synapse, back through ``B_rec``; no
  inputs, no probes (the baseline);
* ``plain + readouts``: the same plus the outputs as the old build made them
  (one filtered ``1 x N`` connection per output, probed);
* ``backend (old wiring)``: the build before this benchmark's fix, rebuilt
  here: one ``N x 1`` connection per input into ``ens.neurons``, the loop's own
  ``N x k`` one, one ``1 x N`` filtered connection per output;
* ``backend``: ``npl_nengo.backends.nengo.build`` as it is now (the loop and
  the inputs through one ``N x (k + m)`` connection, the outputs through one
  ``n_out x N`` connection), with the backend's probes.

The networks are compiled with ``method="taylor"`` (seconds at N = 10^5; the
sampled fit solves an N x N ridge per part, tens of minutes there): the step's
cost depends only on the matrices' shapes, which are the same.

Run::

    .venv/bin/python benchmarks/nengo_dl_overhead.py            # full (about 10 min on a busy 2-core box)
    .venv/bin/python benchmarks/nengo_dl_overhead.py --quick    # smoke test (N = 10^4 only, short runs)

Prints a Markdown table and writes ``benchmarks/results/nengo_dl_overhead.json``
(``nengo_dl_overhead.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import npl_nengo as npl
from npl_nengo import networks

from _common import describe_machine, machine, table, write_json

SCRIPT = "nengo_dl_overhead"
SIZES = (2_000, 20_000)  # neurons per part; the full adder has 5 parts: N = 10^4, 10^5
QUICK_SIZES = (2_000,)
STEPS, QUICK_STEPS = 300, 100
REPS, QUICK_REPS = 7, 2
DT = 1e-3
GAMMA = 30.0
WAYS = ("plain", "plain + readouts", "backend (old wiring)", "backend")
INPUT = 0.1  # every input's constant level (fed as data, as the backend does)


def _plain(rnn, readouts: bool):
    import nengo

    from npl_nengo.backends import nengo as nb

    N, k = rnn.n_neurons, rnn.n_signals
    r0 = rnn.initial_state(None, np.zeros(len(rnn.input_names)))
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(N, 1, neuron_type=nengo.Tanh(tau_ref=1.0), gain=np.ones(N), bias=np.asarray(rnn.d))
        loop = nengo.Node(size_in=k)
        nengo.Connection(ens.neurons, loop, transform=np.asarray(rnn.W_rec),
                         synapse=nb._synapse("zoh", rnn.gamma, DT, rnn.W_rec @ r0))
        nengo.Connection(loop, ens.neurons, transform=np.asarray(rnn.B_rec), synapse=None)
        if readouts:
            for i in range(len(rnn.output_names)):
                node = nengo.Node(size_in=1)
                conn = nengo.Connection(ens.neurons, node, transform=np.asarray(rnn.W[i : i + 1]),
                                        synapse=nb._synapse("zoh", rnn.gamma, DT, rnn.W[i : i + 1] @ r0))
                nengo.Probe(conn, "output")
    return net, {}


def _old_backend(rnn):
    """The backend's network before the fix (its build() as of the commit this benchmark came with)."""
    import nengo

    from npl_nengo.backends import nengo as nb

    N, k = rnn.n_neurons, rnn.n_signals
    r0 = rnn.initial_state(None, np.full(len(rnn.input_names), INPUT))
    sources = {}
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(N, 1, neuron_type=nengo.Tanh(tau_ref=1.0), gain=np.ones(N), bias=np.asarray(rnn.d))
        for j, name in enumerate(rnn.input_names):
            node = nengo.Node(size_in=1, label=name)
            nengo.Connection(node, ens.neurons, transform=np.asarray(rnn.B_ext[:, j : j + 1]), synapse=None)
            sources[name] = nengo.Node(INPUT, label=f"{name} (slider)")
            nengo.Connection(sources[name], node, synapse=None)
        loop = nengo.Node(size_in=k)
        nengo.Connection(ens.neurons, loop, transform=np.asarray(rnn.W_rec),
                         synapse=nb._synapse("zoh", rnn.gamma, DT, rnn.W_rec @ r0))
        nengo.Connection(loop, ens.neurons, transform=np.asarray(rnn.B_rec), synapse=None)
        for i in range(len(rnn.output_names)):
            node = nengo.Node(size_in=1)
            conn = nengo.Connection(ens.neurons, node, transform=np.asarray(rnn.W[i : i + 1]),
                                    synapse=nb._synapse("zoh", rnn.gamma, DT, rnn.W[i : i + 1] @ r0))
            nengo.Probe(conn, "output")
    return net, sources


def _backend(rnn):
    import nengo

    from npl_nengo.backends import nengo as nb

    net = nb.build(rnn, {name: INPUT for name in rnn.input_names}, dt=DT, seed=0)
    with net:
        for conn in net.output_connections.values():
            nengo.Probe(conn, "output")
    return net, net.sources


def network(rnn, way: str):
    """``(net, {input name: source Node fed by data})`` of a way."""
    if way == "plain":
        return _plain(rnn, readouts=False)
    if way == "plain + readouts":
        return _plain(rnn, readouts=True)
    if way == "backend (old wiring)":
        return _old_backend(rnn)
    if way == "backend":
        return _backend(rnn)
    raise ValueError(way)


def measure(rnn, steps: int, reps: int) -> dict[str, dict]:
    from npl_nengo.backends import nengo_dl as dlb

    nengo_dl = dlb.nengo_dl
    sims, rows = {}, {}
    for way in WAYS:
        net, sources = network(rnn, way)
        with net:
            nengo_dl.configure_settings(dtype="float32")
        start = time.perf_counter()
        with warnings.catch_warnings(), dlb._global_settings_restored():
            warnings.filterwarnings("ignore", message="No GPU support detected")
            warnings.filterwarnings("ignore", category=UserWarning, module="nengo_dl")
            sim = nengo_dl.Simulator(net, dt=DT, seed=0, device="/cpu:0", progress_bar=False)
        build = time.perf_counter() - start

        def data(n, sources=sources):
            return {node: np.full((1, n, 1), INPUT) for node in sources.values()} or None

        sim.run_steps(steps, data=data(steps), progress_bar=False)  # warm-up: TensorFlow traces the graph
        sims[way] = (sim, data)
        rows[way] = {"build_seconds": build, "ms_per_step": [], "n_ops": sum(len(ops) for ops in sim.tensor_graph.plan),
                     "op_groups": len(sim.tensor_graph.plan)}
        print(f"  N={rnn.n_neurons} {way}: built in {build:.1f} s", flush=True)
    for _ in range(reps):  # interleaved: every way sees the same machine load
        for way in WAYS:
            sim, data = sims[way]
            d = data(steps)
            start = time.perf_counter()
            sim.run_steps(steps, data=d, progress_bar=False)
            rows[way]["ms_per_step"].append((time.perf_counter() - start) / steps * 1e3)
    for sim, _ in sims.values():
        sim.close()
    base = min(rows["plain"]["ms_per_step"])
    base_ro = min(rows["plain + readouts"]["ms_per_step"])
    for row in rows.values():
        row["best_ms_per_step"] = min(row["ms_per_step"])
        row["ratio_to_plain"] = row["best_ms_per_step"] / base
        row["ratio_to_plain_with_readouts"] = row["best_ms_per_step"] / base_ro
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N = 10^4 only, short runs")
    args = p.parse_args()
    m = machine()
    print(describe_machine(m))
    sizes = QUICK_SIZES if args.quick else SIZES
    steps = QUICK_STEPS if args.quick else STEPS
    reps = QUICK_REPS if args.quick else REPS
    results = {}
    for n in sizes:
        start = time.perf_counter()
        rnn = npl.compile(networks.get("full_adder").build(), method="taylor", n_neurons=n, gamma=GAMMA, seed=0)
        compile_seconds = time.perf_counter() - start
        rows = measure(rnn, steps, reps)
        results[str(rnn.n_neurons)] = {"N": rnn.n_neurons, "k": rnn.n_signals, "inputs": len(rnn.input_names),
                                       "outputs": len(rnn.output_names), "compile_seconds": compile_seconds,
                                       "ways": rows}
    print()
    rows = [[r["N"], way, f"{row['best_ms_per_step']:.3f}", f"{row['ratio_to_plain']:.2f}",
             f"{row['ratio_to_plain_with_readouts']:.2f}", row["op_groups"]]
            for r in results.values() for way, row in r["ways"].items()]
    print(table(["N", "way", "ms / step (best)", "x plain", "x plain + readouts", "op groups"], rows))
    path = write_json(SCRIPT, args.quick, {
        "network": "full_adder", "method": "taylor", "gamma": GAMMA, "dt": DT, "dtype": "float32", "device": "cpu",
        "steps_per_call": steps, "reps": reps, "input_level": INPUT, "target_ratio": 3.0, "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
