"""The conformance suite on every simulator here: which tests each passes, and how long the set takes.

Runs ``pytest --pyargs npl_nengo.conformance --simulator <spec>`` once per simulator (a fresh
process each, as a user would), reads its JSON report, and writes
``results/conformance.json``: one row per test with every simulator's outcome, the reasons of
every test not passed, and per simulator the counts and the wall time of the whole set.

    .venv/bin/python benchmarks/conformance.py                 # quick subset, every simulator
    .venv/bin/python benchmarks/conformance.py --full nengo    # full set, named simulators
    .venv/bin/python benchmarks/conformance.py --quick         # smoke: the quick subset on nengo only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import write_json

#: What the project measured: its own backends (NengoDL also in float64), Brian2's three targets, NengoDL as
#: a plain nengo.Simulator-compatible class, and nengo-loihi's simulator, which the project does not own.
SIMULATORS = ("nengo", "nengo_dl", "nengo_dl[dtype=float64]", "nengo_dl.Simulator", "brian2",
              "brian2:cython", "brian2:cpp_standalone", "reference", "nest", "loihi_emulator", "nengo_loihi.Simulator")


def _args(simulator: str) -> list[str]:
    """``--simulator`` and ``--sim-option`` for a label such as ``nengo_dl[dtype=float64]``."""
    spec, _, rest = simulator.partition("[")
    out = ["--simulator", spec]
    for option in filter(None, rest.rstrip("]").split(",")):
        out += ["--sim-option", option]
    return out


def run(simulator: str, full: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:nengo", "-p", "no:cacheprovider", "-q", "--pyargs",
               "npl_nengo.conformance", *_args(simulator), "--conformance-report", str(report)]
        if full:
            cmd.append("--conformance-full")
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not report.exists():
            return {"simulator": simulator, "wall_s": wall, "results": {},
                    "error": (done.stdout + done.stderr).strip().splitlines()[-1:]}
        data = json.loads(report.read_text())
    return {"simulator": simulator, "wall_s": wall, "results": data["results"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("simulators", nargs="*", help=f"labels (default: {', '.join(SIMULATORS)})")
    parser.add_argument("--full", action="store_true", help="the full set (default: the quick subset)")
    parser.add_argument("--quick", action="store_true", help="smoke test: quick subset, nengo only")
    args = parser.parse_args()
    sims = ["nengo"] if args.quick else (args.simulators or list(SIMULATORS))
    runs = []
    for sim in sims:
        print(f"{sim} ...", flush=True)
        runs.append(run(sim, args.full))
        counts = Counter(o for o, _ in runs[-1]["results"].values())
        print(f"  {runs[-1]['wall_s']:.0f} s: {dict(counts)}{' ' + str(runs[-1].get('error')) if 'error' in runs[-1] else ''}")
    tests: list[str] = []
    for r in runs:
        tests += [t for t in r["results"] if t not in tests]
    matrix = [{"test": t, **{r["simulator"]: r["results"].get(t, ["not run", ""])[0] for r in runs}} for t in tests]
    reasons = [{"test": t, "simulator": r["simulator"], "outcome": o, "reason": why}
               for r in runs for t, (o, why) in r["results"].items() if o != "passed"]
    summary = [{"simulator": r["simulator"], "wall_s": round(r["wall_s"], 1),
                **{k: Counter(o for o, _ in r["results"].values())[k]
                   for k in ("passed", "xfailed", "xpassed", "skipped", "failed", "error")},
                **({"error_message": " ".join(r["error"])} if "error" in r else {})} for r in runs]
    path = write_json("conformance_full" if args.full else "conformance", args.quick, {"settings": {"set": "full" if args.full else "quick"},
                                                  "simulators": summary, "rows": matrix, "not_passed": reasons})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
