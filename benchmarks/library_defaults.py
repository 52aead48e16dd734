"""Does every library entry pass with its defaults, as a new user runs it?

Question: for each entry of the network library, ``npl.compare(entry)`` with no
other options — the entry's recommended compile (``Entry.compile``) next to the
paper's min-norm ``taylor`` compile, on the default backends (reference, nengo,
nengo_dl, brian2), at rate and under regular 1 kHz spikes, seed 0 — which is
exactly ``npl-nengo compare <entry> --check``.  For each entry: the recommended
compile, its N and weight norm, how many counted cells passed, the worst counted
cell's deciding statistic, the levels' worst error under regular spikes (logic),
and the compile time of the recommended compile and the wall time of the whole comparison.

Run::

    .venv/bin/python benchmarks/library_defaults.py              # every entry (about 41 min on 2 cores)
    .venv/bin/python benchmarks/library_defaults.py nand lorenz  # some entries (other rows kept)
    .venv/bin/python benchmarks/library_defaults.py --quick      # two gates on the reference backend

Prints a Markdown table and writes ``benchmarks/results/library_defaults.json``
(``library_defaults.quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import time

from _common import RESULTS, describe_machine, machine, table, write_json

import npl_nengo as npl
from npl_nengo import networks


def measure(name: str, backends: list[str]) -> dict:
    entry = networks.get(name)
    start = time.perf_counter()
    report = npl.compare(name, backends=backends, neurons=["rate", "regular"])
    wall = time.perf_counter() - start
    counted = [r for r in report.rows if r["counted"]]
    method = entry.compile.get("method", "sampled")
    rec = [r for r in report.rows if r["method"] == method]
    failed = [r for r in counted if not r["passed"]]
    worst = max(counted, key=lambda r: (not r["passed"], r["error"] if r["error"] == r["error"] else float("inf")))
    spiking = [r for r in rec if r["neurons"] == "regular"]
    return {
        "entry": name,
        "compile": dict(entry.compile) or {"method": "sampled"},
        "spiking_expected": entry.spiking,
        "N": rec[0]["N"],
        "weight_norm": rec[0]["weight_norm"],
        "counted_passed": len(counted) - len(failed),
        "counted": len(counted),
        "passed": report.passed,
        "worst": f"{worst['backend']} {worst['neurons']}: {worst['statistic']}",
        "worst_error": worst["error"],
        "regular_errors": {r["backend"]: r["error"] for r in spiking},
        "regular_passed": {r["backend"]: bool(r["passed"]) for r in spiking},
        "compile_s": max(r["compile_s"] for r in rec),
        "wall_s": wall,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="entries (default: all)")
    p.add_argument("--quick", action="store_true", help="nand and sr_latch on the reference backend only")
    args = p.parse_args()
    names = ["nand", "sr_latch"] if args.quick else (args.names or networks.names())
    from npl_nengo.comparison import DEFAULT_BACKENDS

    backends = ["reference"] if args.quick else list(DEFAULT_BACKENDS)
    m = machine()
    print(describe_machine(m))
    rows = []
    for name in names:
        row = measure(name, backends)
        rows.append(row)
        print(f"  {name}: {row['counted_passed']}/{row['counted']} counted cells passed, {row['wall_s']:.0f} s",
              flush=True)
    print(table(
        ["entry", "recommended compile", "N", "‖W‖", "counted cells passed", "regular 1 kHz passes on",
         "worst counted cell (deciding statistic)", "compile s", "wall s"],
        [[r["entry"], ", ".join(f"{k}={v}" for k, v in r["compile"].items()), str(r["N"]), f"{r['weight_norm']:.3g}",
          f"{r['counted_passed']}/{r['counted']}",
          ", ".join(b for b, ok in r["regular_passed"].items() if ok) + ("" if r["spiking_expected"] else " (not counted)"),
          r["worst"], f"{r['compile_s']:.1f}", f"{r['wall_s']:.0f}"] for r in rows]))
    if args.names and not args.quick:  # measuring some entries: keep the others' earlier rows
        path = RESULTS / "library_defaults.json"
        if path.exists():
            measured = {r["entry"] for r in rows}
            earlier = [r for r in json.loads(path.read_text()).get("rows", []) if r["entry"] not in measured]
            order = networks.names()
            rows = sorted(earlier + rows, key=lambda r: order.index(r["entry"]) if r["entry"] in order else len(order))
    write_json("library_defaults", args.quick, {"backends": backends, "rows": rows})


if __name__ == "__main__":
    main()
