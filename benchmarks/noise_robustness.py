"""How much spike noise does a compiled gate survive?

Question: the NAND gate's truth-table error (the metric of the network
library: each of the four input patterns held 1 s, the output averaged over
the last 10 % of each hold, error = the largest distance from the ±0.1 logic
level, pass = error <= 0.03, the test suite's spiking tolerance) under
regular spiking units (``neurons="regular"``) against their peak rate
``max_rate`` R in {100, 200, 500, 1000, 2000, 5000, 10^4, 10^5} Hz.  Spike
noise shrinks as R grows (a unit's spike train carries ``tanh(J)`` in quanta
of ``1/R``), so the curve shows how much noise each compiler's weights
tolerate.  Compilers:

* ``taylor N=40``: the paper's minimum-norm weights (``method="taylor"``);
* ``sampled unpinned N=300 @1000``: the noise-aware ridge fit without the
  fixed-point pin (``pin=False``, the compiler before it had one);
* ``sampled N=300 @1000``: the noise-aware compiler (``method="sampled"``)
  compiled for ``max_rate=1000`` and run at every R (mismatched budget below
  and above 1000 Hz);
* ``sampled N=300 @R``: the same compiler given the run's rate
  (``npl.compile(..., max_rate=R)``: its ridge penalty matches the noise);
* ``library``: NAND's recommended compile (``gamma=30``, ``spikes="poisson"``);
* ``NEF 200 LIF``: the NEF route (``npl.nef(program, n_neurons=200)``,
  ``nengo.LIF`` units, decoders by ``nengo.solvers``) on the nengo backend.
  Its rates are nengo's (``max_rates`` drawn from nengo's default
  Uniform(200, 400) Hz; ``npl.nef`` does not expose them), so it is one
  figure, not a curve.

Every neuron-level case runs on the reference backend (numpy; the fastest
backend for these short runs; all four backends implement the same regular
spiking model).  Each cell is over seeds 0, 1, 2; the seed is both the
compiler's and the run's (initial spike phases), so the spread covers both
the drawn network and the spikes.  The ``rate`` column runs the same networks
with rate units (no spike noise) for reference.  Cells show the median error
over the seeds (diverged runs left out) and how many seeds passed.  A run
counts as diverged when its output leaves the declared range (±0.15) by more
than 10 range widths, or the run stops on a non-finite or out-of-range output
(the library's divergence checks): the taylor weights (``||W||`` ~ 1e6) turn
spike noise into a saturated period-2 flip-flop of ``o`` between about ±2e5,
whose mean over the settling window is near 0, so the truth-table metric
alone would read ~0.1 (the distance of 0 from ±0.1) rather than a failure to
compute.

Also draws ``benchmarks/results/noise_robustness.png`` (median error against
R, log-log, the range over seeds shaded, the tolerance dashed).

Run::

    .venv/bin/python benchmarks/noise_robustness.py            # full (about 30 s)
    .venv/bin/python benchmarks/noise_robustness.py --quick    # smoke test (< 30 s)

Prints Markdown tables and writes ``benchmarks/results/noise_robustness.json``
(``noise_robustness.quick.json`` with ``--quick``, which draws its figure in
the temporary directory).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.errors import NplError

from _common import RESULTS, describe_machine, machine, table, write_json

SCRIPT = "noise_robustness"
TOL = 0.03
#: A run whose output leaves its declared range by more than this many range widths has diverged
#: (the library's own out-of-range check, where present, uses the same 10).  Example: the taylor
#: weights under spikes fall into a saturated period-2 flip-flop of o between about ±2e5, whose
#: settled *mean* is near 0, so the truth-table metric alone would read it as error ~0.1.
DIVERGED_WIDTHS = 10.0
RATES = (100, 200, 500, 1000, 2000, 5000, 10_000, 100_000)
SEEDS = (0, 1, 2)
QUICK_RATES = (100, 1000, 100_000)
QUICK_SEEDS = (0,)
TAYLOR_N = 40
SAMPLED_N = 300
NEF_N = 200
COMPILED_RATE = 1000.0
#: label -> (method, N, compile max_rate: a number, or None for "the run's rate", other compile options)
COMPILERS = {
    f"taylor N={TAYLOR_N}": ("taylor", TAYLOR_N, COMPILED_RATE, {}),
    f"sampled unpinned N={SAMPLED_N} @1000": ("sampled", SAMPLED_N, COMPILED_RATE, {"pin": False}),
    f"sampled N={SAMPLED_N} @1000": ("sampled", SAMPLED_N, COMPILED_RATE, {}),
    f"sampled N={SAMPLED_N} @R": ("sampled", SAMPLED_N, None, {}),
    f"library (sampled N={SAMPLED_N}, gamma 30, Poisson penalty) @1000":
        ("sampled", SAMPLED_N, COMPILED_RATE, {"gamma": 30.0, "spikes": "poisson"}),
}


def score(rnn, **options) -> dict:
    """The NAND truth table on one run.

    A run that diverges counts as a failure, whichever way it shows: the run
    raises (:class:`NplError`, e.g. a non-finite output), the metric reports it
    (``details["diverged"]``, no result: the library's out-of-range check), or
    the output leaves its declared range by more than ``DIVERGED_WIDTHS``
    range widths (where no such check stops the run).
    """
    entry = networks.get("nand")
    try:
        s = entry.metric(rnn, tol=TOL, **options)
    except NplError as exc:
        return {"error": None, "passed": False, "wrong_signs": None, "max_abs_output": None, "diverged": True,
                "failure": str(exc)}
    if s.result is None or s.details.get("diverged"):
        return {"error": None, "passed": False, "wrong_signs": None, "max_abs_output": None, "diverged": True,
                "failure": str(s.details.get("diverged"))}
    o = np.asarray(s.result["o"])
    lo, hi = entry.build().ranges["o"]
    width = hi - lo
    out = bool(np.any((o < lo - DIVERGED_WIDTHS * width) | (o > hi + DIVERGED_WIDTHS * width)))
    return {"error": None if out else float(s.error), "passed": bool(s.passed) and not out,
            "wrong_signs": int(s.details["wrong_signs"]), "max_abs_output": float(np.max(np.abs(o))),
            "diverged": out, "metric_error": float(s.error)}


def summarize(cells: list[dict]) -> dict:
    """Median, range and pass count over seeds; the error statistics leave out diverged runs."""
    errors = [c["error"] for c in cells if not c["diverged"]]
    return {"median_error": statistics.median(errors) if errors else None,
            "min_error": min(errors) if errors else None, "max_error": max(errors) if errors else None,
            "passed": sum(c["passed"] for c in cells), "seeds": len(cells),
            "wrong_signs": sum(c["wrong_signs"] or 0 for c in cells),
            "diverged": sum(c["diverged"] for c in cells)}


def cell_text(s: dict) -> str:
    if s["median_error"] is None:
        return f"diverged ({s['passed']}/{s['seeds']})"
    extra = f", {s['diverged']} diverged" if s["diverged"] else ""
    return f"{s['median_error']:.2g} ({s['passed']}/{s['seeds']}{extra})"


def plot(summary: dict, rates, nef: dict | None, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    diverged = []
    for label in COMPILERS:
        points = [(r, summary[label][str(r)]) for r in rates if summary[label][str(r)]["median_error"] is not None]
        if not points:  # diverged at every rate: nothing to draw
            diverged.append(label)
            continue
        xs = [r for r, _ in points]
        line, = ax.plot(xs, [c["median_error"] for _, c in points], marker="o", label=label)
        ax.fill_between(xs, [c["min_error"] for _, c in points], [c["max_error"] for _, c in points],
                        color=line.get_color(), alpha=0.15, linewidth=0)
    if nef is not None:
        ax.axhline(nef["lif"]["median_error"] or math.nan, color="0.4", linestyle=":",
                   label=f"NEF {NEF_N} LIF (nengo rates), median")
    ax.axhline(TOL, color="k", linestyle="--", linewidth=1, label=f"tolerance {TOL}")
    for i, label in enumerate(diverged):
        ax.text(0.98, 0.97 - 0.07 * i, f"{label}: diverged at every rate (not drawn)", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color="C3", bbox={"facecolor": "white", "edgecolor": "none"})
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=max(ax.get_ylim()[1], 3 * TOL))  # room above the tolerance line for the notes
    ax.set_xlabel("max_rate R of the regular spiking units (Hz)")
    ax.set_ylabel("NAND truth-table error (max |o - level|)")
    ax.set_title("Spike-noise robustness of the NAND gate (reference backend)")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="seed 0, three rates (smoke test, < 30 s)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = parser.parse_args(argv)
    rates = QUICK_RATES if args.quick else RATES
    seeds = QUICK_SEEDS if args.quick else SEEDS

    m = machine()
    print(f"# noise robustness: NAND truth table (tol {TOL}), regular spikes on the reference backend, "
          f"seeds {list(seeds)}")
    print(describe_machine(m))
    total = time.perf_counter()
    build = networks.get("nand").build
    rows: list[dict] = []
    weight_norms: dict[str, list[float]] = {label: [] for label in COMPILERS}
    for label, (method, n, compiled_rate, options) in COMPILERS.items():
        for seed in seeds:
            fixed = None
            if compiled_rate is not None:
                fixed = npl.compile(build(), n_neurons=n, method=method, seed=seed, max_rate=compiled_rate, **options)
                weight_norms[label].append(fixed.weight_norm)
                rows.append({"compiler": label, "method": method, "N": n, "compiled_max_rate": compiled_rate,
                             "seed": seed, "neurons": "rate", "max_rate": None,
                             "weight_norm": fixed.weight_norm, **score(fixed, backend="reference", neurons="rate",
                                                                       seed=seed)})
            for rate in rates:
                rnn = fixed or npl.compile(build(), n_neurons=n, method=method, seed=seed, max_rate=float(rate),
                                           **options)
                if fixed is None:
                    weight_norms[label].append(rnn.weight_norm)
                rows.append({"compiler": label, "method": method, "N": n,
                             "compiled_max_rate": compiled_rate if compiled_rate is not None else float(rate),
                             "seed": seed, "neurons": "regular", "max_rate": float(rate),
                             "weight_norm": rnn.weight_norm,
                             **score(rnn, backend="reference", neurons="regular", max_rate=float(rate), seed=seed)})
        print(f"  {label}: done ({time.perf_counter() - total:.0f} s)", flush=True)
    nef_rows = []
    for seed in seeds:
        spec = npl.nef(build(), n_neurons=NEF_N, seed=seed)
        for neurons in ("rate", "lif"):
            nef_rows.append({"compiler": f"NEF {NEF_N} LIF", "method": "nef", "N": NEF_N, "seed": seed,
                             "backend": "nengo", "neurons": neurons,
                             **score(spec, backend="nengo", neurons=neurons, seed=seed)})
    print(f"  NEF: done ({time.perf_counter() - total:.0f} s)", flush=True)

    summary: dict[str, dict[str, dict]] = {}
    for label in COMPILERS:
        summary[label] = {str(r): summarize([x for x in rows if x["compiler"] == label and x["max_rate"] == float(r)])
                          for r in rates}
        rate_rows = [x for x in rows if x["compiler"] == label and x["neurons"] == "rate"]
        summary[label]["rate"] = summarize(rate_rows) if rate_rows else None
    nef = {mode: summarize([x for x in nef_rows if x["neurons"] == mode]) for mode in ("rate", "lif")}

    print(f"\n## NAND truth-table error against max_rate R: median over {len(seeds)} seed(s) "
          f"(in parentheses: seeds within tol {TOL})\n")
    fmt_rate = lambda r: f"{r / 1000:g} kHz" if r >= 1000 else f"{r:g} Hz"  # noqa: E731
    print(table(
        ["compiler", "median ||W||"] + [fmt_rate(r) for r in rates] + ["rate units"],
        [[label, f"{statistics.median(weight_norms[label]):.3g}"] + [cell_text(summary[label][str(r)]) for r in rates]
         + [cell_text(summary[label]["rate"]) if summary[label]["rate"] else "-"] for label in COMPILERS],
    ))
    print(f"\n(diverged: the output left its range by more than {DIVERGED_WIDTHS:g} range widths, or the run "
          f"stopped on a non-finite or out-of-range output; medians leave such runs out)")
    print(f"\n## NEF route: {NEF_N} nengo.LIF units (nengo's default max_rates), nengo backend\n")
    print(table(["compiler", "LIF spikes", "LIF rate units"],
                [[f"NEF {NEF_N} LIF", cell_text(nef["lif"]), cell_text(nef["rate"])]]))
    total_s = time.perf_counter() - total
    png = None
    if not args.no_plot:
        # quick: the plot goes to the temporary directory (results/ keeps only the full run's figure;
        # .gitignore covers *.quick.json there, not PNGs)
        png = Path(tempfile.gettempdir()) / f"{SCRIPT}.quick.png" if args.quick else RESULTS / f"{SCRIPT}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        plot(summary, rates, nef, png)
        print(f"\nwrote {png}")
    print(f"(total {total_s:.0f} s)")
    path = write_json(SCRIPT, args.quick, {
        "settings": {"network": "nand", "tol": TOL, "rates_hz": list(rates), "seeds": list(seeds),
                     "backend": "reference", "neurons": "regular",
                     "compilers": {k: {"method": v[0], "N": v[1], "compiled_max_rate": v[2] or "R"}
                                   for k, v in COMPILERS.items()},
                     "nef": {"N": NEF_N, "backend": "nengo", "neurons": "lif"}},
        "total_seconds": total_s,
        "summary": summary,
        "nef_summary": nef,
        "median_weight_norm": {k: statistics.median(v) for k, v in weight_norms.items()},
        "plot": png.name if png else None,
        "results": rows + nef_rows,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
