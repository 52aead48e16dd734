"""The conformance suite on every simulator here: which tests each passes, and how long the set takes.

Runs ``pytest --pyargs npl_nengo.conformance --simulator <spec>`` once per simulator (a fresh
process each, as a user would), reads its JSON report, and writes
``results/conformance.json``: one row per test with every simulator's outcome, the reasons of
every test not passed, and per simulator the counts and the wall time of the whole set.

    .venv/bin/python benchmarks/conformance.py                 # quick subset, every simulator
    .venv/bin/python benchmarks/conformance.py --full nengo    # full set, named simulators
    .venv/bin/python benchmarks/conformance.py --quick         # smoke: the quick subset on nengo only
    PYOPENCL_CTX=0 ocl-venv/bin/python benchmarks/conformance.py nengo_ocl.Simulator \
        --add benchmarks/results/conformance.json                # a simulator from another environment, added
    .venv/bin/python benchmarks/conformance.py --full --merge ocl-results/conformance_full.json   # or merged
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import RESULTS, write_json

#: What the project measured: its own backends (NengoDL also in float64), Brian2's three targets, NengoDL as
#: a plain nengo.Simulator-compatible class, and nengo-loihi's and nengo-ocl's simulators, which the project does
#: not own (nengo-ocl: the ``ocl`` extra, PYOPENCL_CTX=0; left out where it is not installed).
SIMULATORS = ("nengo", "nengo_dl", "nengo_dl[dtype=float64]", "nengo_dl.Simulator", "brian2",
              "brian2:cython", "brian2:cpp_standalone", "reference", "nest", "loihi_emulator", "nengo_loihi.Simulator",
              "nengo_ocl.Simulator")


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


def _installed(simulator: str) -> bool:
    """Whether a class spec's package is importable here (registered backends always count)."""
    spec = simulator.partition("[")[0]
    if "." not in spec:
        return True
    return importlib.util.find_spec(spec.split(".")[0]) is not None


def _previous(path: Path, simulators: list[str]) -> list[dict]:
    """The runs an earlier results file holds, but for ``simulators`` (``--add``)."""
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    reasons = {(r["simulator"], r["test"]): r["reason"] for r in data.get("not_passed", [])}
    return [{"simulator": s["simulator"], "wall_s": s["wall_s"],
             "results": {row["test"]: [row[s["simulator"]], reasons.get((s["simulator"], row["test"]), "")]
                         for row in data["rows"] if row.get(s["simulator"], "not run") != "not run"}}
            for s in data["simulators"] if s["simulator"] not in simulators]


def write(runs: list[dict], full: bool, quick: bool) -> Path:
    """Write the runs as ``results/conformance[_full].json``: per simulator the counts and wall time,
    one row per test with every simulator's outcome, and the reason of every outcome but a pass."""
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
    return write_json("conformance_full" if full else "conformance", quick,
                      {"settings": {"set": "full" if full else "quick"}, "simulators": summary, "rows": matrix,
                       "not_passed": reasons})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("simulators", nargs="*", help=f"labels (default: {', '.join(SIMULATORS)})")
    parser.add_argument("--full", action="store_true", help="the full set (default: the quick subset)")
    parser.add_argument("--quick", action="store_true", help="smoke test: quick subset, nengo only")
    parser.add_argument("--add", metavar="FILE", type=Path,
                        help="keep the other simulators' runs of this earlier results file (e.g. a simulator "
                             "measured in another environment, added to the file of this one)")
    parser.add_argument("--merge", metavar="FILE", type=Path,
                        help="run nothing: add the runs of FILE (written by this script in another environment) "
                             "to this environment's results file of the same set")
    args = parser.parse_args()
    if args.merge:
        other = _previous(args.merge, [])
        own = RESULTS / ("conformance_full.json" if args.full else "conformance.json")
        print(f"written to {write(_previous(own, [r['simulator'] for r in other]) + other, args.full, False)}")
        return
    sims = ["nengo"] if args.quick else (args.simulators or [s for s in SIMULATORS if _installed(s)])
    runs = _previous(args.add, sims) if args.add else []
    for sim in sims:
        print(f"{sim} ...", flush=True)
        runs.append(run(sim, args.full))
        counts = Counter(o for o, _ in runs[-1]["results"].values())
        print(f"  {runs[-1]['wall_s']:.0f} s: {dict(counts)}{' ' + str(runs[-1].get('error')) if 'error' in runs[-1] else ''}")
    path = write(runs, args.full, args.quick)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
