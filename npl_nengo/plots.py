"""Figures of a comparison report (matplotlib): outputs, spike rasters, truth tables, attractors.

Figures are ``matplotlib.figure.Figure`` objects rendered straight to PNG: pyplot
is never imported, so a user's matplotlib backend and open figures are left as
they are.

Each function draws the first seed's cells and returns the path it wrote, or
``None`` where the figure does not apply (no spiking cell, no truth table, ...).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .files import write_atomic

if TYPE_CHECKING:
    from .report import Report
    from .sweeps import SweepResult

__all__ = ["report_figures", "outputs", "spike_raster", "truth_table_figure", "attractor_figure", "sweep_figure"]

#: Longest stretch of a run the output figure shows (s).
WINDOW = 20.0
#: Units and seconds a raster shows.
RASTER_UNITS, RASTER_SECONDS = 30, 0.1


def subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kwargs):
    """``(figure, axes)`` like ``pyplot.subplots``, on a free-standing ``Figure`` (no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    write_atomic(path, buf.getvalue())
    return path


def _panels(n: int, width: float, height: float):
    """A figure with ``n`` small panels, up to four a row; returns it and the ``n`` axes."""
    cols = min(4, n)
    fig, axes = subplots(-(-n // cols), cols, figsize=(width * cols, height * -(-n // cols)), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, list(axes.flat)[:n]


def _first_seed(report: "Report") -> int:
    return report.settings["seeds"][0]


def _label(key: tuple) -> str:
    method, _, backend, neurons = key
    return f"{backend} {method} {neurons}"


def outputs(report: "Report", path: Path) -> Path | None:
    """Every output of every cell (first seed) over the rate reference (black, dashed)."""
    seed = _first_seed(report)
    methods = [m for m in report.settings["methods"] if any(k[0] == m and k[1] == seed for k in report.runs)]
    if not methods:
        return None
    names = list(next(iter(report.runs.values())).outputs)[:4]
    fig, axes = subplots(len(methods), len(names), figsize=(4.2 * len(names), 2.8 * len(methods)), squeeze=False)
    for i, method in enumerate(methods):
        ref = report.references.get((method, seed))
        for j, name in enumerate(names):
            ax = axes[i, j]
            for key, result in report.runs.items():
                if key[0] == method and key[1] == seed and name in result.outputs:
                    keep = result.t <= WINDOW
                    ax.plot(result.t[keep], result[name][keep], lw=0.9, alpha=0.8, label=f"{key[2]} {key[3]}")
            if ref is not None and name in ref.outputs:
                keep = ref.t <= WINDOW
                ax.plot(ref.t[keep], ref[name][keep], "k--", lw=1.2, label="rate reference")
                lo, hi = float(np.min(ref[name][keep])), float(np.max(ref[name][keep]))
                pad = 0.5 * (hi - lo) or 0.1 * abs(hi) or 0.1
                ax.set_ylim(lo - pad, hi + pad)  # a diverged cell must not flatten the others
            ax.set_title(f"{method}: {name}", fontsize="small")
            ax.set_xlabel("time (s)", fontsize="small")
        axes[i, -1].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(f"{report.name}: outputs on every backend (seed {seed})", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


def spike_raster(report: "Report", path: Path) -> Path | None:
    """Spikes of the first units of every spiking cell (first seed); negative spikes in red."""
    seed = _first_seed(report)
    cells = [(k, r) for k, r in report.runs.items() if k[1] == seed and r.spikes is not None and r.spikes.ndim == 2]
    if not cells:
        return None
    fig, axes = _panels(len(cells), 3.6, 2.4)
    for ax, (key, result) in zip(axes, cells):
        spikes = result.spikes
        assert spikes is not None  # cells with spikes only
        steps = min(len(spikes), int(round(RASTER_SECONDS / result.dt)))
        counts = spikes[:steps, :RASTER_UNITS]
        t = (np.arange(steps) + 1) * result.dt
        for sign, color in ((1, "k"), (-1, "tab:red")):
            step, unit = np.nonzero(np.sign(counts) == sign)
            ax.scatter(t[step], unit, s=1.5, c=color, marker="|", linewidths=0.5)
        ax.set_title(_label(key), fontsize="small")
        ax.set_xlabel("time (s)", fontsize="x-small")
        ax.set_ylabel("unit", fontsize="x-small")
    fig.suptitle(f"{report.name}: spikes of the first {RASTER_UNITS} units", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


def truth_table_figure(report: "Report", path: Path) -> Path | None:
    """Settled outputs per input pattern (rows) and cell (columns); wrong signs marked ✗."""
    seed = _first_seed(report)
    cells = [(k, s) for k, s in report.scores.items() if k[1] == seed and s is not None and s.metric == "truth_table"]
    if not cells:
        return None
    scored = [s for _, s in cells if s.rows]
    if not scored:
        return None
    first = scored[0].rows
    outs = [k[: -len("_expected")] for k in first[0] if k.endswith("_expected")]
    ins = [k for k, v in first[0].items() if isinstance(v, bool) and not k.endswith("_expected")]
    labels, expected = [], []
    for row in first:
        pattern = " ".join("T" if row[i] else "F" for i in ins)
        for o in outs:
            labels.append(f"{pattern} → {o}")
            expected.append(0.1 if row[f"{o}_expected"] else -0.1)
    # (cells, cases); a diverged run has no settled values: a grey row
    values = np.array([[row[o] for row in s.rows for o in outs] if s.rows else [np.nan] * len(labels)
                       for _, s in cells])
    import matplotlib

    fig, ax = subplots(figsize=(2.6 + 0.75 * len(labels), 1.0 + 0.3 * len(cells)))
    cmap = matplotlib.colormaps["RdBu_r"].copy()
    cmap.set_bad("0.8")
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-0.15, vmax=0.15, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if np.isnan(v):
            ax.text(c, r, "diverged", ha="center", va="center", fontsize=7)
            continue
        wrong = np.sign(v) != np.sign(expected[c])
        ax.text(c, r, f"{v:+.3f}" + (" ✗" if wrong else ""), ha="center", va="center", fontsize=7,
                color="k" if abs(v) < 0.1 else "w")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_yticks(range(len(cells)), [_label(k) for k, _ in cells], fontsize=7)
    ax.set_title(f"{report.name}: settled outputs ({', '.join(ins)}; T = +0.1)", fontsize="small")
    fig.tight_layout()
    return _save(fig, path)


def attractor_figure(report: "Report", path: Path) -> Path | None:
    """First against last state variable of every cell (first seed), over the rate reference (grey)."""
    seed = _first_seed(report)
    cells = [(k, report.runs[k]) for k, s in report.scores.items()
             if k[1] == seed and s is not None and s.metric in ("attractor", "dram") and k in report.runs]
    if not cells:
        return None
    names = list(cells[0][1].outputs)
    a, b = names[0], names[min(2, len(names) - 1)]
    fig, axes = _panels(len(cells), 3.2, 3.0)
    for ax, (key, result) in zip(axes, cells):
        ref = report.references.get(key[:2])
        if ref is not None:
            ax.plot(ref[a], ref[b], color="0.75", lw=0.4)
        ax.plot(result[a], result[b], lw=0.4)
        ax.set_title(_label(key), fontsize="small")
        ax.set_xlabel(a, fontsize="x-small")
        ax.set_ylabel(b, fontsize="x-small")
    fig.suptitle(f"{report.name}: attractor projections (grey: rate reference)", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


def report_figures(report: "Report", directory: Path) -> list[Path]:
    """Every figure that applies: ``outputs.png``, ``spikes.png``, ``truth_table.png``, ``attractor.png``."""
    made = [draw(report, directory / f"{name}.png") for name, draw in
            (("outputs", outputs), ("spikes", spike_raster), ("truth_table", truth_table_figure),
             ("attractor", attractor_figure))]
    return [p for p in made if p is not None]


def sweep_figure(sweep: "SweepResult", path: Path) -> Path:
    """Median error (and truth-table accuracy, where there is one) against N, one line per method and panel."""
    import matplotlib.ticker

    summary = sweep.summary()
    # one panel per backend, neuron mode and spike rate; NEF (no max rate: nengo's LIF rates) joins every
    # panel of its backend and mode, so that the three compilers share axes
    panels = list(dict.fromkeys((g["backend"], g["mode"], g["max_rate"]) for g in summary
                                if g["max_rate"] is not None or g["method"] != "nef"))
    panels += list(dict.fromkeys((g["backend"], g["mode"], None) for g in summary
                                 if not any(p[:2] == (g["backend"], g["mode"]) for p in panels)))
    has_acc = any(g["accuracy"] is not None for g in summary)
    fig, axes = subplots(2 if has_acc else 1, len(panels), figsize=(4.2 * len(panels), 3.3 * (1 + has_acc)),
                             squeeze=False)
    for j, (backend, mode, max_rate) in enumerate(panels):
        for method in dict.fromkeys(g["method"] for g in summary):
            gs = [g for g in summary if (g["backend"], g["mode"], g["method"]) == (backend, mode, method)
                  and (g["max_rate"] == max_rate or method == "nef")]
            if not gs:
                continue
            n = [g["N"] for g in gs]
            label = f"{method} ({gs[0]['neurons']})" if gs[0]["neurons"] != mode else method
            axes[0, j].plot(n, [g["median_error"] for g in gs], "o-", label=label)
            if has_acc:
                axes[1, j].plot(n, [g["accuracy"] if g["accuracy"] is not None else math.nan for g in gs], "o-",
                                label=label)
        rate = "" if max_rate is None else f", {max_rate:g} Hz"
        axes[0, j].set(xscale="log", yscale="log", title=f"{backend}, {mode}{rate}", ylabel="median error")
        if has_acc:
            axes[1, j].set(xscale="log", ylim=(-0.05, 1.05), xlabel="neurons N", ylabel="truth-table accuracy")
        else:
            axes[0, j].set_xlabel("neurons N")
        for ax in axes[:, j]:
            ax.set_xticks(sorted({g["N"] for g in summary}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axes[0, j].legend(fontsize="small")
    fig.suptitle(f"{sweep.network}: sweep over N", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)
