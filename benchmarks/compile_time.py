"""How long does compiling take, against network size and against program size?

Question: how does the wall time of ``npl.compile`` grow for the two compilers,
``method="taylor"`` (paper-faithful, minimum-norm fit of a polynomial basis)
and ``method="sampled"`` (noise-aware least squares on samples of the declared
ranges),

1. with the number of neurons N, for the NAND gate (N = 30, 100, 300, 1000, 3000);
2. with the number of program variables m, for chains of m coupled cubic
   state variables ``dx_i/dt = -x_i + 0.5 x_{i+1} - x_i^3`` (indices wrap,
   ranges (-0.1, 0.1), no inputs), m = 1, 2, 3, 4, 6, 8.  The degree-3 basis of
   m variables has K = C(m + 3, 3) terms; taylor is compiled with N = 2 K
   neurons, sampled with N = 100 m (its default).

Each time is the best of ``--repeats`` (default 3) calls of ``npl.compile``
measured with ``time.perf_counter``.  Every call compiles a freshly built
program (a Program caches derived data on first use: its polynomial form for
taylor, lambdified functions for sampled; that work belongs to compiling);
building the program is not timed.
One untimed warm-up compile per method comes first, so one-off imports are not
counted.

Run::

    .venv/bin/python benchmarks/compile_time.py            # full (about 30 s)
    .venv/bin/python benchmarks/compile_time.py --quick    # smoke test (< 20 s)

Prints Markdown tables and writes ``benchmarks/results/compile_time.json``
(``compile_time.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time
from math import comb

import numpy as np

import npl_nengo as npl
from npl_nengo import networks

from _common import describe_machine, machine, table, write_json

SCRIPT = "compile_time"
METHODS = ("taylor", "sampled")
NAND_SIZES = (30, 100, 300, 1000, 3000)
CHAIN_SIZES = (1, 2, 3, 4, 6, 8)
QUICK_NAND_SIZES = (30, 100, 300)
QUICK_CHAIN_SIZES = (1, 2, 3)
DEGREE = 3


def chain(m: int) -> npl.Program:
    """m coupled cubic variables: ``dx_i/dt = -x_i + 0.5 x_{i+1} - x_i^3`` (indices wrap)."""
    derivatives = {f"x{i}": f"-x{i} + 0.5*x{(i + 1) % m} - x{i}**3" for i in range(m)}
    ranges = {f"x{i}": (-0.1, 0.1) for i in range(m)}
    return npl.Program(f"chain{m}", derivatives=derivatives, ranges=ranges)


def basis_size(m: int, degree: int = DEGREE) -> int:
    """Number of monomials of total degree <= ``degree`` in m variables."""
    return comb(m + degree, degree)


def time_compile(build, n_neurons: int, method: str, repeats: int) -> tuple[list[float], npl.ProgrammedRNN]:
    """Best-of timings of compiling a fresh ``build()`` (programs cache derived data on first use)."""
    walls, rnn = [], None
    for _ in range(repeats):
        program = build()
        start = time.perf_counter()
        rnn = npl.compile(program, n_neurons=n_neurons, method=method, seed=0)
        walls.append(time.perf_counter() - start)
    return walls, rnn


def record(kind: str, label: str, method: str, n_neurons: int, K: int, walls: list[float], rnn) -> dict:
    part = next(iter(rnn.info["parts"].values()))
    return {
        "kind": kind,
        "program": label,
        "method": method,
        "n_neurons": rnn.n_neurons,
        "n_neurons_requested": n_neurons,
        "K": K,
        "basis_size": part.get("basis_size"),
        "n_samples": part.get("n_samples"),
        "seconds": min(walls),
        "all_seconds": walls,
        "residual_max": float(np.max(rnn.residual)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke test, < 20 s)")
    parser.add_argument("--repeats", type=int, default=None, help="timings per case; the best is kept (default 3, quick 1)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    nand_sizes = QUICK_NAND_SIZES if args.quick else NAND_SIZES
    chain_sizes = QUICK_CHAIN_SIZES if args.quick else CHAIN_SIZES

    m = machine()
    print(f"# compile time (best of {repeats}, seed 0)")
    print(describe_machine(m))

    build_nand = networks.get("nand").build
    for method in METHODS:  # warm-up: one-off imports
        npl.compile(build_nand(), n_neurons=30, method=method, seed=0)

    rows: list[dict] = []
    for n in nand_sizes:
        for method in METHODS:
            walls, rnn = time_compile(build_nand, n, method, repeats)
            K = next(iter(rnn.info["parts"].values())).get("basis_size")
            rows.append(record("nand_vs_N", "nand", method, n, K, walls, rnn))
            print(f"  nand {method} N={n}: {min(walls):.4g} s", flush=True)
    for mvars in chain_sizes:
        K = basis_size(mvars)
        for method, n in (("taylor", 2 * K), ("sampled", 100 * mvars)):
            walls, rnn = time_compile(lambda: chain(mvars), n, method, repeats)
            row = record("chain_vs_m", rnn.name, method, n, K, walls, rnn)
            row["m"] = mvars
            if method == "taylor":
                assert row["basis_size"] == K, f"{rnn.name}: taylor basis has {row['basis_size']} terms, expected {K}"
            rows.append(row)
            print(f"  {rnn.name} {method} N={n}: {min(walls):.4g} s", flush=True)

    by = {(r["kind"], r["program"], r["method"]): r for r in rows if r["kind"] == "chain_vs_m"}
    nand_rows = {(r["n_neurons"], r["method"]): r for r in rows if r["kind"] == "nand_vs_N"}
    print("\n## NAND: compile time against N\n")
    print(table(
        ["N", "taylor s", "sampled s", "sampled samples"],
        [[n, f"{nand_rows[n, 'taylor']['seconds']:.3g}", f"{nand_rows[n, 'sampled']['seconds']:.3g}",
          nand_rows[n, "sampled"]["n_samples"]] for n in nand_sizes],
    ))
    print(f"\n(NAND taylor basis: K = {nand_rows[nand_sizes[0], 'taylor']['K']} terms over o, s1, s2.)")
    print("\n## Chains of m cubic variables: compile time against m\n")
    print(table(
        ["m", "K = C(m+3, 3)", "taylor N = 2K", "taylor s", "sampled N = 100m", "sampled s", "sampled samples"],
        [[mv, basis_size(mv), by["chain_vs_m", f"chain{mv}", "taylor"]["n_neurons"],
          f"{by['chain_vs_m', f'chain{mv}', 'taylor']['seconds']:.3g}",
          by["chain_vs_m", f"chain{mv}", "sampled"]["n_neurons"],
          f"{by['chain_vs_m', f'chain{mv}', 'sampled']['seconds']:.3g}",
          by["chain_vs_m", f"chain{mv}", "sampled"]["n_samples"]] for mv in chain_sizes],
    ))
    path = write_json(SCRIPT, args.quick, {
        "settings": {"repeats": repeats, "seed": 0, "degree": DEGREE, "nand_sizes": list(nand_sizes),
                     "chain_sizes": list(chain_sizes)},
        "results": rows,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
