"""Every backend's cost per step as a multiple of the machine's floor, at N = 10³, 10⁴ and 10⁵.

Question: how far is each backend from the least a step of a programmed
reservoir can cost on this machine?

The floor of one rate step (forward Euler or zero-order hold: one evaluation
of the recurrence) of a network with N units, k signals, m inputs and n
outputs is set by two things:

* **memory traffic**: the step reads the factored recurrence ``W_rec`` (k×N)
  and ``B_rec`` (N×k), ``B_ext`` (N×m), the bias ``d`` and the state ``r``,
  the readout ``W`` (n×N), and writes ``r``: ``8 N (2k + m + n + 3)`` bytes in
  float64, at the machine's streaming bandwidth (measured here with
  ``numpy.copyto`` on 256 MiB arrays, read + write counted);
* **tanh**: N evaluations of numpy's vectorized ``tanh`` (measured per N, so
  the cache size at each N is in the figure).

The floor is the larger of the two (they can overlap); both are reported.
Beside it, ``minimal``: a hand-written numpy Euler step of the same math (the
recurrence, the inputs, tanh, the leak, the readout), the cheapest loop
Python can drive.

Backends (rate units, dt = 1 ms, inputs held, the library's sampled compile):
``reference`` with ``integrator="euler"`` (one evaluation per step) and with
RK4 (its default, four), ``nengo`` (zoh), ``nengo_dl`` (CPU, float32),
``brian2`` with ``target="cython"``.  Each is timed as the marginal cost of a
2T run over a T run (best of ``--repeats``), so building a simulator and
other per-run costs are excluded; Brian2 runs each duration once untimed
first (Cython compiles new code for a new run length on Brian2 versions of
this backend that put the length in the code).

Networks: N = 10³ and 10⁴: the NAND gate (k = 1 signal, m = 2 inputs,
n = 1 output); N = 10⁵: the full adder, five gates of 20 000 units
(k = 5, m = 3, n = 2), compiled with ``n_samples=4096`` above N = 1000 per
part (the default sample count's fit takes minutes and gigabytes there; the
per-step cost does not depend on the fit).

Run::

    .venv/bin/python benchmarks/floor.py            # full (about 10 min on 2 cores)
    .venv/bin/python benchmarks/floor.py --quick    # smoke test (N = 10³, short runs)

Prints a Markdown table and writes ``benchmarks/results/floor.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import npl_nengo as npl
from npl_nengo import networks

from _common import describe_machine, machine, table, write_json

SCRIPT = "floor"
DT = 1e-3
SIZES = {1000: ("nand", 1000), 10_000: ("nand", 10_000), 100_000: ("full_adder", 20_000)}
INPUTS = {"nand": {"s1": 0.1, "s2": -0.1}, "full_adder": {"a": 0.1, "b": -0.1, "cin": 0.1}}
CASES = {
    "reference (euler)": ("reference", {"integrator": "euler"}),
    "reference (RK4)": ("reference", {}),
    "nengo (zoh)": ("nengo", {"synapse": "zoh"}),
    "nengo_dl (CPU float32)": ("nengo_dl", {"device": "/cpu:0", "dtype": "float32"}),
    "brian2 (cython)": ("brian2", {"target": "cython"}),
}
LARGE_N_SAMPLES = 4096


def compile_network(name: str, per_part: int) -> npl.ProgrammedRNN:
    samples = LARGE_N_SAMPLES if per_part > 1000 else None
    return npl.compile(networks.get(name).build(), n_neurons=per_part, method="sampled", seed=0, n_samples=samples)


def bandwidth(repeats: int) -> float:
    """Streaming bytes per second (read + write) of ``numpy.copyto`` on 256 MiB arrays."""
    src = np.ones(32 * 2**20)
    dst = np.empty_like(src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return 2 * src.nbytes / best


def tanh_seconds(n: int, repeats: int) -> float:
    """Seconds of one numpy ``tanh`` over ``n`` float64 values (in place, best of many)."""
    x = np.linspace(-2, 2, n)
    out = np.empty_like(x)
    loops = max(1, 2_000_000 // n)

    def run() -> None:
        for _ in range(loops):
            np.tanh(x, out=out)

    return min(_timed(run) for _ in range(repeats)) / loops


def minimal_step_seconds(rnn: npl.ProgrammedRNN, u: np.ndarray, repeats: int, steps: int) -> float:
    """A hand-written numpy Euler step of the same network: the cheapest Python-driven loop."""
    r = rnn.initial_state(None, u).copy()
    B_rec, W_rec, B_ext, d, W = rnn.B_rec, rnn.W_rec, rnn.B_ext, rnn.d, rnn.W
    drive_ext = B_ext @ u + d
    a = DT * rnn.gamma
    out = np.empty((steps, W.shape[0]))

    def run() -> None:
        nonlocal r
        for i in range(steps):
            j = B_rec @ (W_rec @ r)
            j += drive_ext
            np.tanh(j, out=j)
            r += a * (j - r)
            out[i] = W @ r

    return min(_timed(run) for _ in range(repeats)) / steps


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def backend_step_seconds(rnn, inputs, backend: str, options: dict, T: float, repeats: int) -> float:
    """Marginal seconds per step of a 2T run over a T run (best of ``repeats`` each)."""

    def wall(duration: float) -> float:
        res = npl.run(rnn, inputs, duration=duration, backend=backend, dt=DT, seed=0, **options)
        return float(res.info["wall_seconds"]) - float(res.info.get("build_seconds") or 0.0)

    for d in (T, 2 * T):  # warm-up: Brian2's compile for each length, TensorFlow's tracing
        wall(d)
    best = {d: min(wall(d) for _ in range(repeats)) for d in (T, 2 * T)}
    slope = (best[2 * T] - best[T]) / (T / DT)
    return slope if slope > 0 else best[2 * T] / (2 * T / DT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: N = 10³ only, short runs")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case labels")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N (of 1000, 10000, 100000)")
    args = ap.parse_args()
    sizes = [1000] if args.quick else [int(x) for x in args.sizes.split(",") if x.strip()]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    info = machine()
    print(describe_machine(info))
    bw = bandwidth(3)
    print(f"streaming bandwidth {bw / 1e9:.1f} GB/s")
    rows, records = [], []
    for n in sizes:
        name, per_part = SIZES[n]
        start = time.perf_counter()
        rnn = compile_network(name, per_part)
        compile_s = time.perf_counter() - start
        N, k, m, n_out = rnn.n_neurons, rnn.W_rec.shape[0], len(rnn.input_names), len(rnn.output_names)
        traffic = 8 * N * (2 * k + m + n_out + 3) / bw
        tanh = tanh_seconds(N, 3)
        floor = max(traffic, tanh)
        u = np.array([INPUTS[name][i] for i in rnn.input_names])
        minimal = minimal_step_seconds(rnn, u, args.repeats + 1, 200 if args.quick else 2000)
        T = 0.1 if args.quick else (1.0 if N <= 10_000 else 0.4)
        per_step = {}
        for label in cases:
            backend, options = CASES[label]
            per_step[label] = backend_step_seconds(rnn, INPUTS[name], backend, options, T, args.repeats)
            print(f"N={N} {label}: {per_step[label] * 1e6:.1f} us/step", flush=True)
        records.append({"N": N, "network": name, "k": k, "m": m, "n_outputs": n_out, "compile_s": compile_s,
                        "traffic_s": traffic, "tanh_s": tanh, "floor_s": floor, "minimal_s": minimal,
                        "T_s": T, "backends_s": per_step})
        rows.append([N, name, f"{traffic * 1e6:.1f}", f"{tanh * 1e6:.1f}", f"{floor * 1e6:.1f}",
                     f"{minimal / floor:.1f}×", *[f"{per_step[c] / floor:.1f}×" for c in cases]])
    headers = ["N", "network", "traffic µs", "tanh µs", "floor µs", "minimal loop", *cases]
    print(table(headers, rows))
    name = SCRIPT if args.sizes == ",".join(map(str, SIZES)) and args.cases == ",".join(CASES) else SCRIPT + ".partial"
    path = write_json(name, args.quick, {"bandwidth_bytes_per_s": bw, "dt": DT,
                                           "repeats": args.repeats, "cases": {c: CASES[c][1] for c in cases},
                                           "results": records})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
